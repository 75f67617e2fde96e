// SPDX-License-Identifier: GPL-2.0-only
// The per-sample clock of user-space probes: a calibrated cycle counter
// (TSC on x86, CNTVCT on arm64) where the host makes it trustworthy, else
// CLOCK_MONOTONIC. The choice, its reason, its calibration and the
// measured per-sample overhead go into the bundle.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace kperflab {

class Clock {
 public:
  enum class Source { tsc, cntvct, monotonic };

  // Picks and calibrates the clock (about 100 ms). KPERFLAB_CLOCK=monotonic
  // in the environment forces the fallback.
  static Clock select();

  // Raw ticks; ordered reads (fenced) so the measured region stays inside.
  inline uint64_t now() const {
    switch (source_) {
#if defined(__x86_64__)
      case Source::tsc: {
        unsigned aux;
        return __rdtscp(&aux);
      }
#elif defined(__aarch64__)
      case Source::cntvct: {
        uint64_t v;
        asm volatile("isb; mrs %0, cntvct_el0" : "=r"(v)::"memory");
        return v;
      }
#endif
      default:
        return monotonic_ns();
    }
  }
  uint64_t to_ns(uint64_t ticks) const {
    return source_ == Source::monotonic
               ? ticks
               : static_cast<uint64_t>(static_cast<double>(ticks) * ns_per_tick_ + 0.5);
  }
  Source source() const { return source_; }
  // Median cost of one back-to-back now() pair, in ns (the per-sample
  // measurement overhead, stored next to every latency it affects).
  double overhead_ns() const { return overhead_ns_; }
  nlohmann::json describe() const;

  static uint64_t monotonic_ns();

 private:
  void calibrate();
  void measure_overhead();
  Source source_ = Source::monotonic;
  double ns_per_tick_ = 1.0;
  double overhead_ns_ = 0;
  std::string reason_;
};

const char* to_string(Clock::Source s);

}  // namespace kperflab
