// SPDX-License-Identifier: GPL-2.0-only
// CPU provenance: model, microcode, per-CPU topology (core, package, LLC,
// NUMA node, SMT siblings), SMT state, frequency governor and boost.
#include <dirent.h>

#include <map>
#include <set>
#include <sstream>

#include "core/sysfs.h"
#include "host/sysinfo.h"

namespace kperflab::detail {

void put(nlohmann::json& j, const std::string& key, const std::optional<std::string>& v,
         const std::string& why);

namespace {

const std::string kCpuDir = "/sys/devices/system/cpu/";

// First value of each "key : value" line of the first processor block
// (x86: vendor_id, model name, ...; arm64: CPU implementer, CPU part, ...).
std::map<std::string, std::string> cpuinfo_first_block() {
  std::map<std::string, std::string> m;
  auto text = sysfs::read("/proc/cpuinfo");
  if (!text) return m;
  std::istringstream ss(*text);
  std::string l;
  while (std::getline(ss, l)) {
    auto colon = l.find(':');
    if (colon == std::string::npos) continue;
    auto k = sysfs::trim(l.substr(0, colon));
    if (!m.count(k)) m[k] = sysfs::trim(l.substr(colon + 1));
  }
  return m;
}

// The last-level cache of a CPU, named by the lowest CPU that shares it
// (unique per cache instance, readable, and the same on every kernel).
int llc_id(int cpu) {
  std::string base = kCpuDir + "cpu" + std::to_string(cpu) + "/cache/";
  int best_level = -1, id = -1;
  for (int i = 0; i < 16; ++i) {
    std::string idx = base + "index" + std::to_string(i) + "/";
    auto level = sysfs::integer(idx + "level");
    if (!level) break;
    auto type = sysfs::line(idx + "type");
    if (type && *type == "Instruction") continue;
    if (*level <= best_level) continue;
    best_level = static_cast<int>(*level);
    auto shared = sysfs::line(idx + "shared_cpu_list");
    if (shared && !shared->empty()) id = sysfs::parse_cpu_list(*shared).front();
  }
  return id;
}

int numa_node(int cpu) {
  std::string dir = kCpuDir + "cpu" + std::to_string(cpu);
  DIR* d = opendir(dir.c_str());
  if (!d) return -1;
  int node = -1;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind("node", 0) == 0 && n.size() > 4 && isdigit(static_cast<unsigned char>(n[4])))
      node = std::stoi(n.substr(4));
  }
  closedir(d);
  return node;
}

std::vector<CpuTopo> collect_topology() {
  std::vector<CpuTopo> out;
  auto possible = sysfs::line(kCpuDir + "possible");
  auto online = sysfs::line(kCpuDir + "online");
  std::set<int> on;
  if (online)
    for (int c : sysfs::parse_cpu_list(*online)) on.insert(c);
  for (int c : sysfs::parse_cpu_list(possible ? *possible : (online ? *online : "0"))) {
    CpuTopo t;
    t.cpu = c;
    t.online = on.count(c) > 0;
    std::string topo = kCpuDir + "cpu" + std::to_string(c) + "/topology/";
    if (auto v = sysfs::integer(topo + "core_id")) t.core = static_cast<int>(*v);
    if (auto v = sysfs::integer(topo + "physical_package_id")) t.package = static_cast<int>(*v);
    if (auto s = sysfs::line(topo + "thread_siblings_list"))
      t.smt_siblings = sysfs::parse_cpu_list(*s);
    if (t.online) t.llc = llc_id(c);
    t.node = numa_node(c);
    out.push_back(std::move(t));
  }
  return out;
}

nlohmann::json freq_info(const std::vector<CpuTopo>& topo) {
  nlohmann::json f = nlohmann::json::object();
  std::map<std::string, int> governors;
  for (auto& t : topo) {
    if (!t.online) continue;
    auto g = sysfs::line(kCpuDir + "cpu" + std::to_string(t.cpu) + "/cpufreq/scaling_governor");
    if (g) governors[*g]++;
  }
  if (governors.empty()) {
    f["governor"] = nullptr;
    f["unavailable"]["governor"] = "no cpufreq in sysfs (virtual machine or cpufreq disabled)";
  } else {
    f["governor"] = governors.size() == 1 ? nlohmann::json(governors.begin()->first)
                                          : nlohmann::json(governors);
  }
  if (auto b = sysfs::line(kCpuDir + "cpufreq/boost"))
    f["boost"] = *b == "1";
  else if (auto nt = sysfs::line(kCpuDir + "intel_pstate/no_turbo"))
    f["boost"] = *nt == "0";
  else {
    f["boost"] = nullptr;
    f["unavailable"]["boost"] = "neither cpufreq/boost nor intel_pstate/no_turbo present";
  }
  put(f, "driver", sysfs::line(kCpuDir + "cpu0/cpufreq/scaling_driver"), "no cpufreq driver");
  return f;
}

}  // namespace

nlohmann::json collect_cpu(std::vector<CpuTopo>& topo) {
  nlohmann::json c = nlohmann::json::object();
  auto info = cpuinfo_first_block();
  auto get = [&](const char* k) -> std::optional<std::string> {
    auto it = info.find(k);
    return it == info.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  put(c, "vendor", get("vendor_id") ? get("vendor_id") : get("CPU implementer"),
      "no vendor in /proc/cpuinfo");
  put(c, "model_name", get("model name") ? get("model name") : get("CPU part"),
      "no model name in /proc/cpuinfo");
  put(c, "family", get("cpu family") ? get("cpu family") : get("CPU architecture"),
      "no family in /proc/cpuinfo");
  put(c, "model", get("model") ? get("model") : get("CPU variant"),
      "no model in /proc/cpuinfo");
  put(c, "stepping", get("stepping") ? get("stepping") : get("CPU revision"),
      "no stepping in /proc/cpuinfo");
  auto ucode = get("microcode");
  if (!ucode) ucode = sysfs::line(kCpuDir + "cpu0/microcode/version");
  put(c, "microcode", ucode, "microcode version not exposed (/proc/cpuinfo, sysfs)");
  auto flags = get("flags") ? get("flags") : get("Features");
  nlohmann::json tf = nlohmann::json::object();
  for (const char* fl : {"constant_tsc", "nonstop_tsc", "tsc_reliable", "hypervisor", "rdtscp"})
    tf[fl] = flags && (" " + *flags + " ").find(std::string(" ") + fl + " ") != std::string::npos;
  c["clock_flags"] = tf;

  topo = collect_topology();
  nlohmann::json tj = nlohmann::json::array();
  std::set<int> packages, llcs, nodes;
  unsigned online = 0;
  for (auto& t : topo) {
    tj.push_back({{"cpu", t.cpu}, {"online", t.online}, {"core", t.core},
                  {"package", t.package}, {"llc", t.llc}, {"node", t.node},
                  {"smt_siblings", t.smt_siblings}});
    if (!t.online) continue;
    ++online;
    packages.insert(t.package);
    llcs.insert(t.llc);
    nodes.insert(t.node);
  }
  c["topology"] = tj;
  c["online"] = sysfs::line(kCpuDir + "online").value_or("");
  c["possible"] = sysfs::line(kCpuDir + "possible").value_or("");
  c["online_count"] = online;
  c["packages"] = packages.size();
  c["llcs"] = llcs.size();
  c["numa_nodes"] = nodes.size();
  nlohmann::json smt = nlohmann::json::object();
  put(smt, "control", sysfs::line(kCpuDir + "smt/control"), "no smt/control in sysfs");
  auto active = sysfs::integer(kCpuDir + "smt/active");
  smt["active"] = active ? nlohmann::json(*active == 1) : nlohmann::json(nullptr);
  if (!active) smt["unavailable"]["active"] = "no smt/active in sysfs";
  c["smt"] = smt;
  c["frequency"] = freq_info(topo);
  // Which idle states targets sit in decides what an IPI costs (x86 polling
  // idle takes none; deep C-states add their exit latency).
  nlohmann::json idle = nlohmann::json::object();
  put(idle, "driver", sysfs::line(kCpuDir + "cpuidle/current_driver"), "no cpuidle in sysfs");
  auto gov = sysfs::line(kCpuDir + "cpuidle/current_governor");
  if (!gov) gov = sysfs::line(kCpuDir + "cpuidle/current_governor_ro");
  put(idle, "governor", gov, "no cpuidle governor in sysfs");
  c["idle"] = idle;
  return c;
}

}  // namespace kperflab::detail
