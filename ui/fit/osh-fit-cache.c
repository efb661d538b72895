/* osh-fit-cache.c — features and targets for a fit (osh-fit-cache.h). */
#include "osh-fit-cache.h"

#include <glib.h>
#include <string.h>

#include "osh-exec.h"
#include "osh-image.h"

static uint64_t
splitmix (uint64_t *state)
{
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

typedef struct
{
  bool flip;
  int dx, dy;
} Transform;

/* Variant v of picture i: the same for the same seed, whatever the order of the work. */
static Transform
transform_of (const OshFitAugment *aug, int64_t i, int v, int width, int height)
{
  Transform tr = { 0 };
  if (v == 0)
    return tr;
  uint64_t state = aug->seed ^ ((uint64_t) i * 0xD1B54A32D192ED03ULL) ^ ((uint64_t) v << 48);
  tr.flip = aug->flip && (splitmix (&state) & 1);
  if (aug->shift > 0)
    {
      int mx = (int) (aug->shift * width), my = (int) (aug->shift * height);
      tr.dx = mx ? (int) (splitmix (&state) % (uint64_t) (2 * mx + 1)) - mx : 0;
      tr.dy = my ? (int) (splitmix (&state) % (uint64_t) (2 * my + 1)) - my : 0;
    }
  return tr;
}

/* Keras's "reflect" fill: d c b | a b c d | c b a. */
static int
reflect (int x, int n)
{
  if (n == 1)
    return 0;
  int period = 2 * (n - 1);
  x %= period;
  if (x < 0)
    x += period;
  return x < n ? x : period - x;
}

/* The picture moved by the transform (a new image; the source is untouched). */
static OshImage *
transformed (const OshImage *img, Transform tr, OshError *err)
{
  int w = img->width, h = img->height;
  uint8_t *rgb = g_new (uint8_t, (size_t) w * h * 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int sx = reflect (x - tr.dx, w), sy = reflect (y - tr.dy, h);
        if (tr.flip)
          sx = w - 1 - sx;
        memcpy (rgb + ((size_t) y * w + x) * 3, img->rgb + ((size_t) sy * w + sx) * 3, 3);
      }
  OshImage *out = osh_image_new_rgb (w, h, rgb, err);
  g_free (rgb);
  return out;
}

/* A target for output k from the example's class and (transformed) mask. */
static bool
make_target (const OshFitExample *e, int n_classes, OshLossKind kind, const OshShape *os,
             int64_t on, const OshImage *mask, const char *name, float *target, OshError *err)
{
  if (os->rank == 1)
    {
      if (e->label < 0)
        return osh_fail (err, OSH_ERR_USAGE,
                         "output '%s' is a vector of %lld: it trains on class folders, and the "
                         "data has pictures with masks only",
                         name, (long long) on);
      if (on != n_classes)
        return osh_fail (err, OSH_ERR_USAGE,
                         "%d class folders, but output '%s' is not a softmax over %d classes",
                         n_classes, name, (int) on);
      target[e->label] = 1.0f;
      return true;
    }
  if (os->rank != 3)
    return osh_fail (err, OSH_ERR_UNSUPPORTED, "output '%s': no target for a rank-%d output", name,
                     os->rank + 1);
  if (!mask)
    return osh_fail (err, OSH_ERR_USAGE,
                     "output '%s' is a map, but the picture has no mask (class folders train a "
                     "map only with masks beside the pictures or in masks/)",
                     name);
  int64_t c = os->dim[2], px = (int64_t) mask->width * mask->height;
  int dh = (int) os->dim[0], dw = (int) os->dim[1];
  float *plane = g_new (float, px), *small = g_new (float, (size_t) dh *dw);
  bool ok = true;
  if (c == 1)
    {
      if (kind == OSH_LOSS_CCE || kind == OSH_LOSS_SOFTMAX_CE)
        ok = osh_fail (err, OSH_ERR_USAGE,
                       "output '%s' has one channel: a softmax over it is "
                       "always 1 (use bce, dice, bce-dice or mse)",
                       name);
      for (int64_t p = 0; p < px; p++)
        plane[p] = mask->rgb[p * 3] / 255.0f;
      osh_train_area_resize (plane, mask->height, mask->width, target, dh, dw);
    }
  /* N channels: a class per pixel. With class folders and N = classes + 1, the mask says
   * where the picture's class is (0 background); otherwise its grey level is the class. */
  bool by_folder = e->label >= 0 && c == n_classes + 1;
  for (int64_t k = 0; ok && c > 1 && k < c; k++)
    {
      for (int64_t p = 0; p < px && ok; p++)
        {
          int level = mask->rgb[p * 3];
          int64_t cls = by_folder ? (level > 127 ? e->label + 1 : 0) : level;
          if (cls >= c)
            ok = osh_fail (err, OSH_ERR_USAGE,
                           "the mask has grey level %d, but output '%s' has %lld classes (a "
                           "mask's level is its pixel's class)",
                           level, name, (long long) c);
          plane[p] = cls == k ? 1.0f : 0.0f;
        }
      osh_train_area_resize (plane, mask->height, mask->width, small, dh, dw);
      for (int64_t q = 0; q < (int64_t) dh * dw; q++)
        target[q * c + k] = small[q];
    }
  g_free (plane);
  g_free (small);
  return ok;
}

bool
osh_fit_cache_fill (const OshGraph *g, OshTrainer *t, const char *const *names,
                    const OshFitData *data, const OshFitAugment *aug, int threads,
                    OshFitCacheProgress progress, void *user, OshFitCache *cache, OshError *err)
{
  int nf = osh_trainer_n_features (t), no = osh_trainer_n_outputs (t);
  const char **paths = g_new (const char *, nf);
  for (int f = 0; f < nf; f++)
    paths[f] = osh_trainer_feature_path (t, f);
  OshExecOptions eo = osh_exec_options_default ();
  eo.threads = threads;
  eo.capture = paths;
  eo.n_capture = nf;
  OshPlan *plan = osh_plan_new (g, &eo, err);
  g_free (paths);
  if (!plan)
    return false;
  OshPreprocess pp;
  osh_preprocess_propose (g, &pp);
  int64_t n = data->examples->len;
  int variants = 1 + (aug ? aug->copies : 0);
  cache->n = n;
  cache->variants = variants;
  cache->nf = nf;
  cache->no = no;
  cache->features = g_new0 (float *, nf);
  for (int f = 0; f < nf; f++)
    cache->features[f] = g_new (float, n *variants *osh_trainer_feature_numel (t, f));
  cache->targets = g_new0 (float *, no);
  for (int k = 0; k < no; k++)
    cache->targets[k] = g_new0 (float, n *variants *osh_trainer_output_numel_at (t, k));
  bool ok = true;
  for (int64_t i = 0; i < n && ok; i++)
    {
      const OshFitExample *e = data->examples->pdata[i];
      OshImage *img = osh_image_load (e->picture, err);
      OshImage *mask = img && e->mask ? osh_image_load (e->mask, err) : NULL;
      const char *bad = !img ? e->picture : e->mask;
      ok = img && (!e->mask || mask);
      if (ok && mask && (mask->width != img->width || mask->height != img->height))
        ok = osh_fail (err, OSH_ERR_SHAPE, "a mask of %d×%d for a picture of %d×%d", mask->width,
                       mask->height, img->width, img->height);
      for (int64_t p = 0; ok && mask && p < (int64_t) mask->width * mask->height; p++)
        {
          const uint8_t *px = mask->rgb + p * 3;
          if (px[0] != px[1] || px[0] != px[2])
            ok = osh_fail (err, OSH_ERR_FORMAT,
                           "a mask in colour (pixel %lld is %d,%d,%d): masks are grey, their "
                           "level the class or the coverage",
                           (long long) p, px[0], px[1], px[2]);
        }
      for (int v = 0; ok && v < variants; v++)
        {
          int64_t row = i * variants + v;
          Transform tr = transform_of (aug, i, v, img->width, img->height);
          OshImage *vi = v ? transformed (img, tr, err) : img;
          OshImage *vm = v && mask ? transformed (mask, tr, err) : mask;
          OshTensor *x = vi && (vm || !mask) ? osh_image_to_tensor (vi, &pp, err) : NULL;
          ok = x && osh_plan_run (plan, (const OshTensor *const[]){ x }, 1, NULL, err);
          bad = e->picture;
          for (int f = 0; ok && f < nf; f++)
            {
              OshShape s;
              const float *act = osh_plan_activation (plan, osh_trainer_feature_path (t, f), &s);
              int64_t fn = osh_trainer_feature_numel (t, f);
              ok = act && osh_shape_numel (&s) == fn;
              if (ok)
                memcpy (cache->features[f] + row * fn, act, (size_t) fn * sizeof (float));
              else
                osh_fail (err, OSH_ERR_SHAPE, "the features of '%s' have an unexpected size",
                          osh_trainer_feature_path (t, f));
            }
          for (int k = 0; ok && k < no; k++)
            {
              int64_t on = osh_trainer_output_numel_at (t, k);
              ok = make_target (e, (int) data->classes->len, osh_trainer_loss_at (t, k),
                                osh_trainer_output_shape_at (t, k), on, vm, names[k],
                                cache->targets[k] + row * on, err);
              if (!ok && vm)
                bad = e->mask;
            }
          osh_tensor_free (x);
          if (v)
            osh_image_free (vi), osh_image_free (vm);
        }
      if (!ok)
        osh_error_prefix (err, "%s: ", bad);
      osh_image_free (mask);
      osh_image_free (img);
      if (ok && progress && !progress (i + 1, n, user))
        ok = osh_fail (err, OSH_ERR_CANCELLED, "stopped while computing the features");
    }
  osh_plan_free (plan);
  return ok;
}

void
osh_fit_cache_clear (OshFitCache *c)
{
  for (int f = 0; c->features && f < c->nf; f++)
    g_free (c->features[f]);
  for (int k = 0; c->targets && k < c->no; k++)
    g_free (c->targets[k]);
  g_free (c->features);
  g_free (c->targets);
  memset (c, 0, sizeof *c);
}
