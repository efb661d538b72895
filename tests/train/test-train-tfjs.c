/* engine/train against tfjs's own training (fixture made by tools/reference/train-tfjs-fit.mjs):
 * the untrained heads are read from the TF.js layers models tfjs saved (tests/train/tfjs-fit/
 * seg and cls), their input is the feature map, and one epoch runs through the trainer as
 * `offshoot fit --no-shuffle` drives it (osh_trainer_new on the model input as the cut, the loss
 * Offshoot picks for the output, osh_trainer_train_step on consecutive batches, the last one
 * short). Each step's loss and, at the end, every weight of every layer — BatchNormalization's
 * moving mean and variance too — must match what tfjs's model.fit left.
 *
 * Norm, per weight tensor: max |offshoot − tfjs| ≤ 1e-4 × max |tfjs| (the ∞-norm, relative).
 * Each tensor must also have moved in the epoch by more than 10 × that tolerance, so a wrong
 * update could not hide under it; and two controls change one setting (Adam's epsilon, the
 * BatchNormalization momentum) and require the comparison to fail.
 *
 * The Adam runs use epsilon 1e-12: tfjs adds epsilon to √v̂ (Kingma & Ba's Algorithm 1), Keras
 * and Offshoot to √v (Keras's "epsilon hat"); the updates differ by under 3.2e-11 / √v̂ per step
 * there, while at tfjs's default 1e-7 they differ by up to 0.5 % of a kernel (README). */
#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "osh-model.h"
#include "osh-test.h"
#include "osh-train.h"

static json_t *fixture;

static GArray *
numbers (const json_t *j)
{
  GArray *a = g_array_sized_new (FALSE, FALSE, sizeof (float), (guint) json_array_size (j));
  for (size_t i = 0; i < json_array_size (j); i++)
    {
      float v = (float) json_number_value (json_array_get (j, i));
      g_array_append_val (a, v);
    }
  return a;
}

/* max |got − want| / max |want| over a tensor. */
static double
relative_diff (const float *got, const float *want, guint n, double *peak)
{
  double p = 0.0, worst = 0.0;
  for (guint i = 0; i < n; i++)
    p = fmax (p, fabs (want[i]));
  for (guint i = 0; i < n; i++)
    worst = fmax (worst, fabs ((double) got[i] - want[i]));
  if (peak)
    *peak = p;
  return p > 0 ? worst / p : worst;
}

typedef enum
{
  CHANGE_NONE,
  CHANGE_ADAM_EPSILON, /* 1e-7 → 1e-3 */
  CHANGE_BN_MOMENTUM,  /* 0.99 → 0.9 */
} Change;

/* Trains run `r` as fit does and returns the largest relative difference over the weights
 * (over the moving statistics only when `moving_only`). With CHANGE_NONE it also checks each
 * step's loss and that every weight moved. */
static double
replay (const json_t *r, Change change, bool moving_only)
{
  const char *name = json_string_value (json_object_get (r, "name"));
  const char *model = json_string_value (json_object_get (r, "model"));
  OshError err = { 0 };
  char *rel = g_strdup_printf ("train/tfjs-fit/%s/model.json", model);
  char *path = osh_test_fixture (rel);
  OshGraph *g = osh_model_load (path, &err);
  if (!g)
    g_error ("%s: %s", path, err.message);
  g_free (rel);
  g_free (path);
  /* The weights as tfjs saved them before training, to see that each one moved. */
  GPtrArray *initial = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < g->n_layers; i++)
    for (int w = 0; w < g->layers[i].n_weights; w++)
      {
        const OshTensor *t = g->layers[i].weights[w].value;
        g_ptr_array_add (initial,
                         g_memdup2 (t->data, (gsize) osh_tensor_numel (t) * sizeof (float)));
      }
  if (change == CHANGE_BN_MOMENTUM)
    json_object_set_new (g->layers[osh_graph_find_layer (g, -1, "head_bn")].config, "momentum",
                         json_real (0.9));

  const json_t *o = json_object_get (r, "optimizer");
  const char *kind = json_string_value (json_object_get (o, "kind"));
  OshTrainOptions opt = osh_train_options_default ();
  opt.optimizer = strcmp (kind, "sgd") == 0 ? OSH_OPTIM_SGD : OSH_OPTIM_ADAM;
  opt.learning_rate = json_number_value (json_object_get (o, "lr"));
  if (opt.optimizer == OSH_OPTIM_SGD)
    opt.momentum = json_number_value (json_object_get (o, "momentum"));
  else
    {
      opt.beta_1 = json_number_value (json_object_get (o, "beta_1"));
      opt.beta_2 = json_number_value (json_object_get (o, "beta_2"));
      opt.epsilon = json_number_value (json_object_get (o, "epsilon"));
      if (change == CHANGE_ADAM_EPSILON)
        opt.epsilon = 1e-3;
    }
  int64_t batch = json_integer_value (json_object_get (r, "batch"));
  opt.max_batch = batch;
  /* As fit sets it up: the outputs, the cut (none here: the model input is the features), the
   * loss by the output's kind, which must be the one tfjs trained with. */
  const int outputs[] = { 0 };
  OshTrainer *t = osh_trainer_new_outputs (g, outputs, 1, NULL, 0, &opt, &err);
  if (!t || !osh_trainer_set_loss (t, 0, OSH_LOSS_AUTO, 1.0, &err))
    g_error ("%s: %s", name, err.message);
  g_assert_cmpstr (osh_train_loss_name (osh_trainer_loss_at (t, 0)), ==,
                   json_string_value (json_object_get (r, "loss")));

  const json_t *fj = json_object_get (fixture, "features");
  const json_t *tj = json_object_get (json_object_get (fixture, "targets"), model);
  GArray *x = numbers (json_object_get (fj, "data"));
  GArray *y = numbers (json_object_get (tj, "data"));
  int64_t n = json_integer_value (json_array_get (json_object_get (fj, "shape"), 0));
  int64_t fn = osh_trainer_feature_numel (t, 0), on = osh_trainer_output_numel (t);
  g_assert_cmpint (fn * n, ==, x->len);
  g_assert_cmpint (on * n, ==, y->len);
  const json_t *losses = json_object_get (r, "losses");
  g_assert_cmpint ((int64_t) json_array_size (losses), ==, (n + batch - 1) / batch);
  for (int64_t s = 0; s * batch < n; s++)
    {
      int64_t b = MIN (batch, n - s * batch);
      const float *feats[] = { (const float *) x->data + s * batch * fn };
      const float *targets[] = { (const float *) y->data + s * batch * on };
      OshTrainStats st;
      double total;
      if (!osh_trainer_train_step (t, feats, targets, b, &st, &total, &err))
        g_error ("%s step %" G_GINT64_FORMAT ": %s", name, s + 1, err.message);
      double want = json_number_value (json_array_get (losses, (size_t) s));
      if (change == CHANGE_NONE && fabs (total - want) > 1e-4 * fmax (1.0, fabs (want)))
        g_error ("%s step %" G_GINT64_FORMAT ": loss %.7g, tfjs %.7g", name, s + 1, total, want);
    }
  osh_trainer_free (t);

  double worst = 0.0;
  guint k = 0;
  for (int i = 0; i < g->n_layers; i++)
    {
      const OshLayer *l = &g->layers[i];
      const json_t *ws = json_object_get (json_object_get (r, "trained"), l->name);
      g_assert_cmpint ((int) json_array_size (ws), ==, l->n_weights);
      bool bn = strcmp (l->class_name, "BatchNormalization") == 0;
      for (int w = 0; w < l->n_weights; w++, k++)
        {
          GArray *want = numbers (json_array_get (ws, (size_t) w));
          const float *got = l->weights[w].value->data;
          g_assert_cmpint (osh_tensor_numel (l->weights[w].value), ==, want->len);
          double peak, moved = relative_diff (g_ptr_array_index (initial, k),
                                              (const float *) want->data, want->len, &peak);
          double d = relative_diff (got, (const float *) want->data, want->len, NULL);
          const char *what =
              !bn ? l->weights[w].name
                  : (const char *[]){ "gamma", "beta", "moving mean", "moving variance" }[w];
          if (change == CHANGE_NONE)
            {
              g_test_message ("%s %s %s: max |diff| / max |tfjs| = %.2g (moved %.2g)", name,
                              l->name, what, d, moved);
              if (d > 1e-4)
                g_error ("%s: %s %s differs from tfjs by %.3g of its peak %.3g", name, l->name,
                         what, d, peak);
              if (moved < 1e-3)
                g_error ("%s: %s %s moved only %.3g in the epoch: the check would be vacuous", name,
                         l->name, what, moved);
            }
          if (!moving_only || (bn && w >= 2))
            worst = fmax (worst, d);
          g_array_free (want, TRUE);
        }
    }
  g_array_free (x, TRUE);
  g_array_free (y, TRUE);
  g_ptr_array_unref (initial);
  osh_graph_free (g);
  return worst;
}

static const json_t *
run_named (const char *name)
{
  const json_t *runs = json_object_get (fixture, "runs");
  for (size_t i = 0; i < json_array_size (runs); i++)
    if (strcmp (json_string_value (json_object_get (json_array_get (runs, i), "name")), name) == 0)
      return json_array_get (runs, i);
  g_error ("no run %s in the fixture", name);
}

static void
test_run (gconstpointer data)
{
  double worst = replay (data, CHANGE_NONE, false);
  g_test_message ("worst relative difference %.2g", worst);
}

/* The controls: one setting off and the comparison catches it. */
static void
test_adam_epsilon_control (void)
{
  double worst = replay (run_named ("seg-adam"), CHANGE_ADAM_EPSILON, false);
  g_test_message ("Adam epsilon 1e-3 instead of tfjs's: worst relative difference %.2g", worst);
  g_assert_cmpfloat (worst, >, 1e-4);
}

static void
test_bn_momentum_control (void)
{
  double worst = replay (run_named ("seg-sgd"), CHANGE_BN_MOMENTUM, true);
  g_test_message ("BatchNormalization momentum 0.9 instead of 0.99: moving statistics off by %.2g",
                  worst);
  g_assert_cmpfloat (worst, >, 1e-4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  char *path = osh_test_fixture ("train/tfjs-fit/tfjs-fit.json");
  json_error_t je;
  fixture = json_load_file (path, 0, &je);
  if (!fixture)
    g_error ("%s: %s", path, je.text);
  g_free (path);
  const json_t *runs = json_object_get (fixture, "runs");
  for (size_t i = 0; i < json_array_size (runs); i++)
    {
      const json_t *r = json_array_get (runs, i);
      char *test =
          g_strdup_printf ("/train/tfjs/%s", json_string_value (json_object_get (r, "name")));
      g_test_add_data_func (test, r, test_run);
      g_free (test);
    }
  g_test_add_func ("/train/tfjs/control/adam-epsilon", test_adam_epsilon_control);
  g_test_add_func ("/train/tfjs/control/bn-momentum", test_bn_momentum_control);
  int status = g_test_run ();
  json_decref (fixture);
  return status;
}
