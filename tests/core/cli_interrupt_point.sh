#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# ^C inside one long sweep point (#12, item 3): membarrier with the largest
# iterations the probe allows (10^6 IPI-sending calls a point, many seconds
# each on a VM) stops within a few seconds with exit 130; the interrupted
# point is recorded as skipped ("interrupted after N of 1000000 calls"),
# never stored as if complete; the partial bundle reads back.
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$kperflab" list >"$tmp/list"
grep -q "^membarrier *yes" "$tmp/list" || { echo "SKIP: membarrier not runnable here"; exit 77; }
[[ $(nproc) -ge 2 ]] || { echo "SKIP: needs 2 online CPUs for an IPI point"; exit 77; }

"$kperflab" run --probe membarrier --profile quick --repeat 1 --out "$tmp/b" \
  --set membarrier.iterations=1000000 --set membarrier.states=spin \
  --set membarrier.sweep_commands=private_expedited --set membarrier.placement=false \
  --set membarrier.callers_sweep=false --set 'membarrier.register_threads=[]' \
  --set membarrier.overhead_rounds=1 --set membarrier.overhead_calls=10 \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
# The first IPI point (one spinning target); query/get_registrations before
# it take ~1 s at 10^6 calls. Generous: a loaded 2-vCPU VM.
for _ in $(seq 1 1200); do
  grep -q "private_expedited/targets=1/spin" "$tmp/err" && break
  kill -0 "$pid" 2>/dev/null || fail "run ended early: $(tail -5 "$tmp/err")"
  sleep 0.1
done
grep -q "private_expedited/targets=1/spin" "$tmp/err" || fail "never reached the IPI point"
sleep 0.5
kill -INT "$pid"
t0=$(date +%s%N)
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
t1=$(date +%s%N)
set +e
wait "$pid"; rc=$?
set -e
pid=
ms=$(( (t1 - t0) / 1000000 ))
[[ $rc -eq 130 ]] || fail "exit status $rc after SIGINT, expected 130 ($(tail -3 "$tmp/err"))"
# Well under the >= 10 s the remaining 10^6-call IPI points take on any VM,
# and generous for a loaded one.
[[ $ms -lt 8000 ]] || fail "took $ms ms after SIGINT to exit"
grep -q "(partial)" "$tmp/out" || fail "summary does not say partial: $(cat "$tmp/out")"
"$kperflab" show "$tmp/b" >"$tmp/show" || fail "partial bundle unreadable"
grep -q "status=partial" "$tmp/show" || fail "meta.json not marked partial"
doc=$tmp/b/membarrier.json
grep -Eq '"interrupted after [0-9]+ of 1000000 calls \(discarded\)"' "$doc" ||
  fail "no point recorded as interrupted: $(grep -o '"skipped": {[^}]*}' "$doc" | head -c 600)"
n=$(grep -Eo 'interrupted after [0-9]+ of 1000000' "$doc" | head -1 | awk '{print $3}')
[[ $n -lt 1000000 ]] || fail "the interrupted point ran all its calls"
# The interrupted point's histogram is not stored (skipped names map to a
# string, stored metrics to an object), and the repetition says it was cut.
grep -Eo '"[^"]+": "interrupted after [0-9]+ of' "$doc" | sed 's/": ".*//; s/^"//' |
  while read -r name; do
    ! grep -qF "\"$name\": {" "$doc" || fail "interrupted point $name stored as a metric"
  done
grep -Eq '"interrupted": true' "$doc" || fail "repetition not marked interrupted"
echo "cli_interrupt_point: ok (exit after $ms ms, point stopped after $n of 1000000 calls)"
