#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The example LAVA jobs (lab/lava/jobs/*.yaml: qemu, bare-metal x86 and
# arm64), their @NAME@ fields filled with sample values, pass LAVA's own job
# schema (lava_common.schemas.validate, strict, from Debian's
# lava-dispatcher: what lava-server checks on submission); every field of
# a template is a known one; and a spoiled job is refused (the validator
# runs). The qemu job also runs under lava-run in `ctest -R lab_lava`.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3  # Debian's: lava_common is installed for it
[[ -x $py ]] && $py -c 'import lava_common.schemas, yaml' 2>/dev/null ||
  { echo "SKIP: lava-dispatcher not installed (no lava_common for $py)"; exit 77; }
$py - "$src"/lab/lava/jobs/*.yaml <<'PY'
import re, sys, yaml
from lava_common.schemas import validate
sample = {
    "ARCH": "amd64", "CONSOLE": "ttyS0", "KERNEL_NAME": "6.12.48+deb13-amd64",
    "KERNEL_URL": "https://images.example.org/vmlinuz",
    "RAMDISK_URL": "https://images.example.org/initrd.gz",
    "ROOTFS_URL": "https://images.example.org/rootfs.tar.xz",
    "TESTDEF_REPO": "https://git.example.org/kperflab.git",
    "KPERFLAB_GIT": "https://git.example.org/kperflab.git",
    "DEVICE_TYPE": "d06", "HOSTNAME": "debian", "TAG": "bare-metal-perf",
    "PROFILE": "standard", "PROBES": "membarrier ipi", "RUN_ARGS": "--repeat 10",
    "UPLOAD_URL": "", "LOG_BUNDLE": "false",
}
bad = 0
for path in sys.argv[1:]:
    # Comments speak of "@NAME@ fields" too: the job is the other lines.
    text = "".join(l for l in open(path) if not l.lstrip().startswith("#"))
    fields = set(re.findall(r"@([A-Z_]+)@", text))
    unknown = fields - set(sample)
    if unknown:
        print("FAIL %s: fields without a sample value: %s" % (path, sorted(unknown))); bad += 1
        continue
    job = yaml.safe_load(re.sub(r"@([A-Z_]+)@", lambda m: sample[m.group(1)], text))
    try:
        validate(job, strict=True)
    except Exception as e:  # voluptuous.Invalid and friends
        print("FAIL %s: %s" % (path, e)); bad += 1
        continue
    defs = [a["test"]["definitions"] for a in job["actions"] if "test" in a]
    if not defs or defs[0][0]["path"] != "lab/lava/kperflab.yaml":
        print("FAIL %s: no test action running lab/lava/kperflab.yaml" % path); bad += 1
        continue
    # Spoiled: an unknown boot method must be refused.
    for a in job["actions"]:
        if "boot" in a:
            a["boot"]["method"] = "no-such-method"
    try:
        validate(job, strict=True)
        print("FAIL %s: a job with boot method no-such-method was accepted" % path); bad += 1
    except Exception:
        print("ok   %s" % path)
sys.exit(1 if bad else 0)
PY
