#!/usr/bin/env bash
# Installs what `make fuzz` needs beyond scripts/install-deps.sh: clang, its
# sanitizer and libFuzzer runtimes, and LLVM's OpenMP (clang compiles the
# library's OpenMP calls against libomp's omp.h; libomp also serves oneDNN's
# libgomp calls in the same process). Needs root (apt-get); says so when it
# is missing.
set -euo pipefail

PACKAGES=(clang libclang-rt-dev libomp-dev)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "fuzz/install-deps: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "fuzz/install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
