#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Builds the fuzzers' seed corpus (tests/fuzz/corpus) from real bundles:
#   tests/fuzz/make_seeds.py BUNDLE [BUNDLE...]
# Each probe keeps one repetition and a few metrics of each kind, with its
# extra (tables, matrices) as measured, so a seed stays small (libFuzzer
# mutates small inputs far faster) and is still a bundle kperflab accepts.
# The input format is fuzz_bundle.h's: meta.json first, then one
# "\n--- NAME\n" line per further file; bundles separated by "\n=== bundle\n".
import json, os, sys

KEEP_METRICS = 6

def trim_probe(doc):
    reps = doc.get("repetitions", [])[:1]
    for r in reps:
        m = r.get("metrics", {})
        hist = [k for k, v in m.items() if "hist" in v][:KEEP_METRICS]
        scal = [k for k, v in m.items() if "hist" not in v][:KEEP_METRICS]
        r["metrics"] = {k: m[k] for k in hist + scal}
        s = r.get("skipped", {})
        r["skipped"] = {k: s[k] for k in list(s)[:2]}
    doc["repetitions"] = reps
    return doc

def bundle_text(path):
    meta = json.load(open(os.path.join(path, "meta.json")))
    parts = [json.dumps(meta, indent=1)]
    for probe in meta.get("probes", {}):
        f = os.path.join(path, probe + ".json")
        if os.path.exists(f):
            doc = trim_probe(json.load(open(f)))
            parts.append("--- %s.json\n%s" % (probe, json.dumps(doc, indent=1)))
    return "\n".join(parts) + "\n"

def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    texts = [bundle_text(p) for p in sys.argv[1:]]
    hists = []
    for i, t in enumerate(texts):
        os.makedirs(os.path.join(out, "bundle"), exist_ok=True)
        open(os.path.join(out, "bundle", "real-%d" % i), "w").write(t)
    os.makedirs(os.path.join(out, "compare"), exist_ok=True)
    for i, t in enumerate(texts):
        j = (i + 1) % len(texts)
        open(os.path.join(out, "compare", "real-%d-%d" % (i, j)), "w").write(
            t + "=== bundle\n" + texts[j])
    for p in sys.argv[1:]:
        for name in sorted(os.listdir(p)):
            if not name.endswith(".json") or name in ("meta.json", "gbench.json"):
                continue
            for r in json.load(open(os.path.join(p, name))).get("repetitions", [])[:1]:
                for v in list(r.get("metrics", {}).values()):
                    if "hist" in v and len(hists) < 24:
                        hists.append(v["hist"])
    os.makedirs(os.path.join(out, "hdr"), exist_ok=True)
    for i, h in enumerate(hists):
        open(os.path.join(out, "hdr", "real-%02d" % i), "w").write(h)

if __name__ == "__main__":
    main()
