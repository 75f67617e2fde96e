// SPDX-License-Identifier: GPL-2.0-only
// Preflight: what state the machine is in before a run measures anything,
// as findings that say why each matters and for which probe (meta.json
// "preflight", printed by `kperflab show`, warnings first).
//
// The raw provenance (governor, boost, SMT, THP, clocksource, ...) stays in
// sysinfo*.cpp; preflight judges it. Every file is read below `root`, so the
// tests run it on fixture trees; a file that is missing (a container, arm64
// without some sysfs entry) makes the finding "unknown", never an error.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kperflab {

struct Finding {
  std::string what;      // short id: "nmi_watchdog", "cpufreq_governor", ...
  std::string value;     // what was found, "unknown (why)" when it could not be read
  std::string severity;  // "info" or "warn"
  std::string why;       // why it matters for a measurement
  std::vector<std::string> probes;  // the probes it affects
};

// Another process's CPU use over the sampling window.
struct BusyProcess {
  pid_t pid = 0;
  std::string comm;
  double cpu_pct = 0;  // of one CPU over the window
};

struct PreflightOptions {
  std::filesystem::path root = "/";
  std::chrono::milliseconds sample{200};  // window for the busiest processes
  pid_t self = 0;                         // left out of the busiest (0: getpid())
  size_t busiest = 5;                     // how many to keep
};

struct Preflight {
  std::vector<Finding> findings;
  std::vector<BusyProcess> busiest;
  std::optional<double> load1;
  unsigned online_cpus = 0;
  int64_t sample_ms = 0;
  nlohmann::json to_json() const;
};

// Thresholds, stated once (docs/quiet-machine.md).
inline constexpr double kBusyPct = 5.0;         // another process above this is a warning
inline constexpr int kDeepIdleUs = 2;           // idle exit latency above this is "deep"
inline constexpr double kLoadPerCpu = 0.05;     // load1 above max(0.5, this x CPUs) warns

// `provenance` is HostInfo::provenance() (virtualization is taken from it:
// CPUID cannot be read from a fixture tree). Never throws for a missing file.
Preflight run_preflight(const PreflightOptions& opt, const nlohmann::json& provenance);

// --- parsers, exposed for the tests ---------------------------------------

// "always [madvise] never" -> "madvise"; the text itself when no brackets.
std::string bracketed_choice(const std::string& text);
// utime+stime (clock ticks) and comm of every process under root/proc.
struct ProcCpu {
  std::string comm;
  uint64_t ticks = 0;
};
std::map<pid_t, ProcCpu> read_proc_cpu(const std::filesystem::path& root);
// The top `n` by ticks spent between the snapshots, self left out, those
// that spent nothing left out; `ticks_per_s` converts to % of one CPU.
std::vector<BusyProcess> busiest_between(const std::map<pid_t, ProcCpu>& before,
                                         const std::map<pid_t, ProcCpu>& after, double window_s,
                                         long ticks_per_s, pid_t self, size_t n);
// The deepest idle state any online CPU may enter: its name and exit
// latency (us), with disabled states and a PM QoS latency limit honoured;
// nullopt when no cpuidle states are listed.
struct IdleState {
  std::string name;
  long latency_us = 0;
  std::optional<long> qos_limit_us;  // the PM QoS limit that applied, if any
};
std::optional<IdleState> deepest_idle_state(const std::filesystem::path& root,
                                            const std::vector<int>& cpus);
// Online CPUs from root/sys/devices/system/cpu/online (cpu0 when unreadable).
std::vector<int> online_cpus_at(const std::filesystem::path& root);

}  // namespace kperflab
