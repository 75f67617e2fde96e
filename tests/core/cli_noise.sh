#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `kperflab noise` and compare's use of it (issue #13), on real bundles of
# this host: bundles of one boot make no model (named error); bundles of 3
# boots do (8, the least a model needs; copies of a real bundle given other boot ids stand for other
# boots: this machine cannot reboot inside a test), written beside the
# results where compare finds it; compare of two single boots then rests on
# the noise model and says so; a corrupt model is refused by name; --noise
# none falls back to repetitions with the confounding warning.
set -euo pipefail
kperflab=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$kperflab" list >"$tmp/list"
grep -q "^membarrier *yes" "$tmp/list" || { echo "SKIP: membarrier not runnable here"; exit 77; }

. "$(dirname "$0")/small_membarrier.sh"
small+=(--repeat 3)
"$kperflab" run "${small[@]}" --runs-dir "$tmp/runs" >"$tmp/run1" 2>&1 || { cat "$tmp/run1"; fail "run 1"; }
b1=$(sed -n 's/^bundle: \(.*\) (.*/\1/p' "$tmp/run1")
[[ -d $b1 ]] || fail "no bundle from run 1"
rel_dir=$(dirname "$b1")
host_dir=$(dirname "$rel_dir")

# One boot: refused, saying why.
rc=0
"$kperflab" noise "$host_dir" >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] || fail "noise over one boot exited $rc"
grep -q "1 boot(s)" "$tmp/err" || { cat "$tmp/err"; fail "one-boot error does not say why"; }
[[ ! -e $host_dir/noise.json ]] || fail "a model was written from one boot"

# Eight "boots" (copies with their own boot ids), then the model; 3 are
# refused (a spread of 3 boots is too uncertain to judge others by).
for i in 1 2 3 4 5 6 7 8; do
  cp -a "$b1" "$rel_dir/boot$i"
  sed -i "s/\"boot_id\": *\"[^\"]*\"/\"boot_id\": \"test-boot-$i\"/" "$rel_dir/boot$i/meta.json"
done
rc=0
"$kperflab" noise "$rel_dir/boot1" "$rel_dir/boot2" "$rel_dir/boot3" >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q "8 or more boots" "$tmp/err" || { cat "$tmp/err"; fail "noise over 3 boots: exit $rc"; }
"$kperflab" noise "$rel_dir"/boot[1-8] >"$tmp/out" 2>&1 ||
  { cat "$tmp/out"; fail "noise over 8 boots"; }
grep -q "8 boots" "$tmp/out" || { cat "$tmp/out"; fail "noise summary"; }
[[ -s $host_dir/noise.json ]] || fail "noise.json not beside the results"
grep -q '"format": "kperflab-noise/1"' "$host_dir/noise.json" || fail "noise.json format"

# Two single boots: compare finds the model and rests on it.
"$kperflab" run "${small[@]}" --runs-dir "$tmp/runs" >"$tmp/run2" 2>&1 || { cat "$tmp/run2"; fail "run 2"; }
b2=$(sed -n 's/^bundle: \(.*\) (.*/\1/p' "$tmp/run2")
sed -i 's/"boot_id": *"[^"]*"/"boot_id": "test-boot-9"/' "$b2/meta.json"
"$kperflab" compare "$b1" "$b2" --format text >"$tmp/report" || fail "compare with the model"
grep -q "noise model" "$tmp/report" || { head -20 "$tmp/report"; fail "report does not name the noise model"; }
if grep -q "cannot be told from a boot effect" "$tmp/report"; then fail "confounded with a model"; fi
"$kperflab" compare "$b1" "$b2" --noise none --format text >"$tmp/report2" || fail "compare --noise none"
grep -q "cannot be told from a boot effect" "$tmp/report2" || fail "no confounding warning without a model"

# A corrupt model is an error naming it; nothing is written into a bundle.
echo '{"format": "kperflab-noise/1", "host": 7}' >"$host_dir/noise.json"
rc=0
"$kperflab" compare "$b1" "$b2" --format text >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 ]] || fail "corrupt model: exit $rc"
grep -q "noise model" "$tmp/err" || { cat "$tmp/err"; fail "corrupt model not named"; }
rc=0
"$kperflab" noise "$rel_dir"/boot[1-8] -o "$b1/noise.json" >/dev/null 2>"$tmp/err" || rc=$?
[[ $rc -eq 2 && ! -e $b1/noise.json ]] || fail "noise -o into a bundle was not refused"
grep -q "bundle" "$tmp/err" || { cat "$tmp/err"; fail "noise -o into a bundle: not the reason"; }
echo "PASS"
