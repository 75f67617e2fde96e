// SPDX-License-Identifier: GPL-2.0-only
// Size and power of `kperflab trend`'s change-point test, simulated (seeded):
// reports of 100 metrics, each a history of boots with a lognormal boot-to-
// boot noise of its own (SD 2-3 %), some with a step, through the engine the
// verb uses (analysis/trend.h, default options: window 12, 5 a side, alpha
// 0.05, min effect 2 %). Prints a table, a row per scenario: steps found
// (flagged within two boots of the step), within one boot and exactly;
// false changes (any other flag) per 100 metrics and as a share of the
// changes flagged; reports with any false change. Exits 1 if
//   a 10 % step at 10 boots a side or more is found in < 98 % (at 2-3 %
//   noise, 2 and 3 % alike; outlier boots aside),
//   or a scenario without a step and without outliers has more than 1
//   false change per 100 metrics.
// Usage: sim_trend [REPORTS [SEED]] (default 100 1; ctest runs the default,
// docs/trend.md quotes 1000).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "analysis/trend.h"

using namespace kperflab::trend;

namespace {

struct Scenario {
  const char* name;
  size_t boots;      // history length
  size_t steps;      // metrics of the 100 with a step
  double step;       // its size (relative)
  size_t side;       // boots a side of the step at least (the step anywhere in side..n-side)
  double outlier;    // chance of an outlier boot value (1.3x..4x)
  double common;     // SD of a shift shared by every metric of a boot
  double sd_lo = 0.02, sd_hi = 0.03;  // each metric's boot-to-boot SD, drawn in this range
};

const Scenario kScenarios[] = {
    {"no change, 20 boots", 20, 0, 0, 0, 0, 0},
    {"no change, 20 boots, SD 2%", 20, 0, 0, 0, 0, 0, 0.02, 0.02},
    {"no change, 20 boots, SD 3%", 20, 0, 0, 0, 0, 0, 0.03, 0.03},
    {"no change, 48 boots", 48, 0, 0, 0, 0, 0},
    {"no change, 100 boots", 100, 0, 0, 0, 0, 0},
    {"no change, 48 boots, shared boot shift 1.5%", 48, 0, 0, 0, 0, 0.015},
    {"no change, 48 boots, 1% outlier boots", 48, 0, 0, 0, 0.01, 0},
    {"10% step, 10 boots a side (20)", 20, 20, 0.10, 10, 0, 0},
    {"10% step, 10 boots a side (20), SD 2%", 20, 20, 0.10, 10, 0, 0, 0.02, 0.02},
    {"10% step, 10 boots a side (20), SD 3%", 20, 20, 0.10, 10, 0, 0, 0.03, 0.03},
    {"10% step, >= 10 a side in 48", 48, 20, 0.10, 10, 0, 0},
    {"10% step, >= 12 a side in 100", 100, 20, 0.10, 12, 0, 0},
    {"10% step, 5 boots a side (10)", 10, 20, 0.10, 5, 0, 0},
    {"5% step, 10 boots a side (20)", 20, 20, 0.05, 10, 0, 0},
    {"5% step, >= 12 a side in 48", 48, 20, 0.05, 12, 0, 0},
    {"10% step, 10 a side, 1% outlier boots", 20, 20, 0.10, 10, 0.01, 0},
};

struct Counts {
  size_t steps = 0, found = 0, within1 = 0, exact = 0;
  size_t null_metrics = 0, false_changes = 0, flagged = 0, reports = 0, reports_false = 0;
};

void one_report(const Scenario& sc, std::mt19937_64& rng, Counts& c) {
  std::normal_distribution<double> n01(0, 1);
  std::uniform_real_distribution<double> u01(0, 1);
  const size_t n = sc.boots;
  std::vector<double> shift(n);
  for (auto& s : shift) s = sc.common * n01(rng);
  std::vector<Metric> ms;
  std::vector<size_t> at(100, n);
  for (size_t i = 0; i < 100; ++i) {
    double sd = sc.sd_lo + (sc.sd_hi - sc.sd_lo) * u01(rng);
    double level = std::exp(std::log(20.0) + u01(rng) * std::log(5e4));  // 20 ns .. 1 ms
    if (i < sc.steps)
      at[i] = sc.side + static_cast<size_t>(u01(rng) * static_cast<double>(n - 2 * sc.side + 1));
    double size = i % 2 ? 1 / (1 + sc.step) - 1 : sc.step;  // up, and down by as much
    Metric m{"sim", "m" + std::to_string(i), "p50", "ns", "lower", false, {}};
    for (size_t b = 0; b < n; ++b) {
      double x = std::log(level) + sd * n01(rng) + shift[b];
      if (sc.outlier > 0 && u01(rng) < sc.outlier)
        x += std::log(1.3) + u01(rng) * (std::log(4.0) - std::log(1.3));
      if (b >= at[i]) x += std::log1p(size);
      m.v.push_back(std::exp(x));
    }
    ms.push_back(std::move(m));
  }
  Detection d = detect(ms, Options{});
  c.flagged += d.flagged();
  size_t false_here = 0;
  std::vector<bool> hit(100, false);
  for (auto& ch : d.peaks) {
    if (!ch.flagged) continue;
    size_t i = ch.metric;
    size_t off = ch.at > at[i] ? ch.at - at[i] : at[i] - ch.at;
    if (at[i] < n && off <= 2 && !hit[i]) {
      hit[i] = true;
      ++c.found;
      c.within1 += off <= 1;
      c.exact += off == 0;
    } else {
      ++false_here;  // on a metric without a step, a second change, or one far from the step
    }
  }
  c.steps += sc.steps;
  c.null_metrics += 100 - sc.steps;
  c.false_changes += false_here;
  c.reports_false += false_here > 0;
  ++c.reports;
}

double pct(size_t a, size_t b) {
  return b ? 100.0 * static_cast<double>(a) / static_cast<double>(b) : NAN;
}

}  // namespace

int main(int argc, char** argv) {
  size_t reports = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100;
  uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  std::printf("sim_trend: %zu reports of 100 metrics per scenario, seed %llu; boot noise SD "
              "2-3%% per metric (lognormal), default options\n\n",
              reports, static_cast<unsigned long long>(seed));
  std::printf("| scenario | steps found (within 2 boots) | within 1 boot | exactly | false "
              "changes per 100 metrics | false share of the changes flagged | reports with a "
              "false change |\n|---|---|---|---|---|---|---|\n");
  bool bad = false;
  for (size_t s = 0; s < sizeof kScenarios / sizeof kScenarios[0]; ++s) {
    const Scenario& sc = kScenarios[s];
    std::mt19937_64 rng(seed * 1000003 + s);
    Counts c;
    for (size_t r = 0; r < reports; ++r) one_report(sc, rng, c);
    double per100 = pct(c.false_changes, c.steps + c.null_metrics);
    char found[48] = "-", within1[48] = "-", exact[48] = "-";
    if (c.steps) {
      std::snprintf(found, sizeof found, "%.2f %%", pct(c.found, c.steps));
      std::snprintf(within1, sizeof within1, "%.2f %%", pct(c.within1, c.steps));
      std::snprintf(exact, sizeof exact, "%.1f %%", pct(c.exact, c.steps));
    }
    char share[48] = "-";
    if (c.steps) std::snprintf(share, sizeof share, "%.1f %%", pct(c.false_changes, c.flagged));
    std::printf("| %s | %s | %s | %s | %.2f | %s | %.1f %% |\n", sc.name, found, within1, exact,
                per100, share, pct(c.reports_false, c.reports));
    if (sc.step == 0.10 && sc.side >= 10 && sc.outlier == 0 && pct(c.found, c.steps) < 98) {
      std::fprintf(stderr, "FAIL: %s: %.1f %% found, want >= 98 %%\n", sc.name,
                   pct(c.found, c.steps));
      bad = true;
    }
    if (sc.steps == 0 && sc.outlier == 0 && per100 > 1) {
      std::fprintf(stderr, "FAIL: %s: %.2f false changes per 100 metrics, want <= 1\n", sc.name,
                   per100);
      bad = true;
    }
  }
  return bad ? 1 : 0;
}
