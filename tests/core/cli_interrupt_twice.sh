#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A second ^C stops at once: exit 130 within a second or two, whatever the
# probe was doing; the bundle stays readable (every file in it was renamed
# into place whole) and nothing we started keeps running.
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/wait_repetition.sh"

"$kperflab" list | grep -q "^membarrier *yes" || { echo "SKIP: membarrier not runnable here"; exit 77; }
KPERFLAB_HOLD_DIR=$tmp/holds "$kperflab" run --probe membarrier --profile quick --repeat 50 \
  --out "$tmp/b" > "$tmp/out" 2> "$tmp/err" &
pid=$!
wait_first_repetition "$tmp/b/membarrier.json"
kill -INT "$pid"
sleep 0.02
kill -INT "$pid" 2>/dev/null || true  # it may already be gone: the first ^C was enough
start=$(date +%s%N)
set +e
wait "$pid"; rc=$?
set -e
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $rc -eq 130 ]] || fail "exit status $rc after two SIGINTs, expected 130 ($(tail -3 "$tmp/err"))"
(( ms < 5000 )) || fail "took $ms ms to exit after the second SIGINT"
"$kperflab" show "$tmp/b" > "$tmp/show" || fail "bundle unreadable after a second ^C"
grep -q "status=partial" "$tmp/show" || fail "meta.json not marked partial"
sleep 0.2
if pgrep -P "$pid" > /dev/null 2>&1; then fail "a child of kperflab outlived it"; fi
if grep -q "second interrupt" "$tmp/err"; then how="second ^C exited at once"
else how="the first ^C had already stopped the run"; fi
echo "cli_interrupt_twice: ok (exit 130 after $ms ms; $how)"
