/* An AVX2 (or SSE4.2) machine on an AVX-512 one, for benchmarks (tools/onnx-bench.sh): preloaded
 * into a process (LD_PRELOAD=build/tests/cli/libosh-cpuid-mask.so), it makes the CPUID instruction fault
 * (Linux's ARCH_SET_CPUID, on CPUs with CPUID faulting) and answers each CPUID itself with the
 * AVX-512 and AMX feature bits cleared (OSH_CPUID_LEVEL=sse4: AVX, AVX2 and FMA too). Libraries
 * that choose their kernels from CPUID when they first need them (ONNX Runtime's MLAS, OpenBLAS,
 * Offshoot's own dispatch) then take the path an AVX2-only laptop would, on this core's hardware.
 *
 * Threads inherit the setting, so it is set before any start; what read CPUID before the
 * constructor ran (glibc's string functions, chosen in ld.so) keeps its choice. Without CPUID
 * faulting it says so on stderr and changes nothing; with it, it sets OSH_CPUID_MASKED=1 in the
 * environment, for a script to check. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static struct sigaction
    previous; /* the SIGSEGV handler the process asked for, called for other faults */
static int active;
static int (*real_sigaction) (int, const struct sigaction *, struct sigaction *);

/* The process (node installs one) may set its own SIGSEGV handler later: it is kept as the one to
 * call for real faults, and this one stays in place. */
int
sigaction (int sig, const struct sigaction *act, struct sigaction *old)
{
  if (!real_sigaction)
    real_sigaction = (int (*) (int, const struct sigaction *, struct sigaction *)) dlsym (
        RTLD_NEXT, "sigaction");
  if (sig != SIGSEGV || !active)
    return real_sigaction (sig, act, old);
  if (old)
    *old = previous;
  if (act)
    previous = *act;
  return 0;
}

static int
set_cpuid_faulting (int on)
{
  /* ARCH_SET_CPUID's argument is "CPUID allowed": 0 makes it fault. */
  return (int) syscall (SYS_arch_prctl, ARCH_SET_CPUID, on ? 0 : 1);
}

static int sse_only; /* OSH_CPUID_LEVEL=sse4: a machine without AVX at all (x86-64-v2) */

/* Clears what an AVX2 + FMA machine (Haswell to Alder Lake) lacks, or with sse_only what an SSE4.2
 * one (Nehalem) lacks. */
static void
mask (uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
  enum
  {
    EAX,
    EBX,
    ECX,
    EDX
  };
  if (leaf == 7 && subleaf == 0)
    {
      /* AVX512F DQ IFMA PF ER CD BW VL */
      r[EBX] &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28)
                  | (1u << 30) | (1u << 31));
      /* AVX512_VBMI VBMI2 VNNI BITALG VPOPCNTDQ */
      r[ECX] &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
      /* AVX512_4VNNIW 4FMAPS VP2INTERSECT AMX-BF16 FP16 AMX-TILE AMX-INT8 */
      r[EDX] &=
          ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25));
    }
  else if (leaf == 7 && subleaf == 1)
    r[EAX] &= ~(1u << 5); /* AVX512_BF16 */
  else if (leaf == 0xd && subleaf == 0)
    r[EAX] &= ~(0xe0u | (3u << 17)); /* opmask/ZMM and AMX tile state in XCR0's supported bits */
  if (!sse_only)
    return;
  if (leaf == 1)
    r[ECX] &= ~((1u << 12) | (1u << 28) | (1u << 29)); /* FMA AVX F16C */
  else if (leaf == 7 && subleaf == 0)
    r[EBX] &= ~((1u << 3) | (1u << 5) | (1u << 8)); /* BMI1 AVX2 BMI2 */
  else if (leaf == 7 && subleaf == 1)
    r[EAX] &= ~(1u << 4); /* AVX-VNNI */
  else if (leaf == 0xd && subleaf == 0)
    r[EAX] &= ~4u; /* YMM state */
}

static void
on_fault (int sig, siginfo_t *info, void *context)
{
  ucontext_t *uc = context;
  greg_t *g = uc->uc_mcontext.gregs;
  const unsigned char *ip = (const unsigned char *) g[REG_RIP];
  if (ip[0] != 0x0f || ip[1] != 0xa2)
    {
      /* Not CPUID: the process's own handler takes it, or the default when it has none (the
         instruction faults again on return, now fatally). */
      if (previous.sa_flags & SA_SIGINFO)
        previous.sa_sigaction (sig, info, context);
      else if (previous.sa_handler != SIG_IGN && previous.sa_handler != SIG_DFL)
        previous.sa_handler (sig);
      else
        {
          active = 0;
          sigaction (SIGSEGV, &previous, NULL);
        }
      return;
    }
  uint32_t leaf = (uint32_t) g[REG_RAX], subleaf = (uint32_t) g[REG_RCX], r[4];
  set_cpuid_faulting (0);
  __asm__ volatile("cpuid"
                   : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                   : "a"(leaf), "c"(subleaf));
  set_cpuid_faulting (1);
  mask (leaf, subleaf, r);
  g[REG_RAX] = r[0];
  g[REG_RBX] = r[1];
  g[REG_RCX] = r[2];
  g[REG_RDX] = r[3];
  g[REG_RIP] += 2;
}

__attribute__ ((constructor)) static void
start (void)
{
  const char *level = getenv ("OSH_CPUID_LEVEL");
  sse_only = level && strcmp (level, "sse4") == 0;
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset (&sa.sa_mask);
  if (sigaction (SIGSEGV, &sa, &previous) != 0 || set_cpuid_faulting (1) != 0)
    {
      fprintf (stderr, "cpuid-mask: this CPU or kernel has no CPUID faulting; nothing masked\n");
      return;
    }
  active = 1;
  setenv ("OSH_CPUID_MASKED", "1", 1);
}
