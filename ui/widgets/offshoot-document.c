/* offshoot-document.c — one open model: graph, history, file state, run settings and
 * selection. No widgets here; the window and its panels observe it. */
#include "offshoot-document.h"

#include <string.h>

#include "osh-class-names.h"
#include "osh-default-model.h"
#include "osh-model.h"

/* Where the view looked (offshoot_document_set_view). */
typedef struct
{
  double cx, cy, zoom;
  gboolean set;
} View;

typedef struct
{
  OshGraphHandle *graph;
  char *selection; /* layer path, or NULL */
  View view;
} Step;

struct _OffshootDocument
{
  GObject parent_instance;

  OshGraphHandle *graph;
  OshGraphHandle *original;
  /* The unmodified state: as opened or last saved; NULL for a model made in the window and
   * never saved (it exists nowhere else, so closing it loses it: modified from the start). */
  OshGraphHandle *saved;
  char *spec;
  char *title;
  GArray *undo, *redo; /* Step, most recent last */
  char *selection;
  View view; /* of the current graph */

  OshPreprocess pp;
  char *class_names;
  char *model_names; /* what the model brought, to tell names the user typed */
  double opacity;
};

G_DEFINE_FINAL_TYPE (OffshootDocument, offshoot_document, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_MODIFIED,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

enum
{
  SIGNAL_GRAPH_CHANGED,
  SIGNAL_SETTINGS_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
step_clear (Step *s)
{
  osh_graph_handle_unref (s->graph);
  g_free (s->selection);
}

static void
offshoot_document_finalize (GObject *object)
{
  OffshootDocument *self = OFFSHOOT_DOCUMENT (object);
  g_array_unref (self->undo);
  g_array_unref (self->redo);
  osh_graph_handle_unref (self->graph);
  osh_graph_handle_unref (self->original);
  osh_graph_handle_unref (self->saved);
  g_free (self->spec);
  g_free (self->title);
  g_free (self->selection);
  g_free (self->class_names);
  g_free (self->model_names);
  G_OBJECT_CLASS (offshoot_document_parent_class)->finalize (object);
}

static void
offshoot_document_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  OffshootDocument *self = OFFSHOOT_DOCUMENT (object);
  if (id == PROP_MODIFIED)
    g_value_set_boolean (value, offshoot_document_is_modified (self));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
offshoot_document_class_init (OffshootDocumentClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->finalize = offshoot_document_finalize;
  oc->get_property = offshoot_document_get_property;
  props[PROP_MODIFIED] = g_param_spec_boolean ("modified", NULL, NULL, FALSE,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (oc, N_PROPS, props);
  signals[SIGNAL_GRAPH_CHANGED] =
      g_signal_new ("graph-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_SETTINGS_CHANGED] =
      g_signal_new ("settings-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
}

static void
offshoot_document_init (OffshootDocument *self)
{
  self->undo = g_array_new (FALSE, TRUE, sizeof (Step));
  self->redo = g_array_new (FALSE, TRUE, sizeof (Step));
  g_array_set_clear_func (self->undo, (GDestroyNotify) step_clear);
  g_array_set_clear_func (self->redo, (GDestroyNotify) step_clear);
  self->opacity = 0.5;
}

/* The names the model brings (osh-class-names.h: its own, a labels.txt beside it, or ImageNet's
 * for a 1000-class output), as the run panel's comma-separated entry holds them; NULL if none. */
static char *
model_class_names (const OshGraph *g)
{
  int n = 0, n_imagenet = 0;
  char **own = osh_class_names_get (g, &n);
  const char *const *names = (const char *const *) own;
  /* A graph built in the window may not have its shapes inferred yet: then no class count. */
  const OshNode *out =
      g->n_outputs > 0 && g->outputs[0].node >= 0 ? &g->nodes[g->outputs[0].node] : NULL;
  if (n == 0 && out && out->shapes && g->outputs[0].index < out->n_outputs)
    {
      const OshShape *s = &out->shapes[g->outputs[0].index];
      char *unused = NULL;
      const char *const *imagenet = osh_imagenet_class_names (&n_imagenet);
      names = s->rank > 0 ? osh_class_names_for_output (NULL, 0, s->dim[s->rank - 1], imagenet,
                                                        n_imagenet, &unused)
                          : NULL;
      n = names ? n_imagenet : 0;
    }
  char *text = names && n > 0 ? g_strjoinv (", ", (char **) names) : NULL;
  osh_class_names_free (own);
  return text;
}

OffshootDocument *
offshoot_document_new (OshGraphHandle *h, const char *spec, const char *title)
{
  g_return_val_if_fail (h != NULL, NULL);
  OffshootDocument *self = g_object_new (OFFSHOOT_TYPE_DOCUMENT, NULL);
  self->graph = osh_graph_handle_ref (h);
  self->original = osh_graph_handle_ref (h);
  self->saved = title ? NULL : osh_graph_handle_ref (h);
  self->spec = g_strdup (spec);
  self->title = g_strdup (title);
  osh_preprocess_init (&self->pp);
  osh_preprocess_propose (h->graph, &self->pp);
  self->class_names = model_class_names (h->graph);
  self->model_names = g_strdup (self->class_names);
  return self;
}

OshGraphHandle *
offshoot_document_get_graph (OffshootDocument *self)
{
  return self->graph;
}

OshGraphHandle *
offshoot_document_get_original (OffshootDocument *self)
{
  return self->original;
}

const char *
offshoot_document_get_spec (OffshootDocument *self)
{
  return self->spec;
}

char *
offshoot_document_dup_display_name (OffshootDocument *self)
{
  if (self->title)
    return g_strdup (self->title);
  if (!self->spec || g_str_equal (self->spec, "@default"))
    return g_strdup ("default model");
  return g_path_get_basename (self->spec);
}

gboolean
offshoot_document_is_modified (OffshootDocument *self)
{
  return self->graph != self->saved;
}

void
offshoot_document_mark_saved (OffshootDocument *self, const char *path)
{
  (void) path; /* the document stays the file it was opened from; an export is a copy */
  if (self->saved == self->graph)
    return;
  osh_graph_handle_unref (self->saved);
  self->saved = osh_graph_handle_ref (self->graph);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODIFIED]);
}

/* ---- Weights ----------------------------------------------------------------------------- */

gboolean
offshoot_document_has_weights (OffshootDocument *self)
{
  return !osh_model_weights_pending (self->graph->graph);
}

gboolean
offshoot_document_take_weights (OffshootDocument *self, OshGraphHandle *h)
{
  /* Only the graph as opened: an edit made from the weightless graph would carry none. */
  if (self->graph != self->original || self->saved != self->original || self->undo->len > 0
      || self->redo->len > 0)
    return FALSE;
  osh_graph_handle_ref (h);
  osh_graph_handle_unref (self->original);
  osh_graph_handle_unref (self->saved);
  osh_graph_handle_unref (self->graph);
  self->original = h;
  self->saved = osh_graph_handle_ref (h);
  self->graph = osh_graph_handle_ref (h);
  g_signal_emit (self, signals[SIGNAL_GRAPH_CHANGED], 0);
  return TRUE;
}

/* ---- Selection --------------------------------------------------------------------------- */

static gboolean
names_layer (OshGraphHandle *h, const char *path)
{
  return path && osh_graph_find_path (h->graph, path) >= 0;
}

const char *
offshoot_document_get_selection (OffshootDocument *self)
{
  return self->selection;
}

void
offshoot_document_set_selection (OffshootDocument *self, const char *path)
{
  if (path && !names_layer (self->graph, path))
    path = NULL;
  if (path != self->selection)
    {
      char *copy = g_strdup (path);
      g_free (self->selection);
      self->selection = copy;
    }
}

int
offshoot_document_get_selected_layer (OffshootDocument *self)
{
  return self->selection ? osh_graph_find_path (self->graph->graph, self->selection) : -1;
}

void
offshoot_document_set_view (OffshootDocument *self, double cx, double cy, double zoom)
{
  self->view = (View){ cx, cy, zoom, TRUE };
}

gboolean
offshoot_document_get_view (OffshootDocument *self, double *cx, double *cy, double *zoom)
{
  *cx = self->view.cx;
  *cy = self->view.cy;
  *zoom = self->view.zoom;
  return self->view.set;
}

/* ---- History ----------------------------------------------------------------------------- */

static void
replace_graph (OffshootDocument *self, OshGraphHandle *h, const char *select)
{
  gboolean was_modified = offshoot_document_is_modified (self);
  OshGraphHandle *old = self->graph;
  self->graph = osh_graph_handle_ref (h);
  osh_graph_handle_unref (old);
  offshoot_document_set_selection (self, select);
  g_signal_emit (self, signals[SIGNAL_GRAPH_CHANGED], 0);
  if (was_modified != offshoot_document_is_modified (self))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODIFIED]);
}

static void
push (GArray *stack, OffshootDocument *self)
{
  Step s = { osh_graph_handle_ref (self->graph), g_strdup (self->selection), self->view };
  g_array_append_val (stack, s);
}

void
offshoot_document_apply (OffshootDocument *self, OshGraphHandle *h, const char *select)
{
  push (self->undo, self);
  g_array_set_size (self->redo, 0);
  g_autofree char *keep = g_strdup (select ? select : self->selection);
  self->view.set = FALSE; /* the new graph is seen where the view is now */
  replace_graph (self, h, keep);
}

static gboolean
step (OffshootDocument *self, GArray *from, GArray *to)
{
  if (from->len == 0)
    return FALSE;
  Step s = g_array_index (from, Step, from->len - 1);
  /* Taken out without the clear function: the step's references move here. */
  g_array_set_clear_func (from, NULL);
  g_array_set_size (from, from->len - 1);
  g_array_set_clear_func (from, (GDestroyNotify) step_clear);
  push (to, self);
  self->view = s.view;
  replace_graph (self, s.graph, s.selection);
  step_clear (&s);
  return TRUE;
}

gboolean
offshoot_document_can_undo (OffshootDocument *self)
{
  return self->undo->len > 0;
}

gboolean
offshoot_document_can_redo (OffshootDocument *self)
{
  return self->redo->len > 0;
}

gboolean
offshoot_document_undo (OffshootDocument *self)
{
  return step (self, self->undo, self->redo);
}

gboolean
offshoot_document_redo (OffshootDocument *self)
{
  return step (self, self->redo, self->undo);
}

/* ---- Run settings ------------------------------------------------------------------------ */

OshPreprocess *
offshoot_document_get_preprocess (OffshootDocument *self)
{
  return &self->pp;
}

const char *
offshoot_document_get_class_names (OffshootDocument *self)
{
  return self->class_names ? self->class_names : "";
}

void
offshoot_document_set_class_names (OffshootDocument *self, const char *names)
{
  if (g_strcmp0 (names, self->class_names) == 0)
    return;
  g_free (self->class_names);
  self->class_names = g_strdup (names);
  offshoot_document_settings_changed (self);
}

/* The entry's comma-separated names, trimmed, as a NULL-terminated list. */
static GStrv
split_class_names (const char *entry, int *n)
{
  g_autofree char *text = g_strstrip (g_strdup (entry ? entry : ""));
  GStrv names = g_strsplit (text, ",", -1);
  int count = g_strv_length (names);
  for (int i = 0; i < count; i++)
    g_strstrip (names[i]);
  /* A trailing comma ("a,b,") does not name a class; an empty entry names none. */
  if (count > 0 && !*names[count - 1])
    {
      g_free (names[--count]);
      names[count] = NULL;
    }
  *n = count;
  return names;
}

int
offshoot_document_count_class_names (OffshootDocument *self)
{
  int n = 0;
  g_auto (GStrv) names = split_class_names (self->class_names, &n);
  return n;
}

GStrv
offshoot_document_dup_typed_class_names (OffshootDocument *self, int *n)
{
  *n = 0;
  if (g_strcmp0 (self->class_names ? self->class_names : "",
                 self->model_names ? self->model_names : "")
      == 0)
    return NULL;
  return split_class_names (self->class_names, n);
}

double
offshoot_document_get_heatmap_opacity (OffshootDocument *self)
{
  return self->opacity;
}

void
offshoot_document_set_heatmap_opacity (OffshootDocument *self, double opacity)
{
  self->opacity = CLAMP (opacity, 0.0, 1.0);
}

void
offshoot_document_settings_changed (OffshootDocument *self)
{
  g_signal_emit (self, signals[SIGNAL_SETTINGS_CHANGED], 0);
}
