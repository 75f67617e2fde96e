#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue #17, "a campaign of tagged runs feeds a series report", on real
# bundles of this host: tagged runs land in the catalog; `campaign` counts
# boots per tag and, since every run here is in this one boot, says to
# reboot (exit 3); copies given other boot ids stand for reboots (this
# machine cannot reboot inside a test) until `campaign` is satisfied
# (exit 0); `series` over three tags then writes a text report (3 sides,
# <= 80 columns) and a site. (Copies of one bundle have no spread between
# "boots", so the series flags every difference between tags: the test reads
# its shape, not its verdicts.)
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$kperflab" list >"$tmp/list"
grep -q "^membarrier *yes" "$tmp/list" || { echo "SKIP: membarrier not runnable here"; exit 77; }
. "$(dirname "$0")/small_membarrier.sh"
small+=(--repeat 2 --runs-dir "$tmp/runs")
run_tagged() {  # $1 tag -> prints the bundle dir
  "$kperflab" run "${small[@]}" --tag "$1" >"$tmp/run-$1" 2>&1 || { cat "$tmp/run-$1"; fail "run --tag $1"; }
  sed -n 's/^bundle: \(.*\) (.*/\1/p' "$tmp/run-$1"
}
base=$(run_tagged base)
nohz=$(run_tagged nohz)
rt=$(run_tagged rt)

rc=0
"$kperflab" campaign --runs-dir "$tmp/runs" tag:base tag:nohz >"$tmp/c1" || rc=$?
cat "$tmp/c1"
[[ $rc -eq 3 ]] || fail "campaign with one boot per side exited $rc, expected 3"
grep -q "tag:base: 1 boot of .* (this boot among them)" "$tmp/c1" || fail "boots of tag:base"
grep -q "needed: 3 boots per side" "$tmp/c1" || fail "boots needed"
# The report wraps at 78 columns: match on one line.
flat() { tr -s '\n ' '  ' <"$1"; }
flat "$tmp/c1" | grep -q "next: reboot into .*--tag base.*2 more boots needed" ||
  fail "next step: this boot ran for both sides, so reboot"

# Two more "boots" per side.
for b in "$base" "$nohz" "$rt"; do
  for i in 1 2; do
    cp -a "$b" "$b-boot$i"
    sed -i "s/\"boot_id\": *\"[^\"]*\"/\"boot_id\": \"$(basename "$b")-boot$i\"/" "$b-boot$i/meta.json"
  done
done
# Each run indexed its bundle and cached its summary (issue #30); the copies
# are new to the catalog: --check checks them in full, once.
"$kperflab" catalog --runs-dir "$tmp/runs" --check >"$tmp/check1" || fail "catalog --check"
grep -q "^# checked 6 bundles in full, 3 were cached already, 0 failed" "$tmp/check1" ||
  fail "catalog --check: $(head -3 "$tmp/check1")"
"$kperflab" catalog --runs-dir "$tmp/runs" --check >"$tmp/check2" || fail "catalog --check again"
grep -q "^# checked 0 bundles in full, 9 were cached already, 0 failed" "$tmp/check2" ||
  fail "catalog --check again: $(head -3 "$tmp/check2")"
rc=0
"$kperflab" campaign --runs-dir "$tmp/runs" tag:base tag:nohz >"$tmp/c2" || rc=$?
cat "$tmp/c2"
[[ $rc -eq 0 ]] || fail "campaign with 3 boots per side exited $rc"
flat "$tmp/c2" | grep -q "next: both sides have 3 boots or more: .kperflab compare tag:base tag:nohz" ||
  fail "the last step is not named"

"$kperflab" series --runs-dir "$tmp/runs" tag:base tag:nohz tag:rt >"$tmp/series.txt" ||
  fail "series over three tags"
head -8 "$tmp/series.txt"
grep -q "^kperflab series: 3 sides, 2 steps" "$tmp/series.txt" || fail "series header"
for i in 1 2 3; do grep -q "^  \[$i\] tag:" "$tmp/series.txt" || fail "side $i"; done
grep -q "3 boots" "$tmp/series.txt" || fail "sides do not count 3 boots"
[[ $(awk 'length($0) > 80' "$tmp/series.txt" | wc -l) -eq 0 ]] || fail "lines over 80 columns"
# The default lists the flagged and the largest undecided steps; --all every
# line with each side's value (issue #26).
"$kperflab" series --runs-dir "$tmp/runs" tag:base tag:nohz tag:rt --all >"$tmp/series-all.txt" ||
  fail "series --all"
[[ $(wc -l <"$tmp/series.txt") -le $(wc -l <"$tmp/series-all.txt") ]] ||
  fail "the default lists more than --all"
grep -q "^Findings per probe and step" "$tmp/series.txt" || fail "no findings"
"$kperflab" series --runs-dir "$tmp/runs" tag:base tag:nohz tag:rt --format html -o "$tmp/site" \
  >/dev/null || fail "series site"
[[ -s $tmp/site/index.html ]] || fail "no index.html"
# A bundle damaged after it was cached: its files' identity changed, so it
# is checked again, and fails by name.
probe="$rt-boot2/membarrier.json"
sed -i 's/"count"/"cuont"/' "$probe"
rc=0
"$kperflab" catalog --runs-dir "$tmp/runs" --check >"$tmp/check3" || rc=$?
[[ $rc -eq 1 ]] || fail "catalog --check of a damaged bundle exited $rc"
grep -q "^# checked 1 bundles in full, 8 were cached already, 1 failed" "$tmp/check3" ||
  fail "catalog --check, damaged: $(head -3 "$tmp/check3")"
grep -q "$(basename "$rt")-boot2  FAILED: " "$tmp/check3" || fail "the damaged bundle is not named"
echo "cli_campaign_series: ok"
