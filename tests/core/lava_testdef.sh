#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The LAVA test definition (lab/lava/kperflab.yaml) on this host, without a
# dispatcher: its params and run steps executed the way LAVA's run.sh does
# (the params as shell variables, then the steps), with LAVA's own
# lava-test-case from Debian's lava-dispatcher on PATH. Checks the signals:
# kperflab-run passes; a probe this host cannot run (ipi without
# kperflab.ko) is `skip` with its reason in the log; every measurement is
# what `kperflab export --lava` says of the bundle left in RESULTS; the
# bundle printed base64 in the log is that bundle. `ctest -R lab_lava` runs
# the same definition under lava-run in a guest.
set -euo pipefail
kperflab=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
shell_dir=/usr/lib/python3/dist-packages/lava_dispatcher/lava_test_shell
[[ -f $shell_dir/lava-test-case ]] ||
  { echo "SKIP: lava-dispatcher not installed (no $shell_dir/lava-test-case)"; exit 77; }
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml missing"; exit 77; }
"$kperflab" list | grep -q "^cpumask *yes" || { echo "SKIP: cpumask not runnable here"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# LAVA's scripts as the dispatcher installs them: the interpreter line added.
mkdir -p "$tmp/bin" "$tmp/lava-results"
for s in lava-test-case lava-test-reference lava-common-functions; do
  { echo '#!/bin/sh'; cat "$shell_dir/$s"; } >"$tmp/bin/$s"
  chmod +x "$tmp/bin/$s"
done
# The run.sh LAVA would write: params (defaults, then the job's), steps.
python3 - "$src/lab/lava/kperflab.yaml" "$kperflab" "$tmp/res" >"$tmp/run.sh" <<'PY'
import shlex, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
assert d["metadata"]["format"] == "Lava-Test Test Definition 1.0", d["metadata"]
params = dict(d.get("params", {}))
params.update(KPERFLAB=sys.argv[2], RESULTS=sys.argv[3], PROFILE="quick", PROBES="cpumask ipi",
              RUN_ARGS="--repeat 2 --set cpumask.samples=12 --set cpumask.densities=full",
              LOG_BUNDLE="true")
for k, v in params.items():
    print("%s=%s" % (k, shlex.quote(str(v))))
for step in d["run"]["steps"]:
    print(step)
PY
(cd "$src" && PATH=$tmp/bin:$PATH LAVA_RESULT_DIR=$tmp/lava-results sh "$tmp/run.sh") \
  >"$tmp/log" 2>"$tmp/err" || fail "the run steps exited $?: $(tail -5 "$tmp/err")"
[[ -f $tmp/res/bundle/meta.json ]] || fail "no bundle left in RESULTS: $(tail -5 "$tmp/log")"
[[ -f $tmp/res/kperflab-bundle.tar.gz ]] || fail "no tarball left in RESULTS"
"$kperflab" export --lava "$tmp/res/bundle" >"$tmp/expected" || fail "export --lava"
ipi_reason=$("$kperflab" list | awk '/^ipi +no/{getline; sub(/^ *-> /, ""); print; exit}')
python3 - "$tmp/log" "$tmp/expected" "$tmp/res" "$ipi_reason" <<'PY' || fail "LAVA signals (log: $(head -c 2000 "$tmp/log"))"
import base64, io, re, sys, tarfile
log = open(sys.argv[1]).read().splitlines()
sig = {}
for line in log:
    m = re.match(r"^<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=(\S+)((?: \w+=\S+)*)>$", line)
    if m:
        assert m.group(1) not in sig, "twice: " + m.group(1)
        sig[m.group(1)] = dict(kv.split("=", 1) for kv in m.group(2).split())
assert sig.get("kperflab-run", {}).get("RESULT") == "pass", sig.get("kperflab-run")
expected = [l.split("\t") for l in open(sys.argv[2]).read().splitlines()]
for name, result, value, unit, note in expected:
    s = sig.get(name)
    assert s is not None, "no signal for " + name
    assert s["RESULT"] == result, (name, s, result)
    if value != "-":
        assert s["MEASUREMENT"] == value and s["UNITS"] == unit, (name, s, value, unit)
    else:
        assert "MEASUREMENT" not in s, (name, s)
assert set(sig) == {e[0] for e in expected} | {"kperflab-run"}, set(sig) ^ {e[0] for e in expected}
assert sum(1 for e in expected if e[2] != "-") >= 20, len(expected)
assert sig["cpumask"]["RESULT"] == "pass", sig["cpumask"]
reason = sys.argv[4]
if reason:
    assert sig["ipi"]["RESULT"] == "skip", sig["ipi"]
    assert "kperflab-lava: ipi: skip: skipped: " + reason in log, "skip reason not logged"
# The tarball in the log is the bundle left in RESULTS.
b = log.index("KPERFLAB-BUNDLE-BEGIN kperflab-bundle.tar.gz"); e = log.index("KPERFLAB-BUNDLE-END")
blob = base64.b64decode("".join(log[b + 1:e]))
assert blob == open(sys.argv[3] + "/kperflab-bundle.tar.gz", "rb").read(), "tarball differs"
names = tarfile.open(fileobj=io.BytesIO(blob)).getnames()
assert "bundle/meta.json" in names and "bundle/cpumask.json" in names, names
print("signals: %d cases, %d with a measurement" % (len(sig), sum("MEASUREMENT" in s for s in sig.values())))
PY
# LAVA's result directory holds what the server would collect.
[[ $(cat "$tmp/lava-results/results/cpumask/result") == pass ]] || fail "no result file for cpumask"
# No kperflab on the device: one failed case, a reason, exit 0. MODULE=build
# where the running kernel has no headers (this CI machine: no modules):
# kperflab-module fails, with the reason.
no_headers=0
[[ -d /lib/modules/$(uname -r)/build ]] || no_headers=1
(cd "$src" && PATH=$tmp/bin:$PATH LAVA_RESULT_DIR=$tmp/lava-results KPERFLAB=/nonexistent/kperflab \
  MODULE=$([[ $no_headers == 1 ]] && echo build) RESULTS=$tmp/res2 sh lab/lava/kperflab-lava.sh) \
  >"$tmp/log2" 2>&1 || fail "exit $? without kperflab"
grep -q '^<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=kperflab-run RESULT=fail>$' "$tmp/log2" ||
  fail "no failed kperflab-run case without kperflab: $(cat "$tmp/log2")"
grep -q "no kperflab at '/nonexistent/kperflab'" "$tmp/log2" || fail "no reason without kperflab"
if [[ $no_headers == 1 ]]; then
  grep -q '^<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=kperflab-module RESULT=fail>$' "$tmp/log2" ||
    fail "MODULE=build without headers: no failed kperflab-module case: $(cat "$tmp/log2")"
  grep -q "kperflab.ko did not build against $(uname -r)" "$tmp/log2" ||
    fail "MODULE=build without headers: no reason"
fi
echo "lava_testdef: ok"
