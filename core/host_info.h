// SPDX-License-Identifier: GPL-2.0-only
// What a probe knows of the machine it runs on: the provenance document and
// the CPU topology, as plain data. host/sysinfo.h collects it from /proc,
// /sys and uname; show and compare rebuild it from a stored meta.json. Kept
// in core so that the probe interface needs nothing of host/.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kperflab {

struct CpuTopo {
  int cpu = -1;
  bool online = false;
  int core = -1;     // topology/core_id
  int package = -1;  // topology/physical_package_id
  int llc = -1;      // id of the last-level cache shared by this CPU (-1 unknown)
  int node = -1;     // NUMA node (-1 unknown)
  std::vector<int> smt_siblings;  // thread siblings, this CPU included
};

// How far apart two CPUs are, nearest first.
enum class CpuDistance { same, smt, llc, package, numa, unknown };
const char* to_string(CpuDistance d);

class HostInfo {
 public:
  HostInfo() = default;
  // What host/sysinfo.h's collect_host_info() gathered.
  HostInfo(nlohmann::json provenance, std::vector<CpuTopo> cpus,
           std::optional<std::string> kconfig)
      : prov_(std::move(provenance)), cpus_(std::move(cpus)), kconfig_(std::move(kconfig)) {}
  // Rebuilds the topology part from a stored meta.json (for show/compare).
  static HostInfo from_meta(const nlohmann::json& meta);

  const nlohmann::json& provenance() const { return prov_; }
  const std::vector<CpuTopo>& cpus() const { return cpus_; }
  std::vector<int> online_cpus() const;
  unsigned online_count() const { return static_cast<unsigned>(online_cpus().size()); }
  CpuDistance distance(int a, int b) const;
  std::string hostname() const;
  std::string kernel_release() const;
  // Raw text of the kernel config, when found (stored as kconfig.gz).
  const std::optional<std::string>& kconfig() const { return kconfig_; }
  // A kernel config option's value ("y", "m", "1000", ...), nullopt if unset.
  std::optional<std::string> config(const std::string& option) const;

 private:
  nlohmann::json prov_ = nlohmann::json::object();
  std::vector<CpuTopo> cpus_;
  std::optional<std::string> kconfig_;
};

// A kernel config option's value in the text of a .config ("y", "m",
// "1000", quotes stripped), nullopt if unset.
std::optional<std::string> kconfig_value(const std::string& kconfig, const std::string& option);

}  // namespace kperflab
