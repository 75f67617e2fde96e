// SPDX-License-Identifier: GPL-2.0-only
// Kernel and host provenance. CPU model and topology: sysinfo_cpu.cpp.
#include "host/sysinfo.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "core/sysfs.h"
#include "core/codec.h"

namespace kperflab {

namespace detail {
// Sets j[key] to the value, or to null with the reason in j["unavailable"].
void put(nlohmann::json& j, const std::string& key, const std::optional<std::string>& v,
         const std::string& why) {
  if (v) {
    j[key] = *v;
  } else {
    j[key] = nullptr;
    j["unavailable"][key] = why;
  }
}
nlohmann::json collect_cpu(std::vector<CpuTopo>& topo);  // sysinfo_cpu.cpp
}  // namespace detail

using detail::put;

namespace {

const char* kConfigOptions[] = {
    "CONFIG_PREEMPT", "CONFIG_PREEMPT_NONE", "CONFIG_PREEMPT_VOLUNTARY",
    "CONFIG_PREEMPT_DYNAMIC", "CONFIG_PREEMPT_RT", "CONFIG_HZ", "CONFIG_NR_CPUS",
    "CONFIG_NO_HZ_FULL", "CONFIG_NO_HZ_IDLE", "CONFIG_RSEQ", "CONFIG_MEMBARRIER",
    "CONFIG_MMU_NOTIFIER", "CONFIG_PER_VMA_LOCK", "CONFIG_BPF_SYSCALL",
    "CONFIG_DEBUG_INFO_BTF", "CONFIG_CPUMASK_OFFSTACK", "CONFIG_MODULES",
    "CONFIG_TRANSPARENT_HUGEPAGE", "CONFIG_NUMA", "CONFIG_KVM_GUEST", "CONFIG_PARAVIRT",
    "CONFIG_LOCKDEP", "CONFIG_KASAN", "CONFIG_DEBUG_PREEMPT", "CONFIG_CSD_LOCK_WAIT_DEBUG",
};

// /proc/config.gz, else /boot/config-<release>.
std::optional<std::pair<std::string, std::string>> find_kconfig(const std::string& release) {
  if (auto gz = sysfs::read("/proc/config.gz")) {
    try {
      return std::make_pair(gzip_decompress(*gz), std::string("/proc/config.gz"));
    } catch (const std::exception&) {
    }
  }
  std::string boot = "/boot/config-" + release;
  if (auto txt = sysfs::read(boot)) return std::make_pair(*txt, boot);
  return std::nullopt;
}

nlohmann::json collect_kernel(const utsname& u, std::optional<std::string>& kconfig) {
  nlohmann::json k = {{"release", u.release}, {"version", u.version}, {"machine", u.machine}};
  put(k, "cmdline", sysfs::line("/proc/cmdline"), "/proc/cmdline unreadable");
  // Which boot this run ran in: compare's unit of replication is the boot
  // (analysis/README.md "Between boots").
  put(k, "boot_id", sysfs::line("/proc/sys/kernel/random/boot_id"),
      "/proc/sys/kernel/random/boot_id unreadable");
  nlohmann::json cfg = nlohmann::json::object();
  if (auto found = find_kconfig(u.release)) {
    kconfig = found->first;
    cfg["source"] = found->second;
    cfg["sha256"] = sha256_hex(found->first);
    nlohmann::json opts = nlohmann::json::object();
    for (const char* o : kConfigOptions) {
      auto v = kconfig_value(*kconfig, o);
      opts[o] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);  // null: not set
    }
    cfg["options"] = opts;
  } else {
    cfg = nullptr;
    k["unavailable"]["config"] =
        "neither /proc/config.gz nor /boot/config-" + std::string(u.release) + " readable";
  }
  k["config"] = cfg;
  nlohmann::json cs = nlohmann::json::object();
  const std::string csd = "/sys/devices/system/clocksource/clocksource0/";
  put(cs, "current", sysfs::line(csd + "current_clocksource"), "no clocksource in sysfs");
  put(cs, "available", sysfs::line(csd + "available_clocksource"), "no clocksource in sysfs");
  k["clocksource"] = cs;
  nlohmann::json thp = nlohmann::json::object();
  const std::string thpd = "/sys/kernel/mm/transparent_hugepage/";
  put(thp, "enabled", sysfs::line(thpd + "enabled"), "no THP in this kernel");
  put(thp, "defrag", sysfs::line(thpd + "defrag"), "no THP in this kernel");
  k["thp"] = thp;
  // membarrier GLOBAL is synchronize_rcu(): expedited or normal decides
  // whether it takes microseconds or milliseconds.
  nlohmann::json rcu = nlohmann::json::object();
  put(rcu, "expedited", sysfs::line("/sys/kernel/rcu_expedited"), "no /sys/kernel/rcu_expedited");
  put(rcu, "normal", sysfs::line("/sys/kernel/rcu_normal"), "no /sys/kernel/rcu_normal");
  k["rcu"] = rcu;
  nlohmann::json mit = nlohmann::json::object();
  const std::string vd = "/sys/devices/system/cpu/vulnerabilities/";
  for (const char* v : {"meltdown", "spectre_v1", "spectre_v2", "spec_store_bypass", "l1tf",
                        "mds", "tsx_async_abort", "itlb_multihit", "srbds", "mmio_stale_data",
                        "retbleed", "gather_data_sampling", "spec_rstack_overflow",
                        "reg_file_data_sampling", "its", "tsa"}) {
    if (auto s = sysfs::line(vd + v)) mit[v] = *s;
  }
  if (mit.empty()) mit = nullptr;
  k["vulnerabilities"] = mit;
  put(k, "nohz_full", sysfs::line("/sys/devices/system/cpu/nohz_full"),
      "no /sys/devices/system/cpu/nohz_full");
  put(k, "isolated", sysfs::line("/sys/devices/system/cpu/isolated"),
      "no /sys/devices/system/cpu/isolated");
  put(k, "preempt_dynamic", sysfs::line("/sys/kernel/debug/sched/preempt"),
      "debugfs sched/preempt unreadable (not mounted or not PREEMPT_DYNAMIC)");
  k["btf"] = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
  return k;
}

// x86: the hypervisor's CPUID signature (leaf 0x40000000) names it even
// where no DMI or /sys/hypervisor exists (e.g. microVMs, QEMU TCG).
std::optional<std::string> cpuid_hypervisor() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  __cpuid(1, a, b, c, d);
  if (!(c & (1u << 31))) return std::nullopt;  // hypervisor present bit
  __cpuid(0x40000000, a, b, c, d);
  char sig[13] = {};
  std::memcpy(sig, &b, 4);
  std::memcpy(sig + 4, &c, 4);
  std::memcpy(sig + 8, &d, 4);
  std::string s = sysfs::trim(sig);
  return s.empty() ? std::string("unknown (CPUID hypervisor bit)") : "cpuid:" + s;
#else
  return std::nullopt;
#endif
}

std::optional<std::string> hypervisor() {
  if (auto t = sysfs::line("/sys/hypervisor/type")) return *t;
  if (auto c = cpuid_hypervisor()) return c;
  if (auto v = sysfs::line("/sys/class/dmi/id/sys_vendor")) {
    for (const char* h : {"QEMU", "KVM", "VMware", "Xen", "Microsoft", "Amazon EC2", "Google"})
      if (v->find(h) != std::string::npos) return *v;
  }
  if (auto c = sysfs::read("/proc/cpuinfo"); c && c->find(" hypervisor") != std::string::npos)
    return std::string("unknown (cpuinfo hypervisor flag)");
  // arm64 without DMI (QEMU's virt machine boots from a device tree): the
  // board's compatible string, or the device tree's /hypervisor node.
  if (auto c = sysfs::read("/sys/firmware/devicetree/base/compatible");
      c && c->find("linux,dummy-virt") != std::string::npos)
    return std::string("devicetree:linux,dummy-virt (QEMU virt)");
  if (auto c = sysfs::read("/sys/firmware/devicetree/base/hypervisor/compatible"))
    return "devicetree:" + std::string(c->c_str());  // first of the NUL-separated list
  return std::nullopt;
}

nlohmann::json collect_host() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  nlohmann::json h = {{"hostname", name}};
  auto hv = hypervisor();
  h["virtualized"] = hv.has_value();
  h["hypervisor"] = hv ? nlohmann::json(*hv) : nlohmann::json(nullptr);
  if (auto mi = sysfs::read("/proc/meminfo")) {
    std::istringstream ss(*mi);
    std::string key;
    long long kb = 0;
    std::string unit;
    while (ss >> key >> kb) {
      std::getline(ss, unit);
      if (key == "MemTotal:") h["memory_bytes"] = kb * 1024;
      if (key == "Hugepagesize:") h["hugepage_bytes"] = kb * 1024;
    }
  }
  if (!h.contains("memory_bytes")) {
    h["memory_bytes"] = nullptr;
    h["unavailable"]["memory_bytes"] = "/proc/meminfo unreadable";
  }
  return h;
}

}  // namespace

HostInfo collect_host_info() {
  utsname u{};
  uname(&u);
  nlohmann::json prov = nlohmann::json::object();
  std::optional<std::string> kconfig;
  std::vector<CpuTopo> cpus;
  prov["host"] = collect_host();
  prov["kernel"] = collect_kernel(u, kconfig);
  prov["cpu"] = detail::collect_cpu(cpus);
  return HostInfo(std::move(prov), std::move(cpus), std::move(kconfig));
}

unsigned online_cpu_count() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

}  // namespace kperflab
