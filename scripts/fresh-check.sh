#!/usr/bin/env bash
# fresh-check.sh: the README's two commands, `make test` then `make demo`, on a
# bare Debian 12 (bookworm) machine, as a newcomer who clones tfc gets them.
#
# It builds once (then reuses) a minimal bookworm root holding only git, gcc,
# make, cmake, python3 and pkg-config, clones the committed branch main of the
# repository into a throwaway copy of that root, and runs both commands in it
# through chroot, with a clean environment. Only what scripts/install-deps.sh
# installs is there, so a missing install step fails here even when the tests
# pass on a developer's machine that happens to have the package.
#
# Usage (as root):  scripts/fresh-check.sh [REPO]
#   REPO  a git repository (default: the one this script is in); its committed
#         branch $FRESH_BRANCH (default main) is what runs, not the work tree.
# Environment:
#   FRESH_ROOT    the cached bare root (default /var/tmp/tfc-fresh-bookworm);
#                 the throwaway copy is $FRESH_ROOT-run
#   FRESH_LOGS    where the logs go (default /tmp/tfc-fresh-logs):
#                 debootstrap.log, test.log, demo.log
#   FRESH_KEEP=1  keep the throwaway copy afterwards (to look around in it)
# Prints each command's exit code and time; exits 0 only when both pass.
# Takes long: debootstrap (first time), the packages, a full build, the whole
# test suite and the demo's training.
set -euo pipefail

repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
branch=${FRESH_BRANCH:-main}
root=${FRESH_ROOT:-/var/tmp/tfc-fresh-bookworm}
run=$root-run
logs=${FRESH_LOGS:-/tmp/tfc-fresh-logs}
# what every machine of this kind has; everything else is the project's to install
base=git,ca-certificates,gcc,make,libc6-dev,cmake,python3,pkg-config

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-check: needs root (debootstrap, mount, chroot)" >&2
  exit 2
fi
git -C "$repo" rev-parse --verify -q "refs/heads/$branch" >/dev/null || {
  echo "fresh-check: $repo has no branch $branch" >&2
  exit 2
}
mkdir -p "$logs"

# Unmounts whatever is mounted under the throwaway copy, deepest first, so
# that removing it can never reach the host's /dev or /proc.
unmount_run() {
  awk -v r="$run/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
remove_run() {
  unmount_run
  if awk -v r="$run/" 'index($2, r) == 1 {found = 1} END {exit !found}' /proc/mounts; then
    echo "fresh-check: something is still mounted under $run; not removing it" >&2
    return 1
  fi
  rm -rf --one-file-system "$run"
}

# 1. the bare root, built once; rebuilt when the base list changes
if [ ! -f "$root/.fresh-base" ] || [ "$(cat "$root/.fresh-base")" != "$base" ]; then
  : >"$logs/debootstrap.log"
  command -v debootstrap >/dev/null || {
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } \
      >>"$logs/debootstrap.log" 2>&1 || {
      echo "fresh-check: could not install debootstrap; see $logs/debootstrap.log" >&2
      exit 2
    }
  }
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "fresh-check: building the bare bookworm root in $root (log $logs/debootstrap.log)"
  rm -rf --one-file-system "$root"
  debootstrap --variant=minbase --include="$base" bookworm "$root" "$mirror" \
    >>"$logs/debootstrap.log" 2>&1 || {
    echo "fresh-check: debootstrap failed; see $logs/debootstrap.log" >&2
    tail -n 5 "$logs/debootstrap.log" >&2
    exit 2
  }
  # a Debian 12 install also has its updates and security suites
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
    rm -f "$root/etc/apt/sources.list"
  fi
  echo "$base" >"$root/.fresh-base"
fi

# 2. a throwaway copy with a fresh clone of the committed branch
remove_run
cp -a "$root" "$run"
trap 'if [ "${FRESH_KEEP:-0}" = 1 ]; then unmount_run; else remove_run; fi' EXIT
git clone -q --branch "$branch" "$repo" "$run/work/tfc"
echo "fresh-check: $(git -C "$run/work/tfc" log -1 --format='%h %s' | cut -c1-100)"
cp /etc/resolv.conf "$run/etc/resolv.conf"
mount -t proc proc "$run/proc"
mount -t sysfs sysfs "$run/sys"
mount --bind /dev "$run/dev"
mount --bind /dev/pts "$run/dev/pts"
mount -t tmpfs tmpfs "$run/dev/shm"

# 3. the README's commands, each with a clean environment
in_root() {
  env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb chroot "$run" /bin/bash -lc "cd /work/tfc && $1"
}
status=0
for cmd in test demo; do
  rc=0
  SECONDS=0
  in_root "make $cmd" </dev/null >"$logs/$cmd.log" 2>&1 || rc=$?
  echo "make $cmd: exit $rc after ${SECONDS}s (log $logs/$cmd.log)"
  tail -n 5 "$logs/$cmd.log" | sed 's/^/    /'
  [ "$rc" -eq 0 ] || status=1
done
exit $status
