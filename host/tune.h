// SPDX-License-Identifier: GPL-2.0-only
// `kperflab run --tune`: a quieter machine for the length of one run, every
// change put back afterwards.
//
// Each sysfs/sysctl change is a SysctlHold (sysctl_hold.h): the restore
// record is written before the value changes, the value comes back on
// return, exception and ^C, a SIGKILL or crash leaves a record that the
// next kperflab invocation (or `kperflab restore`) applies, and a value
// someone else set meanwhile is kept. The C-state limit is a PM QoS request
// (/dev/cpu_dma_latency held open with 0): the kernel drops it when the file
// closes, however the process ends, so it needs no record.
//
// What is changed, where `root` is "/" outside the tests:
//   cpufreq governor  -> performance  (each policy's scaling_governor, else each CPU's)
//   C-states          -> none deeper than 0 us exit latency (PM QoS, while the run lasts)
//   kernel.nmi_watchdog -> 0
//   kernel.numa_balancing -> 0
//   boost (only with boost_off) -> off (intel_pstate/no_turbo=1 or cpufreq/boost=0)
// A setting absent on this host is reported ("absent"), never an error; one
// that cannot be changed is reported with the errno.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/sysctl_hold.h"

namespace kperflab {

struct TuneOptions {
  bool boost_off = false;
  std::filesystem::path root = "/";
  std::filesystem::path hold_dir = default_hold_dir();
};

// One setting's outcome (meta.json "tuning.settings").
struct TuneItem {
  std::string setting;  // "kernel.nmi_watchdog", "cpufreq governor policy0", ...
  std::string path;
  // tuned: changed for the run; already: had the wanted value; absent: not
  // on this host; failed: could not be changed (error, errno).
  std::string status;
  std::string from, to, error;
  int err = 0;           // errno of a failure, 0 if none
  std::string restored;  // after release: "yes", "kept (changed by someone else)", or the error
};

class Tuning {
 public:
  explicit Tuning(TuneOptions opt);
  ~Tuning();  // release(), errors kept in the items
  Tuning(const Tuning&) = delete;
  Tuning& operator=(const Tuning&) = delete;

  // Puts every tuned setting back (where nobody changed it since) and drops
  // the PM QoS request. Idempotent; never throws.
  void release();
  const std::vector<TuneItem>& items() const { return items_; }
  nlohmann::json to_json() const;
  // "tuned 3, already 1, absent 2, failed 0"
  std::string summary() const;

 private:
  void hold(const std::string& setting, const std::filesystem::path& path, const std::string& to);
  void governors();
  void cpu_latency();

  TuneOptions opt_;
  std::vector<TuneItem> items_;
  std::vector<std::pair<size_t, std::unique_ptr<SysctlHold>>> holds_;  // item index, hold
  int qos_fd_ = -1;
  size_t qos_item_ = 0;
  bool released_ = false;
};


}  // namespace kperflab
