/* Placeholder until the onnx writer lands: says so clearly. */
#include "osh-formats.h"

bool
osh_onnx_write (const OshGraph *g, const char *tmp_path, OshError *err)
{
  (void) g; (void) tmp_path;
  return osh_fail (err, OSH_ERR_UNSUPPORTED, "writing this format is not implemented yet");
}
