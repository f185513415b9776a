#!/usr/bin/env bash
# Runs each libFuzzer harness of a TFC_FUZZ build for a set time, one after
# the other, starting from seeds that make_seeds writes with tfc's writers.
#   fuzz/run.sh BUILD_DIR SECONDS [HARNESS...]    (default: all of them)
# Inputs that reach new code are kept in BUILD_DIR/fuzz-corpus/<harness>/,
# so each run starts where the last one stopped; a crash, leak, undefined
# behaviour, timeout (10 s) or out-of-memory (2.5 GB) stops the harness and
# leaves the input in BUILD_DIR/fuzz-crashes/<harness>/ (replay it with
# `BUILD_DIR/fuzz/fuzz_<harness> FILE`). Prints executions and exec/s per
# harness; exits 1 when any harness found something. FUZZ_FLAGS adds libFuzzer
# flags, e.g. FUZZ_FLAGS=-runs=10000000 to stop at ten million executions.
set -uo pipefail

build=${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [HARNESS...]}
seconds=${2:?usage: fuzz/run.sh BUILD_DIR SECONDS [HARNESS...]}
shift 2
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  harnesses=(graphdef meta_graph checkpoint checkpoint_state events tfrecord idx idx_gz
    tf1_control_flow image_decode saved_model example)
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# fresh seeds for each run, in a folder of its own (runs may overlap)
seeds=$build/fuzz-seeds.$$
trap 'rm -rf "$seeds"' EXIT
rm -rf "$seeds"
if ! "$build/fuzz/make_seeds" "$seeds"; then
  echo "fuzz: make_seeds failed" >&2
  exit 1
fi

mkdir -p "$build/fuzz-logs"
failed=()
summary=()
for h in "${harnesses[@]}"; do
  bin=$build/fuzz/fuzz_$h
  if [ ! -x "$bin" ]; then
    echo "fuzz: no harness $bin" >&2
    failed+=("$h")
    continue
  fi
  corpus=$build/fuzz-corpus/$h
  crashes=$build/fuzz-crashes/$h
  log=$build/fuzz-logs/$h.log
  mkdir -p "$corpus" "$crashes" "$seeds/$h"
  echo "fuzz: $h for ${seconds}s"
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$crashes/" ${FUZZ_FLAGS:-} "$corpus" "$seeds/$h" >"$log" 2>&1
  rc=$?
  if [ $rc -eq 72 ]; then
    echo "fuzz: $h interrupted (SIGINT/SIGTERM); stopping" >&2
    exit 130
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  if [ $rc -ne 0 ]; then
    failed+=("$h")
    echo "fuzz: $h FAILED (exit $rc); the end of $log:" >&2
    tail -40 "$log" >&2
    echo "fuzz: the input is in $crashes/" >&2
  fi
  summary+=("$(printf '%-18s %12s %10s %8s  %s' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "$([ $rc -eq 0 ] && echo ok || echo FAILED)")")
done

printf '\n%-18s %12s %10s %8s  %s\n' harness executions exec/s cov result
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
