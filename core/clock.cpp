// SPDX-License-Identifier: GPL-2.0-only
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "core/clock.h"
#include "core/sysfs.h"

namespace kperflab {

const char* to_string(Clock::Source s) {
  switch (s) {
    case Clock::Source::tsc: return "tsc";
    case Clock::Source::cntvct: return "cntvct";
    case Clock::Source::monotonic: return "clock_monotonic";
  }
  return "?";
}

uint64_t Clock::monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

namespace {

// x86: the TSC is trustworthy across CPUs and sleep states only when the
// CPU says it is invariant and the kernel itself kept it as clocksource
// (it demotes an unstable TSC after its watchdog checks).
std::string tsc_untrusted_reason() {
  auto info = sysfs::read("/proc/cpuinfo").value_or("");
  auto flags_at = info.find("\nflags");
  std::string flags = flags_at == std::string::npos
                          ? ""
                          : info.substr(flags_at, info.find('\n', flags_at + 1) - flags_at) + " ";
  for (const char* f : {" constant_tsc ", " nonstop_tsc "})
    if (flags.find(f) == std::string::npos)
      return std::string("cpu lacks") + f + "flag";
  auto cs = sysfs::line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  if (!cs || *cs != "tsc") return "kernel clocksource is " + cs.value_or("unknown") + ", not tsc";
  return "";
}

}  // namespace

Clock Clock::select() {
  Clock c;
  const char* force = std::getenv("KPERFLAB_CLOCK");
  if (force && std::string(force) == "monotonic") {
    c.reason_ = "forced by KPERFLAB_CLOCK=monotonic";
  } else {
#if defined(__x86_64__)
    c.reason_ = tsc_untrusted_reason();
    if (c.reason_.empty()) {
      c.source_ = Source::tsc;
      c.reason_ = "invariant TSC (constant_tsc, nonstop_tsc) and kernel clocksource tsc";
    }
#elif defined(__aarch64__)
    c.source_ = Source::cntvct;
    c.reason_ = "arm64 architected generic timer (CNTVCT_EL0)";
#else
    c.reason_ = "no cycle counter support for this architecture";
#endif
  }
  if (c.source_ != Source::monotonic) c.calibrate();
  c.measure_overhead();
  return c;
}

// Ticks per ns against CLOCK_MONOTONIC_RAW over two 50 ms windows; the two
// must agree within 0.1 %, else the counter is not trusted.
void Clock::calibrate() {
  auto window = [&] {
    timespec a, b;
    clock_gettime(CLOCK_MONOTONIC_RAW, &a);
    uint64_t t0 = now();
    timespec req{0, 50000000};
    nanosleep(&req, nullptr);
    clock_gettime(CLOCK_MONOTONIC_RAW, &b);
    uint64_t t1 = now();
    double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    return ns / static_cast<double>(t1 - t0);
  };
  double r1 = window(), r2 = window();
  if (!(r1 > 0) || std::fabs(r1 - r2) / r1 > 1e-3) {
    reason_ += "; rejected: calibration windows disagree (" + std::to_string(r1) + " vs " +
               std::to_string(r2) + " ns/tick)";
    source_ = Source::monotonic;
    ns_per_tick_ = 1.0;
    return;
  }
  ns_per_tick_ = (r1 + r2) / 2;
}

void Clock::measure_overhead() {
  std::vector<uint64_t> d(2001);
  for (auto& x : d) {
    uint64_t a = now();
    uint64_t b = now();
    x = b - a;
  }
  std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
  overhead_ns_ = static_cast<double>(to_ns(d[d.size() / 2]));
  if (source_ != Source::monotonic)
    overhead_ns_ = static_cast<double>(d[d.size() / 2]) * ns_per_tick_;
}

nlohmann::json Clock::describe() const {
  return {{"source", to_string(source_)},
          {"reason", reason_},
          {"ns_per_tick", ns_per_tick_},
          {"ghz", source_ == Source::monotonic ? nlohmann::json(nullptr)
                                               : nlohmann::json(1.0 / ns_per_tick_)},
          {"overhead_ns", overhead_ns_}};
}

}  // namespace kperflab
