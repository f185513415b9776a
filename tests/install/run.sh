#!/usr/bin/env bash
# Installs the built library into a temporary prefix and uses it as another
# project would: the installed files and the shared library's exports, then
# consumers built with find_package(tfc) (shared, shared without tfc's
# dependencies' development files, static) and with pkg-config (the README's
# `pkg-config --cflags --libs tfc`, and `--static tfc_static`). Each consumer
# computes 2 + 3 and must say 5.
# Usage: run.sh BUILD_DIR
set -euo pipefail
build_dir=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
src_dir=$(cd "$(dirname "$0")" && pwd)
header=$src_dir/../../include/tfc.h
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
step=
trap 'echo "install_consumer: FAILED at: $step" >&2' ERR
begin() { step=$1; }
ok() { echo "ok: $step"; passed=$((passed + 1)); }
needs() { # needs BINARY yes|no: whether BINARY loads libtfc.so
  local found=no
  readelf -d "$1" | grep -q 'NEEDED.*\[libtfc\.so' && found=yes
  [ "$found" = "$2" ] || { echo "$1: expected libtfc.so needed: $2, found: $found" >&2; return 1; }
}

begin "build dir holds libtfc.so (for ctypes) and libtfc.a"
[ -f "$build_dir/libtfc.a" ] && [ -e "$build_dir/libtfc.so" ]
if command -v python3 >/dev/null; then
  python3 - "$build_dir/libtfc.so" <<'PY'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.tfc_graph_new.restype = ctypes.c_void_p
lib.tfc_graph_free.argtypes = [ctypes.c_void_p]
lib.tfc_graph_free(lib.tfc_graph_new())
PY
fi
ok

begin "install"
cmake --install "$build_dir" --prefix "$tmp/prefix" >/dev/null
lib=$(dirname "$(find "$tmp/prefix" -name 'libtfc.so' | head -n1)")
[ -f "$lib/libtfc.a" ] && [ -f "$tmp/prefix/include/tfc.h" ]
[ -f "$lib/pkgconfig/tfc.pc" ] && [ -f "$lib/pkgconfig/tfc_static.pc" ]
[ -f "$lib/cmake/tfc/tfcConfig.cmake" ]
ok

begin "libtfc.so is versioned: SONAME libtfc.so.MAJOR, libtfc.so -> libtfc.so.MAJOR -> libtfc.so.X.Y.Z"
soname=$(readelf -d "$lib/libtfc.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname =~ ^libtfc\.so\.[0-9]+$ ]]
[ "$(readlink "$lib/libtfc.so")" = "$soname" ]
[[ $(readlink "$lib/$soname") =~ ^libtfc\.so\.[0-9]+\.[0-9]+\.[0-9]+$ ]]
ok

begin "libtfc.so exports exactly the TFC_API functions of tfc.h"
sed -n 's/^TFC_API.*[^A-Za-z0-9_]\(tfc_[A-Za-z0-9_]*\)(.*/\1/p' "$header" | sort -u >"$tmp/declared"
nm -D --defined-only "$lib/libtfc.so" | awk '{print $3}' | grep -v -e '^_init$' -e '^_fini$' | sort -u >"$tmp/exported"
[ -s "$tmp/declared" ]
if ! diff "$tmp/declared" "$tmp/exported" >"$tmp/diff"; then
  echo "< declared in tfc.h, not exported; > exported, not declared:" >&2; cat "$tmp/diff" >&2; false
fi
ok

begin "find_package(tfc): tfc::tfc, without tfc's dependencies' dev files"
cmake -S "$src_dir" -B "$tmp/cmake_shared" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DTFC_CONSUMER_STATIC=OFF -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON >/dev/null
cmake --build "$tmp/cmake_shared" >/dev/null
needs "$tmp/cmake_shared/consumer" yes
"$tmp/cmake_shared/consumer"
ok

begin "find_package(tfc COMPONENTS static): tfc::tfc and tfc::tfc_static"
cmake -S "$src_dir" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cmake" >/dev/null
needs "$tmp/cmake/consumer" yes
needs "$tmp/cmake/consumer_static" no
"$tmp/cmake/consumer"
"$tmp/cmake/consumer_static"
ok

export PKG_CONFIG_PATH=$lib/pkgconfig
begin "pkg-config: cc consumer.c \$(pkg-config --cflags --libs tfc), run with LD_LIBRARY_PATH"
# shellcheck disable=SC2046  # the flags are meant to split
cc -std=c11 "$src_dir/consumer.c" -o "$tmp/consumer_pc" $(pkg-config --cflags --libs tfc)
needs "$tmp/consumer_pc" yes
LD_LIBRARY_PATH=$lib "$tmp/consumer_pc"
ok

begin "pkg-config: cc consumer.c \$(pkg-config --static --cflags --libs tfc_static)"
# shellcheck disable=SC2046
cc -std=c11 "$src_dir/consumer.c" -o "$tmp/consumer_pc_static" $(pkg-config --static --cflags --libs tfc_static)
needs "$tmp/consumer_pc_static" no
"$tmp/consumer_pc_static"
ok

echo "$passed passed, 0 failed"
