#!/usr/bin/env bash
# tools/arm64-check.sh [SUITE...]: builds Offshoot for arm64 with Debian's cross compiler against
# a sysroot of Debian's arm64 packages, and runs its test suites (default: every suite but the
# window's, the zoo's, the source format's and the slow ones: emulated training takes hours)
# under qemu-user. On arm64 the engine's kernels
# take their portable path (osh-simd.h's plain vectors). This checks correctness; speed needs
# real hardware. Everything goes to build-arm64/ (the sysroot is about 1.1 GB, made once).
#
# Needs root once: qemu is registered with the kernel for arm64 programs (binfmt_misc, as
# Debian's qemu-user-binfmt does at boot), so the programs the tests start (the CLI, the HDF5
# guard's child process) run as they would on an arm64 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --arm64
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO=sudo

dir=$PWD/build-arm64
sysroot=$dir/sysroot
triple=aarch64-linux-gnu
libdir=$sysroot/usr/lib/$triple
suites=("$@")
((${#suites[@]})) || suites=(engine ops onnx parity readers edit writers robustness cli train layout)

# The arm64 -dev packages of what meson.build asks for (tools/install-deps.sh's engine and ui
# lines), unpacked without installing: no maintainer scripts run, so the two links Debian makes
# with update-alternatives are made here.
if [[ ! -f $sysroot/.complete ]]; then
  rm -rf "$sysroot"
  mkdir -p "$dir"
  mmdebstrap --variant=extract --architectures=arm64 \
    --include=libc6-dev,libgcc-12-dev,libglib2.0-dev,libjansson-dev,libhdf5-dev,libzip-dev,libopenblas-dev,libprotobuf-c-dev,libgtk-4-dev,libcairo2-dev,libgdk-pixbuf-2.0-dev,libgraphviz-dev \
    bookworm "$sysroot"
  ln -sf ../openblas-pthread/pkgconfig/openblas.pc "$libdir/pkgconfig/openblas.pc"
  ln -sf hdf5-serial.pc "$libdir/pkgconfig/hdf5.pc"
  touch "$sysroot/.complete"
fi

# Libraries Debian keeps outside the default search path (also chosen by update-alternatives).
extra_libs=/usr/lib/$triple/openblas-pthread:/usr/lib/$triple/hdf5/serial
cat >"$dir/cross.ini" <<EOF
[binaries]
c = '$triple-gcc'
ar = '$triple-gcc-ar'
strip = '$triple-strip'
pkgconfig = 'pkg-config'
exe_wrapper = ['qemu-aarch64', '-L', '$sysroot', '-E', 'LD_LIBRARY_PATH=$extra_libs']

[properties]
sys_root = '$sysroot'
pkg_config_libdir = ['$libdir/pkgconfig', '$sysroot/usr/share/pkgconfig']

[built-in options]
c_args = ['--sysroot=$sysroot']
c_link_args = ['--sysroot=$sysroot', '-Wl,-rpath-link=$sysroot$extra_libs:$libdir:$sysroot/lib/$triple']

[host_machine]
system = 'linux'
cpu_family = 'aarch64'
cpu = 'aarch64'
endian = 'little'
EOF

binfmt=/proc/sys/fs/binfmt_misc
if [[ ! -e $binfmt/qemu-aarch64 ]]; then
  [[ -e $binfmt/register ]] || $SUDO mount binfmt_misc -t binfmt_misc "$binfmt"
  $SUDO sh -c "cat /usr/lib/binfmt.d/qemu-aarch64.conf > $binfmt/register"
fi

[[ -f $dir/build/build.ninja ]] || meson setup "$dir/build" --cross-file "$dir/cross.ini"
ninja -C "$dir/build"
# Programs started by the tests run through binfmt_misc's qemu, which reads these.
export QEMU_LD_PREFIX=$sysroot QEMU_SET_ENV=LD_LIBRARY_PATH=$extra_libs
file "$dir/build/app/offshoot" | grep -q 'ARM aarch64' # the binary under test is arm64
args=()
for s in "${suites[@]}"; do args+=(--suite "$s"); done
meson test -C "$dir/build" --num-processes 2 --timeout-multiplier 4 --print-errorlogs \
  --no-suite slow "${args[@]}"
