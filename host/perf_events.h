// SPDX-License-Identifier: GPL-2.0-only
// `kperflab run --perf-stat EVENTS`: perf's own event names turned into
// perf_event_attr type/config without libpfm, and whether this host has a
// CPU PMU at all (without one, every hardware event fails with ENOENT or
// EOPNOTSUPP and the bundle has to say why rather than show an errno).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kperflab {

struct PerfEventSpec {
  std::string name;  // as the user wrote it: the key in the bundle
  uint32_t type = 0;  // PERF_TYPE_*
  uint64_t config = 0;
  // Counts only with a CPU PMU (hardware, hw-cache, raw); software events
  // count on every kernel with perf_event.
  bool needs_pmu() const;
};

// The generic hardware and software names perf accepts (with perf's
// aliases: cs, migrations, faults, ...), hw-cache names such as
// L1-dcache-load-misses, and raw rNNNN (hex, PERF_TYPE_RAW). The
// pmu/config=.../ syntax is not parsed. Throws std::invalid_argument naming
// the event and listing what is accepted.
PerfEventSpec parse_perf_event(std::string_view name);

// A comma list of at most kMaxPerfEvents distinct names.
std::vector<PerfEventSpec> parse_perf_events(std::string_view list);
inline constexpr size_t kMaxPerfEvents = 32;

// One line for error messages: the names parse_perf_event accepts.
std::string accepted_perf_events();

// The CPU PMU's name under devices (cpu, cpu_core, cpu_atom, armv8_*, ...)
// or nullopt: a VM without a virtual PMU has only software, tracepoint,
// breakpoint and the like.
std::optional<std::string> cpu_pmu(
    const std::filesystem::path& devices = "/sys/bus/event_source/devices");

// Why hardware events cannot count here, for the bundle.
std::string no_pmu_reason(const std::filesystem::path& devices = "/sys/bus/event_source/devices");

// perf_event_open for this process and the threads it creates afterwards
// (inherit), disabled, with time_enabled/time_running; -1 and errno on failure.
int open_perf_event(uint32_t type, uint64_t config);

// "ENOENT (No such file or directory)".
std::string errno_text(int err);

}  // namespace kperflab
