#!/usr/bin/env bash
# tools/fuzz.sh TARGET [SECONDS]: runs one libFuzzer harness (tests/fuzz/README.md) on seeds
# gathered from ../shared/corpus and the committed fixtures; saves what it finds as regressions.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: tools/fuzz.sh h5|keras3|tfjs|tfgraph|onnx|npy|image|json [seconds]}
seconds=${2:-300}
build=build-fuzz
if [[ ! -f $build/build.ninja ]]; then
  CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" "tests/fuzz/fuzz-$target" >/dev/null

work=$(mktemp -d /tmp/osh-fuzz-XXXXXX)
mkdir -p "$work/seeds" "$work/found"
case $target in
  h5) pattern='*.h5 *.hdf5' ;;
  keras3) pattern='*.keras' ;;
  tfjs | tfgraph) pattern='model.json *.json' ;;
  json) pattern='*.json' ;; # differential against jansson (tests/fuzz/fuzz-json.c)
  onnx) pattern='*.onnx' ;;
  npy) pattern='*.npy' ;;
  image) pattern='*.png *.jpg *.jpeg' ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
for p in $pattern; do
  find ../shared/corpus tests resources /usr/share/libonnx-testdata/data/pytorch-converted \
    -name "$p" -size -2M -type f 2>/dev/null | head -n 200 | while read -r f; do
    # No leading dots: libFuzzer skips hidden files, and ../shared/... would make them hidden.
    cp "$f" "$work/seeds/$(echo "${f#../}" | tr '/' '_')"
  done || true # head closing the pipe early is expected
done
cp tests/fuzz/regressions/"$target"/* "$work/seeds/" 2>/dev/null || true
rm -f "$work/seeds/"*README.md

echo "fuzzing $target for ${seconds}s with $(ls "$work/seeds" | wc -l) seeds in $work"
mkdir -p "$work/corpus"
# Leaks inside system libraries (HDF5's H5LTopen_file_image on a failed open) are suppressed
# as in the test suite; our own leaks are not.
# FUZZ_FLAGS adds libFuzzer flags, e.g. "-fork=1 -ignore_timeouts=1 -ignore_crashes=1" to go on
# past inputs that break HDF5 itself (tests/fuzz/hdf5-guarded) instead of stopping at them;
# FUZZ_ASAN_OPTIONS adds AddressSanitizer options (allocator_may_return_null=1: HDF5 asks
# malloc for absurd sizes on some files and copes with NULL).
# shellcheck disable=SC2086
LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp ASAN_OPTIONS=detect_leaks=1${FUZZ_ASAN_OPTIONS:+:$FUZZ_ASAN_OPTIONS} "$build/tests/fuzz/fuzz-$target" -max_total_time="$seconds" \
  -rss_limit_mb=4096 -timeout=20 -max_len=1048576 -artifact_prefix="$work/found/" ${FUZZ_FLAGS:-} \
  "$work/corpus" "$work/seeds" 2>"$work/log" || true
tail -n 5 "$work/log"
for f in "$work"/found/*; do
  [[ -e $f ]] || continue
  cp "$f" "tests/fuzz/regressions/$target/"
  echo "saved $(basename "$f") to tests/fuzz/regressions/$target/"
done
