# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the --tune tests (cli_tune, cli_hup_pipe): every setting --tune
# (with --tune-boost-off) may write, and the PM QoS limit, one per line, so
# that a "before" and an "after" can be compared. Needs $nb (the
# kernel.numa_balancing path).
settings() {
  local f
  for f in /proc/sys/kernel/nmi_watchdog "$nb" /sys/devices/system/cpu/intel_pstate/no_turbo \
           /sys/devices/system/cpu/cpufreq/boost /sys/devices/system/cpu/cpufreq/policy*/scaling_governor \
           /sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor; do
    [[ -e $f ]] && echo "$f=$(cat "$f" 2>&1)"
  done
  [[ -e /dev/cpu_dma_latency ]] && echo "cpu_dma_latency=$(od -An -td4 /dev/cpu_dma_latency)"
  return 0
}
