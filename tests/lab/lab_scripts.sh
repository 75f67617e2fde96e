#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The lab's plumbing without booting a guest: bad arguments are refused with
# a message naming them, every kernel of the matrix resolves to packages in
# the apt index, and the initramfs builder produces a cpio with /init and a
# static busybox. Usage: lab_scripts.sh SRC_ROOT
set -euo pipefail
src=${1:?usage: lab_scripts.sh SRC_ROOT}
lab=$src/lab
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # NAME, then a command that must succeed
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}

# refuses ARGS... with exit 1 and MESSAGE on stderr
refuses() {
  local msg=$1 rc=0; shift
  "$lab/lab.sh" --work "$tmp/work" --cache "$tmp/cache" "$@" >"$tmp/out" 2>&1 || rc=$?
  [[ $rc -eq 1 ]] && grep -q -- "$msg" "$tmp/out" && return 0
  echo "  lab.sh $* exited $rc: $(cat "$tmp/out")"
  return 1
}

check "bad mode refused" refuses "--mode must be run, test, smoke or lava" --mode fast
check "--ab with --mode lava refused" refuses "--ab and --mode lava do not mix" --mode lava --ab "--set ipi.handler_delay_ns=1"
check "bad accel refused" refuses "--accel must be auto, kvm or tcg" --accel hvf
check "bad timeout refused" refuses "--timeout must be seconds" --timeout soon
check "bad A/B arguments refused" refuses "--ab may hold" --ab 'x;reboot'
check "bad A/B rounds refused" refuses "--rounds must be 1..99" --ab "--repeat 2" --rounds 0
check "bad profile refused" refuses "--profile must be quick, standard, full or lab" --profile fast
check "A/B without probes refused" refuses "--ab needs --mode run or test" --mode smoke --ab "--repeat 2"
check "unknown kernel refused" refuses "unknown kernel '5.10-cloud-amd64'" --kernel 5.10-cloud-amd64 --mode smoke
check "--soak outside test mode refused" refuses "--soak needs --mode test" --mode run --soak
check "unknown argument refused" refuses "unknown argument '--kernels'" --kernels x
check "missing custom image refused" refuses "is not custom:IMAGE:HEADERS_OR_BUILDDIR" \
  --kernel custom:/nonexistent/bzImage:/nonexistent --mode smoke

if [[ -z $(apt-cache pkgnames linux-image- 2>/dev/null | head -n1) ]]; then
  echo "SKIP: the apt index is empty (apt-get update never ran); cannot resolve kernels"
  exit 77
fi
resolves() {
  local out
  out=$("$lab/resolve.sh" "$1") || return 1
  [[ $out =~ ^(amd64|arm64)\ [0-9]+\.[0-9]+[^\ ]*-(cloud|rt)-(amd64|arm64)\ linux-image-[^\ ]+-unsigned\ linux-headers-[^\ ]+\ linux-headers-[^\ ]+-common(-rt)?\ linux-kbuild-[^\ ]+$ ]] ||
    { echo "  unexpected: $out"; return 1; }
  echo "  $1 -> $out"
}
for k in 6.1-cloud-amd64 6.12-cloud-amd64 6.12-rt-amd64 6.12-cloud-arm64; do
  check "resolve $k" resolves "$k"
done

initramfs() {
  mkdir -p "$tmp/ov/kperflab"
  echo 'uname -r' >"$tmp/ov/kperflab/mode.sh"
  "$lab/initramfs.sh" "$tmp/cache" "$(dpkg --print-architecture)" "$tmp/i.gz" "$tmp/ov" || return 1
  gzip -dc "$tmp/i.gz" | cpio -t --quiet >"$tmp/list" 2>/dev/null
  grep -qx init "$tmp/list" && grep -qx bin/busybox "$tmp/list" && grep -qx kperflab/mode.sh "$tmp/list"
}
check "initramfs has /init, busybox, the overlay" initramfs

# The staged loader is the one next to the staged libc.so.6 (same glibc
# build): a cross-built threaded arm64 program, staged as for a guest.
same_glibc() (
  t=aarch64-linux-gnu
  source "$lab/lib.sh"
  source "$lab/build-suite.sh"
  printf '#include <pthread.h>\nstatic void *f(void *a) { return a; }\nint main(void) { pthread_t p; return pthread_create(&p, 0, f, 0) || pthread_join(p, 0); }\n' >"$tmp/t.c"
  $t-gcc -O2 -o "$tmp/t" "$tmp/t.c" -lpthread || return 1
  lab_stage_libs "$tmp/t" "$tmp/stage" "$t" || return 1
  interp=$(readelf -l "$tmp/t" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
  libc=$(readlink -f "$(lab_find_lib libc.so.6 "$t")")
  cmp -s "$tmp/stage$interp" "$(dirname "$libc")/$(basename "$interp")" ||
    { echo "  $interp is not the loader of the staged libc.so.6"; return 1; }
  staged=$tmp/stage/lib/$t/$(basename "$interp")
  [[ ! -e $staged ]] || cmp -s "$tmp/stage$interp" "$staged"
)
if command -v aarch64-linux-gnu-gcc >/dev/null; then
  check "arm64 stage: loader and libc from one glibc" same_glibc
else
  echo "skip arm64 stage check: aarch64-linux-gnu-gcc not installed"
fi

# The kmod build's warning filter (#28): a planted FORTIFY warning that
# names a kernel header but was inlined from our code is ours; the same in
# code of the kernel's own, and a warning in a header alone, are not.
kmod_filter() (
  source "$lab/lib.sh"
  source "$lab/build-kmod.sh"
  k=/cache/linux-headers-6.1/include/linux/fortify-string.h
  printf '%s\n' "In function 'fortify_memset_chk'," \
    "    inlined from 'kpl_ipi_ioctl' at /w/build/lab/6.1/kmod-build/kmod/ipi.c:436:2:" \
    "$k:314:25: warning: call to '__write_overflow_field' declared with attribute warning" >"$tmp/ours.log"
  printf '%s\n' "In function 'fortify_memset_chk'," \
    "    inlined from 'skb_put_zero' at /cache/linux-headers-6.1/include/linux/skbuff.h:2509:2:" \
    "$k:314:25: warning: call to '__write_overflow_field' declared with attribute warning" \
    "/cache/linux-headers-6.1/include/linux/compiler.h:12:3: warning: a header's own" >"$tmp/theirs.log"
  printf '%s\n' "/w/build/lab/6.1/kmod-build/kmod/notifier.c:12:5: warning: unused variable 'x'" >"$tmp/plain.log"
  [[ $(lab_kmod_own_warnings "$tmp/ours.log" | wc -l) -eq 1 ]] || { echo "  inlined-from warning missed"; return 1; }
  [[ -z $(lab_kmod_own_warnings "$tmp/theirs.log") ]] || { echo "  a kernel header's warning taken for ours"; return 1; }
  [[ $(lab_kmod_own_warnings "$tmp/plain.log" | wc -l) -eq 1 ]] || { echo "  a warning in kmod/ missed"; return 1; }
)
check "kmod warning filter: ours when inlined from kmod/" kmod_filter

echo "$fails failed"
[[ $fails -eq 0 ]]
