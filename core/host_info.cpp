// SPDX-License-Identifier: GPL-2.0-only
#include "core/host_info.h"

namespace kperflab {

std::optional<std::string> kconfig_value(const std::string& kconfig, const std::string& option) {
  const std::string hay = "\n" + kconfig;
  const std::string key = "\n" + option + "=";
  size_t pos = hay.find(key);
  if (pos == std::string::npos) return std::nullopt;  // unset ("# ... is not set")
  size_t start = pos + key.size();
  std::string v = hay.substr(start, hay.find('\n', start) - start);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

std::optional<std::string> HostInfo::config(const std::string& option) const {
  if (!kconfig_) return std::nullopt;
  return kconfig_value(*kconfig_, option);
}

std::string HostInfo::hostname() const {
  auto& h = prov_.at("host").at("hostname");
  return h.is_string() ? h.get<std::string>() : "unknown";
}

std::string HostInfo::kernel_release() const {
  return prov_.at("kernel").at("release").get<std::string>();
}

std::vector<int> HostInfo::online_cpus() const {
  std::vector<int> v;
  for (auto& c : cpus_)
    if (c.online) v.push_back(c.cpu);
  return v;
}

const char* to_string(CpuDistance d) {
  switch (d) {
    case CpuDistance::same: return "same";
    case CpuDistance::smt: return "smt";
    case CpuDistance::llc: return "llc";
    case CpuDistance::package: return "package";
    case CpuDistance::numa: return "numa";
    case CpuDistance::unknown: return "unknown";
  }
  return "?";
}

CpuDistance HostInfo::distance(int a, int b) const {
  auto find = [&](int c) -> const CpuTopo* {
    for (auto& t : cpus_)
      if (t.cpu == c) return &t;
    return nullptr;
  };
  const CpuTopo* x = find(a);
  const CpuTopo* y = find(b);
  if (!x || !y) return CpuDistance::unknown;
  if (a == b) return CpuDistance::same;
  for (int s : x->smt_siblings)
    if (s == b) return CpuDistance::smt;
  if (x->llc >= 0 && x->llc == y->llc) return CpuDistance::llc;
  if (x->node >= 0 && y->node >= 0 && x->node != y->node) return CpuDistance::numa;
  if (x->package >= 0 && x->package == y->package) return CpuDistance::package;
  return CpuDistance::unknown;
}

HostInfo HostInfo::from_meta(const nlohmann::json& meta) {
  HostInfo hi;
  hi.prov_ = meta;
  if (!meta.contains("cpu") || !meta["cpu"].contains("topology")) return hi;
  for (auto& t : meta["cpu"]["topology"]) {
    CpuTopo c;
    c.cpu = t.value("cpu", -1);
    c.online = t.value("online", false);
    c.core = t.value("core", -1);
    c.package = t.value("package", -1);
    c.llc = t.value("llc", -1);
    c.node = t.value("node", -1);
    if (t.contains("smt_siblings")) c.smt_siblings = t["smt_siblings"].get<std::vector<int>>();
    hi.cpus_.push_back(c);
  }
  return hi;
}

}  // namespace kperflab
