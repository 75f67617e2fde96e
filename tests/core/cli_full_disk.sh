#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A run whose bundle sits on a full disk loses nothing it measured: the
# files that do not fit are saved in the rescue directory, the summary says
# which and where, the exit status is 1 and the bundle is marked partial.
# The disk is a 64 KiB tmpfs in a private mount namespace (root only).
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root to mount a small tmpfs"; exit 77; }
command -v unshare > /dev/null || { echo "SKIP: unshare (util-linux) missing"; exit 77; }
unshare -m true 2> /dev/null || { echo "SKIP: no private mount namespace here"; exit 77; }
"$kperflab" list | grep -q "^membarrier *yes" || { echo "SKIP: membarrier not runnable here"; exit 77; }

mkdir -p "$tmp/disk" "$tmp/rescue"
set +e
KPERFLAB_RESCUE_DIR=$tmp/rescue unshare -m sh -c '
  mount --make-rprivate / && mount -t tmpfs -o size=64k tmpfs "$1/disk" || exit 99
  "$2" run --probe membarrier --profile quick --repeat 1 --out "$1/disk/b" > "$1/out" 2> "$1/err"
  rc=$?
  cp -a "$1/disk/b" "$1/b-copy"
  exit $rc' sh "$tmp" "$kperflab"
rc=$?
set -e
[[ $rc -ne 99 ]] || { echo "SKIP: cannot mount a tmpfs here"; exit 77; }
[[ $rc -eq 1 ]] || fail "exit status $rc on a full disk, expected 1 ($(tail -3 "$tmp/err"))"
grep -q "lacks what could not be written" "$tmp/err" || fail "no summary of the loss: $(cat "$tmp/err")"
grep -q "membarrier.json: .*No space left on device; saved as $tmp/rescue/" "$tmp/err" ||
  fail "membarrier.json not reported as rescued: $(cat "$tmp/err")"
saved=$(ls "$tmp"/rescue/kperflab-rescue-*/membarrier.json)
grep -q '"metrics"' "$saved" || fail "the rescued probe file holds no metrics"
"$kperflab" show "$tmp/b-copy" > "$tmp/show" || fail "the bundle on the full disk is unreadable"
grep -q "status=partial" "$tmp/show" || fail "the bundle on the full disk is not marked partial"
echo "cli_full_disk: ok ($(wc -c < "$saved") bytes of membarrier.json rescued)"
