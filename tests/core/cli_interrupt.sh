#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# ^C during a run stops cleanly: exit 130, the bundle is readable and marked
# partial, and it keeps the repetitions measured before the signal.
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/wait_repetition.sh"

"$kperflab" list | grep -q "^membarrier *yes" || { echo "SKIP: membarrier not runnable here"; exit 77; }
"$kperflab" run --probe membarrier --profile quick --repeat 50 --out "$tmp/b" \
  > "$tmp/out" 2> "$tmp/err" &
pid=$!
# Wait until at least one repetition is stored, then interrupt.
wait_first_repetition "$tmp/b/membarrier.json"
kill -INT "$pid"
set +e
wait "$pid"; rc=$?
set -e
[[ $rc -eq 130 ]] || fail "exit status $rc after SIGINT, expected 130 ($(tail -3 "$tmp/err"))"
grep -q "(partial)" "$tmp/out" || fail "summary does not say partial: $(cat "$tmp/out")"
"$kperflab" show "$tmp/b" > "$tmp/show" || fail "partial bundle unreadable"
grep -q "status=partial" "$tmp/show" || fail "meta.json not marked partial"
grep -q "== membarrier: partial" "$tmp/show" || fail "probe not marked partial"
reps=$(grep -c '"metrics": {' "$tmp/b/membarrier.json" || true)
[[ $reps -ge 1 && $reps -lt 50 ]] || fail "expected some but not all 50 repetitions, got $reps"
ls -a "$tmp/b" | grep -q '\.tmp' && fail "temporary file left in the bundle"
echo "cli_interrupt: ok ($reps repetitions kept)"
