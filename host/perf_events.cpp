// SPDX-License-Identifier: GPL-2.0-only
#include "host/perf_events.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace kperflab {

namespace {

struct Named {
  const char* name;
  uint32_t type;
  uint64_t config;
};

// perf list's names (tools/perf/util/parse-events.c event_symbols_hw/_sw).
constexpr Named kNamed[] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES},
    {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    {"branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
    {"branch-instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
    {"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
    {"bus-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BUS_CYCLES},
    {"ref-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES},
    {"stalled-cycles-frontend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_FRONTEND},
    {"idle-cycles-frontend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_FRONTEND},
    {"stalled-cycles-backend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_BACKEND},
    {"idle-cycles-backend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_BACKEND},
    {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {"cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},
    {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cs", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    {"migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ},
    {"minor-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN},
    {"alignment-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_ALIGNMENT_FAULTS},
    {"emulation-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_EMULATION_FAULTS},
};

// hw-cache names: <cache>-<op>[-misses] as perf spells them; config is
// cache | op << 8 | result << 16 (include/uapi/linux/perf_event.h).
constexpr const char* kCaches[] = {"L1-dcache", "L1-icache", "LLC", "dTLB", "iTLB", "branch",
                                   "node"};
constexpr const char* kOps[] = {"load", "store", "prefetch"};

std::optional<uint64_t> hw_cache(std::string_view n) {
  for (uint64_t c = 0; c < std::size(kCaches); ++c) {
    std::string_view cache = kCaches[c];
    if (n.size() <= cache.size() + 1 || n.substr(0, cache.size()) != cache ||
        n[cache.size()] != '-')
      continue;
    std::string_view rest = n.substr(cache.size() + 1);
    for (uint64_t op = 0; op < std::size(kOps); ++op) {
      std::string o = kOps[op];
      if (rest == o + "s") return c | op << 8 | uint64_t{PERF_COUNT_HW_CACHE_RESULT_ACCESS} << 16;
      if (rest == o + "-misses") return c | op << 8 | uint64_t{PERF_COUNT_HW_CACHE_RESULT_MISS} << 16;
    }
  }
  return std::nullopt;
}

// rNNNN: 1..16 hex digits, as perf's raw syntax.
std::optional<uint64_t> raw(std::string_view n) {
  if (n.size() < 2 || n.size() > 17 || n[0] != 'r') return std::nullopt;
  uint64_t v = 0;
  for (char c : n.substr(1)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(std::isdigit(static_cast<unsigned char>(c))
                                           ? c - '0'
                                           : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
  }
  return v;
}

std::string shown(std::string_view n) {
  std::string s;
  for (char c : n.substr(0, 64)) s += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  return s + (n.size() > 64 ? "..." : "");
}

}  // namespace

bool PerfEventSpec::needs_pmu() const { return type != PERF_TYPE_SOFTWARE; }

std::string accepted_perf_events() {
  std::string s;
  for (const auto& e : kNamed) s += std::string(s.empty() ? "" : ", ") + e.name;
  return s + "; hw-cache <L1-dcache|L1-icache|LLC|dTLB|iTLB|branch|node>-<loads|load-misses|"
             "stores|store-misses|prefetches|prefetch-misses>; raw rNNNN (hex)";
}

PerfEventSpec parse_perf_event(std::string_view name) {
  for (const auto& e : kNamed)
    if (name == e.name) return {std::string(name), e.type, e.config};
  if (auto c = hw_cache(name)) return {std::string(name), PERF_TYPE_HW_CACHE, *c};
  if (auto r = raw(name)) return {std::string(name), PERF_TYPE_RAW, *r};
  std::string why = name.empty() ? "an empty event name"
                                 : "unknown event '" + shown(name) + "'";
  if (name.find('/') != std::string_view::npos)
    why += " (the pmu/config=.../ syntax is not supported; a raw rNNNN is)";
  else if (name.find(':') != std::string_view::npos)
    why += " (modifiers such as :u and :k are not supported)";
  throw std::invalid_argument(why + "; accepted: " + accepted_perf_events());
}

std::vector<PerfEventSpec> parse_perf_events(std::string_view list) {
  std::vector<PerfEventSpec> out;
  size_t from = 0;
  while (true) {
    size_t comma = list.find(',', from);
    std::string_view n = list.substr(from, comma == std::string_view::npos ? comma : comma - from);
    PerfEventSpec e = parse_perf_event(n);
    for (const auto& o : out)
      if (o.name == e.name)
        throw std::invalid_argument("event '" + e.name + "' is listed twice");
    out.push_back(std::move(e));
    if (out.size() > kMaxPerfEvents)
      throw std::invalid_argument("more than " + std::to_string(kMaxPerfEvents) +
                                  " events");
    if (comma == std::string_view::npos) return out;
    from = comma + 1;
  }
}

std::optional<std::string> cpu_pmu(const std::filesystem::path& devices) {
  std::error_code ec;
  for (const char* n : {"cpu", "cpu_core", "cpu_atom"})
    if (std::filesystem::exists(devices / n, ec)) return n;
  // Arm's PMU drivers name the device after the core: armv8_pmuv3_0,
  // armv8_cortex_a72, armv7_cortex_a15.
  std::optional<std::string> arm;
  for (auto it = std::filesystem::directory_iterator(devices, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string n = it->path().filename().string();
    if ((n.rfind("armv8", 0) == 0 || n.rfind("armv7", 0) == 0) && (!arm || n < *arm)) arm = n;
  }
  return arm;
}

std::string no_pmu_reason(const std::filesystem::path& devices) {
  return "no CPU PMU on this host (" + devices.string() +
         " has no cpu, cpu_core, cpu_atom or armv8_*/armv7_* device; a VM without a virtual "
         "PMU)";
}

int open_perf_event(uint32_t type, uint64_t config) {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = type;
  attr.config = config;
  attr.disabled = 1;
  attr.inherit = 1;
  attr.exclude_hv = 1;
  attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  return static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

std::string errno_text(int err) {
  const char* n = strerrorname_np(err);
  return std::string(n ? n : "errno " + std::to_string(err)) + " (" + std::strerror(err) + ")";
}

}  // namespace kperflab
