#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Checks what lava-run reported for lab/lava/kperflab.yaml. lava-run exits 0
# even when test cases fail; its log (one YAML document per line) is the
# only record, so every case is read from there:
#   check-results.py LAVA_LOG OUTDIR KPERFLAB KREL [PROBE...]
# - the job and the test definition passed, and kperflab-run passed;
# - the bundle the device printed (LOG_BUNDLE) decodes, is complete, runs
#   the guest's kernel and `kperflab show` reads it;
# - the cases are exactly `kperflab export --lava` of that bundle, run here:
#   same names, results, measurements and units; each PROBE has a case;
# - a skipped probe's reason is in the device's log.
# Writes OUTDIR/results.tsv (every case), OUTDIR/bundle/ and OUTDIR/console.log
# (the device's console lines). Exit 0 or 1,
# each failure one "FAIL:" line.
import base64
import io
import json
import os
import subprocess
import sys
import tarfile

import yaml

log, outdir, kperflab, krel = sys.argv[1:5]
probes = sys.argv[5:]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


cases, lava_cases, target = {}, {}, []
for n, line in enumerate(open(log, encoding="utf-8", errors="replace"), 1):
    try:
        doc = yaml.safe_load(line)
    except yaml.YAMLError as e:
        fail("lava.log line %d is not YAML: %s" % (n, e))
        continue
    if not isinstance(doc, dict):
        continue
    msg = doc.get("msg")
    if doc.get("lvl") == "target" and isinstance(msg, str):
        target.append(msg)
    if doc.get("lvl") != "results" or not isinstance(msg, dict):
        continue
    if msg.get("definition") == "0_kperflab":
        if msg["case"] in cases:
            fail("case %s reported twice" % msg["case"])
        cases[msg["case"]] = msg
    else:
        lava_cases.setdefault(msg["case"], msg)

# The console as LAVA saw it, for the caller's kernel splat scan.
with open(os.path.join(outdir, "console.log"), "w") as f:
    f.write("".join(t + "\n" for t in target))

for name in ("job", "0_kperflab"):
    got = lava_cases.get(name, {}).get("result")
    if got != "pass":
        fail("LAVA's '%s' result is %s: %s" % (name, got, lava_cases.get(name, {}).get("error_msg", "")))
if cases.get("kperflab-run", {}).get("result") != "pass":
    fail("kperflab-run: %s" % cases.get("kperflab-run"))

# The bundle, base64 between the markers in the console output.
try:
    begin = next(i for i, t in enumerate(target) if t.startswith("KPERFLAB-BUNDLE-BEGIN"))
    end = next(i for i, t in enumerate(target) if i > begin and t == "KPERFLAB-BUNDLE-END")
    blob = base64.b64decode("".join(t.strip() for t in target[begin + 1:end]), validate=True)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for m in tar.getmembers():
            if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in m.name.split("/"):
                raise ValueError("unexpected member %r" % m.name)
        tar.extractall(outdir)
except (StopIteration, ValueError, tarfile.TarError) as e:
    fail("no readable bundle in the log: %s"
         % (str(e) or "the KPERFLAB-BUNDLE markers are missing"))
    print("\n".join(failures[-1:]))
    sys.exit(1)

bundle = os.path.join(outdir, "bundle")
meta = json.load(open(os.path.join(bundle, "meta.json")))
if meta.get("status") != "complete":
    fail("bundle status %s" % meta.get("status"))
if meta.get("kernel", {}).get("release") != krel:
    fail("bundle kernel %s, expected %s" % (meta.get("kernel", {}).get("release"), krel))
show = subprocess.run([kperflab, "show", bundle], capture_output=True, text=True)
if show.returncode != 0:
    fail("kperflab show refused the bundle: %s" % show.stderr.strip()[-300:])
exp = subprocess.run([kperflab, "export", "--lava", bundle], capture_output=True, text=True)
if exp.returncode != 0:
    fail("kperflab export --lava: %s" % exp.stderr.strip())
expected = {}
for line in exp.stdout.splitlines():
    name, result, value, unit, note = line.split("\t")
    expected[name] = (result, value, unit, note)

for name, (result, value, unit, note) in expected.items():
    got = cases.get(name)
    if got is None:
        fail("case %s missing" % name)
        continue
    if got["result"] != result:
        fail("case %s: result %s, expected %s" % (name, got["result"], result))
    if value == "-":
        if "measurement" in got:
            fail("case %s: a measurement where none was expected" % name)
    else:
        if abs(float(got.get("measurement", "nan")) - float(value)) > 1e-9 * max(1.0, abs(float(value))):
            fail("case %s: measurement %s, expected %s" % (name, got.get("measurement"), value))
        if str(got.get("units")) != unit:
            fail("case %s: units %s, expected %s" % (name, got.get("units"), unit))
    if result != "pass" and not any(name + ": " + result + ": " in t for t in target):
        fail("case %s is %s but its reason is not in the log" % (name, result))
extra = set(cases) - set(expected) - {"kperflab-run"}
if extra:
    fail("cases kperflab export --lava does not list: %s" % sorted(extra)[:10])
for p in probes:
    if p not in cases:
        fail("no case for probe %s" % p)

with open(os.path.join(outdir, "results.tsv"), "w") as f:
    for name in sorted(cases):
        c = cases[name]
        f.write("%s\t%s\t%s\t%s\n" % (name, c["result"], c.get("measurement", "-"), c.get("units", "-")))
by = {}
for c in cases.values():
    by[c["result"]] = by.get(c["result"], 0) + 1
print("lava: %d cases (%s), %d with a measurement; bundle %s" % (
    len(cases), ", ".join("%s %d" % kv for kv in sorted(by.items())),
    sum(1 for c in cases.values() if "measurement" in c), bundle))
sys.exit(1 if failures else 0)
