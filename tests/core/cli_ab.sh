#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# kperflab ab (#32): argument errors exit 2 naming the problem before any
# run starts; a tiny real A/B (2 pairs of small membarrier runs) leaves two
# complete bundles per side whose meta.json times run in ABBA order; ^C in
# the second run keeps the first bundle, leaves the second partial and
# says how many runs of each side completed.
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
here=$(dirname "$0")
. "$here/small_membarrier.sh"
. "$here/wait_repetition.sh"

"$kperflab" --help | grep -q " ab " || fail "ab missing from kperflab --help"
"$kperflab" ab --help >"$tmp/help" || fail "ab --help exit $?"
grep -q "kperflab ab" "$tmp/help" && grep -q "ABBA" "$tmp/help" && grep -q -- "--pairs" "$tmp/help" ||
  fail "ab --help: $(head -5 "$tmp/help")"

# expect PATTERN ARGS...: exit 2, PATTERN (fixed) on stderr, no run started
# and nothing created under $tmp/never.
expect2() {
  local pat=$1 rc
  shift
  set +e
  "$kperflab" ab "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  set -e
  [[ $rc -eq 2 ]] || fail "ab $*: exit $rc, wanted 2 ($(head -c 400 "$tmp/err"))"
  grep -qF -- "$pat" "$tmp/err" || fail "ab $*: stderr lacks '$pat': $(head -c 400 "$tmp/err")"
  ! grep -q "ab: pair" "$tmp/err" || fail "ab $*: a run started"
  [[ ! -e $tmp/never ]] || fail "ab $*: created $tmp/never"
}
o=(--out "$tmp/never")
m=(--probe membarrier)
expect2 "--a is required" --b "" "${o[@]}"
expect2 "--b is required" --a "" "${o[@]}"
expect2 "--out DIR is required" --a "" --b ""
expect2 "--a needs a value" --b "" "${o[@]}" --a
expect2 "--a given twice" --a "" --a "" --b "" "${o[@]}"
expect2 "--pairs" --pairs 0 --a "" --b "" "${o[@]}"
expect2 "--fail-on" --fail-on everything --a "" --b "" "${o[@]}"
expect2 "'\"' is not allowed" "${m[@]}" --a '--set "membarrier.iterations=5"' --b "" "${o[@]}"
expect2 "'\$' is not allowed" "${m[@]}" --a '--tag $HOME' --b "" "${o[@]}"
expect2 "';' is not allowed" "${m[@]}" --a "" --b "--repeat 2; reboot" "${o[@]}"
expect2 "ab does not nest" "${m[@]}" --a "--b --repeat 2" --b "" "${o[@]}"
expect2 "ab does not nest" "${m[@]}" --a "" --b "--pairs 3" "${o[@]}"
expect2 "--out is ab's own" "${m[@]}" --a "--out $tmp/x" --b "" "${o[@]}"
expect2 "--runs-dir is ab's own" "${m[@]}" --a "" --b "--runs-dir $tmp/x" "${o[@]}"
expect2 "--ktap" "${m[@]}" --ktap --a "" --b "" "${o[@]}"
expect2 "different probes" --a "--probe membarrier" --b "--probe cpumask" "${o[@]}"
expect2 "unknown probe 'no-such-probe'" --probe no-such-probe --a "" --b "" "${o[@]}"
expect2 "unknown probe 'no-such-probe'" --a "" --b "" "${o[@]}" -- --probe no-such-probe
expect2 "side a" "${m[@]}" --a "--set membarrier.iterationz=5" --b "" "${o[@]}"
grep -qF "no parameter 'iterationz'" "$tmp/err" || fail "typo of a key not named: $(cat "$tmp/err")"
expect2 "membarrier.iterations=0" "${m[@]}" --a "" --b "--set membarrier.iterations=0" "${o[@]}"
grep -qF "side b" "$tmp/err" || fail "side of a bad value not named: $(cat "$tmp/err")"
expect2 "--repeat" "${m[@]}" --repeat 0 --a "" --b "" "${o[@]}"
mkdir -p "$tmp/used/b" && : >"$tmp/used/b/x"
expect2 "not empty" "${m[@]}" --a "" --b "" --out "$tmp/used"
[[ ! -e $tmp/used/a ]] || fail "ab created $tmp/used/a for a refused command line"

"$kperflab" list | grep -q "^membarrier *yes" || { echo "SKIP: membarrier not runnable here"; exit 77; }

# Two pairs of small runs (about 1 s each without the litmus and the
# order points); the sides differ in a setting and a tag.
small+=(--set 'membarrier.litmus=[]' --set membarrier.order_points=false)
dir=$tmp/ab
"$kperflab" ab "${small[@]}" --repeat 2 --pairs 2 --out "$dir" \
  --a "--tag side-a --set membarrier.delivery_iterations=50" \
  --b "--tag side-b --set membarrier.delivery_iterations=60" >"$tmp/out" 2>"$tmp/err" ||
  fail "ab exit $?: $(tail -5 "$tmp/err")"
cat "$tmp/out"
grep -q "ab: pair 2/2, side b (run 3 of 4)" "$tmp/err" || fail "progress: $(grep 'ab:' "$tmp/err")"
grep -qF "compare: kperflab compare $dir/a $dir/b" "$tmp/out" || fail "no compare command printed"
# field FILE NAME: a top-level string of meta.json (written by dump(2)).
field() { sed -n "s/^  \"$2\": \"\\(.*\\)\",\?$/\\1/p" "$1/meta.json"; }
prev="" i=0
for side in a b b a; do
  i=$((i + 1))
  b=$dir/$side/run-0$i
  [[ -f $b/meta.json ]] || fail "no bundle $b ($(ls -R "$dir"))"
  [[ $(field "$b" status) == complete ]] || fail "$b is not complete"
  grep -q "\"side-$side\"" "$b/meta.json" || fail "$b lacks the tag of side $side"
  grep -q "\"delivery_iterations\": $([[ $side == a ]] && echo 50 || echo 60)" \
    "$b/membarrier.json" || fail "$b: side $side's setting not applied"
  grep -q '"hist": "' "$b/membarrier.json" || fail "$b holds no histogram"
  s=$(field "$b" started) f=$(field "$b" finished)
  [[ -n $s && -n $f && ! $f < $s ]] || fail "$b: started '$s' finished '$f'"
  # ab starts each run in a later second than the previous one finished in.
  [[ -z $prev || $prev < $s ]] || fail "$b started $s, not after the previous run's end $prev"
  prev=$f
done
[[ $(ls "$dir/a") == $'run-01\nrun-04' && $(ls "$dir/b") == $'run-02\nrun-03' ]] ||
  fail "unexpected bundles: $(ls -R "$dir")"
"$kperflab" compare "$dir/a" "$dir/b" >"$tmp/cmp" 2>&1 || fail "compare exit $?: $(tail "$tmp/cmp")"

# ^C during run 2 (side b): run 1 stays complete, run 2 partial, no run 3.
dir=$tmp/int
"$kperflab" ab "${small[@]}" --pairs 2 --out "$dir" --a "--repeat 2" --b "--repeat 200" \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
wait_first_repetition "$dir/b/run-02/membarrier.json"
kill -INT "$pid"
set +e
wait "$pid"; rc=$?
set -e
[[ $rc -eq 130 ]] || fail "exit $rc after SIGINT, wanted 130: $(tail -3 "$tmp/err")"
grep -q "complete runs: a 1 of 2, b 0 of 2" "$tmp/err" || fail "tally: $(tail -3 "$tmp/err")"
[[ $(field "$dir/a/run-01" status) == complete ]] || fail "run 1 not complete"
[[ $(field "$dir/b/run-02" status) == partial ]] || fail "run 2 not partial"
[[ ! -e $dir/b/run-03 && ! -e $dir/a/run-04 ]] || fail "a run started after ^C"
echo "cli_ab: ok"
