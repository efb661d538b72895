#!/usr/bin/env bash
# tools/onnx-bench.sh [RUNS]: Offshoot against ONNX Runtime, one thread each, on torchvision
# ResNet-18, EfficientNet-B0 and MobileNetV2 at 224×224, in the same run (the machine is shared
# and noisy: read the ratio, not the milliseconds). Needs Debian's python3-torch and
# python3-torchvision to export the models once (into build/onnx-bench/), and the npm references.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
# OpenBLAS 0.3.21 does not recognise some virtual CPUs ("Intel Xeon Processor") and falls back
# to its generic Prescott kernels, 4x slower here; name the core it should use when the CPU has
# what SkylakeX kernels need and nobody chose otherwise. ONNX Runtime does not use OpenBLAS.
if [[ -z ${OPENBLAS_CORETYPE:-} ]] && grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
fi
dir=build/onnx-bench
if [[ ! -f $dir/resnet18.onnx ]]; then
  mkdir -p "$dir"
  /usr/bin/python3 tools/reference/onnx-export-torch.py bench "$dir" >/dev/null 2>&1
fi
printf '%-16s %12s %12s %8s\n' model offshoot_ms ort_ms ratio
for m in resnet18 efficientnet_b0 mobilenet_v2; do
  ours=$(build/app/offshoot bench "$dir/$m.onnx" --runs "$runs" --threads 1 --json |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])')
  theirs=$(node tools/reference/onnx-ort-bench.mjs "$dir/$m.onnx" "$dir/$m.input.npy" "$runs" 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ms"])')
  /usr/bin/python3 -c "print(f'%-16s %12.2f %12.2f %8.2f' % ('$m', $ours, $theirs, $ours / $theirs))"
done
