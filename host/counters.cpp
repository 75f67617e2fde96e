// SPDX-License-Identifier: GPL-2.0-only
#include "host/counters.h"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#ifdef KPERFLAB_HAVE_LIKWID
#include <likwid-marker.h>
#endif

namespace kperflab {

namespace {

// The built-in set: the bundle's key and perf's name for it
// (host/perf_events.h resolves the name).
struct EventSpec {
  const char* key;
  const char* perf_name;
};

constexpr EventSpec kEvents[] = {
    {"cycles", "cycles"},
    {"instructions", "instructions"},
    {"task_clock_ns", "task-clock"},
    {"context_switches", "context-switches"},
    {"cpu_migrations", "cpu-migrations"},
    {"page_faults", "page-faults"},
};

int open_builtin(const EventSpec& s) {
  PerfEventSpec e = parse_perf_event(s.perf_name);
  return open_perf_event(e.type, e.config);
}

bool read3(int fd, uint64_t (&v)[3]) {
  return read(fd, v, sizeof v) == static_cast<ssize_t>(sizeof v);
}

#ifdef KPERFLAB_HAVE_LIKWID
bool likwid_active() { return getenv("LIKWID_MODE") != nullptr; }  // set by likwid-perfctr -m

// likwid wants one INIT per process and one CLOSE at its end (which writes
// the file likwid-perfctr reads); one Counters is made per probe.
void likwid_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    LIKWID_MARKER_INIT;
    std::atexit([] { LIKWID_MARKER_CLOSE; });
  });
}
#endif

}  // namespace

Counters::Counters(const std::vector<PerfEventSpec>& perf_stat) {
  for (const auto& s : kEvents) {
    Event e{s.key, false, open_builtin(s), ""};
    if (e.fd < 0) e.error = std::string("perf_event_open: ") + std::strerror(errno);
    events_.push_back(std::move(e));
  }
  std::optional<std::string> pmu;
  if (!perf_stat.empty()) pmu = cpu_pmu();
  for (const auto& s : perf_stat) {
    Event e{s.name, true, open_perf_event(s.type, s.config), ""};
    if (e.fd < 0) {
      e.error = "perf_event_open(" + s.name + "): " + errno_text(errno);
      if (s.needs_pmu() && !pmu) e.error += ": " + no_pmu_reason();
    }
    events_.push_back(std::move(e));
  }
#ifdef KPERFLAB_HAVE_LIKWID
  if (likwid_active()) {
    likwid_init_once();
    likwid_region_ = true;
  }
#endif
}

Counters::~Counters() {
  for (auto& e : events_)
    if (e.fd >= 0) close(e.fd);
}

void Counters::start(const std::string& region) {
  // Differences of two reads, not PERF_EVENT_IOC_RESET: a reset leaves the
  // counts of inherited threads that already exited (the parent's
  // child_count), so a probe that ends its threads every repetition would
  // carry them into the next one.
  for (auto& e : events_) {
    if (e.fd < 0) continue;
    if (!read3(e.fd, e.at_start)) std::memset(e.at_start, 0, sizeof e.at_start);
    ioctl(e.fd, PERF_EVENT_IOC_ENABLE, 0);
  }
  region_ = region;
#ifdef KPERFLAB_HAVE_LIKWID
  if (likwid_region_) LIKWID_MARKER_START(region_.c_str());
#endif
}

nlohmann::json Counters::read_event(Event& e) const {
  if (e.fd < 0) return {{"unavailable", e.error}};
  ioctl(e.fd, PERF_EVENT_IOC_DISABLE, 0);
  uint64_t now[3];
  if (!read3(e.fd, now)) return {{"unavailable", std::string("read: ") + std::strerror(errno)}};
  uint64_t v = now[0] - e.at_start[0], enabled = now[1] - e.at_start[1],
           running = now[2] - e.at_start[2];
  if (running == 0 && enabled != 0)
    return {{"unavailable", "never scheduled on the PMU (multiplexed out)"}};
  // Scale for multiplexing: value * enabled / running, as perf stat does.
  bool scaled = running != 0 && running < enabled;
  double value = scaled ? static_cast<double>(v) * enabled / running : static_cast<double>(v);
  if (!e.perf_stat) return {{"value", value}, {"scaled", scaled}};
  return {{"value", value}, {"enabled_ns", enabled}, {"running_ns", running}, {"scaled", scaled}};
}

nlohmann::json Counters::stop() {
#ifdef KPERFLAB_HAVE_LIKWID
  if (likwid_region_) LIKWID_MARKER_STOP(region_.c_str());
#endif
  nlohmann::json out = nlohmann::json::object();
  for (auto& e : events_) {
    if (e.perf_stat)
      out["perf_stat"][e.name] = read_event(e);
    else
      out[e.name] = read_event(e);
  }
  if (likwid_region_) out["likwid"] = likwid_region();
  return out;
}

// The region's counts on this thread's CPU, named after likwid-perfctr's
// event set (LIKWID_EVENTS = "EVENT:COUNTER,..."); the per-CPU tables and
// derived metrics are what likwid-perfctr prints when the run ends.
nlohmann::json Counters::likwid_region() const {
  nlohmann::json r = {{"region", region_}};
#ifdef KPERFLAB_HAVE_LIKWID
  double values[64] = {};
  int n = 64, count = 0;
  double time = 0;
  LIKWID_MARKER_GET(region_.c_str(), &n, values, &time, &count);
  std::vector<std::string> names;
  if (const char* ev = getenv("LIKWID_EVENTS")) {
    std::string s = ev;
    s = s.substr(0, s.find('|'));  // the first (only) group
    for (size_t from = 0; from <= s.size();) {
      size_t comma = std::min(s.find(',', from), s.size());
      names.push_back(s.substr(from, comma - from));
      from = comma + 1;
    }
  }
  nlohmann::json ev = nlohmann::json::object();
  for (int i = 0; i < n && i < 64; ++i)
    ev[i < static_cast<int>(names.size()) ? names[i] : "event" + std::to_string(i)] = values[i];
  r["time_s"] = time;
  r["count"] = count;
  r["events"] = ev;
#endif
  return r;
}

nlohmann::json Counters::availability() {
  nlohmann::json pe = nlohmann::json::object();
  for (const auto& s : kEvents) {
    int fd = open_builtin(s);
    if (fd >= 0) {
      pe[s.key] = true;
      close(fd);
    } else {
      pe[s.key] = std::string("unavailable: ") + std::strerror(errno);
    }
  }
#ifdef KPERFLAB_HAVE_LIKWID
  bool likwid = true;
#else
  bool likwid = false;
#endif
  return {{"perf_event", pe}, {"likwid_markers", likwid}};
}

nlohmann::json Counters::perf_stat_request(const std::vector<PerfEventSpec>& events) {
  nlohmann::json names = nlohmann::json::array();
  for (const auto& e : events) names.push_back(e.name);
  auto pmu = cpu_pmu();
  return {{"events", names},
          {"pmu", pmu ? nlohmann::json(*pmu) : nlohmann::json(nullptr)},
          {"why", pmu ? nlohmann::json(nullptr) : nlohmann::json(no_pmu_reason())}};
}

}  // namespace kperflab
