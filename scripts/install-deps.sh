#!/usr/bin/env bash
# Installs the Debian packages tfc needs to build, test and run its demo.
# Needs root (apt-get); says so plainly when it is missing.
set -euo pipefail

# --cross ARCH (arm64, armhf): these, then the cross compiler, qemu-user and
# the target's libraries (scripts/install-cross-deps.sh, docs/MOBILE.md)
if [ "${1:-}" = --cross ]; then
  bash "$0"
  exec bash "$(dirname "$0")/install-cross-deps.sh" "${2:?--cross needs an architecture: arm64 or armhf}"
fi

PACKAGES=(
  build-essential cmake pkg-config
  libopenblas-dev            # CBLAS matrix products
  libdnnl-dev                # oneDNN: float matrix products with the widest vectors
  zlib1g-dev                 # .gz files (IDX datasets)
  libprotobuf-c-dev protobuf-c-compiler  # GraphDef, events, checkpoints metadata
  libpng-dev                 # image summaries, DecodePng/EncodePng
  libjpeg-dev                # DecodeJpeg/EncodeJpeg (libjpeg62-turbo)
  libgif-dev                 # DecodeGif (giflib)
  libsnappy-dev              # snappy-compressed blocks of checkpoint indexes
  libopenmpi-dev openmpi-bin # the distributed runtime's transport, and mpirun
  dataset-fashion-mnist      # the demo's and tests' data
  python3 python3-numpy python3-pytest  # the Python frontend (python/) and its tests
)
# A static link against OpenBLAS (pkg-config --static, as tfc_static.pc does)
# adds -lgfortran; its link-time library belongs to the compiler's version
# (bookworm's gcc 12: libgfortran-12-dev).
gcc_major=$(gcc -dumpversion 2>/dev/null | cut -d. -f1)
PACKAGES+=("libgfortran-${gcc_major:-12}-dev")

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
