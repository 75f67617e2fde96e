#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The house layout (issue #29), checked against the tree and the build.

1. Includes: a file of room R includes only R and the rooms below it
   (ALLOWED); a bare "x.h" include names a header of the file's own folder
   (or a generated one: BPF skeletons, kperflab_version.h).
2. Links: no room's library needs a symbol that only a room it may not use
   defines (nm over the static archives the build made).
3. Sizes: no source file over MAX_LINES lines.
4. Each room's README.md opens with its design note: what it is and what it
   may use.

Usage: check_layout.py SOURCE_DIR [ROOM=ARCHIVE[;ARCHIVE|OBJECT...] ...]
Every finding is printed; exit 1 if there is one.
"""
import os
import re
import subprocess
import sys

# room -> the rooms its files may include (itself first).
ALLOWED = {
    'core': ['core'],
    'results': ['results', 'core'],
    'host': ['host', 'results', 'core'],
    'analysis': ['analysis', 'host', 'results', 'core'],
    'workloads': ['workloads', 'host', 'results', 'core'],
    'bench': ['bench', 'workloads', 'host', 'results', 'core'],
    'cli': ['cli', 'analysis', 'workloads', 'host', 'results', 'core'],
}
ROOMS = list(ALLOWED)
MAX_LINES = 600
SOURCE_EXT = ('.c', '.cpp', '.h', '.def', '.py', '.sh', '.cmake')
GENERATED = re.compile(r'(\.skel\.h|^kperflab_version\.h|^vmlinux\.h)$')
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

findings = []


def tracked(src):
    out = subprocess.run(['git', '-C', src, 'ls-files', '-co', '--exclude-standard'],
                         capture_output=True, text=True)
    if out.returncode != 0:  # not a checkout (a source tarball): walk it
        files = []
        for d, dirs, names in os.walk(src):
            dirs[:] = [x for x in dirs if not x.startswith(('.', 'build'))]
            files += [os.path.relpath(os.path.join(d, n), src) for n in names]
        return files
    return out.stdout.split()


def check_includes(src, files):
    for f in files:
        room = f.split('/')[0]
        if room not in ALLOWED or not f.endswith(('.c', '.cpp', '.h', '.def')):
            continue
        if f.endswith(('.bpf.c', '.bpf.h')):
            continue  # BPF objects: vmlinux.h and libbpf headers only
        text = open(os.path.join(src, f), errors='replace').read()
        for n, line in enumerate(text.split('\n'), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            name = m.group(1)
            if '/' not in name:
                here = os.path.join(src, os.path.dirname(f), name)
                if not os.path.exists(here) and not GENERATED.search(name):
                    findings.append(f'{f}:{n}: includes "{name}", not a header of its own '
                                    f'folder: name the room ("core/{name}", ...)')
                continue
            target = name.split('/')[0]
            if target in ('kperflab',):  # include/kperflab: UAPI and bucket math
                continue
            if target in ALLOWED and target not in ALLOWED[room]:
                findings.append(f'{f}:{n}: {room}/ includes "{name}": {room}/ may use only '
                                f'{", ".join(ALLOWED[room])}')


def defined_and_undefined(archive):
    out = subprocess.run(['nm', '--defined-only', '-g', '-C', archive],
                         capture_output=True, text=True, check=True).stdout
    strong = set()
    for line in out.split('\n'):
        parts = line.split(' ', 2)
        if len(parts) == 3 and parts[1] in 'TDBRG':
            strong.add(parts[2])
    out = subprocess.run(['nm', '-u', '-C', archive], capture_output=True, text=True,
                         check=True).stdout
    undef = {l.strip().split(' ', 1)[1] for l in out.split('\n') if l.strip().startswith('U ')}
    return strong, undef


def check_links(archives):
    tables = {}
    for spec in archives:
        room, _, paths = spec.partition('=')
        tables.setdefault(room, [set(), set()])
        for path in filter(None, paths.split(';')):
            if not os.path.exists(path):
                findings.append(f'{room}: {path}: no such archive or object (build it first)')
                continue
            d, u = defined_and_undefined(path)
            tables[room][0] |= d
            tables[room][1] |= u
    for room, (defs, undef) in tables.items():
        ok = set()
        for r in ALLOWED.get(room, [room]):
            if r in tables:
                ok |= tables[r][0]
        for other, (odefs, _) in tables.items():
            if other in ALLOWED.get(room, [room]):
                continue
            for sym in sorted((undef - ok) & odefs)[:10]:
                findings.append(f'link: {room}/ needs {sym}, which only {other}/ defines')


def check_sizes(src, files):
    for f in files:
        if not f.endswith(SOURCE_EXT) and os.path.basename(f) != 'CMakeLists.txt':
            continue
        if f.startswith(('tests/fixtures/', 'tests/golden/', 'tests/data/')):
            continue
        p = os.path.join(src, f)
        if not os.path.isfile(p):
            continue
        n = sum(1 for _ in open(p, errors='replace'))
        if n > MAX_LINES:
            findings.append(f'{f}: {n} lines (at most {MAX_LINES}: split it along its seams)')


def check_readmes(src):
    for room in ROOMS:
        p = os.path.join(src, room, 'README.md')
        if not os.path.exists(p):
            findings.append(f'{room}/README.md: missing (each room says what it is and what it '
                            f'may use)')
            continue
        head = ''.join(open(p).readlines()[:20])
        if 'May use:' not in head:
            findings.append(f'{room}/README.md: no "May use:" line in its first 20 lines')


def main():
    src = sys.argv[1]
    files = tracked(src)
    check_includes(src, files)
    check_sizes(src, files)
    check_readmes(src)
    check_links(sys.argv[2:])
    for f in findings:
        print('FAIL', f)
    if findings:
        return 1
    print(f'layout: {len(files)} files, {len(ROOMS)} rooms, '
          f'{len(sys.argv) - 2} archives: every include and link goes down, '
          f'no file over {MAX_LINES} lines')
    return 0


if __name__ == '__main__':
    sys.exit(main())
