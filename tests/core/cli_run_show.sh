#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End to end on this host: `kperflab run` writes a complete, valid bundle with
# this host's provenance; `show` prints a screen of at most 150 lines, findings
# first, no line over 100 columns; `show --repetitions` prints topology,
# config options, the hypervisor flag and every repetition; bad input is
# refused with a clear message and exit 2.
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$kperflab" --help | grep -q "kperflab run" || fail "--help"
"$kperflab" run --help | grep -q -- "--repeat" || fail "run --help"
"$kperflab" list | tee "$tmp/list"
grep -q PROBE "$tmp/list" || fail "list header"

# Bad input: exit 2 and a message naming the problem.
set +e
"$kperflab" run --repeat zero --out "$tmp/x" 2>"$tmp/err"; rc=$?
set -e
[[ $rc -eq 2 ]] && grep -q -- "--repeat" "$tmp/err" || fail "bad --repeat: rc=$rc $(cat "$tmp/err")"
set +e
"$kperflab" run --probe no-such-probe --out "$tmp/y" 2>"$tmp/err"; rc=$?
set -e
[[ $rc -eq 2 ]] && grep -q "no-such-probe" "$tmp/err" || fail "unknown probe"
[[ ! -e $tmp/y ]] || fail "a bundle was written for a refused command line"

# A run of the quick profile of every probe this host can run. The
# sanitizer tree (KPERFLAB_SANITIZED) runs the same code on the lab
# profile's fewer samples: it looks for memory and UB faults, not figures,
# and the quick profile under ASan took 90 s of its stage.
profile=quick
[[ ${KPERFLAB_SANITIZED:-OFF} == ON ]] && profile=lab
"$kperflab" run --profile "$profile" --repeat 2 --out "$tmp/b" | tee "$tmp/run"
grep -q "(complete)" "$tmp/run" || fail "bundle not complete"
"$kperflab" show "$tmp/b" > "$tmp/show"
cat "$tmp/show"
# The default screen (#26): short, findings before the figures, <= 100
# columns of ASCII.
lines=$(wc -l <"$tmp/show")
[[ $lines -le 150 ]] || fail "default show prints $lines lines (at most 150)"
f=$(grep -n -m1 '^findings: ' "$tmp/show" | cut -d: -f1)
p=$(grep -n -m1 '^== ' "$tmp/show" | cut -d: -f1)
[[ -n $f && -n $p && $f -lt $p ]] || fail "findings (line ${f:-none}) not before the probes (${p:-none})"
! awk 'length > 100 {print; bad=1} END {exit !bad}' "$tmp/show" || fail "a line over 100 columns"
! LC_ALL=C grep -q '[^ -~]' "$tmp/show" || fail "non-ASCII or control characters in show"
# --repetitions: the per-repetition listing as before, with the provenance.
"$kperflab" show --repetitions "$tmp/b" > "$tmp/reps"
grep -q '^ repetition 1$' "$tmp/reps" || fail "--repetitions prints no per-repetition lines"
grep -q '^  metric  *count  *p50  *p99  *max$' "$tmp/reps" || fail "--repetitions: no metric table"
n=$(nproc)
rows=$(awk '/^topology/{t=1;next} t&&/^ +[0-9]+ +(yes|no)/{c++} END{print c+0}' "$tmp/reps")
[[ $rows -ge $n ]] || fail "show --repetitions lists $rows CPUs, host has $n online"
grep -q "hypervisor=" "$tmp/reps" || fail "hypervisor flag missing"
if [[ -r /proc/config.gz || -r /boot/config-$(uname -r) ]]; then
  grep -q "CONFIG_\|PREEMPT" "$tmp/reps" || grep -q "HZ=" "$tmp/reps" || fail "config options missing"
  [[ -s $tmp/b/kconfig.gz ]] || fail "kconfig.gz missing"
fi
[[ $(wc -l <"$tmp/reps") -gt $lines ]] || fail "--repetitions no longer than the summary"

# compare refuses numbers that would silently disable or distort verdicts.
for bad in "--alpha nan" "--alpha inf" "--min-effect -5" "--min-effect-for x=nan" \
           "--seed 1.5" "--seed -1" "--seed 1e3"; do
  set +e
  # shellcheck disable=SC2086
  "$kperflab" compare "$tmp/b" "$tmp/b" $bad >/dev/null 2>"$tmp/err"; rc=$?
  set -e
  [[ $rc -eq 2 ]] && grep -q -- "${bad%% *}" "$tmp/err" ||
    fail "compare $bad: rc=$rc $(cat "$tmp/err")"
done

# show --probe of a probe the bundle lacks: an error naming what it has.
set +e
"$kperflab" show "$tmp/b" --probe nosuch >/dev/null 2>"$tmp/err"; rc=$?
set -e
[[ $rc -eq 2 ]] && grep -q "nosuch: not in this bundle" "$tmp/err" ||
  fail "show --probe nosuch: rc=$rc $(cat "$tmp/err")"

# A corrupt bundle is refused naming the file and the field.
sed -i 's/"schema": "kperflab.meta\/1"/"schema": "other"/' "$tmp/b/meta.json"
set +e
"$kperflab" show "$tmp/b" 2>"$tmp/err"; rc=$?
set -e
[[ $rc -ne 0 ]] && grep -q "meta.json: field 'schema'" "$tmp/err" || fail "corrupt bundle accepted"
echo "cli_run_show: ok"
