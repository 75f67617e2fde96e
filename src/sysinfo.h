// SPDX-License-Identifier: GPL-2.0-only
// Host and kernel provenance: everything a reader needs to know what a
// measurement ran on. Every field is collected or null with a reason.
#pragma once

#include <optional>
#include <string>
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
  // Collects everything from /proc, /sys and uname (cheap, < 100 ms).
  static HostInfo collect();
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

}  // namespace kperflab
