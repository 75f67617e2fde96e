#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Builds fuzz_catalog's seed corpus (tests/fuzz/corpus/catalog):
#   tests/fuzz/make_catalog_seeds.py KPERFLAB [OLD_KPERFLAB]
# from the meta.json of tests/fuzz/corpus/bundle/real-0: a runs tree of three
# bundles (tags, config hashes, a kconfig.gz, a selectors file), then the
# same tree with the database KPERFLAB makes of it, with a foreign SQLite
# database, and (given OLD_KPERFLAB, a build of schema 1) with an older
# catalog. The input format is fuzz_catalog.cpp's.
import copy, gzip, json, os, sqlite3, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus", "catalog")


def base_meta():
    text = open(os.path.join(here, "corpus", "bundle", "real-0"), encoding="utf-8").read()
    return json.loads(text.split("\n--- ", 1)[0])


def tree():
    meta = base_meta()
    bundles = []
    for i, (tags, sha, boot) in enumerate([(["base"], "aaaa", "boot1"), (["base", "x"], "aaaa", "boot2"),
                                           (["nohz"], "bbbb", "boot3")]):
        m = copy.deepcopy(meta)
        m["tags"] = tags
        m.setdefault("kernel", {})["boot_id"] = boot
        m["kernel"]["release"] = "6.%d.0-fuzz" % (1 + i)
        m["kernel"]["config"] = {"sha256": sha, "source": "/proc/config.gz",
                                 "options": {"CONFIG_HZ": "250", "CONFIG_PREEMPT_RT": None}}
        files = [json.dumps(m, indent=1).encode()]
        if i == 0:
            kc = b"CONFIG_HZ=250\n# CONFIG_NO_HZ_FULL is not set\nCONFIG_LOCALVERSION=\"x\"\n"
            files.append(b"--- kconfig.gz\n" + gzip.compress(kc, mtime=0))
            files.append(b"--- selectors\nconfig:NO_HZ_FULL=n\nboot:boot\ntag:x+kernel:6.2*\n")
        bundles.append(b"\n".join(files))
    return b"\n=== bundle\n".join(bundles)


def db_of(kperflab, t):
    with tempfile.TemporaryDirectory() as d:
        # The tree as fuzz_bundle.h writes it: bN directories under the runs root.
        for i, b in enumerate(t.split(b"\n=== bundle\n")):
            bd = os.path.join(d, "b%d" % i)
            os.makedirs(bd)
            parts = b.split(b"\n--- ")
            open(os.path.join(bd, "meta.json"), "wb").write(parts[0])
            for p in parts[1:]:
                name, _, data = p.partition(b"\n")
                open(os.path.join(bd, name.decode()), "wb").write(data)
        subprocess.run([kperflab, "catalog", "--runs-dir", d], check=True, stdout=subprocess.DEVNULL)
        db = os.path.join(d, "catalog.sqlite")
        c = sqlite3.connect(db)  # fold the WAL into the file
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.execute("PRAGMA journal_mode=DELETE")
        c.close()
        return open(db, "rb").read()


def foreign():
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "x.sqlite")
        c = sqlite3.connect(f)
        c.executescript("CREATE TABLE people(name TEXT); INSERT INTO people VALUES('ada');"
                        "PRAGMA user_version = 7;")
        c.close()
        return open(f, "rb").read()


def main():
    os.makedirs(out, exist_ok=True)
    t = tree()
    seeds = {"tree": t, "tree-db": t + b"\n=== db\n" + db_of(sys.argv[1], t),
             "tree-foreign": t + b"\n=== db\n" + foreign()}
    if len(sys.argv) > 2:
        seeds["tree-schema1"] = t + b"\n=== db\n" + db_of(sys.argv[2], t)
    for name, data in seeds.items():
        open(os.path.join(out, name), "wb").write(data)
        print(name, len(data))


if __name__ == "__main__":
    main()
