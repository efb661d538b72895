#include "osh-graphviz-read.h"

#include <glib.h>
#include <string.h>

typedef struct
{
  GHashTable *ids;  /* name → ID (even, from 2) */
  GPtrArray *names; /* ID / 2 - 1 → name */
  IDTYPE anonymous; /* odd IDs for unnamed objects, as cgraph's own */
} IdState;

static void *
id_open (Agraph_t *g, Agdisc_t *disc)
{
  (void) g;
  (void) disc;
  IdState *s = g_new0 (IdState, 1);
  s->ids = g_hash_table_new (g_str_hash, g_str_equal);
  s->names = g_ptr_array_new_with_free_func (g_free);
  s->anonymous = 1;
  return s;
}

static long
id_map (void *state, int objtype, char *str, IDTYPE *id, int createflag)
{
  (void) objtype;
  IdState *s = state;
  if (!str)
    {
      *id = s->anonymous;
      s->anonymous += 2;
      return 1;
    }
  gpointer known;
  if (g_hash_table_lookup_extended (s->ids, str, NULL, &known))
    {
      *id = (IDTYPE) GPOINTER_TO_SIZE (known);
      return 1;
    }
  if (!createflag)
    return 0;
  char *name = g_strdup (str);
  g_ptr_array_add (s->names, name);
  *id = (IDTYPE) s->names->len * 2;
  g_hash_table_insert (s->ids, name, GSIZE_TO_POINTER ((gsize) *id));
  return 1;
}

static long
id_alloc (void *state, int objtype, IDTYPE request)
{
  (void) state;
  (void) objtype;
  (void) request;
  return 0; /* no object asks for an ID of its own choosing */
}

static void
id_free (void *state, int objtype, IDTYPE id)
{
  (void) state;
  (void) objtype;
  (void) id; /* names live as long as the graph: a name may come back */
}

static char *
id_print (void *state, int objtype, IDTYPE id)
{
  (void) objtype;
  IdState *s = state;
  if (id % 2 != 0 || id == 0 || id / 2 > s->names->len)
    return NULL;
  return g_ptr_array_index (s->names, id / 2 - 1);
}

static void
id_close (void *state)
{
  IdState *s = state;
  g_hash_table_destroy (s->ids);
  g_ptr_array_free (s->names, TRUE);
  g_free (s);
}

static void
id_register (void *state, int objtype, void *obj)
{
  (void) state;
  (void) objtype;
  (void) obj;
}

static Agiddisc_t ordered_ids = { id_open,  id_map,   id_alloc,   id_free,
                                  id_print, id_close, id_register };

typedef struct
{
  const char *text;
  size_t at, len;
} TextChannel;

static int
text_read (void *chan, char *buf, int bufsize)
{
  TextChannel *t = chan;
  size_t n = MIN ((size_t) MAX (bufsize, 0), t->len - t->at);
  memcpy (buf, t->text + t->at, n);
  t->at += n;
  return (int) n;
}

/* cgraph keeps the discipline's pointers for the graph's life: they point at statics. */
static Agiodisc_t text_io;

Agraph_t *
osh_graphviz_read (const char *dot)
{
  text_io = AgIoDisc; /* the same values on every call (callers hold the graphviz lock) */
  text_io.afread = text_read;
  Agdisc_t disc = { &AgMemDisc, &ordered_ids, &text_io };
  TextChannel chan = { dot, 0, strlen (dot) };
  return agread (&chan, &disc);
}
