// SPDX-License-Identifier: GPL-2.0-only
// Preflight findings (preflight.h). Each check reads a few files below the
// root and says what it found and why it matters; missing files are
// "unknown" with the reason.
#include "host/preflight.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "results/bundle.h"
#include "core/sysfs.h"

namespace kperflab {

namespace fs = std::filesystem;

namespace {

// Every probe the lab has; findings name the ones they touch.
const std::vector<std::string> kAll = {"membarrier", "ipi", "cpumask", "mmap_lock", "notifier"};
const std::vector<std::string> kIpi = {"ipi", "membarrier"};

class Checker {
 public:
  Checker(const fs::path& root, const nlohmann::json& prov, Preflight& out)
      : root_(root), prov_(prov), out_(out), cpus_(online_cpus_at(root)) {
    out_.online_cpus = unsigned(cpus_.size());
  }
  void all();

 private:
  std::optional<std::string> line(const std::string& rel) const {
    return sysfs::line((root_ / rel).string());
  }
  std::string cpu(int c) const { return "sys/devices/system/cpu/cpu" + std::to_string(c) + "/"; }
  void add(std::string what, std::string value, bool warn, std::string why,
           std::vector<std::string> probes = kAll) {
    out_.findings.push_back({std::move(what), std::move(value), warn ? "warn" : "info",
                             std::move(why), std::move(probes)});
  }
  void unknown(std::string what, std::string reason, std::string why,
               std::vector<std::string> probes = kAll) {
    add(std::move(what), "unknown (" + reason + ")", false, std::move(why), std::move(probes));
  }

  void frequency();
  void idle();
  void smt();
  void sysctls();
  void isolation();
  void load();
  void thermal();
  void virt();

  const fs::path& root_;
  const nlohmann::json& prov_;
  Preflight& out_;
  std::vector<int> cpus_;
};

// "performance x64" or "powersave x60, performance x4".
std::string tally(const std::map<std::string, int>& m) {
  std::string s;
  for (auto& [k, n] : m) s += (s.empty() ? "" : ", ") + k + " x" + std::to_string(n);
  return s;
}

void Checker::frequency() {
  // cpufreq policies (one per group of CPUs sharing a clock), else per CPU.
  std::map<std::string, int> gov, drv;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(root_ / "sys/devices/system/cpu/cpufreq", ec)) {
    if (!e.path().filename().string().starts_with("policy")) continue;
    if (auto g = sysfs::line((e.path() / "scaling_governor").string())) gov[*g]++;
    if (auto d = sysfs::line((e.path() / "scaling_driver").string())) drv[*d]++;
  }
  if (gov.empty())
    for (int c : cpus_) {
      if (auto g = line(cpu(c) + "cpufreq/scaling_governor")) gov[*g]++;
      if (auto d = line(cpu(c) + "cpufreq/scaling_driver")) drv[*d]++;
    }
  const std::string gwhy =
      "a governor other than performance changes the clock with load: short bursts and the "
      "first iterations after idle run slower, and run-to-run spread grows";
  if (gov.empty())
    unknown("cpufreq_governor", "no cpufreq in sysfs: a VM, or the firmware owns the clock",
            gwhy);
  else
    add("cpufreq_governor", tally(gov), !(gov.size() == 1 && gov.count("performance")), gwhy);
  if (drv.empty())
    unknown("scaling_driver", "no cpufreq driver", "which driver sets the clock (intel_pstate, "
            "amd-pstate, acpi-cpufreq, cppc) decides what the governor can do");
  else
    add("scaling_driver", tally(drv), false,
        "which driver sets the clock decides what the governor can do; intel_pstate/amd-pstate "
        "in active mode pick frequencies themselves");
  const std::string bwhy =
      "turbo/boost makes the clock depend on temperature and on how many cores are busy: the "
      "same code runs at another speed from run to run and as targets are added";
  if (auto b = line("sys/devices/system/cpu/cpufreq/boost"))
    add("boost", *b == "1" ? "on (cpufreq/boost)" : "off (cpufreq/boost)", *b == "1", bwhy);
  else if (auto nt = line("sys/devices/system/cpu/intel_pstate/no_turbo"))
    add("boost", *nt == "0" ? "on (intel_pstate/no_turbo=0)" : "off (intel_pstate/no_turbo=1)",
        *nt == "0", bwhy);
  else
    unknown("boost", "neither cpufreq/boost nor intel_pstate/no_turbo", bwhy);
}

void Checker::idle() {
  auto drv = line("sys/devices/system/cpu/cpuidle/current_driver");
  auto gov = line("sys/devices/system/cpu/cpuidle/current_governor");
  if (!gov) gov = line("sys/devices/system/cpu/cpuidle/current_governor_ro");
  if (drv || gov)
    add("idle_driver", drv.value_or("unknown") + " / governor " + gov.value_or("unknown"), false,
        "the idle driver and governor pick how deep an idle CPU sleeps, so how long an IPI "
        "takes to wake it", kIpi);
  else
    unknown("idle_driver", "no cpuidle in sysfs", "the idle driver decides how deep an idle "
            "CPU sleeps", kIpi);
  const std::string why = "deep C-states allowed: the IPI wake-up latency of an idle target "
                          "includes the C-state exit (ipi, membarrier with sleeping targets)";
  auto st = deepest_idle_state(root_, cpus_);
  if (!st) {
    unknown("deepest_cstate",
            std::string("no cpuidle states listed (driver ") + drv.value_or("absent") +
                "): idle is the architecture default (x86 hlt, arm64 wfi; in a VM an exit to "
                "the hypervisor)",
            why, kIpi);
    return;
  }
  std::string v = st->name + " (exit latency " + std::to_string(st->latency_us) + " us" +
                  (st->qos_limit_us ? ", PM QoS limit " + std::to_string(*st->qos_limit_us) + " us"
                                    : std::string()) + ")";
  add("deepest_cstate", v, st->latency_us > kDeepIdleUs, why, kIpi);
}

void Checker::smt() {
  auto active = line("sys/devices/system/cpu/smt/active");
  auto control = line("sys/devices/system/cpu/smt/control");
  const std::string why = "SMT siblings share a core's pipelines and caches: a target's "
                          "latency depends on what its sibling runs; pick targets per core";
  if (!active && !control) return unknown("smt", "no smt/ in sysfs", why);
  add("smt", (active ? (*active == "1" ? "active" : "inactive") : std::string("unknown")) +
                 " (control " + control.value_or("unknown") + ")",
      false, why);
}

void Checker::sysctls() {
  bool irqb = false;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(root_ / "proc", ec)) {
    auto n = e.path().filename().string();
    if (n.find_first_not_of("0123456789") != std::string::npos) continue;
    if (auto c = sysfs::line((e.path() / "comm").string()); c && *c == "irqbalance") irqb = true;
  }
  add("irqbalance", irqb ? "running" : "not running", irqb,
      "irqbalance moves device interrupts between CPUs during the run: the interrupt load on "
      "target CPUs changes under the measurement", kIpi);
  const std::string nwhy = "NMI watchdog on: it holds a perf counter (fewer for kperflab's "
                           "counters) and its periodic NMIs land in membarrier/ipi latency tails";
  if (auto w = line("proc/sys/kernel/nmi_watchdog"))
    add("nmi_watchdog", *w == "0" ? "off" : "on", *w != "0", nwhy,
        {"membarrier", "ipi", "cpumask"});
  else
    unknown("nmi_watchdog", "no kernel.nmi_watchdog", nwhy, {"membarrier", "ipi", "cpumask"});
  const std::string awhy = "ASLR places code, stacks and mappings elsewhere each run: cache "
                           "set and TLB aliasing differ between runs (small, but it is noise)";
  if (auto a = line("proc/sys/kernel/randomize_va_space"))
    add("aslr", "kernel.randomize_va_space=" + *a, false, awhy, {"cpumask", "mmap_lock"});
  else
    unknown("aslr", "no kernel.randomize_va_space", awhy, {"cpumask", "mmap_lock"});
  const std::string twhy = "THP 'always': huge-page faults and khugepaged collapses take "
                           "mmap_lock and invalidate ranges, changing hold times and retry rates";
  if (auto t = line("sys/kernel/mm/transparent_hugepage/enabled")) {
    auto c = bracketed_choice(*t);
    add("thp", c, c == "always", twhy, {"mmap_lock", "notifier"});
  } else {
    unknown("thp", "no THP in this kernel", twhy, {"mmap_lock", "notifier"});
  }
  auto nodes = line("sys/devices/system/node/online");
  size_t n_nodes = 1;
  try {
    if (nodes) n_nodes = std::max<size_t>(1, sysfs::parse_cpu_list(*nodes).size());
  } catch (const std::exception&) {
  }
  const std::string nbwhy = "NUMA balancing unmaps pages periodically for hinting faults: extra "
                            "mmap_lock acquisitions and mmu-notifier invalidations, and pages "
                            "migrate under the measurement";
  if (auto nb = line("proc/sys/kernel/numa_balancing"))
    add("numa_balancing",
        (*nb == "0" ? std::string("off") : "on (" + *nb + ")") + ", " + std::to_string(n_nodes) +
            " node(s)",
        *nb != "0" && n_nodes > 1, nbwhy, {"mmap_lock", "notifier", "membarrier"});
  else
    unknown("numa_balancing", "no kernel.numa_balancing", nbwhy, {"mmap_lock", "notifier"});
}

void Checker::isolation() {
  std::string cmd = line("proc/cmdline").value_or("");
  std::string found;
  std::istringstream ss(cmd);
  for (std::string tok; ss >> tok;)
    for (const char* k : {"isolcpus=", "nohz_full=", "rcu_nocbs=", "irqaffinity="})
      if (tok.starts_with(k)) found += (found.empty() ? "" : " ") + tok;
  auto iso = line("sys/devices/system/cpu/isolated");
  auto nohz = line("sys/devices/system/cpu/nohz_full");
  std::string v = (found.empty() ? "cmdline: none" : "cmdline: " + found) +
                  "; isolated=" + (iso ? (iso->empty() ? "none" : *iso) : "unknown") +
                  " nohz_full=" + (nohz ? (nohz->empty() || *nohz == "(null)" ? "none" : *nohz)
                                        : "unknown");
  add("isolation", v, false,
      "without isolated CPUs, timers, kworkers and RCU callbacks run on every CPU, also under "
      "targets; with them, pin targets to isolated CPUs (and know ticks stop there)");
}

void Checker::load() {
  auto la = line("proc/loadavg");
  double l1 = 0, l5 = 0, l15 = 0;
  const std::string why = "other runnable work shares the CPUs: spinning targets get preempted "
                          "and latencies pick up scheduler delays";
  if (!la || std::sscanf(la->c_str(), "%lf %lf %lf", &l1, &l5, &l15) != 3)
    return unknown("load", "/proc/loadavg unreadable", why);
  out_.load1 = l1;
  double limit = std::max(0.5, kLoadPerCpu * double(std::max<size_t>(1, cpus_.size())));
  char buf[128];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f over %zu CPUs", l1, l5, l15, cpus_.size());
  add("load", buf, l1 > limit, why);
  std::string busy;
  bool warn = false;
  for (auto& p : out_.busiest) {
    std::snprintf(buf, sizeof buf, "%d %s %.0f%%", int(p.pid), p.comm.c_str(), p.cpu_pct);
    busy += (busy.empty() ? "" : ", ") + std::string(buf);
    warn = warn || p.cpu_pct > kBusyPct;
  }
  add("busiest_processes",
      busy.empty() ? "none used CPU over " + std::to_string(out_.sample_ms) + " ms" : busy, warn,
      "processes that ran during the " + std::to_string(out_.sample_ms) +
          " ms sample (pid comm %-of-a-CPU): they compete with the probe's threads");
}

void Checker::thermal() {
  uint64_t core = 0, pkg = 0;
  bool any = false;
  for (int c : cpus_) {
    if (auto v = sysfs::integer((root_ / (cpu(c) + "thermal_throttle/core_throttle_count")).string())) {
      core += uint64_t(*v);
      any = true;
    }
    if (auto v = sysfs::integer((root_ / (cpu(c) + "thermal_throttle/package_throttle_count")).string())) {
      pkg = std::max(pkg, uint64_t(*v));  // one package counter, seen by every CPU
      any = true;
    }
  }
  const std::string why = "thermal throttling lowers the clock mid-run; counts since boot";
  if (!any) return unknown("thermal_throttle", "no thermal_throttle in sysfs (x86 only)", why);
  add("thermal_throttle",
      "core events " + std::to_string(core) + ", package events " + std::to_string(pkg),
      core + pkg > 0, why);
}

void Checker::virt() {
  const auto& h = prov_.contains("host") ? prov_["host"] : nlohmann::json::object();
  const std::string why = "in a VM, IPIs and timers pass through the hypervisor (VM exits), "
                          "vCPUs may be descheduled (steal time), and PMU counters may be absent";
  if (!h.contains("virtualized") || !h["virtualized"].is_boolean())
    return unknown("virtualization", "not in the provenance", why, kAll);
  bool v = h["virtualized"].get<bool>();
  std::string hv = h.contains("hypervisor") && h["hypervisor"].is_string()
                       ? h["hypervisor"].get<std::string>() : "";
  add("virtualization", v ? "virtualized (" + hv + ")" : "bare metal", v, why);
}

void Checker::all() {
  frequency();
  idle();
  smt();
  sysctls();
  isolation();
  load();
  thermal();
  virt();
}

}  // namespace

std::vector<int> online_cpus_at(const fs::path& root) {
  auto on = sysfs::line((root / "sys/devices/system/cpu/online").string());
  try {
    if (on && !on->empty()) return sysfs::parse_cpu_list(*on);
  } catch (const std::exception&) {
  }
  return {0};
}

std::string bracketed_choice(const std::string& text) {
  auto a = text.find('['), b = text.find(']');
  if (a == std::string::npos || b == std::string::npos || b < a) return text;
  return text.substr(a + 1, b - a - 1);
}

std::map<pid_t, ProcCpu> read_proc_cpu(const fs::path& root) {
  std::map<pid_t, ProcCpu> m;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(root / "proc", ec)) {
    auto n = e.path().filename().string();
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) continue;
    auto s = sysfs::read((e.path() / "stat").string());
    if (!s) continue;  // gone meanwhile
    auto open = s->find('('), close = s->rfind(')');  // comm may hold spaces and ')'
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    std::istringstream rest(s->substr(close + 1));
    std::string f;
    uint64_t ut = 0, st = 0;
    for (int i = 3; i <= 15 && (rest >> f); ++i) {
      if (i == 14) ut = std::strtoull(f.c_str(), nullptr, 10);
      if (i == 15) st = std::strtoull(f.c_str(), nullptr, 10);
    }
    // comm is any bytes but NUL and '/': a bundle holds no control characters.
    m[pid_t(std::atol(n.c_str()))] = {printable(s->substr(open + 1, close - open - 1)), ut + st};
  }
  return m;
}

std::vector<BusyProcess> busiest_between(const std::map<pid_t, ProcCpu>& before,
                                         const std::map<pid_t, ProcCpu>& after, double window_s,
                                         long ticks_per_s, pid_t self, size_t n) {
  std::vector<BusyProcess> v;
  if (window_s <= 0 || ticks_per_s <= 0) return v;
  for (auto& [pid, a] : after) {
    if (pid == self) continue;
    auto b = before.find(pid);
    uint64_t from = b == before.end() ? a.ticks : b->second.ticks;  // new: no known start
    if (a.ticks <= from) continue;
    v.push_back({pid, a.comm, 100.0 * double(a.ticks - from) / double(ticks_per_s) / window_s});
  }
  std::stable_sort(v.begin(), v.end(),
                   [](const BusyProcess& x, const BusyProcess& y) { return x.cpu_pct > y.cpu_pct; });
  if (v.size() > n) v.resize(n);
  return v;
}

std::optional<IdleState> deepest_idle_state(const fs::path& root, const std::vector<int>& cpus) {
  // The global PM QoS CPU latency limit: /dev/cpu_dma_latency reads back as
  // a binary s32 (us) for root; 2000000000 is "no limit".
  // Opened without blocking (a FIFO planted in a fixture tree returns at
  // once) and read only when it is the character device, or a regular file
  // (fixture trees): one 4-byte read, whatever else the path is (#27).
  std::optional<long> qos;
  std::string dev = (root / "dev/cpu_dma_latency").string();
  if (int fd = ::open(dev.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY); fd >= 0) {
    struct stat st{};
    int32_t v = 0;
    if (::fstat(fd, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISREG(st.st_mode)) &&
        ::read(fd, &v, sizeof v) == static_cast<ssize_t>(sizeof v) && v >= 0 && v < 2000000000)
      qos = v;
    ::close(fd);
  }
  std::optional<IdleState> best;
  for (int c : cpus) {
    std::string base = (root / ("sys/devices/system/cpu/cpu" + std::to_string(c))).string();
    std::optional<long> limit = qos;
    // Per-CPU resume latency: "0" is no constraint, "n/a" allows no idle state.
    if (auto r = sysfs::line(base + "/power/pm_qos_resume_latency_us")) {
      long v = *r == "n/a" ? 0 : std::atol(r->c_str());
      if (*r == "n/a" || v > 0) limit = limit ? std::min(*limit, v) : v;
    }
    for (int s = 0; s < 32; ++s) {
      std::string st = base + "/cpuidle/state" + std::to_string(s) + "/";
      auto lat = sysfs::integer(st + "latency");
      if (!lat) break;
      if (sysfs::integer(st + "disable").value_or(0) != 0) continue;
      if (limit && *lat > *limit && s > 0) continue;  // state0 (POLL) is always allowed
      if (!best || *lat > best->latency_us)
        best = IdleState{sysfs::line(st + "name").value_or("state" + std::to_string(s)), long(*lat),
                         limit};
    }
  }
  return best;
}

Preflight run_preflight(const PreflightOptions& opt, const nlohmann::json& provenance) {
  Preflight p;
  pid_t self = opt.self ? opt.self : getpid();
  auto t0 = std::chrono::steady_clock::now();
  auto before = read_proc_cpu(opt.root);
  std::this_thread::sleep_for(opt.sample);
  auto after = read_proc_cpu(opt.root);
  double window = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  p.sample_ms = std::chrono::duration_cast<std::chrono::milliseconds>(opt.sample).count();
  p.busiest = busiest_between(before, after, window, sysconf(_SC_CLK_TCK), self, opt.busiest);
  Checker(opt.root, provenance, p).all();
  // Warnings first, each group in check order.
  std::stable_sort(p.findings.begin(), p.findings.end(), [](const Finding& a, const Finding& b) {
    return a.severity == "warn" && b.severity != "warn";
  });
  return p;
}

nlohmann::json Preflight::to_json() const {
  nlohmann::json f = nlohmann::json::array(), b = nlohmann::json::array();
  for (auto& x : findings)
    f.push_back({{"what", x.what}, {"value", x.value}, {"severity", x.severity},
                 {"why", x.why}, {"probes", x.probes}});
  for (auto& x : busiest)
    b.push_back({{"pid", x.pid}, {"comm", x.comm}, {"cpu_pct", x.cpu_pct}});
  size_t warns = 0;
  for (auto& x : findings) warns += x.severity == "warn";
  return {{"sample_ms", sample_ms}, {"online_cpus", online_cpus},
          {"load1", load1 ? nlohmann::json(*load1) : nlohmann::json(nullptr)},
          {"warnings", warns}, {"findings", f}, {"busiest", b}};
}

}  // namespace kperflab
