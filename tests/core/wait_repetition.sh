# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the CLI tests that interrupt a run: wait (at most 60 s) until
# the probe document FILE holds at least one stored repetition.
# Usage: . wait_repetition.sh; wait_first_repetition "$tmp/b/membarrier.json"
wait_first_repetition() {
  local file=$1 _
  for _ in $(seq 1 600); do
    [[ -f $file ]] && grep -q '"metrics"' "$file" && return 0
    sleep 0.1
  done
  return 0  # the caller's checks say what did not happen
}
