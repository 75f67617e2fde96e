# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the CLI error tests (cli_args, cli_hostile_input).
# expect RC PATTERN ARGS...: `$kperflab ARGS...` exits RC with PATTERN (fixed
# text; empty: any) on stderr; its output is left in $tmp/out and $tmp/err.
expect() {
  local want=$1 pat=$2 rc
  shift 2
  set +e
  "$kperflab" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  set -e
  [[ $rc -eq $want ]] || fail "kperflab $*: exit $rc, wanted $want ($(head -c 300 "$tmp/err"))"
  [[ -z $pat ]] || grep -qF -- "$pat" "$tmp/err" ||
    fail "kperflab $*: stderr lacks '$pat': $(head -c 300 "$tmp/err")"
}
