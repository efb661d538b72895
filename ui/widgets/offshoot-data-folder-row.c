/* offshoot-data-folder-row.c — the data folder row of the Train and Probe views. */
#include "offshoot-data-folder-row.h"

struct _OffshootDataFolderRow
{
  GtkWidget parent_instance;

  GtkWidget *box, *name_label, *choose_button, *summary_label;
  char *title, *accept;
  GtkFileChooserNative *chooser;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (OffshootDataFolderRow, offshoot_data_folder_row, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_CHOSEN,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

GtkWidget *
offshoot_wrapped_label (const char *text, const char *css)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_wrap (GTK_LABEL (l), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (l), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  if (css)
    gtk_widget_add_css_class (l, css);
  return l;
}

void
offshoot_data_folder_row_set_folder (OffshootDataFolderRow *self, const char *dir)
{
  g_return_if_fail (OFFSHOOT_IS_DATA_FOLDER_ROW (self));
  g_autofree char *base = dir ? g_path_get_basename (dir) : NULL;
  gtk_label_set_text (GTK_LABEL (self->name_label), base ? base : "No data folder");
  gtk_widget_set_tooltip_text (self->name_label, dir);
}

void
offshoot_data_folder_row_set_summary (OffshootDataFolderRow *self, const char *text)
{
  g_return_if_fail (OFFSHOOT_IS_DATA_FOLDER_ROW (self));
  gtk_label_set_text (GTK_LABEL (self->summary_label), text ? text : "");
  gtk_widget_set_visible (self->summary_label, text && *text);
}

void
offshoot_data_folder_row_set_busy (OffshootDataFolderRow *self, gboolean busy)
{
  g_return_if_fail (OFFSHOOT_IS_DATA_FOLDER_ROW (self));
  self->busy = busy;
  gtk_widget_set_sensitive (self->choose_button, !busy);
}

static void
close_chooser (OffshootDataFolderRow *self)
{
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
}

static void
on_chooser_response (GtkNativeDialog *d, int response, gpointer data)
{
  OffshootDataFolderRow *self = data;
  g_autofree char *path = NULL;
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) f = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (d));
      path = f ? g_file_get_path (f) : NULL;
    }
  g_clear_object (&self->chooser);
  if (path)
    g_signal_emit (self, signals[SIGNAL_CHOSEN], 0, path);
}

void
offshoot_data_folder_row_choose (OffshootDataFolderRow *self)
{
  g_return_if_fail (OFFSHOOT_IS_DATA_FOLDER_ROW (self));
  if (self->chooser || self->busy)
    return;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  self->chooser =
      gtk_file_chooser_native_new (self->title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, self->accept, "_Cancel");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (on_chooser_response), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* ---- The widget -------------------------------------------------------------------------- */

/* Leaving the window (it closes): a chooser left open would answer to nothing. */
static void
offshoot_data_folder_row_unroot (GtkWidget *widget)
{
  close_chooser (OFFSHOOT_DATA_FOLDER_ROW (widget));
  GTK_WIDGET_CLASS (offshoot_data_folder_row_parent_class)->unroot (widget);
}

static void
offshoot_data_folder_row_dispose (GObject *object)
{
  OffshootDataFolderRow *self = OFFSHOOT_DATA_FOLDER_ROW (object);
  close_chooser (self);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (offshoot_data_folder_row_parent_class)->dispose (object);
}

static void
offshoot_data_folder_row_finalize (GObject *object)
{
  OffshootDataFolderRow *self = OFFSHOOT_DATA_FOLDER_ROW (object);
  g_free (self->title);
  g_free (self->accept);
  G_OBJECT_CLASS (offshoot_data_folder_row_parent_class)->finalize (object);
}

static void
offshoot_data_folder_row_class_init (OffshootDataFolderRowClass *klass)
{
  GTK_WIDGET_CLASS (klass)->unroot = offshoot_data_folder_row_unroot;
  G_OBJECT_CLASS (klass)->dispose = offshoot_data_folder_row_dispose;
  G_OBJECT_CLASS (klass)->finalize = offshoot_data_folder_row_finalize;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  /* ::chosen (const char *path): a folder was chosen in the chooser. */
  signals[SIGNAL_CHOSEN] = g_signal_new ("chosen", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
offshoot_data_folder_row_init (OffshootDataFolderRow *self)
{
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->name_label = gtk_label_new ("No data folder");
  gtk_label_set_xalign (GTK_LABEL (self->name_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->name_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_hexpand (self->name_label, TRUE);
  self->choose_button = gtk_button_new_with_mnemonic ("_Data Folder…");
  g_signal_connect_object (self->choose_button, "clicked",
                           G_CALLBACK (offshoot_data_folder_row_choose), self, G_CONNECT_SWAPPED);
  /* The button first: it stays where it is however long the folder's name. */
  gtk_box_append (GTK_BOX (row), self->choose_button);
  gtk_box_append (GTK_BOX (row), self->name_label);
  gtk_box_append (GTK_BOX (self->box), row);
  self->summary_label = offshoot_wrapped_label ("", "dim-label");
  gtk_widget_set_visible (self->summary_label, FALSE);
  gtk_box_append (GTK_BOX (self->box), self->summary_label);
}

GtkWidget *
offshoot_data_folder_row_new (const char *title, const char *accept)
{
  OffshootDataFolderRow *self = g_object_new (OFFSHOOT_TYPE_DATA_FOLDER_ROW, NULL);
  self->title = g_strdup (title);
  self->accept = g_strdup (accept);
  return GTK_WIDGET (self);
}
