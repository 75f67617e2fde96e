// SPDX-License-Identifier: GPL-2.0-only
#include "host/noise_check.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <thread>

namespace kperflab {

namespace {

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The fixed workload: xorshift steps, a dependency chain the compiler can
// neither vectorize nor drop (the result leaves through an asm operand).
__attribute__((noinline)) uint64_t spin(uint64_t iterations) {
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (uint64_t i = 0; i < iterations; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    asm volatile("" : "+r"(x));
  }
  return x;
}

int64_t timed(uint64_t iterations) {
  int64_t t0 = now_ns();
  spin(iterations);
  return now_ns() - t0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Runs fn on a thread pinned to cpu; false when the CPU cannot be used.
template <class F>
bool on_cpu(int cpu, F fn) {
  bool ok = false;
  std::thread t([&] {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) return;
    ok = true;
    fn();
  });
  t.join();
  return ok;
}

}  // namespace

NoiseCpu summarize(int cpu, std::vector<int64_t> samples_ns) {
  NoiseCpu c;
  c.cpu = cpu;
  c.samples_ns = std::move(samples_ns);
  std::vector<double> v(c.samples_ns.begin(), c.samples_ns.end());
  c.median_ns = median(v);
  for (auto& x : v) x = std::abs(x - c.median_ns);
  c.mad_ns = median(v);
  c.spread_pct = c.median_ns > 0 ? 100.0 * c.mad_ns / c.median_ns : 0;
  return c;
}

std::vector<int> pick_noise_cpus(const std::vector<int>& online, size_t n) {
  if (online.size() <= n) return online;
  std::vector<int> out;
  for (size_t i = 0; i < n; ++i) {
    int c = online[i * (online.size() - 1) / (n - 1)];
    if (out.empty() || out.back() != c) out.push_back(c);
  }
  return out;
}

NoiseCheck run_noise_check(const std::vector<int>& cpus, unsigned rounds,
                           std::chrono::nanoseconds round) {
  NoiseCheck nc;
  nc.rounds = rounds;
  if (cpus.empty()) return nc;
  // Calibration: the fastest of a few short tries sets the iteration count.
  on_cpu(cpus.front(), [&] {
    const uint64_t probe = 1u << 20;
    int64_t best = INT64_MAX;
    for (int i = 0; i < 5; ++i) best = std::min(best, timed(probe));
    nc.iterations = std::max<uint64_t>(1000, uint64_t(double(probe) * double(round.count()) /
                                                      double(std::max<int64_t>(best, 1))));
  });
  if (!nc.iterations) nc.iterations = 1u << 24;
  for (int cpu : cpus) {
    std::vector<int64_t> s;
    bool ok = on_cpu(cpu, [&] {
      spin(nc.iterations / 4);  // warm-up: caches, the frequency ramp
      for (unsigned r = 0; r < rounds; ++r) s.push_back(timed(nc.iterations));
    });
    NoiseCpu c = summarize(cpu, std::move(s));
    if (!ok) c.error = "could not pin a thread to this CPU";
    nc.cpus.push_back(std::move(c));
  }
  return nc;
}

bool NoiseCheck::noisy() const {
  for (auto& c : cpus)
    if (c.error.empty() && c.spread_pct > threshold_pct) return true;
  return false;
}

std::string NoiseCheck::noisy_cpus() const {
  std::string s;
  char buf[64];
  for (auto& c : cpus)
    if (c.error.empty() && c.spread_pct > threshold_pct) {
      std::snprintf(buf, sizeof buf, "cpu %d (%.1f %%)", c.cpu, c.spread_pct);
      s += (s.empty() ? "" : ", ") + std::string(buf);
    }
  return s;
}

nlohmann::json NoiseCheck::to_json() const {
  nlohmann::json a = nlohmann::json::array();
  for (auto& c : cpus) {
    nlohmann::json j = {{"cpu", c.cpu}, {"median_ns", c.median_ns}, {"mad_ns", c.mad_ns},
                        {"spread_pct", c.spread_pct}, {"samples_ns", c.samples_ns}};
    if (!c.error.empty()) j["error"] = c.error;
    a.push_back(std::move(j));
  }
  return {{"threshold_pct", threshold_pct}, {"rounds", rounds}, {"iterations", iterations},
          {"statistic", "MAD/median of the round times"}, {"noisy", noisy()}, {"cpus", a}};
}

}  // namespace kperflab
