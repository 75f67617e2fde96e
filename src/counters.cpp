// SPDX-License-Identifier: GPL-2.0-only
#include "counters.h"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#ifdef KPERFLAB_HAVE_LIKWID
#include <likwid-marker.h>
#endif

namespace kperflab {

namespace {

struct EventSpec {
  const char* name;
  uint32_t type;
  uint64_t config;
};

constexpr EventSpec kEvents[] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"task_clock_ns", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {"context_switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu_migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
    {"page_faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
};

int open_event(const EventSpec& s) {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = s.type;
  attr.config = s.config;
  attr.disabled = 1;
  attr.inherit = 1;
  attr.exclude_hv = 1;
  attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  return static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

#ifdef KPERFLAB_HAVE_LIKWID
bool likwid_active() { return getenv("LIKWID_MODE") != nullptr; }  // set by likwid-perfctr -m
#endif

}  // namespace

Counters::Counters() {
  for (const auto& s : kEvents) {
    Event e{s.name, open_event(s), ""};
    if (e.fd < 0) e.error = std::string("perf_event_open: ") + std::strerror(errno);
    events_.push_back(std::move(e));
  }
#ifdef KPERFLAB_HAVE_LIKWID
  if (likwid_active()) {
    LIKWID_MARKER_INIT;
    likwid_region_ = true;
  }
#endif
}

Counters::~Counters() {
  for (auto& e : events_)
    if (e.fd >= 0) close(e.fd);
#ifdef KPERFLAB_HAVE_LIKWID
  if (likwid_region_) LIKWID_MARKER_CLOSE;
#endif
}

void Counters::start() {
  for (auto& e : events_) {
    if (e.fd < 0) continue;
    ioctl(e.fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(e.fd, PERF_EVENT_IOC_ENABLE, 0);
  }
#ifdef KPERFLAB_HAVE_LIKWID
  if (likwid_region_) LIKWID_MARKER_START("kperflab");
#endif
}

nlohmann::json Counters::stop() {
#ifdef KPERFLAB_HAVE_LIKWID
  if (likwid_region_) LIKWID_MARKER_STOP("kperflab");
#endif
  nlohmann::json out = nlohmann::json::object();
  for (auto& e : events_) {
    if (e.fd < 0) {
      out[e.name] = {{"unavailable", e.error}};
      continue;
    }
    ioctl(e.fd, PERF_EVENT_IOC_DISABLE, 0);
    uint64_t v[3] = {0, 0, 0};  // value, time_enabled, time_running
    if (read(e.fd, v, sizeof v) != static_cast<ssize_t>(sizeof v)) {
      out[e.name] = {{"unavailable", std::string("read: ") + std::strerror(errno)}};
      continue;
    }
    if (v[2] == 0 && v[1] != 0) {
      out[e.name] = {{"unavailable", "never scheduled on the PMU (multiplexed out)"}};
      continue;
    }
    // Scale for multiplexing: value * enabled / running.
    bool scaled = v[2] != 0 && v[2] < v[1];
    double value = scaled ? static_cast<double>(v[0]) * v[1] / v[2] : static_cast<double>(v[0]);
    out[e.name] = {{"value", value}, {"scaled", scaled}};
  }
  return out;
}

nlohmann::json Counters::availability() {
  nlohmann::json pe = nlohmann::json::object();
  for (const auto& s : kEvents) {
    int fd = open_event(s);
    if (fd >= 0) {
      pe[s.name] = true;
      close(fd);
    } else {
      pe[s.name] = std::string("unavailable: ") + std::strerror(errno);
    }
  }
#ifdef KPERFLAB_HAVE_LIKWID
  bool likwid = true;
#else
  bool likwid = false;
#endif
  return {{"perf_event", pe}, {"likwid_markers", likwid}};
}

}  // namespace kperflab
