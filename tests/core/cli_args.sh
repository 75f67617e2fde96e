#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The command line (#12, items 3 and 5): --help of every verb exits 0; bad
# --set values and typos exit 2 naming the key, the value and what is
# allowed, before any bundle directory exists; compare/export -o refuse an
# existing file without --force and any path inside a bundle even with it.
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

. "$(dirname "$0")/expect_exit.sh"

for verb in list run show compare series campaign export trend catalog; do
  "$kperflab" "$verb" --help >"$tmp/help" || fail "$verb --help exit $?"
  grep -q "kperflab $verb" "$tmp/help" || fail "$verb --help is not $verb's help"
done
for x in "run --repeat" "compare --min-effect" "export --force" "show --hist"; do
  "$kperflab" ${x% *} --help >"$tmp/help"
  grep -q -- "${x#* }" "$tmp/help" || fail "${x% *} --help lacks ${x#* }"
done
"$kperflab" --version >"$tmp/help" && grep -q "^kperflab " "$tmp/help" || fail "--version"
expect 2 "unknown command 'nosuch'" nosuch
"$kperflab" list --params >"$tmp/params" || fail "list --params exit $?"
grep -q "iterations *integer 1\.\." "$tmp/params" || fail "list --params: $(head "$tmp/params")"

# series and campaign: bad arguments name the problem.
expect 2 "sides" series only-one-side
expect 2 "-o DIR" series --format html a b
expect 2 "--format" series --format pdf a b
expect 2 "not a selector" campaign tag:a ./not-a-selector
expect 2 "--boots" campaign --boots 1 tag:a tag:b
expect 2 "--until-ci" run --until-ci 0
expect 2 "--until-ci-budget needs --until-ci" run --until-ci-budget 60

# run: bad values and typos, exit 2 before anything is created.
out="$tmp/never"
expect 2 "--repeat" run --repeat 0 --out "$out"
expect 2 "--repeat" run --repeat 1001 --out "$out"
expect 2 "--profile" run --profile fast --out "$out"
expect 2 "--bogus" run --bogus --out "$out"
expect 2 "PROBE.KEY=VALUE" run --set novalue --out "$out"
for v in -1 0 1e99 abc nan 4294967295 1.5; do
  expect 2 "membarrier.iterations=$v" run --set "membarrier.iterations=$v" --out "$out"
  grep -qF "integer 1..1000000" "$tmp/err" || fail "iterations=$v: range not named"
done
expect 2 "cpumask.sample_ms=inf" run --set cpumask.sample_ms=inf --out "$out"
expect 2 "true|false" run --set membarrier.placement=maybe --out "$out"
expect 2 "item bogus" run --set membarrier.states=spin,bogus --out "$out"
expect 2 "item bogus" run --set cpumask.ops=test_cpu,bogus --out "$out"
expect 2 "no probe 'nosuch'" run --set nosuch.k=1 --out "$out"
expect 2 "has no parameter 'iteration'" run --set membarrier.iteration=5 --out "$out"
grep -qF "iterations, delivery_iterations" "$tmp/err" || fail "valid keys not listed"
expect 2 "does not run in this invocation" run --probe membarrier --set ipi.samples=5 --out "$out"
[[ ! -e $out ]] || fail "a refused command line created $out"

# compare and export: numbers typed and ranged.
expect 2 "--alpha" compare a b --alpha 1
expect 2 "--alpha" compare a b --alpha nan
expect 2 "--min-effect" compare a b --min-effect 101
expect 2 "--seed" compare a b --seed -1
expect 2 "--seed" compare a b --seed 18446744073709551616
expect 2 "--format" compare a b --format pdf
expect 2 "" compare a
expect 2 "--hlog" export --hlog --csv b
expect 2 "which format" export b
expect 2 "--hist" show b --hist=bars

# A small real bundle (membarrier: any kernel with membarrier(2); a host
# without it still writes a bundle with the probe skipped).
"$kperflab" run --probe membarrier --profile lab --out "$tmp/b" \
  --set membarrier.iterations=5 --set membarrier.delivery_iterations=2 \
  --set membarrier.global_calls=1 --set membarrier.register_samples=1 \
  --set membarrier.overhead_rounds=1 --set membarrier.overhead_calls=10 \
  --set membarrier.states=spin --set membarrier.sweep_commands=private_expedited \
  --set 'membarrier.register_threads=[]' --set membarrier.placement=false \
  --set membarrier.callers_sweep=false >"$tmp/run" 2>&1 || fail "small run: $(tail -5 "$tmp/run")"
b=$tmp/b
ls "$b" > "$tmp/before"
sum() { (cd "$b" && md5sum -- *) ; }
sum > "$tmp/sums"

# -o never writes into a bundle, not even with --force.
for f in meta.json membarrier.json new.csv; do
  expect 2 "inside the bundle" export --csv "$b" -o "$b/$f"
  expect 2 "inside the bundle" export --csv "$b" -o "$b/$f" --force
  expect 2 "inside the bundle" compare "$b" "$b" -o "$b/$f" --force
done
sum | cmp -s - "$tmp/sums" || fail "the bundle changed"
ls "$b" | cmp -s - "$tmp/before" || fail "files appeared in the bundle"

# No silent overwrite; --force replaces; the result is complete.
"$kperflab" export --csv "$b" -o "$tmp/x.csv" || fail "export -o"
head -1 "$tmp/x.csv" | grep -q "^probe,metric" || fail "export -o content"
echo old > "$tmp/y.csv"
expect 2 "refusing to overwrite" export --csv "$b" -o "$tmp/y.csv"
[[ $(cat "$tmp/y.csv") == old ]] || fail "y.csv overwritten without --force"
"$kperflab" export --csv "$b" -o "$tmp/y.csv" --force || fail "export --force"
cmp -s "$tmp/x.csv" "$tmp/y.csv" || fail "--force did not replace y.csv"
"$kperflab" compare "$b" "$b" -o "$tmp/r.txt" || fail "compare -o"
expect 2 "refusing to overwrite" compare "$b" "$b" -o "$tmp/r.txt"
"$kperflab" compare "$b" "$b" -o "$tmp/r.txt" --force || fail "compare --force"

# A write that fails (file size limit for a full disk) is an error naming
# the file, and leaves neither the file nor a temporary one.
mkdir "$tmp/small"
set +e
( trap '' XFSZ; ulimit -f 1; exec "$kperflab" export --csv "$b" -o "$tmp/small/z.csv" ) \
  2>"$tmp/err"; rc=$?
set -e
if [[ $(stat -c %s "$tmp/x.csv") -gt 1024 ]]; then
  [[ $rc -ne 0 ]] || fail "a failed write exited 0"
  grep -q "z.csv" "$tmp/err" || fail "failed write: path not named: $(cat "$tmp/err")"
  [[ -z $(ls -A "$tmp/small") ]] || fail "failed write left: $(ls -A "$tmp/small")"
fi
# Standard output to a full device is an error too.
if [[ -w /dev/full ]]; then
  set +e
  "$kperflab" export --csv "$b" >/dev/full 2>"$tmp/err"; rc=$?
  set -e
  [[ $rc -ne 0 ]] || fail "export to /dev/full exited 0"
fi
echo "cli_args: ok"
