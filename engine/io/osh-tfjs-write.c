/* Placeholder until the tfjs writer lands: says so clearly. */
#include "osh-formats.h"

bool
osh_tfjs_write (const OshGraph *g, const char *tmp_path, const char *final_path, OshError *err)
{
  (void) g; (void) tmp_path; (void) final_path;
  return osh_fail (err, OSH_ERR_UNSUPPORTED, "writing this format is not implemented yet");
}
