#!/usr/bin/env bash
# Installs what cross builds for ARCH (arm64 or armhf) need, from Debian:
# the cross compiler (crossbuild-essential-ARCH), qemu-user to run the
# target's programs here, and the target's libraries as multiarch packages.
# Called by `scripts/install-deps.sh --cross ARCH` (make test-arm64,
# docs/MOBILE.md). Needs root (apt-get).
#
#   arm64  the whole library: OpenBLAS, zlib, protobuf-c, libpng, libjpeg,
#          snappy as :arm64 packages; oneDNN's library as libdnnl2:arm64, its
#          headers unpacked from libdnnl-dev:arm64 into $TFC_CROSS_ROOT
#          (libdnnl-dev cannot be installed for two architectures at once:
#          their dnnl_config.h differ), where cmake/toolchains/ looks.
#   armhf  the inference-only library (TFC_INFERENCE_ONLY): protobuf-c only;
#          Debian has no oneDNN for 32-bit ARM.
set -euo pipefail

arch=${1:?usage: install-cross-deps.sh arm64|armhf}
case "$arch" in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) echo "install-cross-deps: unknown architecture '$arch' (expected arm64 or armhf)" >&2; exit 2 ;;
esac
TFC_CROSS_ROOT=${TFC_CROSS_ROOT:-/usr/local/lib/tfc-cross}

packages=(crossbuild-essential-$arch qemu-user "libprotobuf-c-dev:$arch")
if [ "$arch" = arm64 ]; then
  # the libraries install-deps.sh installs for the host, for arm64: its
  # lib*-dev names, less oneDNN's (below) and Open MPI's (cross builds are
  # -DTFC_DISTRIBUTED=OFF)
  here=$(dirname "$0")
  for p in $(sed -e 's/#.*//' "$here/install-deps.sh" | grep -oE '(^|[[:space:]])(lib[a-z0-9.+-]*-dev|zlib1g-dev)\b' |
             grep -vE 'libdnnl-dev|libopenmpi-dev|libgfortran'); do
    packages+=("$p:$arch")
  done
  packages+=("libdnnl2:$arch")
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-cross-deps: installing the $arch packages needs root" >&2
    exit 1
  fi
else
  SUDO=
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    $SUDO dpkg --add-architecture "$arch"
  fi
  echo "install-cross-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# oneDNN's headers for arm64, beside (not over) the host's
if [ "$arch" = arm64 ] && [ ! -f "$TFC_CROSS_ROOT/$triplet/include/oneapi/dnnl/dnnl.h" ]; then
  version=$(dpkg-query -W -f='${Version}' "libdnnl2:$arch")
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  chmod 755 "$tmp" # apt's download user writes there
  (cd "$tmp" && apt-get download -qq "libdnnl-dev:$arch=$version")
  dpkg-deb -x "$tmp"/libdnnl-dev_*.deb "$tmp/root"
  $SUDO mkdir -p "$TFC_CROSS_ROOT/$triplet/lib"
  $SUDO cp -r "$tmp/root/usr/include" "$TFC_CROSS_ROOT/$triplet/"
  $SUDO ln -sf "/usr/lib/$triplet/libdnnl.so.2" "$TFC_CROSS_ROOT/$triplet/lib/libdnnl.so"
  echo "install-cross-deps: oneDNN's $arch headers in $TFC_CROSS_ROOT/$triplet"
fi
