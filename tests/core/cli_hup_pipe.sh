#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# SIGHUP (the terminal closed) and SIGPIPE (`kperflab run | head`) end a
# `run --tune` as SIGTERM does: every held setting is back when the process
# has exited, and no restore record is left for the next invocation
# (#27, item 10). As cli_tune.sh: root, cpumask runnable, numa_balancing set
# to 1 first where writable so that --tune changes something, records in a
# private directory.
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
export KPERFLAB_HOLD_DIR=$tmp/holds
nb=/proc/sys/kernel/numa_balancing
nb_orig=$(cat "$nb" 2>/dev/null || echo absent)
cleanup() {
  "$kperflab" restore >/dev/null 2>&1 || true  # a failed case leaves nothing tuned
  [[ $nb_orig == absent ]] || echo "$nb_orig" >"$nb" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "SKIP: --tune needs root"; exit 77; }
"$kperflab" list | grep -q "^cpumask *yes" || { echo "SKIP: cpumask not runnable here"; exit 77; }
. "$(dirname "$0")/tuned_settings.sh"
if [[ $nb_orig == 0 ]]; then echo 1 >"$nb" 2>/dev/null || true; fi
[[ $(cat "$nb" 2>/dev/null) == 1 ]] || { echo "SKIP: kernel.numa_balancing cannot be 1 here"; exit 77; }
settings >"$tmp/before"
args=(run --tune --probe cpumask --profile quick --repeat 200
      --set cpumask.samples=10 --set cpumask.sample_ms=1)

for sig in HUP PIPE; do
  rm -rf "$tmp/b"
  "$kperflab" "${args[@]}" --out "$tmp/b" >"$tmp/out" 2>&1 &
  pid=$!
  for _ in $(seq 1 400); do
    ls "$KPERFLAB_HOLD_DIR"/*.json >/dev/null 2>&1 && break
    sleep 0.05
  done
  [[ $(cat "$nb") == 0 ]] || { cat "$tmp/out"; fail "numa_balancing not tuned before SIG$sig"; }
  sleep 0.5
  kill -s "$sig" "$pid"
  rc=0
  wait "$pid" || rc=$?
  # Nothing else has run since: what is back, the signal put back.
  settings >"$tmp/after"
  diff "$tmp/before" "$tmp/after" ||
    { tail -5 "$tmp/out"; fail "settings still tuned after SIG$sig (exit $rc)"; }
  if ls "$KPERFLAB_HOLD_DIR"/*.json >/dev/null 2>&1; then fail "restore records left after SIG$sig"; fi
  [[ $rc -ne 0 ]] || fail "run exited 0 after SIG$sig"
  echo "ok: SIG$sig: exit $rc, $(grep -c . "$tmp/before") settings as before"
done
echo "cli_hup_pipe: ok"
