# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers of the lab scripts (sourced, never run). Every lab script is
# `set -euo pipefail`; these helpers keep errors loud and named.
# Errors inside $(…) stop the script too.
shopt -s inherit_errexit

lab_log() { printf '[lab] %s\n' "$*" >&2; }
lab_die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

# The machine cannot do what was asked (no archive, no QEMU): ctest shows the
# test as SKIPPED with this reason.
LAB_SKIP=77
lab_skip() { printf '[lab] SKIP: %s\n' "$*" >&2; exit "$LAB_SKIP"; }

lab_as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# The kernels of the matrix. Name -> "<debian arch> <image package regex>".
# Package names are resolved from the index at run time because every
# security update renames them (6.1.0-NN, 6.12.NNN+deb12).
lab_kernel_spec() {
  case $1 in
    6.1-cloud-amd64) echo 'amd64 ^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' ;;
    6.12-cloud-amd64) echo 'amd64 ^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned$' ;;
    6.12-rt-amd64) echo 'amd64 ^linux-image-6\.12\.[0-9]+\+deb12-rt-amd64-unsigned$' ;;
    6.12-cloud-arm64) echo 'arm64 ^linux-image-6\.12\.[0-9]+\+deb12-cloud-arm64-unsigned$' ;;
    *) return 1 ;;
  esac
}
LAB_KERNELS=(6.1-cloud-amd64 6.12-cloud-amd64 6.12-rt-amd64 6.12-cloud-arm64)

# Debian architecture -> the guest's machine name (uname -m).
lab_uname_m() {
  case $1 in
    amd64) echo x86_64 ;;
    arm64) echo aarch64 ;;
    *) lab_die "unsupported guest architecture '$1' (amd64 or arm64)" ;;
  esac
}

# Run "$@" holding an exclusive lock on file $1 (parallel ctest runs share
# the download cache and the suite build).
lab_locked() {
  local lock=$1; shift
  mkdir -p "$(dirname "$lock")"
  (
    exec {fd}>"$lock"
    flock -w 3600 "$fd" || lab_die "could not lock $lock within an hour"
    "$@"
  )
}

# Can this machine reach Debian's archive? Used to SKIP (not fail) when the
# network is the reason nothing can be downloaded.
lab_archive_reachable() {
  local uri host
  uri=$(apt-get indextargets --format '$(URI)' 2>/dev/null | head -n1 || true)
  [[ -n $uri ]] || return 1
  host=${uri#*://}; host=${host%%/*}
  timeout 20 bash -c "exec 3<>/dev/tcp/$host/80" 2>/dev/null ||
    timeout 20 bash -c "exec 3<>/dev/tcp/$host/443" 2>/dev/null
}

# One series report over the kernels given (in that order): every bundle of
# each kernel under the runs directory is that kernel's side (more boots,
# firmer verdicts). Text, Markdown and the static site go to
# RUNS/series/<UTC stamp>/. '+' joins selector terms, so a release's '+'
# is matched by the glob '?'. Usage: lab_series KPERFLAB RUNS KREL...
lab_series() {
  local kperflab=$1 runs=$2 sel=() k out
  shift 2
  for k in "$@"; do sel+=("kernel:${k//+/?}"); done
  out=$runs/series/$(date -u +%Y%m%dT%H%M%SZ)
  mkdir -p "$out"
  # Guests of different architectures are different hosts (lab-qemu-tcg-*).
  "$kperflab" series --runs-dir "$runs" --cross-host "${sel[@]}" -o "$out/series.txt" &&
    "$kperflab" series --runs-dir "$runs" --cross-host --format md "${sel[@]}" -o "$out/series.md" &&
    "$kperflab" series --runs-dir "$runs" --cross-host --format html "${sel[@]}" -o "$out/site" \
      >/dev/null || { lab_log "series report over $* failed"; return 1; }
  lab_log "series report over ${#sel[@]} kernels: $out/series.txt, $out/site/index.html"
  echo "$out"
}
