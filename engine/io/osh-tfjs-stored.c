/* TF.js weights-manifest storage forms: float32, int32, float16, uint8/uint16 quantized
 * (value = q · scale + min, computed in double and rounded to float32 as tfjs's decodeWeights
 * does), bool. Encoding is checked by decoding: a weight is written in its stored form only
 * when that form gives back every float32 exactly, so a saved model loads in tfjs with the same
 * values bit for bit; anything else (a weight an edit changed) stays float32. */
#include "osh-tfjs-stored.h"

#include <math.h>
#include <string.h>

#include "osh-float16.h"

/* Round to nearest, ties to even (the decode check catches whatever does not come back). */
static uint16_t
float_to_half (float f)
{
  uint32_t x;
  memcpy (&x, &f, sizeof x);
  uint16_t sign = (uint16_t) ((x >> 16) & 0x8000);
  uint32_t a = x & 0x7fffffff;
  if (a >= 0x7f800000) /* inf, NaN */
    return sign | (a > 0x7f800000 ? 0x7e00 : 0x7c00);
  if (a >= 0x477ff000) /* 65520 and up round to inf */
    return sign | 0x7c00;
  if (a < 0x38800000) /* below 2^-14: a half subnormal, in units of 2^-24 */
    {
      float m;
      memcpy (&m, &a, sizeof m);
      return sign | (uint16_t) nearbyintf (m * 16777216.0f);
    }
  uint32_t h = ((a >> 23) - 112) << 10 | ((a >> 13) & 0x3ff), rest = a & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
    h++; /* a carry into the exponent is the right rounding too */
  return sign | (uint16_t) h;
}

bool
osh_tfjs_codec (const json_t *entry, OshTfjsCodec *c, const char **stored)
{
  const json_t *dt = json_object_get (entry, "dtype");
  const char *dtype = json_is_string (dt) ? json_string_value (dt) : "float32";
  const json_t *quant = json_object_get (entry, "quantization");
  const json_t *qd = json_object_get (quant, "dtype");
  *stored = quant ? (json_is_string (qd) ? json_string_value (qd) : "") : dtype;
  *c = (OshTfjsCodec){ .scale = 1 };
  static const struct
  {
    const char *name;
    OshTfjsStore store;
    size_t elem;
  } forms[] = { { "float32", OSH_TFJS_FLOAT32, 4 }, { "int32", OSH_TFJS_INT32, 4 },
                { "float16", OSH_TFJS_FLOAT16, 2 }, { "uint8", OSH_TFJS_UINT8, 1 },
                { "uint16", OSH_TFJS_UINT16, 2 },   { "bool", OSH_TFJS_BOOL, 1 } };
  for (size_t i = 0; i < sizeof forms / sizeof *forms; i++)
    if (strcmp (forms[i].name, *stored) == 0)
      {
        c->store = forms[i].store;
        c->elem = forms[i].elem;
      }
  if (!c->elem)
    return false;
  c->affine = quant && (c->store == OSH_TFJS_UINT8 || c->store == OSH_TFJS_UINT16);
  if (c->affine)
    {
      c->min = json_number_value (json_object_get (quant, "min"));
      c->scale = json_is_number (json_object_get (quant, "scale"))
                     ? json_number_value (json_object_get (quant, "scale"))
                     : 1;
      c->round = strcmp (dtype, "int32") == 0;
    }
  return true;
}

float
osh_tfjs_decode (const OshTfjsCodec *c, const unsigned char *p, int64_t i)
{
  switch (c->store)
    {
    case OSH_TFJS_UINT8:
    case OSH_TFJS_BOOL:
      {
        double q = p[i];
        if (!c->affine)
          return (float) q;
        double v = q * c->scale + c->min;
        return (float) (c->round ? floor (v + 0.5) : v); /* Math.round */
      }
    case OSH_TFJS_UINT16:
    case OSH_TFJS_FLOAT16:
      {
        uint16_t h;
        memcpy (&h, p + 2 * i, 2);
        if (c->store == OSH_TFJS_FLOAT16)
          return osh_half_to_float (h);
        if (!c->affine)
          return (float) h;
        double v = h * c->scale + c->min;
        return (float) (c->round ? floor (v + 0.5) : v);
      }
    case OSH_TFJS_INT32:
      {
        int32_t q;
        memcpy (&q, p + 4 * i, 4);
        return (float) q;
      }
    case OSH_TFJS_FLOAT32:
    default:
      {
        float v;
        memcpy (&v, p + 4 * i, 4);
        return v;
      }
    }
}

/* The quantized level of v (clamped to the type's range; the decode check decides). */
static double
level (const OshTfjsCodec *c, float v, double top)
{
  double q = c->affine ? (c->scale != 0 ? nearbyint (((double) v - c->min) / c->scale) : 0)
                       : nearbyint ((double) v);
  return isnan (q) ? 0 : q < 0 ? 0 : q > top ? top : q;
}

bool
osh_tfjs_encode_exact (const OshTfjsCodec *c, const float *v, int64_t n, unsigned char *out)
{
  for (int64_t i = 0; i < n; i++)
    {
      switch (c->store)
        {
        case OSH_TFJS_UINT8:
        case OSH_TFJS_BOOL:
          out[i] = (unsigned char) level (c, v[i], c->store == OSH_TFJS_BOOL ? 1 : 255);
          break;
        case OSH_TFJS_UINT16:
          {
            uint16_t q = (uint16_t) level (c, v[i], 65535);
            memcpy (out + 2 * i, &q, 2);
            break;
          }
        case OSH_TFJS_FLOAT16:
          {
            uint16_t h = float_to_half (v[i]);
            memcpy (out + 2 * i, &h, 2);
            break;
          }
        case OSH_TFJS_INT32:
          {
            double r = nearbyint ((double) v[i]);
            int32_t q = isnan (r) || r < INT32_MIN || r > INT32_MAX ? 0 : (int32_t) r;
            memcpy (out + 4 * i, &q, 4);
            break;
          }
        case OSH_TFJS_FLOAT32:
        default: memcpy (out + 4 * i, &v[i], 4); break;
        }
      float back = osh_tfjs_decode (c, out, i);
      if (memcmp (&back, &v[i], sizeof back) != 0 && !(isnan (back) && isnan (v[i])))
        return false;
    }
  return true;
}
