/* offshoot-data-folder-row.h — "choose a data folder", as the Train and Probe views show it: the
 * folder's base name (its full path as tooltip), a Data Folder… button opening a folder chooser,
 * and a summary line below (hidden while empty). The row only chooses; its owner reads the
 * folder and says what it found with set_summary.
 *
 *   GtkWidget *row = offshoot_data_folder_row_new ("Data Folder (a Folder per Class)", "_Probe");
 *   g_signal_connect_object (row, "chosen", G_CALLBACK (on_chosen), self, 0);
 *   // on_chosen (OffshootDataFolderRow *row, const char *path, gpointer self)
 *   offshoot_data_folder_row_set_busy (row, TRUE);   // while a run uses the folder
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define OFFSHOOT_TYPE_DATA_FOLDER_ROW (offshoot_data_folder_row_get_type ())
G_DECLARE_FINAL_TYPE (OffshootDataFolderRow, offshoot_data_folder_row, OFFSHOOT, DATA_FOLDER_ROW,
                      GtkWidget)

/* `title` is the chooser's title, `accept` its accept button's mnemonic label. */
GtkWidget *offshoot_data_folder_row_new (const char *title, const char *accept);

/* Shows `dir` (NULL: "No data folder"); emits nothing. */
void offshoot_data_folder_row_set_folder (OffshootDataFolderRow *self, const char *dir);
/* The line under the row ("" or NULL hides it). */
void offshoot_data_folder_row_set_summary (OffshootDataFolderRow *self, const char *text);
/* Opens the folder chooser (nothing while busy or already open); ::chosen on accept. */
void offshoot_data_folder_row_choose (OffshootDataFolderRow *self);
/* Busy: the button is greyed and choose does nothing. */
void offshoot_data_folder_row_set_busy (OffshootDataFolderRow *self, gboolean busy);

/* A left-aligned label that wraps (at characters too, for paths), with an optional CSS class:
 * the panels' headings, captions and status lines. */
GtkWidget *offshoot_wrapped_label (const char *text, const char *css);

G_END_DECLS
