#!/usr/bin/env bash
# The stripped size of a static inference program (tools/tfc_run_graphdef:
# load a frozen GraphDef, run it) on x86-64 and arm64, for the Fashion-MNIST
# MLP and CNN (docs/MOBILE.md). For each architecture: the inference-only
# library with all its ops, and selective builds registering only the ops
# each model uses (TFC_SELECTIVE_OPS_FROM; core's too). Anchor: TensorFlow
# Lite's selective build, 383 KB on arm64 for MobileNet.
#
#   bench/inference_size.sh [FULL_BUILD [OUT_DIR]]
#
# FULL_BUILD (default build) is a full native build whose
# tests/test_inference_freeze writes the frozen models (untrained weights:
# the program's size does not depend on them) into OUT_DIR/models; OUT_DIR
# (default build-inference-size) holds them, one build per architecture and
# the stripped programs.
# arm64 needs `scripts/install-deps.sh --cross arm64`; without the cross
# compiler the arm64 rows are skipped. Each arm64 program is also run under
# qemu-user, so a size is only reported for a program that works, and
# each selective MLP program must refuse the CNN, naming the ops it lacks.
# "code+data" is what `size` counts of the shared-libc program (text +
# data): the file rounds its segments to 64 KB on arm64.
set -euo pipefail
shopt -s inherit_errexit # a failed build inside $(...) stops the script
cd "$(dirname "$0")/.."
full=${1:-build}
out=${2:-build-inference-size}
jobs=${JOBS:-$(nproc)}
mkdir -p "$out/models"
out=$(cd "$out" && pwd)

if [ ! -f "$out/models/cnn_mnist.pb" ]; then
  cmake --build "$full" --target test_inference_freeze -j"$jobs" >/dev/null
  TFC_TEST_DATA="$PWD/tests/data" TFC_INFERENCE_MODELS_DIR="$out/models" \
    "$full/tests/test_inference_freeze" >/dev/null
fi

arches=(x86-64)
if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then
  arches+=(arm64)
else
  echo "inference_size: no aarch64-linux-gnu-gcc/qemu-aarch64: arm64 skipped" >&2
fi

# build ARCH NAME [cmake args]: the program's stripped sizes in bytes, static
# and with the shared libc, and the latter's text + data ("STATIC
# SHARED_LIBC CODE_DATA"), left as $out/ARCH-NAME and
# $out/ARCH-NAME-shared-libc. One build directory per architecture: a
# selection changes only the generated registry and the selected families'
# tables, so only they recompile.
build() {
  local arch=$1 name=$2 dir="$out/$1" strip=strip size=size
  shift 2
  local args=(-DCMAKE_BUILD_TYPE=MinSizeRel -DTFC_INFERENCE_ONLY=ON -DTFC_BUILD_TESTS=ON "$@")
  if [ "$arch" = arm64 ]; then
    args+=(-DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/aarch64-linux-gnu.cmake")
    strip=aarch64-linux-gnu-strip
    size=aarch64-linux-gnu-size
  fi
  cmake -S . -B "$dir" "${args[@]}" >/dev/null
  cmake --build "$dir" --target tfc_run_graphdef tfc_run_graphdef_shared_libc -j"$jobs" >/dev/null
  "$strip" -o "$out/$arch-$name" "$dir/tfc_run_graphdef"
  "$strip" -o "$out/$arch-$name-shared-libc" "$dir/tfc_run_graphdef_shared_libc"
  echo "$(stat -c %s "$out/$arch-$name") $(stat -c %s "$out/$arch-$name-shared-libc")" \
    "$("$size" "$out/$arch-$name-shared-libc" | awk 'NR == 2 { print $1 + $2 }')"
}

# run ARCH PROGRAM MODEL: the program runs the model (under qemu for arm64)
run() {
  local emu=()
  [ "$1" = arm64 ] && emu=(qemu-aarch64)
  if ! "${emu[@]}" "$out/$2" "$out/models/$3" x y 1 | grep -q '^y: \[1, 10\]$'; then
    echo "inference_size: $2 failed to run $3" >&2
    exit 1
  fi
}

# refuses ARCH PROGRAM MODEL: the selective program fails on a model whose
# ops it lacks, naming them (its registry really holds only its ops)
refuses() {
  local emu=()
  [ "$1" = arm64 ] && emu=(qemu-aarch64)
  local said
  said=$("${emu[@]}" "$out/$2" "$out/models/$3" x y 1 2>&1 >/dev/null || true)
  case "$said" in *"unknown op 'Conv2D'"*) return 0 ;; esac
  echo "inference_size: $2 did not refuse $3 (an op it should lack)" >&2
  exit 1
}

printf '%-7s %-38s %8s %12s %10s\n' arch "tools/tfc_run_graphdef, stripped" "static" "shared libc" "code+data"
row() { # ARCH LABEL "STATIC SHARED CODE_DATA"
  set -- "$1" "$2" $3
  printf '%-7s %-38s %5d KB %9d KB %7d KB\n' "$1" "$2" $(($3 / 1024)) $(($4 / 1024)) $(($5 / 1024))
}
for arch in "${arches[@]}"; do
  sizes=$(build "$arch" all -DTFC_SELECTIVE_OPS_FROM=)
  for p in all all-shared-libc; do
    run "$arch" "$arch-$p" mlp_mnist.pb
    run "$arch" "$arch-$p" cnn_mnist.pb
  done
  row "$arch" "inference-only, all ops" "$sizes"
  for model in mlp cnn; do
    pb="$out/models/${model}_mnist.pb"
    sizes=$(build "$arch" "$model" -DTFC_SELECTIVE_OPS_FROM="$pb")
    run "$arch" "$arch-$model" "${model}_mnist.pb"
    run "$arch" "$arch-$model-shared-libc" "${model}_mnist.pb"
    [ "$model" = mlp ] && refuses "$arch" "$arch-$model" cnn_mnist.pb
    nops=$(python3 scripts/selective_ops.py "$pb" | wc -l)
    row "$arch" "selective: $model's $nops ops (and core's)" "$sizes"
  done
done
for model in mlp cnn; do
  echo "$model: $(python3 scripts/selective_ops.py "$out/models/${model}_mnist.pb" | cut -d' ' -f1 | tr '\n' ' ')"
done
