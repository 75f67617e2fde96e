# SPDX-License-Identifier: GPL-2.0-only
# Sourced by tests: the kernel's own KTAP parser, tools/testing/kunit
# (kunit.py parse, kunit_parser.py), so our KTAP is read the way KernelCI
# and kselftest users read it, not only by tests/common/ktap_check.py.
#
# kunit_tool_dir: prints the directory holding kunit.py, or returns 1 with
# the reason in $kunit_why. Taken from, in order:
#   $KPERFLAB_KUNIT_DIR (a kernel tree's tools/testing/kunit);
#   the cache, ${XDG_CACHE_HOME:-~/.cache}/kperflab/kunit/<tarball>/tools/...;
#   Debian's or Ubuntu's kernel source package (linux-source, in run.sh's
#   PKGS_TEST): /usr/src/linux-source-*.tar.{xz,bz2}, from which only
#   tools/testing/kunit is extracted into the cache (once; about 20 s for
#   the whole tarball's decompression on a 2-vCPU machine).
kunit_why=""

kunit_tool_dir() {
  if [[ -n ${KPERFLAB_KUNIT_DIR:-} ]]; then
    [[ -f $KPERFLAB_KUNIT_DIR/kunit.py ]] && { echo "$KPERFLAB_KUNIT_DIR"; return 0; }
    kunit_why="KPERFLAB_KUNIT_DIR=$KPERFLAB_KUNIT_DIR has no kunit.py"
    return 1
  fi
  command -v python3 >/dev/null || { kunit_why="python3 missing"; return 1; }
  local tarball="" t
  for t in /usr/src/linux-source-*.tar.xz /usr/src/linux-source-*.tar.bz2; do
    [[ -f $t ]] && tarball=$t
  done
  if [[ -z $tarball ]]; then
    kunit_why="no /usr/src/linux-source-*.tar.{xz,bz2} (apt-get install linux-source, or set"
    kunit_why+=" KPERFLAB_KUNIT_DIR to a kernel tree's tools/testing/kunit)"
    return 1
  fi
  # Keyed by the tarball's name, size and time: a new kernel source package
  # gets its own copy. kunit.py finds the kernel tree from its own path, so
  # the copy keeps the path <tree>/tools/testing/kunit.
  local key tree
  key=$(basename "$tarball")-$(stat -c '%s-%Y' "$tarball")
  tree=${XDG_CACHE_HOME:-$HOME/.cache}/kperflab/kunit/$key
  if [[ ! -f $tree/tools/testing/kunit/kunit.py ]]; then
    local tmp found
    mkdir -p "$(dirname "$tree")"
    tmp=$(mktemp -d "$(dirname "$tree")/.extract.XXXXXX")
    if ! tar -xf "$tarball" -C "$tmp" --wildcards '*/tools/testing/kunit/*' 2>"$tmp.err"; then
      kunit_why="cannot extract tools/testing/kunit from $tarball: $(tail -1 "$tmp.err")"
      rm -rf "$tmp" "$tmp.err"
      return 1
    fi
    rm -f "$tmp.err"
    found=$(find "$tmp" -path '*/tools/testing/kunit/kunit.py' -print -quit)
    if [[ -z $found ]]; then
      kunit_why="$tarball holds no tools/testing/kunit/kunit.py"
      rm -rf "$tmp"
      return 1
    fi
    # Another test may have extracted it meanwhile: the first rename wins.
    mv -T "${found%/tools/testing/kunit/kunit.py}" "$tree" 2>/dev/null ||
      [[ -f $tree/tools/testing/kunit/kunit.py ]] ||
      { kunit_why="cannot move the extracted tree to $tree"; rm -rf "$tmp"; return 1; }
    rm -rf "$tmp"
  fi
  echo "$tree/tools/testing/kunit"
}

# kunit_parse DIR FILE: runs `kunit.py parse FILE`; prints its output and
# returns its exit status (0 only when every test the parser counted passed).
# kunit.py changes to the kernel tree's root first: FILE is made absolute.
kunit_parse() {
  local file
  file=$(realpath "$2")
  python3 "$1/kunit.py" parse "$file"
}
