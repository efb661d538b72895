#!/usr/bin/env bash
# tools/onnx-bench.sh [RUNS]: Offshoot against ONNX Runtime, one thread each, on torchvision
# ResNet-18, EfficientNet-B0 and MobileNetV2 at 224×224, in the same run (the machine is shared
# and noisy: read the ratio, not the milliseconds). Needs Debian's python3-torch and
# python3-torchvision to export the models once (into build/onnx-bench/), and the npm references.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
dir=build/onnx-bench
if [[ ! -f $dir/resnet18.onnx ]]; then
  mkdir -p "$dir"
  /usr/bin/python3 tools/reference/onnx-export-torch.py bench "$dir" >/dev/null 2>&1
fi
# Wall-clock medians, and the CPU time each process spent per run: on a shared machine other
# work stretches wall-clock times, so the CPU-time ratio is the one to read when it is busy.
printf '%-16s %10s %10s %7s %12s %12s %9s\n' model ours_ms ort_ms ratio ours_cpu_ms ort_cpu_ms cpu_ratio
for m in resnet18 efficientnet_b0 mobilenet_v2; do
  ours=$(build/app/offshoot bench "$dir/$m.onnx" --runs "$runs" --threads 1 --json)
  theirs=$(node tools/reference/onnx-ort-bench.mjs "$dir/$m.onnx" "$dir/$m.input.npy" "$runs" 2>/dev/null)
  /usr/bin/python3 -c '
import json, sys
m, a, b = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print("%-16s %10.2f %10.2f %7.2f %12.2f %12.2f %9.2f" % (
    m, a["median_ms"], b["median_ms"], a["median_ms"] / b["median_ms"],
    a["cpu_median_ms"], b["cpu_median_ms"], a["cpu_median_ms"] / b["cpu_median_ms"]))' "$m" "$ours" "$theirs"
done
