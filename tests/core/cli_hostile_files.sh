#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Nothing a file can do (#27, items 1, 2, 8 and part of 10), through the
# kperflab binary, every command under `ulimit -v` 1 GiB and a 20 s timeout:
#  - JSON bombs inside the size caps (meta.json, a probe file, a noise model,
#    a catalog's bundles) are refused during the parse, with the file and the
#    limit named, in bounded memory (peak RSS printed);
#  - a FIFO (or /dev/zero) wherever kperflab reads a file: a bundle's
#    meta.json and probe file, kconfig.gz under a catalog, --noise FILE,
#    <runs>/<host>/noise.json, a restore record; every verb returns promptly;
#  - a metric named x/cpu=99999999999/latency is refused naming the field;
#  - a symlink loop is named, never a raw "filesystem error"; JSON errors
#    carry no "[json.exception...]" prefix.
set -euo pipefail
kperflab=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export KPERFLAB_HOLD_DIR=$tmp/holds  # never the host's records

# 1 GiB of address space; not under the sanitizer tree (KPERFLAB_SANITIZED=ON),
# where ASan reserves terabytes for its shadow: the main tree's run holds it.
as_limit=1048576
[[ ${KPERFLAB_SANITIZED:-OFF} != ON ]] || as_limit=unlimited

# check RC PATTERN ARGS...: kperflab ARGS exits RC ("any": returns at all)
# within 20 s under a 1 GiB address-space limit, and its stderr holds
# PATTERN and its stderr no library text.
check() {
  local want=$1 pattern=$2 rc=0 t0 t1
  shift 2
  t0=$(date +%s.%N)
  ( ulimit -v "$as_limit"; exec /usr/bin/time -f '%M' -o "$tmp/rss" timeout -s KILL 20 "$kperflab" "$@" ) \
    </dev/null >"$tmp/out" 2>"$tmp/err" || rc=$?
  t1=$(date +%s.%N)
  [[ $rc -ne 137 ]] || fail "kperflab $*: still running after 20 s (killed)"
  [[ $want == any || $rc -eq $want ]] || fail "kperflab $*: exit $rc, expected $want: $(head -c 800 "$tmp/err")"
  # grep the files, not `cat | grep -q`: grep -q may leave before cat's
  # second write, and pipefail would take cat's SIGPIPE for a failure.
  [[ -z $pattern ]] || grep -qF -- "$pattern" "$tmp/err" "$tmp/out" || fail "kperflab $*: no '$pattern' in: $(head -c 800 "$tmp/err")"
  if grep -Eq 'json\.exception|filesystem error|std::bad_alloc|^stoi|: stoi' "$tmp/err"; then
    fail "kperflab $*: raw library text: $(head -c 800 "$tmp/err")"
  fi
  printf 'ok %6.2f s %7d KiB  kperflab %s\n' "$(echo "$t1 - $t0" | bc)" "$(tail -1 "$tmp/rss")" "$*"
}

bundle() {  # DIR: a valid bundle with one scalar metric
  python3 "$here/../common/make_bundle.py" "$1" <<EOF
{"meta": {"host": {"hostname": "fixture-host", "virtualized": false, "hypervisor": null}},
 "probes": {"p": {"scalars": {"x/rate": ["1/s", 1.5]}}}}
EOF
}
bomb() {  # FILE TEXT COUNT [PREFIX SUFFIX]
  python3 -c "import sys; open(sys.argv[1], 'w').write(sys.argv[4] + sys.argv[2] * int(sys.argv[3]) + sys.argv[5])" \
    "$1" "$2" "$3" "${4:-}" "${5:-}"
}

bundle "$tmp/good"
check 0 "" show "$tmp/good"

# --- 1. JSON bombs ---------------------------------------------------------
mkdir "$tmp/jb"
bomb "$tmp/jb/meta.json" '[' $((64 << 20))  # the issue's reproducer
check 2 "jb/meta.json: larger than 4 MiB (the limit for a meta.json)" show "$tmp/jb"
bomb "$tmp/jb/meta.json" '[' $(((4 << 20) - 1))
check 2 "jb/meta.json: refused: nested deeper than 64 levels (the limit for a meta.json)" show "$tmp/jb"
bomb "$tmp/jb/meta.json" '{},' $(((4 << 20) / 3 - 1)) '[' '0]'
check 2 "jb/meta.json: refused: more than 262144 JSON values (the limit for a meta.json)" show "$tmp/jb"
cp -r "$tmp/good" "$tmp/pb"
bomb "$tmp/pb/p.json" '[' $((120 << 20))
check 2 "pb/p.json: refused: nested deeper than 64 levels" show "$tmp/pb"
bomb "$tmp/pb/p.json" '[],' $((40 << 20)) '[' '0]'
check 2 "pb/p.json: refused: more than 4194304 JSON values (the limit for a probe file)" \
  compare "$tmp/good" "$tmp/pb"
bomb "$tmp/nb.json" '[' $((30 << 20))
check 2 "nb.json: refused: nested deeper than 16 levels (the limit for a noise model)" \
  compare --noise "$tmp/nb.json" "$tmp/good" "$tmp/good"
# A catalog of bombs: each bundle is unreadable, the sync itself is not.
mkdir -p "$tmp/cat/h/r"
for i in 1 2 3; do
  bundle "$tmp/cat/h/r/b$i"
  bomb "$tmp/cat/h/r/b$i/meta.json" '[' $((15 << 20))  # under the catalog's old 16 MiB
done
check 0 "" catalog --runs-dir "$tmp/cat"

# --- 2. FIFOs and devices where files are read -----------------------------
mkdir "$tmp/fm"
mkfifo "$tmp/fm/meta.json"
check 2 "fm/meta.json: not a regular file (a FIFO)" show "$tmp/fm"
check 2 "fm/meta.json: not a regular file (a FIFO)" export --csv "$tmp/fm"
check 2 "fm/meta.json: not a regular file (a FIFO)" compare "$tmp/good" "$tmp/fm"
cp -r "$tmp/good" "$tmp/fp"
rm "$tmp/fp/p.json"
mkfifo "$tmp/fp/p.json"
check 2 "fp/p.json: not a regular file (a FIFO)" show "$tmp/fp"
mkfifo "$tmp/noise.fifo"
check 2 "noise.fifo: not a regular file (a FIFO)" compare --noise "$tmp/noise.fifo" "$tmp/good" "$tmp/good"
check 2 "/dev/zero: not a regular file (a character device)" compare --noise /dev/zero "$tmp/good" "$tmp/good"
# <runs>/<host>/noise.json is read by default beside the base bundle.
mkdir -p "$tmp/runs/fixture-host/6.12.0-fixture"
bundle "$tmp/runs/fixture-host/6.12.0-fixture/b1"
bundle "$tmp/runs/fixture-host/6.12.0-fixture/b2"
mkfifo "$tmp/runs/fixture-host/noise.json"
check 2 "fixture-host/noise.json: not a regular file (a FIFO)" \
  compare "$tmp/runs/fixture-host/6.12.0-fixture/b1" "$tmp/runs/fixture-host/6.12.0-fixture/b2"
rm "$tmp/runs/fixture-host/noise.json"
# kconfig.gz: read by every catalog sync (catalog, selectors in compare/series).
mkfifo "$tmp/runs/fixture-host/6.12.0-fixture/b1/kconfig.gz"
check 0 "" catalog --runs-dir "$tmp/runs"
check 0 "" catalog --runs-dir "$tmp/runs" --rebuild
check any "" compare --runs-dir "$tmp/runs" "host:fixture-host" "host:fixture-host"
check any "" series --runs-dir "$tmp/runs" "host:fixture-host" "host:fixture-host"
# A restore record that is a FIFO: every verb applies the records first.
mkdir -m 0700 "$KPERFLAB_HOLD_DIR"
mkfifo -m 0600 "$KPERFLAB_HOLD_DIR/proc_sys_kernel_numa_balancing.json"
check 0 "not a regular file (a FIFO)" show "$tmp/good"
check 0 "not a regular file (a FIFO)" list
check 1 "not a regular file (a FIFO)" restore
rm "$KPERFLAB_HOLD_DIR/proc_sys_kernel_numa_balancing.json"

# --- 8. numbers in metric names --------------------------------------------
# A histogram metric (a real one from cpumask), as in the issue's reproducer.
bundle "$tmp/cpu"
python3 - "$tmp/cpu/p.json" <<'PYEOF'
import json, sys
h = {"count": 10, "hist": "HISTFAAAACZ42pNpmSzMwMDAxwABTFCaEYyAwP4DROAxBxMY+AMxJxMAbpYD3w==",
     "kind": "histogram", "max": 1863, "mean": 1596.0, "min": 1424, "overflow": 0, "p50": 1463,
     "p90": 1815, "p99": 1863, "p99_9": 1863, "p99_99": 1863, "stddev": 182.25, "unit": "ps"}
d = json.load(open(sys.argv[1]))
for r in d["repetitions"]:
    r["metrics"] = {"x/cpu=99999999999/latency": h}
json.dump(d, open(sys.argv[1], "w"))
PYEOF
check 2 "field 'repetitions[0].metrics.x/cpu=99999999999/latency': the name's cpu=99999999999 is out of range" \
  show "$tmp/cpu"

# --- 10. symlink loops, JSON error text ------------------------------------
ln -s loop "$tmp/loop"
check 2 "loop: cannot read: Too many levels of symbolic links" show "$tmp/loop"
check 2 "Too many levels of symbolic links" compare "$tmp/loop" "$tmp/good"
cp -r "$tmp/good" "$tmp/broken"
printf '{ "schema": ' >"$tmp/broken/meta.json"
check 2 "broken/meta.json: not valid JSON: parse error at line 1, column 13" show "$tmp/broken"
echo "cli_hostile_files: ok"
