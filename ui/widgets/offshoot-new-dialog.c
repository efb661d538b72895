/* offshoot-new-dialog.c — the "New from Architecture…" dialog: a modal GtkWindow (GTK 4.8
 * has no AdwDialog here) whose Create button builds a zoo model in a GTask worker, so that
 * even EfficientNetB7 leaves the windows responsive. */
#include "offshoot-new-dialog.h"

#include "osh-workers.h"
#include "osh-zoo.h"

struct _OffshootNewDialog
{
  GtkWindow parent_instance;

  GtkListBox *list;
  GtkCheckButton *top;
  GtkSpinButton *height, *width, *channels, *classes;
  GtkLabel *classes_label, *error_label, *status_label;
  GtkSpinner *spinner;
  GtkButton *create;
  GtkWidget *form; /* everything that is frozen while building */

  OffshootNewDialogDone done;
  gpointer done_data;
  gboolean busy, disposed;
  char *error;
};

G_DEFINE_FINAL_TYPE (OffshootNewDialog, offshoot_new_dialog, GTK_TYPE_WINDOW)

typedef struct
{
  char *name;
  OshZooOptions options;
} BuildJob;

static void
build_job_free (BuildJob *job)
{
  g_free (job->name);
  g_free (job);
}

static const char *
selected_name (OffshootNewDialog *self)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->list);
  return row ? g_object_get_data (G_OBJECT (row), "architecture") : NULL;
}

static void
show_error (OffshootNewDialog *self, const char *message)
{
  g_free (self->error);
  self->error = g_strdup (message);
  gtk_label_set_text (self->error_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
set_busy (OffshootNewDialog *self, gboolean busy, const char *status)
{
  self->busy = busy;
  gtk_widget_set_sensitive (self->form, !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->create), !busy && selected_name (self) != NULL);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_label_set_text (self->status_label, status ? status : "");
}

static void
update_top (OffshootNewDialog *self)
{
  gboolean top = gtk_check_button_get_active (self->top);
  gtk_widget_set_sensitive (GTK_WIDGET (self->classes), top);
  gtk_widget_set_sensitive (GTK_WIDGET (self->classes_label), top);
}

static void
on_top_toggled (GtkCheckButton *button, OffshootNewDialog *self)
{
  (void) button;
  update_top (self);
}

static void
on_row_selected (GtkListBox *list, GtkListBoxRow *row, OffshootNewDialog *self)
{
  (void) list;
  const char *name = row ? g_object_get_data (G_OBJECT (row), "architecture") : NULL;
  OshZooOptions o;
  if (name && osh_zoo_options_init (&o, name))
    offshoot_new_dialog_set_input (self, (int) o.height, (int) o.width, (int) o.channels);
  show_error (self, NULL);
  set_busy (self, self->busy, NULL);
}

/* ---- Building in a worker ------------------------------------------------------------- */

static void
build_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  (void) source;
  (void) cancellable;
  BuildJob *job = data;
  OshError err = { 0 };
  OshGraph *g = osh_zoo_build (job->name, &job->options, &err);
  if (g)
    g_task_return_pointer (task, g, (GDestroyNotify) osh_graph_free);
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
}

/* gtk_window_destroy () drops the window from the toplevels but does not dispose it while
 * the worker's task holds a reference: that is how a closed dialog is told apart. */
static gboolean
is_open (OffshootNewDialog *self)
{
  GListModel *tops = gtk_window_get_toplevels ();
  for (guint i = 0; !self->disposed && i < g_list_model_get_n_items (tops); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (tops, i);
      if (w == G_OBJECT (self))
        return TRUE;
    }
  return FALSE;
}

static void
build_done (GObject *source, GAsyncResult *res, gpointer data)
{
  (void) data;
  OffshootNewDialog *self = OFFSHOOT_NEW_DIALOG (source);
  g_autoptr (GError) error = NULL;
  OshGraph *g = g_task_propagate_pointer (G_TASK (res), &error);
  osh_worker_end (error);
  if (!is_open (self))
    {
      /* Closed while building: nobody wants the model any more. */
      osh_graph_free (g);
      return;
    }
  set_busy (self, FALSE, NULL);
  if (!g)
    {
      show_error (self, error->message);
      return;
    }
  const BuildJob *job = g_task_get_task_data (G_TASK (res));
  g_autofree char *title = g_strdup_printf ("%s (untrained)", job->name);
  if (self->done)
    self->done (g, title, self->done_data);
  else
    osh_graph_free (g);
  gtk_window_destroy (GTK_WINDOW (self));
}

void
offshoot_new_dialog_create (OffshootNewDialog *self)
{
  g_return_if_fail (OFFSHOOT_IS_NEW_DIALOG (self));
  const char *name = selected_name (self);
  if (self->busy || !name)
    return;
  /* Take in a number typed but not yet committed with Enter or Tab. */
  gtk_spin_button_update (self->height);
  gtk_spin_button_update (self->width);
  gtk_spin_button_update (self->channels);
  gtk_spin_button_update (self->classes);
  BuildJob *job = g_new0 (BuildJob, 1);
  job->name = g_strdup (name);
  osh_zoo_options_init (&job->options, name);
  job->options.include_top = gtk_check_button_get_active (self->top);
  job->options.height = gtk_spin_button_get_value_as_int (self->height);
  job->options.width = gtk_spin_button_get_value_as_int (self->width);
  job->options.channels = gtk_spin_button_get_value_as_int (self->channels);
  job->options.classes = gtk_spin_button_get_value_as_int (self->classes);
  show_error (self, NULL);
  g_autofree char *status = g_strdup_printf ("Building %s…", name);
  set_busy (self, TRUE, status);
  GTask *task = g_task_new (self, NULL, build_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) build_job_free);
  osh_worker_begin (); /* the application waits for the build before it exits */
  g_task_run_in_thread (task, build_thread);
  g_object_unref (task);
}

static void
on_create_clicked (GtkButton *button, OffshootNewDialog *self)
{
  (void) button;
  offshoot_new_dialog_create (self);
}

static void
on_cancel_clicked (GtkButton *button, OffshootNewDialog *self)
{
  (void) button;
  gtk_window_destroy (GTK_WINDOW (self));
}

/* ---- Construction --------------------------------------------------------------------- */

static GtkWidget *
architecture_row (const char *name)
{
  OshZooOptions o;
  osh_zoo_options_init (&o, name);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 10);
  gtk_widget_set_margin_end (box, 10);
  GtkWidget *label = gtk_label_new (name);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_box_append (GTK_BOX (box), label);
  g_autofree char *size =
      g_strdup_printf ("%lld × %lld", (long long) o.height, (long long) o.width);
  GtkWidget *dim = gtk_label_new (size);
  gtk_widget_add_css_class (dim, "dim-label");
  gtk_box_append (GTK_BOX (box), dim);
  GtkWidget *row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data_full (G_OBJECT (row), "architecture", g_strdup (name), g_free);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  return row;
}

static GtkSpinButton *
spin (GtkGrid *grid, const char *label, int column, int row, double lo, double hi,
      GtkLabel **label_out)
{
  GtkWidget *l = gtk_label_new_with_mnemonic (label);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_widget_add_css_class (l, "dim-label");
  GtkWidget *s = gtk_spin_button_new_with_range (lo, hi, 1);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (s), TRUE);
  gtk_label_set_mnemonic_widget (GTK_LABEL (l), s);
  gtk_grid_attach (grid, l, column, row, 1, 1);
  gtk_grid_attach (grid, s, column, row + 1, 1, 1);
  if (label_out)
    *label_out = GTK_LABEL (l);
  return GTK_SPIN_BUTTON (s);
}

static void
offshoot_new_dialog_init (OffshootNewDialog *self)
{
  GtkWindow *win = GTK_WINDOW (self);
  gtk_window_set_title (win, "New from Architecture");
  gtk_window_set_modal (win, TRUE);
  gtk_window_set_default_size (win, 460, 620);

  GtkWidget *header = gtk_header_bar_new ();
  gtk_header_bar_set_show_title_buttons (GTK_HEADER_BAR (header), FALSE);
  GtkWidget *cancel = gtk_button_new_with_mnemonic ("_Cancel");
  g_signal_connect (cancel, "clicked", G_CALLBACK (on_cancel_clicked), self);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), cancel);
  self->create = GTK_BUTTON (gtk_button_new_with_mnemonic ("C_reate"));
  gtk_widget_add_css_class (GTK_WIDGET (self->create), "suggested-action");
  g_signal_connect (self->create, "clicked", G_CALLBACK (on_create_clicked), self);
  gtk_header_bar_pack_end (GTK_HEADER_BAR (header), GTK_WIDGET (self->create));
  gtk_window_set_titlebar (win, header);
  gtk_window_set_default_widget (win, GTK_WIDGET (self->create));

  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (outer, 18);
  gtk_widget_set_margin_bottom (outer, 18);
  gtk_widget_set_margin_start (outer, 18);
  gtk_widget_set_margin_end (outer, 18);
  gtk_window_set_child (win, outer);

  GtkWidget *form = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_vexpand (form, TRUE);
  self->form = form;
  gtk_box_append (GTK_BOX (outer), form);

  GtkWidget *intro = gtk_label_new ("An untrained keras.applications model with Keras's layer "
                                    "names, classes and parameter counts, and seeded random "
                                    "weights.");
  gtk_label_set_wrap (GTK_LABEL (intro), TRUE);
  gtk_label_set_xalign (GTK_LABEL (intro), 0);
  gtk_widget_add_css_class (intro, "dim-label");
  gtk_box_append (GTK_BOX (form), intro);

  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_widget_add_css_class (scroller, "frame");
  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_BROWSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Architecture", -1);
  for (const char *const *n = osh_zoo_names (); *n; n++)
    gtk_list_box_append (self->list, architecture_row (*n));
  g_signal_connect (self->list, "row-selected", G_CALLBACK (on_row_selected), self);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (self->list));
  gtk_box_append (GTK_BOX (form), scroller);

  self->top = GTK_CHECK_BUTTON (gtk_check_button_new_with_mnemonic ("Include the classifier _top"));
  gtk_check_button_set_active (self->top, TRUE);
  g_signal_connect (self->top, "toggled", G_CALLBACK (on_top_toggled), self);
  gtk_box_append (GTK_BOX (form), GTK_WIDGET (self->top));

  GtkGrid *grid = GTK_GRID (gtk_grid_new ());
  gtk_grid_set_column_spacing (grid, 12);
  gtk_grid_set_row_spacing (grid, 4);
  gtk_grid_set_column_homogeneous (grid, TRUE);
  self->height = spin (grid, "_Height", 0, 0, 1, 4096, NULL);
  self->width = spin (grid, "_Width", 1, 0, 1, 4096, NULL);
  self->channels = spin (grid, "C_hannels", 2, 0, 1, 64, NULL);
  self->classes = spin (grid, "C_lasses", 3, 0, 1, 1000000, &self->classes_label);
  gtk_spin_button_set_value (self->classes, 1000);
  gtk_box_append (GTK_BOX (form), GTK_WIDGET (grid));

  self->error_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->error_label, TRUE);
  gtk_label_set_xalign (self->error_label, 0);
  gtk_label_set_selectable (self->error_label, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->error_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_box_append (GTK_BOX (outer), GTK_WIDGET (self->error_label));

  GtkWidget *status = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  self->spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_box_append (GTK_BOX (status), GTK_WIDGET (self->spinner));
  self->status_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_box_append (GTK_BOX (status), GTK_WIDGET (self->status_label));
  gtk_box_append (GTK_BOX (outer), status);

  /* Escape closes, as it does a GtkDialog. */
  GtkEventController *keys = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_add_shortcut (
      GTK_SHORTCUT_CONTROLLER (keys), gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                        gtk_named_action_new ("window.close")));
  gtk_widget_add_controller (GTK_WIDGET (self), keys);

  gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, 0));
  update_top (self);
}

static void
offshoot_new_dialog_dispose (GObject *object)
{
  OFFSHOOT_NEW_DIALOG (object)->disposed = TRUE;
  G_OBJECT_CLASS (offshoot_new_dialog_parent_class)->dispose (object);
}

static void
offshoot_new_dialog_finalize (GObject *object)
{
  g_free (OFFSHOOT_NEW_DIALOG (object)->error);
  G_OBJECT_CLASS (offshoot_new_dialog_parent_class)->finalize (object);
}

static void
offshoot_new_dialog_class_init (OffshootNewDialogClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = offshoot_new_dialog_dispose;
  G_OBJECT_CLASS (klass)->finalize = offshoot_new_dialog_finalize;
}

OffshootNewDialog *
offshoot_new_dialog_new (GtkWindow *parent, OffshootNewDialogDone done, gpointer data)
{
  OffshootNewDialog *self = g_object_new (OFFSHOOT_TYPE_NEW_DIALOG, NULL);
  if (parent)
    {
      gtk_window_set_transient_for (GTK_WINDOW (self), parent);
      gtk_window_set_destroy_with_parent (GTK_WINDOW (self), TRUE);
    }
  self->done = done;
  self->done_data = data;
  return self;
}

/* ---- For tests ------------------------------------------------------------------------- */

gboolean
offshoot_new_dialog_select (OffshootNewDialog *self, const char *name)
{
  for (int i = 0;; i++)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->list, i);
      if (!row)
        return FALSE;
      if (g_ascii_strcasecmp (g_object_get_data (G_OBJECT (row), "architecture"), name) == 0)
        {
          gtk_list_box_select_row (self->list, row);
          gtk_widget_grab_focus (GTK_WIDGET (row)); /* scrolls it into view, as a click would */
          return TRUE;
        }
    }
}

void
offshoot_new_dialog_set_input (OffshootNewDialog *self, int height, int width, int channels)
{
  gtk_spin_button_set_value (self->height, height);
  gtk_spin_button_set_value (self->width, width);
  gtk_spin_button_set_value (self->channels, channels);
}

void
offshoot_new_dialog_set_top (OffshootNewDialog *self, gboolean include_top, int classes)
{
  gtk_check_button_set_active (self->top, include_top);
  gtk_spin_button_set_value (self->classes, classes);
}

gboolean
offshoot_new_dialog_is_busy (OffshootNewDialog *self)
{
  return self->busy;
}

const char *
offshoot_new_dialog_get_error (OffshootNewDialog *self)
{
  return self->error;
}
