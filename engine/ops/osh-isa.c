/* The run-time choice of kernel path: see osh-isa.h. */
#include "osh-isa.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[OSH_ISA_COUNT] = { "baseline", "avx2", "avx512" };

const char *
osh_isa_name (OshIsa isa)
{
  return isa >= 0 && isa < OSH_ISA_COUNT ? names[isa] : "unknown";
}

bool
osh_isa_supported (OshIsa isa)
{
  switch (isa)
    {
    case OSH_ISA_BASELINE: return true;
#if defined(__x86_64__) && defined(OSH_HAVE_ISA_KERNELS)
    /* GCC's CPU model checks the OS saves the wider registers (XGETBV) before it reports them. */
    case OSH_ISA_AVX2: return __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
    case OSH_ISA_AVX512:
      return __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw")
             && __builtin_cpu_supports ("avx512dq") && __builtin_cpu_supports ("avx512vl")
             && osh_isa_supported (OSH_ISA_AVX2);
#endif
    default: return false;
    }
}

OshIsa
osh_isa_best (void)
{
  for (int isa = OSH_ISA_COUNT - 1; isa > OSH_ISA_BASELINE; isa--)
    if (osh_isa_supported ((OshIsa) isa))
      return (OshIsa) isa;
  return OSH_ISA_BASELINE;
}

/* OFFSHOOT_ISA's path, or -1 when it is unset, unknown or unsupported. */
static int
env_isa (void)
{
  const char *v = getenv ("OFFSHOOT_ISA");
  for (int isa = 0; v && isa < OSH_ISA_COUNT; isa++)
    if (strcmp (v, names[isa]) == 0)
      return osh_isa_supported ((OshIsa) isa) ? isa : -1;
  return -1;
}

static _Atomic int current = -1; /* decided on first use (the same answer from any thread) */

OshIsa
osh_isa_current (void)
{
  int isa = atomic_load (&current);
  if (isa < 0)
    {
      isa = env_isa ();
      if (isa < 0)
        isa = (int) osh_isa_best ();
      atomic_store (&current, isa);
    }
  return (OshIsa) isa;
}

/* "avx2, baseline": the paths this CPU has, widest first. */
static void
supported_list (char *buf, size_t size)
{
  buf[0] = '\0';
  for (int isa = OSH_ISA_COUNT - 1; isa >= 0; isa--)
    if (osh_isa_supported ((OshIsa) isa))
      {
        size_t len = strlen (buf);
        snprintf (buf + len, size - len, "%s%s", len ? ", " : "", names[isa]);
      }
}

bool
osh_isa_force (OshIsa isa, OshError *err)
{
  if (!osh_isa_supported (isa))
    {
      char have[64];
      supported_list (have, sizeof have);
      return osh_fail (err, OSH_ERR_UNSUPPORTED,
                       "the %s kernels cannot run on this CPU or are not in this build "
                       "(it has: %s)",
                       osh_isa_name (isa), have);
    }
  atomic_store (&current, (int) isa);
  return true;
}

bool
osh_isa_check_env (OshError *err)
{
  const char *v = getenv ("OFFSHOOT_ISA");
  if (!v || !*v)
    return true;
  char have[64];
  supported_list (have, sizeof have);
  for (int isa = 0; isa < OSH_ISA_COUNT; isa++)
    if (strcmp (v, names[isa]) == 0)
      {
        if (osh_isa_supported ((OshIsa) isa))
          return true;
        return osh_fail (err, OSH_ERR_UNSUPPORTED,
                         "OFFSHOOT_ISA=%s: this CPU cannot run the %s kernels (it has: %s)", v, v,
                         have);
      }
  return osh_fail (
      err, OSH_ERR_USAGE,
      "OFFSHOOT_ISA=%s: not a kernel path (avx512, avx2 or baseline; this CPU has: %s)", v, have);
}
