#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of a lab guest (busybox sh). Mounts the kernel file systems, loads
# kperflab.ko when the initramfs has it, runs /kperflab/mode.sh, and sends
# everything under /out back to the host as a tar stream over the
# virtio-serial port "kperflab.out" (Debian's cloud kernels have no 9p; the
# virtio console is built in everywhere). Then powers off, whatever happened.
/bin/busybox --install -s /bin
export PATH=/kperflab/bin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p /out /run
# The host names the guest after how it runs (lab-qemu-tcg-x86_64); the
# bundle lands under results/runs/<that name>/<release>/.
for arg in $(cat /proc/cmdline); do
  case $arg in kperflab.hostname=*) hostname "${arg#kperflab.hostname=}" ;; esac
done
export LD_LIBRARY_PATH=/lib/$(uname -m)-linux-gnu
echo "kperflab-lab: init started on $(uname -r) $(uname -m)"

# Drivers of the results channel, where the kernel has them as modules.
for m in /kperflab/modules/*.ko; do
  [ -f "$m" ] && { insmod "$m" || echo "kperflab-lab: insmod $m failed"; }
done
port=""
# A LAVA guest has no results channel: do not wait for one.
[ -f /kperflab/interactive ] || for i in 1 2 3 4 5 6 7 8 9 10; do
  for d in /sys/class/virtio-ports/*; do
    [ "$(cat "$d/name" 2>/dev/null)" = kperflab.out ] && port=/dev/${d##*/}
  done
  [ -n "$port" ] && [ -e "$port" ] && break
  sleep 1
done
[ -n "$port" ] || [ -f /kperflab/interactive ] ||
  echo "kperflab-lab: no virtio-serial port kperflab.out"

send_results() {
  dmesg >/out/dmesg.txt
  if [ -n "$port" ]; then
    tar -cf "$port" -C /out . && echo "kperflab-lab: results sent"
  fi
}

# Where things are when the watchdog fires: what every CPU is running and
# the blocked tasks (the kernel's own sysrq dumps, into dmesg), then the
# state, wait channel and kernel stack of our own tasks. Kept short: a guest
# that hangs under TCG is slow, and the results must still go out in time.
hang_report() {
  echo l >/proc/sysrq-trigger 2>/dev/null
  echo w >/proc/sysrq-trigger 2>/dev/null
  for p in /proc/[0-9]*; do
    c=$(cat "$p/comm" 2>/dev/null)
    case $c in kmod_* | kperflab | kpl_* | guest-tests*) ;; *) continue ;; esac
    for t in "$p"/task/*; do
      echo "== ${t#/proc/} $c $(cut -d' ' -f3 "$t/stat" 2>/dev/null) wchan=$(cat "$t/wchan" 2>/dev/null)"
      echo "syscall: $(cat "$t/syscall" 2>/dev/null)"
      echo "stat: $(cat "$t/stat" 2>/dev/null)"
      sleep 1
      echo "stat 1 s later: $(cat "$t/stat" 2>/dev/null)"
      cat "$t/stack" 2>/dev/null
    done
    echo "maps of ${p#/proc/}:"
    grep -v ' 0 *$' "$p/maps" 2>/dev/null
  done >/out/hang-tasks.txt
}

# A watchdog: whatever hangs, the guest reports where, sends what it has
# and powers off before the host's timeout.
(
  sleep "$(cat /kperflab/guest-timeout)"
  echo "kperflab-lab: guest timeout; tasks in /out/hang-tasks.txt"
  hang_report
  send_results
  poweroff -f
) &

if [ -f /kperflab/kperflab.ko ]; then
  if insmod /kperflab/kperflab.ko >/out/insmod.log 2>&1; then
    echo 0 >/out/insmod.rc
  else
    echo $? >/out/insmod.rc
    echo "kperflab-lab: insmod kperflab.ko failed: $(cat /out/insmod.log)"
  fi
fi

# A guest for a LAVA job (lab/lava/): a shell on the console with a prompt
# the job waits for; LAVA's test shell runs there and powers the guest off.
# No results channel: LAVA reads the results from the console.
if [ -f /kperflab/interactive ]; then
  export PS1='kperflab-lava# ' HOME=/root
  echo "kperflab-lab: interactive shell for LAVA"
  cd /
  exec setsid cttyhack sh -l
fi

cd /kperflab
sh /kperflab/mode.sh >/out/mode.log 2>&1
rc=$?
echo $rc >/out/mode.rc
cd /
echo "kperflab-lab: mode finished rc=$rc"
send_results
sync
echo "kperflab-lab: poweroff"
poweroff -f
