#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# kperflab entry point.
#   ./run.sh [--profile P] [--no-install] [--tune [--tune-boost-off]] [--strict]
#                                           install deps, build, run the default profile
#                                           (--tune etc.: docs/quiet-machine.md)
#   ./run.sh test                           install deps, build, run the whole test suite
#                                           (the lab's tests with the ASan+UBSan build and
#                                           30 s per fuzzer beside them), then the sanitized
#                                           tests
#   ./run.sh deps [--no-install]            install (or list) missing Debian/Ubuntu packages
#   ./run.sh build                          configure + build into build/
#   ./run.sh fuzz [SECONDS]                 each libFuzzer harness for SECONDS (default 600)
#   ./run.sh run|ab|list|show|compare|series|campaign|noise|catalog|export|restore|trend …
#                                           the kperflab subcommand
#                                           (after a build; `run --tune` passes through;
#                                           `ab`: A/B of two settings in one boot)
#   ./run.sh lab [--kernel NAME]…           boot the kernel matrix under QEMU (lab/README.md)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
BUILD_DIR=${KPERFLAB_BUILD_DIR:-$here/build}
JOBS=${KPERFLAB_JOBS:-$(nproc)}

log() { printf '[run.sh] %s\n' "$*" >&2; }
die() { printf '[run.sh] error: %s\n' "$*" >&2; exit 1; }

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# Debian package names, by purpose. Ubuntu differences are handled in
# resolve_packages.
PKGS_BUILD=(build-essential cmake pkg-config git clang llvm libclang-rt-dev libbpf-dev libelf-dev
            zlib1g-dev libsqlite3-dev libxxhash-dev nlohmann-json3-dev libbenchmark-dev libgtest-dev libcli11-dev bpftool
            ccache)
PKGS_TOOLS=(linux-perf likwid chromium)
# What tests need beyond the build: python3-jsonschema validates export --kcidb
# (tests/core/cli_kcidb.sh) against the KCIDB v5.3 schema.
# lava-dispatcher: lava-run and lava-test-case for the LAVA tests (lab_lava,
# lava_testdef; skipped with the reason where the distribution lacks it).
# linux-source (~140 MB, Debian's and Ubuntu's kernel source tarball): the
# kernel's own KTAP parser, tools/testing/kunit, which ktap_kunit and
# cli_ktap extract once into ~/.cache/kperflab (tests/common/kunit_tool.sh).
PKGS_TEST=(python3 python3-jsonschema python3-yaml lava-dispatcher linux-source)
PKGS_LAB=(qemu-system-x86 qemu-system-arm busybox-static cpio kmod xz-utils zstd file dwarves dkms sparse
          gcc-aarch64-linux-gnu g++-aarch64-linux-gnu
          libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libsqlite3-dev:arm64 libbenchmark-dev:arm64
          libgtest-dev:arm64)

# Packages whose name differs per distribution.
resolve_packages() {
  local p out=()
  for p in "$@"; do
    case $p in
      bpftool)
        if apt-cache show bpftool >/dev/null 2>&1; then out+=(bpftool)
        else out+=(linux-tools-common "linux-tools-$(uname -r)"); fi ;;
      linux-perf)
        if apt-cache show linux-perf >/dev/null 2>&1; then out+=(linux-perf)
        else out+=(linux-tools-common); fi ;;
      lava-dispatcher)
        apt-cache show lava-dispatcher >/dev/null 2>&1 && out+=(lava-dispatcher) ;;
      chromium)
        # The series site's browser test (Ubuntu ships chromium as a snap
        # only: the test then skips and says why).
        apt-cache show chromium >/dev/null 2>&1 && out+=(chromium) ;;
      *:arm64)
        # The arm64 lab guest's suite is cross-built against Debian's multiarch
        # packages (lab/README.md); other distributions lack them in their sources.
        grep -qx 'ID=debian' /etc/os-release 2>/dev/null && out+=("$p") ;;
      *) out+=("$p") ;;
    esac
  done
  printf '%s\n' "${out[@]}"
}

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

deps() {
  local no_install=0
  [[ ${1:-} == --no-install ]] && no_install=1
  command -v apt-get >/dev/null || die "apt-get not found: kperflab bootstraps Debian/Ubuntu only"
  if [[ ! -d /var/lib/apt/lists ]] || [[ -z $(ls /var/lib/apt/lists 2>/dev/null | grep -v lock) ]]; then
    [[ $no_install -eq 1 ]] || as_root apt-get update -q
  fi
  local want missing
  mapfile -t want < <(resolve_packages "${PKGS_BUILD[@]}" "${PKGS_TOOLS[@]}" "${PKGS_TEST[@]}" \
                                         "${PKGS_LAB[@]}")
  mapfile -t missing < <(missing_packages "${want[@]}")
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "all packages present"
    return 0
  fi
  if [[ $no_install -eq 1 ]]; then
    log "missing packages (install with: apt-get install ${missing[*]}):"
    printf '%s\n' "${missing[@]}"
    exit 3
  fi
  log "installing: ${missing[*]}"
  if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' &&
     ! dpkg --print-foreign-architectures | grep -qx arm64; then
    as_root dpkg --add-architecture arm64
  fi
  as_root apt-get update -q || log "apt-get update failed; trying the existing lists"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
}

build() {
  cmake -S "$here" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

# Only the kperflab binary (what ./run.sh and the verbs run): the test suite
# is a good half of a full build's time.
build_tool() {
  cmake -S "$here" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS" --target kperflab
}

kperflab() {
  [[ -x $BUILD_DIR/kperflab ]] || build_tool
  if [[ $(id -u) -eq 0 ]]; then "$BUILD_DIR/kperflab" "$@"
  else sudo "$BUILD_DIR/kperflab" "$@"; fi
}

main_job() {
  local profile=standard no_install="" quiet=()
  while [[ $# -gt 0 ]]; do
    case $1 in
      --profile) profile=${2:?--profile needs a value}; shift 2 ;;
      --no-install) no_install=--no-install; shift ;;
      --tune | --tune-boost-off | --strict | --noise-check | --no-noise-check) quiet+=("$1"); shift ;;
      *) die "unknown argument '$1' (see the header of run.sh)" ;;
    esac
  done
  local started
  started=$(date +%s)
  deps $no_install
  build_tool
  log "set-up and build: $(($(date +%s) - started)) s"
  local out
  out=$(kperflab run --profile "$profile" "${quiet[@]}" | tee /dev/stderr | sed -n 's/^bundle: \(.*\) (.*/\1/p')
  [[ -n $out ]] || die "kperflab run wrote no bundle"
  kperflab show "$out"
}

# The slowest tests of the ctest logs given (each LastTest.log holds every
# test's own time), after the stage's wall time. A report only: it never
# fails the run. awk reads to the end where head would close the pipe early,
# and under pipefail sort's SIGPIPE (141) would end ./run.sh test.
slowest_tests() {
  local stage=$1 t0=$2 f logs=()
  shift 2
  log "$stage: $(($(date +%s) - t0)) s wall; slowest tests:"
  for f in "$@"; do [[ -f $f ]] && logs+=("$f"); done
  [[ ${#logs[@]} -gt 0 ]] || return 0
  awk '/^[0-9]+\/[0-9]+ Testing: /{name=$3} /^[0-9]+\/[0-9]+ Test: /{name=$3}
       /Test time = /{printf "%9.1f s  %s\n", $(NF-1), name}' "${logs[@]}" |
    sort -rn | awk 'NR <= 15' >&2 || true
}

# The whole suite, in three stages:
#  1. the main tree's tests but the lab's;
#  2. the lab's (QEMU TCG guests, one at a time), and beside them, at low
#     priority (nice 10), the sanitizer tree's build, each fuzzer for 30 s,
#     then the sanitized unit and CLI tests: a TCG guest keeps about one of
#     this machine's two CPUs busy (its user + sys time is the wall time of
#     the entry); a compile, a fuzzer and the sanitized tests assert nothing
#     about time (their probe runs check what was recorded, not how fast),
#     and the lab's checks are made to hold on a loaded host (A/A boots
#     interleaved a b d). The side job ends about when the lab does
#     (1236 s against 528 + 161 + 532 s in the last clean run), which took
#     the suite from 44 to about 35 minutes (#26).
# With arguments (./run.sh test -R x): ctest with them in the main tree only.
run_tests() {
  local t0 rc=0 started side side_rc=0 side_log kept
  started=$(date +%s)
  deps
  build
  log "build: $(($(date +%s) - started)) s wall (set-up included)"
  t0=$(date +%s)
  if [[ $# -gt 0 ]]; then
    (cd "$BUILD_DIR" && ctest --output-on-failure --timeout 3000 "$@") || rc=$?
    slowest_tests "tests" "$t0" "$BUILD_DIR/Testing/Temporary/LastTest.log"
    return "$rc"
  fi
  kept=$BUILD_DIR/Testing/Temporary/LastTest-but-lab.log
  (cd "$BUILD_DIR" && ctest --output-on-failure --timeout 3000 -LE '^lab$') || rc=$?
  cp "$BUILD_DIR/Testing/Temporary/LastTest.log" "$kept" 2>/dev/null || true
  slowest_tests "tests but the lab" "$t0" "$kept"
  [[ $rc -eq 0 ]] || return "$rc"

  t0=$(date +%s)
  side_log=$BUILD_DIR/sanitizer-build-and-fuzz.log
  log "the lab's tests; beside them (nice 10, log $side_log): the sanitizer build," \
      "each fuzzer for ${KPERFLAB_FUZZ_SECONDS:-30} s, then the sanitized tests"
  (
    renice -n 10 -p "$BASHPID" >/dev/null
    build_sanitized
    s=$(date +%s)
    fuzz "${KPERFLAB_FUZZ_SECONDS:-30}" || exit 1
    log "fuzz: $(($(date +%s) - s)) s wall"
    sanitized_tests || exit 2
  ) >"$side_log" 2>&1 &
  side=$!
  trap 'kill "$side" 2>/dev/null || true' INT TERM
  (cd "$BUILD_DIR" && ctest --output-on-failure --timeout 3000 -L '^lab$') || rc=$?
  slowest_tests "the lab's tests" "$t0" "$BUILD_DIR/Testing/Temporary/LastTest.log"
  wait "$side" || side_rc=$?
  trap - INT TERM
  log "beside the lab, $(($(date +%s) - t0)) s after it began (exit $side_rc):"
  sed 's/^/    /' "$side_log" | grep -vE '^    (\[ *[0-9]+%\]|-- )' >&2 || true
  [[ $rc -eq 0 ]] || return "$rc"
  case $side_rc in
    0) ;;
    2) log "sanitized tests failed (above; log: $side_log)"; return 1 ;;
    *) log "the sanitizer build or a fuzzer failed (log: $side_log)"; return 1 ;;
  esac
  slowest_tests "./run.sh test, slowest of every stage" "$started" "$kept" \
    "$BUILD_DIR/Testing/Temporary/LastTest.log" "$SAN_DIR/Testing/Temporary/LastTest.log"
}

# The same unit and CLI tests built with ASan+UBSan (clang), in their own
# tree. Lab, integration and module tests are left out: they time things or
# need a guest, and sanitizers change the first and cannot reach the second.
# So are the statistical ones (sim_verdicts, cli_ab_verdicts): they measure
# size and power, and their code runs under the sanitizers in unit_analysis
# and cli_ab. The tree is -O1 with line tables only (what ASan's reports
# need; full -O2 -g cost 15-20 % more compile time per file here), and
# tests/CMakeLists.txt leaves out the test programs this stage never runs.
SAN_DIR=${KPERFLAB_SAN_BUILD_DIR:-$here/build-san}
build_sanitized() {
  local t0
  t0=$(date +%s)
  CC=clang CXX=clang++ cmake -S "$here" -B "$SAN_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DKPERFLAB_FUZZ=ON >/dev/null
  cmake --build "$SAN_DIR" -j "$JOBS"
  log "sanitizer build: $(($(date +%s) - t0)) s wall"
}
sanitized_tests() {
  local t0 rc=0
  log "sanitizer tree (ASan+UBSan): unit and CLI tests"
  build_sanitized  # built beside the lab already: a no-op then
  t0=$(date +%s)
  (cd "$SAN_DIR" && ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
     ctest --output-on-failure --timeout 1200 -E '^(lab_|integration_|kmod_|hist_h_|sim_verdicts|cli_ab_verdicts)') || rc=$?
  slowest_tests "sanitized tests" "$t0" "$SAN_DIR/Testing/Temporary/LastTest.log"
  return "$rc"
}

# Each libFuzzer harness (tests/fuzz) for SECONDS, from the seed corpus plus
# what earlier runs in this tree found. A finding fails with its input saved.
fuzz() {
  local seconds=${1:-60} t corpus art rc=0
  [[ -x $SAN_DIR/fuzz/fuzz_hdr && -x $SAN_DIR/fuzz/fuzz_catalog && -x $SAN_DIR/fuzz/fuzz_hold &&
     -x $SAN_DIR/fuzz/fuzz_summary ]] ||
    build_sanitized
  for t in hdr bundle compare hold catalog summary; do
    corpus=$SAN_DIR/fuzz-corpus/$t art=$SAN_DIR/fuzz-findings/$t/
    mkdir -p "$corpus" "$art"
    log "fuzz_$t: ${seconds} s"
    if ! "$SAN_DIR/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
         -max_len=262144 -print_final_stats=1 -artifact_prefix="$art" \
         "$corpus" "$here/tests/fuzz/corpus/$t" > "$SAN_DIR/fuzz-$t.log" 2>&1; then
      log "fuzz_$t: FINDING (input in $art, log $SAN_DIR/fuzz-$t.log):"
      grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$SAN_DIR/fuzz-$t.log" | awk 'NR <= 20' >&2 || true
      rc=1
    else
      log "fuzz_$t: $(grep -E '^stat::number_of_executed_units' "$SAN_DIR/fuzz-$t.log" |
                      sed 's/.*: //') inputs, no finding"
    fi
  done
  return $rc
}

verb=${1:-}
case $verb in
  "" | --profile | --no-install | --tune | --tune-boost-off | --strict | --noise-check | \
  --no-noise-check) main_job "$@" ;;
  test) shift; run_tests "$@" ;;
  deps) shift; deps "$@" ;;
  build) shift; build "$@" ;;
  fuzz) shift; deps; fuzz "${1:-600}" ;;
  run | ab | list | show | compare | series | campaign | noise | catalog | export | restore | \
  trend)
    shift; kperflab "$verb" "$@" ;;
  lab)
    shift
    [[ -x $here/lab/lab.sh ]] || die "the QEMU lab is not built yet (lab/README.md)"
    exec "$here/lab/lab.sh" "$@" ;;
  -h | --help) sed -n '3,18p' "$0" ;;
  *) die "unknown verb '$verb' (see ./run.sh --help)" ;;
esac
