#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# A small bundle that the loader accepts, written without running a probe,
# for the tests of what readers and exports do with its text:
#   make_bundle.py DIR < SPEC
# SPEC (JSON): {"meta": {merged into meta.json},
#               "probes": {"<name>": {"status": "complete", "reason": null,
#                                     "scalars": {"<metric>": [unit, value]}}}}
# Each probe gets <name>.json with two repetitions of its scalars (the same
# value in each). Only scalar metrics: a histogram needs our HDR encoder.
import json
import os
import sys


def merge(into, patch):
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v


def main():
    out = sys.argv[1]
    spec = json.load(sys.stdin)
    meta = {
        "schema": "kperflab.meta/1", "status": "complete", "bundle_id": "fixture",
        "started": "2026-02-28T23:59:58Z", "finished": "2026-02-28T23:59:59Z",
        "suite": {"version": "0.1.0", "git_sha": "fixture"},
        "host": {"hostname": "fixture-host"},
        "kernel": {"release": "6.12.0-fixture", "version": "#1 SMP", "machine": "x86_64",
                   "config": None, "clocksource": {"current": "tsc"}, "thp": {"enabled": None}},
        "cpu": {"model_name": "Fixture CPU",
                "topology": [{"cpu": 0, "online": True, "core": 0, "package": 0, "llc": 0,
                              "node": 0, "smt_siblings": [0]}],
                "smt": {"control": None}, "frequency": {"governor": None}},
        "profile": "quick", "probes": {},
    }
    os.makedirs(out)
    for name, p in spec.get("probes", {}).items():
        status, reason = p.get("status", "complete"), p.get("reason")
        meta["probes"][name] = {"status": status}
        if reason is not None:
            meta["probes"][name]["reason"] = reason
        metrics = {m: {"kind": "scalar", "unit": u, "value": v}
                   for m, (u, v) in p.get("scalars", {}).items()}
        reps = [{"metrics": metrics, "skipped": {}} for _ in range(2 if metrics else 0)]
        doc = {"schema": "kperflab.probe/1", "probe": name, "status": status, "reason": reason,
               "parameters": {}, "repetitions": reps}
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(doc, f)
    merge(meta, spec.get("meta", {}))
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    main()
