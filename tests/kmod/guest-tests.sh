#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs the module tests inside a lab guest (busybox sh), then checks the
# kernel log. Usage: guest-tests.sh [BIN_DIR [KO_PATH]] (defaults: this
# script's directory, $KPERFLAB_KO or /kperflab/kperflab.ko)
# Prints one line per test and "N passed, N failed, N skipped"; exit 1 on failure.
bin=${1:-$(dirname "$0")}
ko=${2:-${KPERFLAB_KO:-/kperflab/kperflab.ko}}
pass=0 fail=0 skip=0

run() {
  name=$1; shift
  echo "guest-test $name: start"
  "$@"
  rc=$?
  case $rc in
    0) pass=$((pass + 1)); echo "guest-test $name: PASS" ;;
    77) skip=$((skip + 1)); echo "guest-test $name: SKIP" ;;
    *) fail=$((fail + 1)); echo "guest-test $name: FAIL (exit $rc)" ;;
  esac
}

dmesg -c > /dev/null 2>&1
[ -e /dev/kperflab ] || insmod "$ko" || echo "insmod $ko failed"
run module_loads test -c /dev/kperflab
run ioctls "$bin/kmod_ioctl_test"
run fuzzer "$bin/kmod_fuzz" 10000 1
[ -x "$bin/kmod_notifier_test" ] && run notifier "$bin/kmod_notifier_test"
run rmmod_race "$bin/kmod_rmmod_race" "$ko"
if dmesg | grep -E "Oops|BUG:|WARNING:|Call Trace|general protection" > /tmp/kmsg.bad; then
  fail=$((fail + 1))
  echo "guest-test kernel_log: FAIL"
  cat /tmp/kmsg.bad
else
  pass=$((pass + 1))
  echo "guest-test kernel_log: PASS"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
