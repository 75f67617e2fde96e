#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Our KTAP (cli/ktap.h) as the kernel's own parser reads it (issue #25, item
# 10): every probe outcome that `kperflab run --ktap` can print, from
# tests/core/ktap_sample, through `kunit.py parse` of tools/testing/kunit
# (tests/common/kunit_tool.sh: from Debian's linux-source, cached). A failed,
# partial or interrupted probe must count as failed there, not only in
# tests/common/ktap_check.py: kunit_parser counts leaf tests, so a "not ok"
# parent whose subtests are all "ok" would read as "passed: 7", exit 0.
set -euo pipefail
sample=$1
here=$(cd "$(dirname "$0")" && pwd)
check=$here/../common/ktap_check.py
. "$here/../common/kunit_tool.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
kunit=$(kunit_tool_dir) ||
  { echo "SKIP: the kernel's KTAP parser is not available: $kunit_why"; exit 77; }

# expect CASE RC COUNTS: kunit.py parse exits RC and sums up as COUNTS
# (its "Ran N tests: passed: a, failed: b, ..." line).
expect() {
  local what=$1 want_rc=$2 want=$3 rc=0
  "$sample" "$what" >"$tmp/$what.ktap" || fail "ktap_sample $what"
  python3 "$check" "$tmp/$what.ktap" >/dev/null ||
    fail "$what: not valid KTAP: $(cat "$tmp/$what.ktap")"
  kunit_parse "$kunit" "$tmp/$what.ktap" >"$tmp/$what.out" 2>&1 || rc=$?
  local got
  got=$(sed -n 's/.*Testing complete\. \(Ran .*\)$/\1/p' "$tmp/$what.out" |
        sed 's/\x1b\[[0-9;]*m//g')
  [[ $rc -eq $want_rc && $got == "$want" ]] ||
    fail "$what: kunit.py parse exit $rc, '$got'; expected exit $want_rc, '$want'
$(cat "$tmp/$what.ktap")
--- kunit.py parse:
$(cat "$tmp/$what.out")"
  ! grep -q '\[ERROR\]' "$tmp/$what.out" ||
    fail "$what: kunit_parser reports errors: $(cat "$tmp/$what.out")"
  echo "$what: exit $rc, $got"
}

# Four groups of figures, all ok; "run" fails when the probe ended badly.
expect complete 0 "Ran 4 tests: passed: 4"
expect partial 1 "Ran 5 tests: passed: 4, failed: 1"
expect failed 1 "Ran 1 tests: failed: 1"
expect forbidden 1 "Ran 4 tests: passed: 3, failed: 1"
expect thin 1 "Ran 5 tests: passed: 4, failed: 1"
expect not_run 1 "Ran 1 tests: failed: 1"
# A skip is a skip (kunit.py parse exits 1 when nothing passed at all).
expect skipped 1 "Ran 1 tests: skipped: 1"
expect all 1 "Ran 21 tests: passed: 15, failed: 5, skipped: 1"
grep -q '\[FAILED\] run' "$tmp/partial.out" || fail "partial: no failed 'run' subtest"
grep -q 'the probe ended partial: the run was interrupted' "$tmp/partial.out" ||
  fail "partial: the reason is not in the parser's log of the failed test"
echo "ktap_kunit: ok ($kunit)"
