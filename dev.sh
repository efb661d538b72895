#!/usr/bin/env bash
# The Quick start commands (README.md):
#   ./dev.sh run      install what the app needs, build the app alone, open the window on the
#                     default model (without a display: run it headless and print the result)
#   ./dev.sh test     install what the tests need too, build, run every test: the normal build,
#                     the sanitizer build (-Db_sanitize=address,undefined), then the CLI tests
#                     under valgrind memcheck; ends with "N passed, M failed"
#   ./dev.sh install  build the app and install it for this user (~/.local: the binary, its
#                     .desktop file, icon and metainfo); PREFIX=/usr/local ./dev.sh install
set -euo pipefail
cd "$(dirname "$0")"

setup() { # DIR [meson options...]
  local dir=$1
  shift
  [[ -f $dir/build.ninja ]] || meson setup "$dir" "$@" >/dev/null
}
build() { # DIR [meson options...]
  setup "$@"
  ninja -C "$1" >/dev/null
}

case "${1:-}" in
run)
  tools/install-deps.sh
  setup build
  ninja -C build app/offshoot app/offshoot-window >/dev/null
  if [[ -n ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]]; then
    exec build/app/offshoot
  fi
  echo "No display: running the default model headless instead of opening the window."
  # Inside the build folder, replaced each run: nothing is left behind in /tmp.
  out=build/headless
  rm -rf "$out"
  build/app/offshoot samples -o "$out/samples" >/dev/null
  build/app/offshoot run @default "$out/samples/circle-1.png" --labels "$out/samples/labels.txt" \
    --attach block5a_expand_conv=seg --heatmaps "$out/heatmaps"
  ;;
install)
  tools/install-deps.sh
  setup build
  meson configure build -Dprefix="${PREFIX:-$HOME/.local}" >/dev/null
  ninja -C build app/offshoot app/offshoot-window app/offshoot-hdf5-guard >/dev/null
  # Only what the app installs (the CLI, the window and the HDF5 guard's helper beside it,
  # resources/'s desktop files); no tests are built.
  meson install -C build --no-rebuild --quiet
  echo "Installed $(meson introspect build --buildoptions | /usr/bin/python3 -c \
    'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')/bin/offshoot"
  ;;
test)
  tools/install-deps.sh --tests
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
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
