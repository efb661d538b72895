#!/usr/bin/env bash
# The two Quick start commands (README.md):
#   ./dev.sh run    install what is missing, build, open the window on the default model
#                   (without a display: run the default model headless and print the result)
#   ./dev.sh test   install what is missing, build, run every test: the normal build, then the
#                   sanitizer build (-Db_sanitize=address,undefined), then the CLI tests under
#                   valgrind memcheck; ends with "N passed, M failed"
set -euo pipefail
cd "$(dirname "$0")"

build() { # DIR [meson options...]
  local dir=$1
  shift
  [[ -f $dir/build.ninja ]] || meson setup "$dir" "$@" >/dev/null
  ninja -C "$dir" >/dev/null
}

case "${1:-}" in
run)
  tools/install-deps.sh
  build build
  if [[ -n ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]; then
    exec build/app/offshoot
  fi
  echo "No display: running the default model headless instead of opening the window."
  out=$(mktemp -d /tmp/offshoot-XXXXXX)
  build/app/offshoot samples -o "$out/samples"
  sample=$(ls "$out"/samples/*.png | grep -v mask | head -n 1)
  build/app/offshoot run @default "$sample" --labels "$out/samples/labels.txt" \
    --attach block5a_expand_conv=seg --heatmaps "$out/heatmaps"
  echo "Heatmaps written to $out/heatmaps"
  ;;
test)
  tools/install-deps.sh
  build build
  build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
  status=0
  xvfb-run -a meson test -C build --print-errorlogs --num-processes 2 || status=1
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0 \
    LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    xvfb-run -a meson test -C build-asan --print-errorlogs --num-processes 2 \
    --no-suite slow || status=1
  # Memcheck runs the default build's binary (baseline x86-64 code; the valgrind setup makes
  # the kernels take the AVX2 path, since valgrind 3.19 cannot decode AVX-512).
  meson test -C build --setup valgrind --suite cli --no-suite slow --no-rebuild \
    --print-errorlogs --num-processes 2 || status=1
  /usr/bin/python3 tools/test-summary.py build build-asan \
    build/meson-logs/testlog-valgrind.json || status=1
  exit $status
  ;;
*)
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
