/* offshoot-run-panel.c — preprocessing, a run in a worker, and the results. The worker
 * does what `offshoot run` does: decode, preprocess, plan, run; the panel only shows it. */
#include "offshoot-run-panel.h"

#include <math.h>
#include <string.h>

#include "osh-exec.h"
#include "osh-heatmap.h"
#include "osh-model.h"
#include "osh-npy.h"
#include "osh-outputs.h"
#include "osh-workers.h"

#define TOP_K 5
/* Keep every layer's output (for the layer panel) up to this many layers; above it, only
 * the focused layer's, so a big model does not hold all its activations at once. */
#define CAPTURE_ALL_MAX_LAYERS 400
#define SAMPLES_PATH "/io/offshoot/Offshoot/samples/"
/* Model inputs the panel gives a file to: the picture, then one row each for the others. */
#define MAX_INPUTS 16

typedef struct
{
  OshGraphHandle *graph;
  OshPreprocess pp;
  GFile *input;
  GFile *more[MAX_INPUTS]; /* the model's inputs 2, 3, ... (n_more of them) */
  int n_more;
  gboolean keep_all; /* every layer's output stays readable */
  char *capture;     /* else this one layer's, when set */
  volatile int cancel;

  /* Filled by the worker. */
  OshImage *image;
  OshPlan *plan;
  OshTensor *outs[OSH_EXEC_MAX_OUTPUTS];
  int n_outs;
  double ms;
} RunJob;

static void
run_job_free (RunJob *job)
{
  for (int i = 0; i < job->n_outs; i++)
    osh_tensor_free (job->outs[i]);
  osh_plan_free (job->plan); /* before the graph it reads */
  osh_image_free (job->image);
  osh_graph_handle_unref (job->graph);
  g_clear_object (&job->input);
  for (int i = 0; i < job->n_more; i++)
    g_clear_object (&job->more[i]);
  g_free (job->capture);
  g_free (job);
}

typedef struct
{
  char *text;
  int top_class;
  GtkScale *opacity;   /* heatmaps */
  GtkPicture *picture; /* heatmaps */
  OshTensor *map;      /* heatmaps: the (H, W) map, for re-rendering at another opacity */
} Result;

struct _OffshootRunPanel
{
  GtkWidget parent_instance;

  GtkWidget *scroller;
  GtkExpander *preprocess_expander;
  GtkButton *choose_button, *run_button, *cancel_button;
  GtkMenuButton *sample_button;
  GtkPicture *input_picture;
  GtkLabel *input_label, *preprocess_label, *status_label;
  GtkSpinButton *height_spin, *width_spin;
  GtkDropDown *channels_drop, *range_drop;
  GtkEntry *labels_entry;
  GtkProgressBar *progress;
  GtkBox *results_box;
  GtkBox *more_inputs_box;

  OffshootDocument *doc; /* the run settings live here */
  OshGraphHandle *graph;
  OshPreprocess own_pp; /* before the first document */
  OshPreprocess *pp;    /* the document's, or own_pp */
  GFile *input;
  /* The model's other inputs (a .npy array or a picture each), one row each. */
  GFile *more[MAX_INPUTS];
  GtkLabel *more_labels[MAX_INPUTS];
  int n_more;
  char *focus;
  gboolean syncing; /* widgets being set from pp */
  gboolean stale;   /* the results are from before a settings change */

  RunJob *running; /* owned by the task while it runs */
  GCancellable *cancellable;
  guint pulse_id;
  RunJob *last;        /* the last finished run (plan kept for activations) */
  char *names_warning; /* the class names do not fit the last run's output */
  GArray *results;     /* Result */
  char *error;
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (OffshootRunPanel, offshoot_run_panel, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_RUN_FINISHED,
  SIGNAL_STATE_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

/* ---- Pictures ---------------------------------------------------------------------------- */

GdkTexture *
osh_texture_from_surface (cairo_surface_t *surface)
{
  if (cairo_image_surface_get_format (surface) != CAIRO_FORMAT_ARGB32)
    {
      /* RGB24 leaves the fourth byte undefined: paint it onto an opaque ARGB32 copy. */
      int w = cairo_image_surface_get_width (surface), h = cairo_image_surface_get_height (surface);
      cairo_surface_t *argb = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
      cairo_t *cr = cairo_create (argb);
      cairo_set_source_surface (cr, surface, 0, 0);
      cairo_paint (cr);
      cairo_destroy (cr);
      GdkTexture *t = osh_texture_from_surface (argb);
      cairo_surface_destroy (argb);
      return t;
    }
  cairo_surface_flush (surface);
  int w = cairo_image_surface_get_width (surface), h = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  g_autoptr (GBytes) bytes =
      g_bytes_new (cairo_image_surface_get_data (surface), (gsize) stride * h);
  /* CAIRO_FORMAT_ARGB32 is premultiplied BGRA in memory on little-endian machines. */
  return gdk_memory_texture_new (w, h,
                                 G_BYTE_ORDER == G_LITTLE_ENDIAN
                                     ? GDK_MEMORY_B8G8R8A8_PREMULTIPLIED
                                     : GDK_MEMORY_A8R8G8B8_PREMULTIPLIED,
                                 bytes, stride);
}

static GdkTexture *
render_heatmap (const OshTensor *map, const OshImage *img, double opacity, char **err_text)
{
  OshHeatmapStyle style;
  osh_heatmap_style_init (&style);
  style.opacity = opacity;
  style.colorbar = true;
  OshError err = { 0 };
  cairo_surface_t *s = osh_heatmap_render (map, img, &style, &err);
  if (!s)
    {
      if (err_text)
        *err_text = g_strdup (err.message);
      return NULL;
    }
  GdkTexture *t = osh_texture_from_surface (s);
  cairo_surface_destroy (s);
  return t;
}

/* ---- Preprocessing widgets ↔ OshPreprocess ---------------------------------------------- */

enum
{
  RANGE_UNIT,
  RANGE_SYMMETRIC,
  RANGE_RAW,
  RANGE_IMAGENET
};

static void
describe (OffshootRunPanel *self)
{
  char text[256];
  osh_preprocess_describe (self->pp, text, sizeof text);
  gtk_label_set_text (self->preprocess_label, text);
}

static void
sync_widgets (OffshootRunPanel *self)
{
  self->syncing = TRUE;
  gtk_spin_button_set_value (self->height_spin, self->pp->height);
  gtk_spin_button_set_value (self->width_spin, self->pp->width);
  gtk_drop_down_set_selected (self->channels_drop, self->pp->channels == 1            ? 0
                                                   : self->pp->order == OSH_ORDER_BGR ? 2
                                                                                      : 1);
  guint range = RANGE_UNIT;
  if (self->pp->mean[0] != 0 || self->pp->std[0] != 1)
    range = RANGE_IMAGENET;
  else if (fabsf (self->pp->scale - 1.0f) < 1e-6f)
    range = RANGE_RAW;
  else if (self->pp->offset < -0.5f)
    range = RANGE_SYMMETRIC;
  gtk_drop_down_set_selected (self->range_drop, range);
  self->syncing = FALSE;
  describe (self);
}

static void
read_widgets (OffshootRunPanel *self)
{
  if (self->syncing)
    return;
  self->pp->height = gtk_spin_button_get_value_as_int (self->height_spin);
  self->pp->width = gtk_spin_button_get_value_as_int (self->width_spin);
  guint ch = gtk_drop_down_get_selected (self->channels_drop);
  self->pp->channels = ch == 0 ? 1 : 3;
  self->pp->order = ch == 2 ? OSH_ORDER_BGR : OSH_ORDER_RGB;
  for (int c = 0; c < 3; c++)
    {
      self->pp->mean[c] = 0;
      self->pp->std[c] = 1;
    }
  switch (gtk_drop_down_get_selected (self->range_drop))
    {
    case RANGE_SYMMETRIC:
      self->pp->scale = 2.0f / 255.0f;
      self->pp->offset = -1.0f;
      break;
    case RANGE_RAW:
      self->pp->scale = 1.0f;
      self->pp->offset = 0.0f;
      break;
    case RANGE_IMAGENET:
      self->pp->scale = 1.0f / 255.0f;
      self->pp->offset = 0.0f;
      memcpy (self->pp->mean, (float[]){ 0.485f, 0.456f, 0.406f }, sizeof self->pp->mean);
      memcpy (self->pp->std, (float[]){ 0.229f, 0.224f, 0.225f }, sizeof self->pp->std);
      break;
    default: self->pp->scale = 1.0f / 255.0f; self->pp->offset = 0.0f;
    }
  describe (self);
  if (self->doc)
    offshoot_document_settings_changed (self->doc);
}

static void
on_preprocess_changed (GObject *o, GParamSpec *pspec, OffshootRunPanel *self)
{
  (void) o;
  (void) pspec;
  read_widgets (self);
}

void
offshoot_run_panel_get_preprocess (OffshootRunPanel *self, OshPreprocess *pp)
{
  *pp = *self->pp;
}

/* ---- Results ----------------------------------------------------------------------------- */

static GtkWidget *heading (const char *text, const char *css);

static void
result_clear (Result *r)
{
  g_free (r->text);
  osh_tensor_free (r->map);
}

static void
clear_results (OffshootRunPanel *self)
{
  /* The focus may be on a result (the opacity slider, say) about to go: give it to Run, or
   * GTK hands it on to a result's selectable text, shown all selected. */
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  if (focus && gtk_widget_is_ancestor (focus, GTK_WIDGET (self->results_box)))
    gtk_widget_grab_focus (GTK_WIDGET (self->run_button));
  g_array_set_size (self->results, 0);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->results_box))))
    gtk_box_remove (self->results_box, child);
  g_clear_pointer (&self->last, run_job_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->names_warning, g_free);
  self->stale = FALSE;
}

/* The input, the settings or the model changed: results that no longer follow from them
 * are dimmed under a note, until the next run replaces them. */
static void
mark_stale (OffshootRunPanel *self)
{
  if (self->stale || self->results->len == 0)
    return;
  self->stale = TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->results_box)); c;
       c = gtk_widget_get_next_sibling (c))
    gtk_widget_add_css_class (c, "dim-label");
  GtkWidget *note =
      heading ("Out of date: the settings changed since this run. Run again (F5).", "warning");
  gtk_box_prepend (self->results_box, note);
}

/* The name of class `index`; the names are used only when there is one per class. */
static char *
class_name (OffshootRunPanel *self, int index, gboolean use_names)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->labels_entry));
  g_auto (GStrv) names = use_names && text && *text ? g_strsplit (text, ",", -1) : NULL;
  if (names && index < (int) g_strv_length (names))
    {
      char *name = g_strstrip (g_strdup (names[index]));
      if (*name)
        return name;
      g_free (name);
    }
  return g_strdup_printf ("class %d", index);
}

static void
on_opacity_changed (GtkRange *range, OffshootRunPanel *self)
{
  int i = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (range), "result"));
  if (self->doc)
    offshoot_document_set_heatmap_opacity (self->doc, gtk_range_get_value (range));
  if (!self->last || i >= (int) self->results->len)
    return;
  Result *r = &g_array_index (self->results, Result, i);
  g_autoptr (GdkTexture) t =
      render_heatmap (r->map, self->last->image, gtk_range_get_value (range), NULL);
  if (t)
    gtk_picture_set_paintable (r->picture, GDK_PAINTABLE (t));
}

static GtkWidget *
heading (const char *text, const char *css)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), 0);
  gtk_label_set_wrap (GTK_LABEL (l), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (l), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (l), TRUE);
  if (css)
    gtk_widget_add_css_class (l, css);
  return l;
}

static void
add_label_result (OffshootRunPanel *self, GtkBox *box, Result *r, const OshTensor *y)
{
  OshTopEntry top[TOP_K];
  OshError err = { 0 };
  int n = osh_output_top_k (y, 0, TOP_K, top, &err);
  if (n <= 0)
    {
      r->text = g_strdup (err.message);
      gtk_box_append (box, heading (r->text, NULL));
      return;
    }
  /* Names for another model's classes would label this one wrongly: they must fit. */
  int n_classes = (int) y->shape.dim[y->shape.rank - 1];
  int n_names = self->doc ? offshoot_document_count_class_names (self->doc) : 0;
  gboolean use_names = n_names == n_classes;
  if (n_names > 0 && !use_names)
    {
      g_autofree char *warn = g_strdup_printf (
          "%d class names for %d classes: the names are not used until they fit this output",
          n_names, n_classes);
      GtkWidget *w = heading (warn, "warning");
      gtk_widget_set_name (w, "class-names-warning");
      gtk_box_append (box, w);
      g_free (self->names_warning);
      self->names_warning = g_strdup (warn);
    }
  g_autofree char *best = class_name (self, top[0].index, use_names);
  r->text = g_strdup_printf ("%s %.1f %%", best, 100.0 * top[0].p);
  r->top_class = top[0].index;
  gtk_box_append (box, heading (r->text, "title-2"));
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 2);
  for (int k = 0; k < n; k++)
    {
      g_autofree char *name = class_name (self, top[k].index, use_names);
      g_autofree char *pct = g_strdup_printf ("%.1f %%", 100.0 * top[k].p);
      GtkWidget *l = gtk_label_new (name);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      GtkWidget *bar = gtk_level_bar_new_for_interval (0, 1);
      /* A model with NaN or Inf outputs still shows them; the bar (and its accessible value,
       * which GTK rejects when not a number) stays empty. */
      gtk_level_bar_set_value (GTK_LEVEL_BAR (bar), isfinite (top[k].p) ? top[k].p : 0);
      gtk_widget_set_hexpand (bar, TRUE);
      gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (bar, "topk-bar");
      gtk_accessible_update_property (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                      -1);
      GtkWidget *p = gtk_label_new (pct);
      gtk_label_set_xalign (GTK_LABEL (p), 1);
      gtk_widget_add_css_class (p, "numeric");
      gtk_grid_attach (GTK_GRID (grid), l, 0, k, 1, 1);
      gtk_grid_attach (GTK_GRID (grid), bar, 1, k, 1, 1);
      gtk_grid_attach (GTK_GRID (grid), p, 2, k, 1, 1);
    }
  gtk_box_append (box, grid);
}

static void
add_heatmap_result (OffshootRunPanel *self, GtkBox *box, Result *r, const OshTensor *y, int index)
{
  OshError err = { 0 };
  const OshGraph *g = self->last->graph->graph;
  r->map = osh_output_heatmap (y, g->layout, 0, OSH_HEATMAP_AUTO, -1, &err);
  if (!r->map)
    {
      r->text = g_strdup (err.message);
      gtk_box_append (box, heading (r->text, NULL));
      return;
    }
  float lo, hi;
  osh_heatmap_range (r->map, &lo, &hi);
  r->text = g_strdup_printf ("heatmap %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT ", %.3g … %.3g",
                             r->map->shape.dim[0], r->map->shape.dim[1], lo, hi);
  gtk_box_append (box, heading (r->text, NULL));
  g_autofree char *err_text = NULL;
  double opacity = self->doc ? offshoot_document_get_heatmap_opacity (self->doc) : 0.5;
  g_autoptr (GdkTexture) t = render_heatmap (r->map, self->last->image, opacity, &err_text);
  r->picture = GTK_PICTURE (gtk_picture_new_for_paintable (t ? GDK_PAINTABLE (t) : NULL));
  gtk_picture_set_can_shrink (r->picture, TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (r->picture), -1, 200);
  gtk_accessible_update_property (GTK_ACCESSIBLE (r->picture), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Heatmap over the input picture, with a colour bar", -1);
  gtk_box_append (box, GTK_WIDGET (r->picture));
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (row), gtk_label_new ("Opacity"));
  GtkWidget *scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 0.05);
  gtk_range_set_value (GTK_RANGE (scale), opacity);
  r->opacity = GTK_SCALE (scale);
  gtk_widget_set_hexpand (scale, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (scale), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Heatmap opacity", -1);
  g_object_set_data (G_OBJECT (scale), "result", GINT_TO_POINTER (index));
  g_signal_connect_object (scale, "value-changed", G_CALLBACK (on_opacity_changed), self, 0);
  gtk_box_append (GTK_BOX (row), scale);
  gtk_box_append (box, row);
}

static void
show_results (OffshootRunPanel *self)
{
  RunJob *job = self->last;
  const OshGraph *g = job->graph->graph;
  for (int i = 0; i < job->n_outs; i++)
    {
      const OshTensor *y = job->outs[i];
      Result r = { .top_class = -1 };
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
      char shape[96];
      osh_shape_format (&y->shape, shape, sizeof shape);
      OshOutputKind kind = osh_output_classify (&y->shape, g->layout);
      g_autofree char *title =
          g_strdup_printf ("%s  %s", osh_plan_output_name (job->plan, i), shape);
      gtk_box_append (GTK_BOX (box), heading (title, "heading"));
      if (kind == OSH_OUTPUT_LABEL)
        add_label_result (self, GTK_BOX (box), &r, y);
      else if (kind == OSH_OUTPUT_HEATMAP)
        add_heatmap_result (self, GTK_BOX (box), &r, y, i);
      else
        {
          r.text = g_strdup_printf ("tensor %s", shape);
          gtk_box_append (GTK_BOX (box), heading (r.text, NULL));
        }
      g_array_append_val (self->results, r);
      gtk_box_append (self->results_box, box);
    }
}

int
offshoot_run_panel_get_n_results (OffshootRunPanel *self)
{
  return self->results->len;
}

const char *
offshoot_run_panel_get_result_text (OffshootRunPanel *self, int i)
{
  if (i < 0 || i >= (int) self->results->len)
    return NULL;
  return g_array_index (self->results, Result, i).text;
}

GdkPaintable *
offshoot_run_panel_get_result_picture (OffshootRunPanel *self, int i)
{
  if (i < 0 || i >= (int) self->results->len)
    return NULL;
  GtkPicture *p = g_array_index (self->results, Result, i).picture;
  return p ? gtk_picture_get_paintable (p) : NULL;
}

int
offshoot_run_panel_get_result_class (OffshootRunPanel *self, int i)
{
  if (i < 0 || i >= (int) self->results->len)
    return -1;
  return g_array_index (self->results, Result, i).top_class;
}

const char *
offshoot_run_panel_get_error (OffshootRunPanel *self)
{
  return self->error;
}

gboolean
offshoot_run_panel_get_activation (OffshootRunPanel *self, const char *path, GdkPaintable **picture,
                                   OshTensor **tensor)
{
  *picture = NULL;
  *tensor = NULL;
  if (!self->last || !path)
    return FALSE;
  OshShape shape;
  const float *data = osh_plan_activation (self->last->plan, path, &shape);
  if (!data)
    return FALSE;
  OshError err = { 0 };
  OshTensor *t = osh_tensor_new (&shape, &err);
  if (!t)
    return FALSE;
  memcpy (t->data, data, sizeof (float) * osh_tensor_numel (t));
  const OshGraph *g = self->last->graph->graph;
  if (osh_output_classify (&shape, g->layout) == OSH_OUTPUT_HEATMAP)
    {
      OshTensor *map = osh_output_heatmap (t, g->layout, 0, OSH_HEATMAP_AUTO, -1, &err);
      if (map)
        {
          GdkTexture *tex = render_heatmap (map, self->last->image, 0.6, NULL);
          *picture = tex ? GDK_PAINTABLE (tex) : NULL;
          osh_tensor_free (map);
        }
    }
  *tensor = t;
  return TRUE;
}

/* ---- Running ----------------------------------------------------------------------------- */

/* One of the model's other inputs: a .npy array as it is (`offshoot run`'s rule), else a
 * picture preprocessed as the first one. */
static OshTensor *
load_more_input (GFile *file, const OshPreprocess *pp, OshError *err)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *bytes = NULL;
  gsize size = 0;
  g_autoptr (GError) gerr = NULL;
  if (!g_file_load_contents (file, NULL, &bytes, &size, NULL, &gerr))
    {
      osh_fail (err, OSH_ERR_IO, "%s", gerr->message);
      return NULL;
    }
  if (size >= 6 && memcmp (bytes, "\x93NUMPY", 6) == 0)
    return osh_npy_read_bytes (name, bytes, size, err);
  OshImage *img = osh_image_load_bytes (name, bytes, size, err);
  OshTensor *t = img ? osh_image_to_tensor (img, pp, err) : NULL;
  osh_image_free (img);
  return t;
}

static void
run_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  (void) source;
  (void) cancellable;
  RunJob *job = data;
  OshError err = { 0 };
  g_autoptr (GError) gerr = NULL;
  g_autofree char *bytes = NULL;
  gsize size = 0;
  g_autofree char *name = g_file_get_basename (job->input);
  if (!g_file_load_contents (job->input, NULL, &bytes, &size, NULL, &gerr))
    {
      g_task_return_error (task, g_steal_pointer (&gerr));
      return;
    }
  job->image = osh_image_load_bytes (name, bytes, size, &err);
  OshTensor *x = job->image ? osh_image_to_tensor (job->image, &job->pp, &err) : NULL;
  if (!x)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
      return;
    }
  OshTensor *xs[1 + MAX_INPUTS] = { x };
  OshShape shapes[1 + MAX_INPUTS] = { x->shape };
  int n_x = 1;
  for (int i = 0; i < job->n_more; i++, n_x++)
    {
      xs[n_x] = load_more_input (job->more[i], &job->pp, &err);
      if (!xs[n_x])
        {
          for (int k = 0; k < n_x; k++)
            osh_tensor_free (xs[k]);
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
          return;
        }
      shapes[n_x] = xs[n_x]->shape;
    }
  OshExecOptions opt = osh_exec_options_default ();
  opt.threads = MAX (1, (int) g_get_num_processors ());
  opt.cancel = &job->cancel;
  /* The inputs' shapes: where the model leaves sizes open, the plan takes them from these. */
  opt.input_shapes = shapes;
  opt.n_input_shapes = n_x;
  const char *keep[1] = { job->capture };
  opt.capture_all = job->keep_all;
  if (!job->keep_all && job->capture)
    {
      opt.capture = keep;
      opt.n_capture = 1;
    }
  gint64 t0 = g_get_monotonic_time ();
  job->plan = osh_plan_new (job->graph->graph, &opt, &err);
  if (job->plan && osh_plan_n_inputs (job->plan) == 1
      && !osh_shape_equal (osh_plan_input_shape (job->plan, 0), &x->shape))
    {
      char want[96], got[96];
      osh_shape_format (osh_plan_input_shape (job->plan, 0), want, sizeof want);
      osh_shape_format (&x->shape, got, sizeof got);
      osh_fail (&err, OSH_ERR_SHAPE,
                "the preprocessed picture is %s but the model's input is %s: "
                "change the size or channels",
                got, want);
      osh_plan_free (job->plan);
      job->plan = NULL;
    }
  bool ok =
      job->plan && osh_plan_run (job->plan, (const OshTensor *const *) xs, n_x, job->outs, &err);
  for (int k = 0; k < n_x; k++)
    osh_tensor_free (xs[k]);
  if (!ok)
    {
      g_task_return_new_error (task, G_IO_ERROR,
                               err.code == OSH_ERR_CANCELLED ? G_IO_ERROR_CANCELLED
                                                             : G_IO_ERROR_FAILED,
                               "%s", err.message);
      return;
    }
  job->n_outs = osh_plan_n_outputs (job->plan);
  job->ms = (g_get_monotonic_time () - t0) / 1000.0;
  g_task_return_boolean (task, TRUE);
}

static void
state_changed (OffshootRunPanel *self)
{
  gboolean running = self->running != NULL;
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), running);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), running);
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0);
}

static gboolean
pulse (gpointer data)
{
  gtk_progress_bar_pulse (OFFSHOOT_RUN_PANEL (data)->progress);
  return G_SOURCE_CONTINUE;
}

static gboolean
scroll_to_results (gpointer data)
{
  OffshootRunPanel *self = data;
  graphene_point_t p;
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scroller));
  GtkWidget *child = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (self->scroller));
  if (child
      && gtk_widget_compute_point (GTK_WIDGET (self->status_label), child,
                                   &GRAPHENE_POINT_INIT (0, 0), &p))
    gtk_adjustment_set_value (adj, p.y);
  return G_SOURCE_REMOVE;
}

static void
run_done (GObject *source, GAsyncResult *res, gpointer data)
{
  (void) source;
  g_autoptr (OffshootRunPanel) self = data; /* dropped here, on the main thread */
  GTask *task = G_TASK (res);
  RunJob *job = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (task, &error);
  /* Stop pressed after the worker's last check (a small model runs in a few ms): the user
   * asked for no result, so none is shown. */
  if (ok && g_atomic_int_get (&job->cancel))
    {
      ok = FALSE;
      error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopped");
    }
  osh_worker_end (error);
  if (job != self->running)
    return; /* the panel moved on (new graph) */
  self->running = NULL;
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  g_clear_object (&self->cancellable);
  if (!ok)
    {
      self->error = g_strdup (error->message);
      gtk_label_set_text (
          self->status_label,
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? "Stopped." : error->message);
      state_changed (self);
      g_signal_emit (self, signals[SIGNAL_RUN_FINISHED], 0);
      return;
    }
  /* Take the results over from the task. */
  self->last = g_new0 (RunJob, 1);
  *self->last = *job;
  memset (job, 0, sizeof *job);
  g_autofree char *status = g_strdup_printf ("Ran in %.0f ms (%.2f GFLOP).", self->last->ms,
                                             osh_plan_flops (self->last->plan) / 1e9);
  gtk_label_set_text (self->status_label, status);
  show_results (self);
  /* Bring the results into view: they sit below the input and the preprocessing. */
  gtk_expander_set_expanded (self->preprocess_expander, FALSE);
  g_timeout_add_full (G_PRIORITY_LOW, 200, scroll_to_results, g_object_ref (self), g_object_unref);
  state_changed (self);
  g_signal_emit (self, signals[SIGNAL_RUN_FINISHED], 0);
}

gboolean
offshoot_run_panel_can_run (OffshootRunPanel *self)
{
  for (int i = 0; i < self->n_more; i++)
    if (!self->more[i])
      return FALSE;
  /* A graph opened first has no weight values until the window has read them. */
  return self->graph && !osh_model_weights_pending (self->graph->graph) && self->input
         && !self->running;
}

gboolean
offshoot_run_panel_is_running (OffshootRunPanel *self)
{
  return self->running != NULL;
}

void
offshoot_run_panel_run (OffshootRunPanel *self)
{
  g_return_if_fail (OFFSHOOT_IS_RUN_PANEL (self));
  if (!offshoot_run_panel_can_run (self))
    return;
  clear_results (self);
  RunJob *job = g_new0 (RunJob, 1);
  job->graph = osh_graph_handle_ref (self->graph);
  job->pp = *self->pp;
  job->input = g_object_ref (self->input);
  for (int i = 0; i < self->n_more; i++)
    job->more[i] = g_object_ref (self->more[i]);
  job->n_more = self->n_more;
  job->keep_all = self->graph->graph->n_layers <= CAPTURE_ALL_MAX_LAYERS;
  /* Only a layer of this graph can be kept (the focus may name one an undo took away). */
  if (self->focus && osh_graph_find_path (self->graph->graph, self->focus) >= 0)
    job->capture = g_strdup (self->focus);
  self->running = job;
  self->cancellable = g_cancellable_new ();
  gtk_label_set_text (self->status_label, "Running…");
  self->pulse_id = g_timeout_add (100, pulse, self);
  state_changed (self);
  /* No source object: the task may be finalized in the worker, a widget must not be. */
  GTask *task = g_task_new (NULL, self->cancellable, run_done, g_object_ref (self));
  g_task_set_task_data (task, job, (GDestroyNotify) run_job_free);
  osh_worker_begin ();
  g_task_run_in_thread (task, run_thread);
  g_object_unref (task);
}

void
offshoot_run_panel_set_status (OffshootRunPanel *self, const char *text)
{
  gtk_label_set_text (self->status_label, text ? text : "");
}

const char *
offshoot_run_panel_get_status (OffshootRunPanel *self)
{
  return gtk_label_get_text (self->status_label);
}

void
offshoot_run_panel_cancel (OffshootRunPanel *self)
{
  if (self->running)
    g_atomic_int_set (&self->running->cancel, 1);
}

static void
on_cancel_clicked (GtkButton *b, OffshootRunPanel *self)
{
  (void) b;
  offshoot_run_panel_cancel (self);
}

/* ---- Inputs ------------------------------------------------------------------------------ */

/* The model changed (another document, an edit, undo): a running run is dropped and the
 * results, computed by another graph, go. */
static void rebuild_more_inputs (OffshootRunPanel *self);

static void
take_graph (OffshootRunPanel *self, OshGraphHandle *h)
{
  offshoot_run_panel_cancel (self);
  self->running = NULL; /* its result will be dropped */
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  OshGraphHandle *old = self->graph;
  self->graph = h ? osh_graph_handle_ref (h) : NULL;
  osh_graph_handle_unref (old);
  rebuild_more_inputs (self);
  clear_results (self);
  gtk_label_set_text (self->status_label, "");
  state_changed (self);
}

/* ---- The model's other inputs ---------------------------------------------------------- */

static void
show_more_input (OffshootRunPanel *self, int i)
{
  g_autofree char *name = self->more[i] ? g_file_get_basename (self->more[i]) : NULL;
  gtk_label_set_text (self->more_labels[i], name ? name : "Nothing chosen yet.");
}

static void
on_more_chosen (GtkNativeDialog *dialog, int response, OffshootRunPanel *self)
{
  int i = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "input"));
  if (response == GTK_RESPONSE_ACCEPT && i < self->n_more)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      offshoot_run_panel_set_more_input (self, i, file);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
on_more_clicked (GtkButton *button, OffshootRunPanel *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *fc = gtk_file_chooser_native_new (
      "Choose an Input", GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
      GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  GtkFileFilter *f = gtk_file_filter_new ();
  gtk_file_filter_set_name (f, "NumPy arrays and pictures (.npy, PNG, JPEG)");
  gtk_file_filter_add_pattern (f, "*.npy");
  gtk_file_filter_add_mime_type (f, "image/png");
  gtk_file_filter_add_mime_type (f, "image/jpeg");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (fc), f);
  g_object_unref (f);
  g_object_set_data (G_OBJECT (fc), "input", g_object_get_data (G_OBJECT (button), "input"));
  g_signal_connect_object (fc, "response", G_CALLBACK (on_more_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (fc));
}

/* One row per model input after the first, so every input of the model can be given
 * (a model the "Add input" fix made takes two). Kept across edits while the inputs stay. */
static void
rebuild_more_inputs (OffshootRunPanel *self)
{
  const OshGraph *g = self->graph ? self->graph->graph : NULL;
  int n = g ? MIN (MAX (g->n_inputs - 1, 0), MAX_INPUTS) : 0;
  if (n == self->n_more)
    return;
  for (int i = 0; i < self->n_more; i++)
    g_clear_object (&self->more[i]);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->more_inputs_box))))
    gtk_box_remove (self->more_inputs_box, child);
  self->n_more = n;
  for (int i = 0; i < n; i++)
    {
      int node = g->inputs[i + 1].node;
      const char *layer = node >= 0 ? g->layers[g->nodes[node].layer].name : "?";
      g_autofree char *title = g_strdup_printf ("Input %d: %s", i + 2, layer);
      GtkWidget *head = gtk_label_new (title);
      gtk_label_set_xalign (GTK_LABEL (head), 0);
      gtk_widget_add_css_class (head, "heading");
      GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *button = gtk_button_new_with_label ("Choose…");
      g_autofree char *tip = g_strdup_printf ("A .npy array or a picture for the input %s", layer);
      gtk_widget_set_tooltip_text (button, tip);
      g_object_set_data (G_OBJECT (button), "input", GINT_TO_POINTER (i));
      g_signal_connect_object (button, "clicked", G_CALLBACK (on_more_clicked), self, 0);
      self->more_labels[i] = GTK_LABEL (gtk_label_new (NULL));
      gtk_label_set_xalign (self->more_labels[i], 0);
      gtk_label_set_ellipsize (self->more_labels[i], PANGO_ELLIPSIZE_MIDDLE);
      gtk_widget_set_hexpand (GTK_WIDGET (self->more_labels[i]), TRUE);
      gtk_widget_add_css_class (GTK_WIDGET (self->more_labels[i]), "dim-label");
      gtk_box_append (GTK_BOX (row), button);
      gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->more_labels[i]));
      gtk_box_append (self->more_inputs_box, head);
      gtk_box_append (self->more_inputs_box, row);
      show_more_input (self, i);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->more_inputs_box), n > 0);
}

int
offshoot_run_panel_get_n_more_inputs (OffshootRunPanel *self)
{
  return self->n_more;
}

void
offshoot_run_panel_set_more_input (OffshootRunPanel *self, int i, GFile *file)
{
  g_return_if_fail (i >= 0 && i < self->n_more);
  clear_results (self);
  g_set_object (&self->more[i], file);
  show_more_input (self, i);
  state_changed (self);
}

static void
on_document_graph_changed (OffshootDocument *doc, OffshootRunPanel *self)
{
  take_graph (self, offshoot_document_get_graph (doc));
}

static void
on_document_settings_changed (OffshootDocument *doc, OffshootRunPanel *self)
{
  (void) doc;
  mark_stale (self);
}

void
offshoot_run_panel_set_document (OffshootRunPanel *self, OffshootDocument *doc)
{
  g_return_if_fail (OFFSHOOT_IS_RUN_PANEL (self));
  if (self->doc == doc)
    return;
  if (self->doc)
    g_signal_handlers_disconnect_by_data (self->doc, self);
  g_set_object (&self->doc, doc);
  self->pp = doc ? offshoot_document_get_preprocess (doc) : &self->own_pp;
  if (!doc)
    return;
  g_signal_connect_object (doc, "graph-changed", G_CALLBACK (on_document_graph_changed), self, 0);
  g_signal_connect_object (doc, "settings-changed", G_CALLBACK (on_document_settings_changed), self,
                           0);
  /* Everything shown comes from the new document: nothing of the previous model stays. */
  self->syncing = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->labels_entry),
                         offshoot_document_get_class_names (doc));
  self->syncing = FALSE;
  sync_widgets (self);
  take_graph (self, offshoot_document_get_graph (doc));
}

gboolean
offshoot_run_panel_results_are_stale (OffshootRunPanel *self)
{
  return self->stale;
}

const char *
offshoot_run_panel_get_names_warning (OffshootRunPanel *self)
{
  return self->names_warning;
}

double
offshoot_run_panel_get_opacity (OffshootRunPanel *self, int i)
{
  if (i < 0 || i >= (int) self->results->len)
    return -1;
  GtkScale *s = g_array_index (self->results, Result, i).opacity;
  return s ? gtk_range_get_value (GTK_RANGE (s)) : -1;
}

void
offshoot_run_panel_set_opacity (OffshootRunPanel *self, int i, double opacity)
{
  if (i < 0 || i >= (int) self->results->len)
    return;
  GtkScale *s = g_array_index (self->results, Result, i).opacity;
  if (s)
    gtk_range_set_value (GTK_RANGE (s), opacity);
}

void
offshoot_run_panel_set_input (OffshootRunPanel *self, GFile *file)
{
  g_return_if_fail (OFFSHOOT_IS_RUN_PANEL (self));
  if (self->input != file && !(self->input && file && g_file_equal (self->input, file)))
    {
      /* The results were drawn from the previous picture: they go with it. */
      clear_results (self);
      gtk_label_set_text (self->status_label, "");
    }
  g_set_object (&self->input, file);
  g_autofree char *name = file ? g_file_get_basename (file) : NULL;
  gtk_label_set_text (self->input_label, name ? name : "No picture chosen.");
  g_autoptr (GdkTexture) tex = NULL;
  if (file)
    tex = gdk_texture_new_from_file (file, NULL);
  gtk_picture_set_paintable (self->input_picture, tex ? GDK_PAINTABLE (tex) : NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->input_picture), tex != NULL);
  state_changed (self);
}

void
offshoot_run_panel_set_class_names (OffshootRunPanel *self, const char *names)
{
  gtk_editable_set_text (GTK_EDITABLE (self->labels_entry), names ? names : "");
}

static void
on_labels_changed (GtkEditable *entry, OffshootRunPanel *self)
{
  if (self->syncing || !self->doc)
    return;
  offshoot_document_set_class_names (self->doc, gtk_editable_get_text (entry));
}

void
offshoot_run_panel_set_focus_layer (OffshootRunPanel *self, const char *path)
{
  g_free (self->focus);
  self->focus = g_strdup (path);
}

static void
on_chooser_response (GtkNativeDialog *dialog, int response, OffshootRunPanel *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      offshoot_run_panel_set_input (self, file);
    }
  gtk_native_dialog_destroy (dialog);
  g_clear_object (&self->chooser);
}

static void
on_choose_clicked (GtkButton *b, OffshootRunPanel *self)
{
  (void) b;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_clear_object (&self->chooser);
  self->chooser = gtk_file_chooser_native_new ("Choose a Picture",
                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  GtkFileFilter *f = gtk_file_filter_new ();
  gtk_file_filter_set_name (f, "Pictures (PNG, JPEG)");
  gtk_file_filter_add_mime_type (f, "image/png");
  gtk_file_filter_add_mime_type (f, "image/jpeg");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), f);
  g_object_unref (f);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (on_chooser_response), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
sample_activated (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) action;
  g_autofree char *uri =
      g_strdup_printf ("resource://" SAMPLES_PATH "%s", g_variant_get_string (param, NULL));
  g_autoptr (GFile) file = g_file_new_for_uri (uri);
  offshoot_run_panel_set_input (OFFSHOOT_RUN_PANEL (widget), file);
}

static void
build_sample_menu (OffshootRunPanel *self)
{
  g_auto (GStrv) names =
      g_resources_enumerate_children (SAMPLES_PATH, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_autoptr (GMenu) menu = g_menu_new ();
  int n = 0;
  for (int i = 0; names && names[i]; i++)
    {
      g_autofree char *lower = g_ascii_strdown (names[i], -1);
      if (strstr (lower, "mask")
          || !(g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".jpg")))
        continue;
      g_autoptr (GMenuItem) item = g_menu_item_new (names[i], NULL);
      g_menu_item_set_action_and_target (item, "run.sample", "s", names[i]);
      g_menu_append_item (menu, item);
      n++;
    }
  gtk_menu_button_set_menu_model (self->sample_button, G_MENU_MODEL (menu));
  gtk_widget_set_visible (GTK_WIDGET (self->sample_button), n > 0);
}

/* ---- GObject ----------------------------------------------------------------------------- */

/* Out of its window (it is closing): stop the run. The worker holds the panel until it
 * returns, so dispose would come too late. */
static void
offshoot_run_panel_unroot (GtkWidget *widget)
{
  OffshootRunPanel *self = OFFSHOOT_RUN_PANEL (widget);
  offshoot_run_panel_cancel (self);
  self->running = NULL; /* its result will be dropped */
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  GTK_WIDGET_CLASS (offshoot_run_panel_parent_class)->unroot (widget);
}

static void
offshoot_run_panel_dispose (GObject *object)
{
  OffshootRunPanel *self = OFFSHOOT_RUN_PANEL (object);
  offshoot_run_panel_cancel (self);
  self->running = NULL;
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  if (self->chooser)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->cancellable);
  if (self->results)
    clear_results (self);
  if (self->doc)
    g_signal_handlers_disconnect_by_data (self->doc, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), OFFSHOOT_TYPE_RUN_PANEL);
  G_OBJECT_CLASS (offshoot_run_panel_parent_class)->dispose (object);
}

static void
offshoot_run_panel_finalize (GObject *object)
{
  OffshootRunPanel *self = OFFSHOOT_RUN_PANEL (object);
  g_array_unref (self->results);
  osh_graph_handle_unref (self->graph);
  g_clear_object (&self->doc);
  g_clear_object (&self->input);
  for (int i = 0; i < self->n_more; i++)
    g_clear_object (&self->more[i]);
  g_free (self->focus);
  g_free (self->error);
  G_OBJECT_CLASS (offshoot_run_panel_parent_class)->finalize (object);
}

static void
offshoot_run_panel_class_init (OffshootRunPanelClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = offshoot_run_panel_dispose;
  G_OBJECT_CLASS (klass)->finalize = offshoot_run_panel_finalize;
  wc->unroot = offshoot_run_panel_unroot;
  gtk_widget_class_set_layout_manager_type (wc, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (wc,
                                               "/io/offshoot/Offshoot/ui/offshoot-run-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child (wc, OffshootRunPanel, name)
  BIND (scroller);
  BIND (preprocess_expander);
  BIND (choose_button);
  BIND (run_button);
  BIND (cancel_button);
  BIND (sample_button);
  BIND (input_picture);
  BIND (input_label);
  BIND (preprocess_label);
  BIND (status_label);
  BIND (height_spin);
  BIND (width_spin);
  BIND (channels_drop);
  BIND (range_drop);
  BIND (labels_entry);
  BIND (progress);
  BIND (results_box);
  BIND (more_inputs_box);
#undef BIND
  gtk_widget_class_install_action (wc, "run.sample", "s", sample_activated);

  /* ::run-finished: a run ended (see get_error for failures). */
  signals[SIGNAL_RUN_FINISHED] =
      g_signal_new ("run-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
  /* ::state-changed: can-run or is-running changed. */
  signals[SIGNAL_STATE_CHANGED] =
      g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
}

/* Size 0 is the picture's own (models with open input sizes): shown and typed as "auto". */
static gboolean
size_output (GtkSpinButton *spin, gpointer data)
{
  (void) data;
  int v = gtk_spin_button_get_value_as_int (spin);
  char text[16];
  if (v == 0)
    g_strlcpy (text, "auto", sizeof text);
  else
    g_snprintf (text, sizeof text, "%d", v);
  gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

static int
size_input (GtkSpinButton *spin, double *value, gpointer data)
{
  (void) data;
  if (g_ascii_strcasecmp (gtk_editable_get_text (GTK_EDITABLE (spin)), "auto") != 0)
    return FALSE; /* a number: GTK reads it */
  *value = 0;
  return TRUE;
}

static void
offshoot_run_panel_init (OffshootRunPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->results = g_array_new (FALSE, TRUE, sizeof (Result));
  g_array_set_clear_func (self->results, (GDestroyNotify) result_clear);
  osh_preprocess_init (&self->own_pp);
  self->pp = &self->own_pp;
  sync_widgets (self);
  for (int i = 0; i < 2; i++)
    {
      GtkSpinButton *spin = i ? self->width_spin : self->height_spin;
      g_signal_connect (spin, "output", G_CALLBACK (size_output), NULL);
      g_signal_connect (spin, "input", G_CALLBACK (size_input), NULL);
      size_output (spin, NULL);
    }
  g_signal_connect_object (self->height_spin, "notify::value", G_CALLBACK (on_preprocess_changed),
                           self, 0);
  g_signal_connect_object (self->width_spin, "notify::value", G_CALLBACK (on_preprocess_changed),
                           self, 0);
  g_signal_connect_object (self->channels_drop, "notify::selected",
                           G_CALLBACK (on_preprocess_changed), self, 0);
  g_signal_connect_object (self->range_drop, "notify::selected", G_CALLBACK (on_preprocess_changed),
                           self, 0);
  g_signal_connect_object (self->labels_entry, "changed", G_CALLBACK (on_labels_changed), self, 0);
  g_signal_connect_object (self->cancel_button, "clicked", G_CALLBACK (on_cancel_clicked), self, 0);
  g_signal_connect_object (self->choose_button, "clicked", G_CALLBACK (on_choose_clicked), self, 0);
  build_sample_menu (self);
}

GtkWidget *
offshoot_run_panel_new (void)
{
  return g_object_new (OFFSHOOT_TYPE_RUN_PANEL, NULL);
}
