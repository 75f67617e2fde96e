// SPDX-License-Identifier: GPL-2.0-only
// The kfunc measurement itself, apart from the probe's plumbing: batches
// whose loop must run exactly n iterations to count, n calibrated so one
// batch takes ~sample_ms without ever running away, each sample the batch
// minus a baseline batch of the same n, and the 2N/N proportionality check
// that the subtraction leaves only the kfunc's cost.
#include <algorithm>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "batch.h"
#include "core/probe.h"
#include "core/stop.h"
#include "session.h"

namespace kperflab::cpumask {

namespace {

constexpr int kMaxInvalidInARow = 3;

}  // namespace

std::string interrupted(int done, int of) {
  return "interrupted (^C) after " + std::to_string(done) + " of " + std::to_string(of) +
         " samples (discarded)";
}

kpl_cm_args Session::batch(const std::string& op, uint64_t n, Setting s) const {
  for (int bad = 1;; ++bad) {
    auto a = b_.run(op, n, s.cpu, s.density);
    if (a.iterations == n) return a;
    invalid_.fetch_add(1);
    std::string what = "cm_" + op + " (" + to_string(b_.type()) + " program) ran " +
                       std::to_string(a.iterations) + " of " + std::to_string(n) +
                       " iterations";
    {
      std::lock_guard<std::mutex> g(invalid_lock_);
      if (invalid_first_.empty()) invalid_first_ = what;
    }
    if (bad == kMaxInvalidInARow)
      throw std::runtime_error(
          what + ", " + std::to_string(bad) +
          " batches in a row, so no time of it is a measurement (a bpf_for loop runs no "
          "iteration at all when its range exceeds the kernel's BPF_MAX_LOOPS, 2^23 since "
          "6.4: the programs keep each inner loop within " +
          std::to_string(KPL_CM_INNER_MAX) + ")");
  }
}

// A test run cannot be interrupted inside the kernel, so n may grow at most
// tenfold per step and is kept so that even the slowest per-op time seen
// gives a batch of at most 4x sample_ms (an arm64 TCG guest once measured one
// tiny batch, scaled n up to 2^31 and hung).
uint64_t Session::calibrate(const std::string& op, Setting s) const {
  const double target_ns = p_["sample_ms"].get<double>() * 1e6;
  uint64_t n = 1000;
  double slowest = 0;
  for (int i = 0; i < 8 && !stop_requested(); ++i) {
    auto a = batch(op, n, s);
    double per = static_cast<double>(std::max<uint64_t>(a.elapsed_ns, 1)) / static_cast<double>(n);
    slowest = std::max(slowest, per);
    if (a.elapsed_ns > target_ns / 2) break;
    uint64_t want = static_cast<uint64_t>(target_ns / per);
    n = std::clamp<uint64_t>(want, 100, std::min<uint64_t>(n * 10, (uint64_t{1} << 31) - 1));
  }
  return std::max<uint64_t>(1, std::min<uint64_t>(n, static_cast<uint64_t>(4 * target_ns / slowest)));
}

uint64_t Session::calibrated(const std::string& op, Setting s) const {
  auto key = std::make_tuple(op, s.cpu, s.density);
  {
    std::lock_guard<std::mutex> g(calibrated_lock_);
    auto it = calibrated_.find(key);
    if (!checks_ && it != calibrated_.end()) return it->second;
  }
  uint64_t n = calibrate(op, s);
  std::lock_guard<std::mutex> g(calibrated_lock_);
  calibrated_[key] = n;
  return n;
}

std::string Session::baseline_of(const std::string& op) {
  for (const Op& o : ops())
    if (op == o.name) return o.baseline;
  return "baseline";
}

std::optional<double> Session::per_op_ps(uint64_t op_ns, uint64_t base_ns, uint64_t n) const {
  if (op_ns < base_ns) {
    negative_.fetch_add(1);
    return std::nullopt;
  }
  return static_cast<double>(op_ns - base_ns) * 1000.0 / static_cast<double>(n);
}

std::optional<double> Session::sample(const std::string& op, uint64_t n, Setting s) const {
  auto base = batch(baseline_of(op), n, s);
  auto a = batch(op, n, s);
  return per_op_ps(a.elapsed_ns, base.elapsed_ns, n);
}

void Session::measure(Repetition& rep, const Op& op, const std::string& metric, Setting s,
                      json labels, bool check2n) {
  uint64_t n = calibrated(op.name, s);
  Histogram h;
  const int samples = p_["samples"].get<int>();
  int i = 0;
  for (; i < samples && !stop_requested(); ++i)
    if (auto ps = sample(op.name, n, s)) h.record(static_cast<uint64_t>(*ps + 0.5));
  if (i < samples) {  // ^C: fewer samples than asked is not this metric
    rep.skip(metric, interrupted(i, samples));
    return;
  }
  labels["n"] = n;
  rep.histogram(metric, h, "ps", labels);
  if (!check2n) return;
  native(rep, op.name, h);
  if (!checks_) return;  // the 2N/N check: once per run (RunContext::run_checks)
  // 2N costs twice N: the median over 7 interleaved pairs of (operation -
  // baseline) at n and at 2n, so drift of the machine hits both alike.
  std::vector<double> one, two;
  for (int i = 0; i < 7; ++i) {
    if (stop_requested()) {
      rep.skip(op.name + std::string("/proportionality_2n_n"), interrupted(i, 7));
      return;
    }
    if (auto ps = sample(op.name, n, s)) one.push_back(*ps * static_cast<double>(n));
    if (auto ps = sample(op.name, 2 * n, s)) two.push_back(*ps * static_cast<double>(2 * n));
  }
  auto median = [](std::vector<double>& v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  std::string ratio = op.name + std::string("/proportionality_2n_n");
  if (one.empty() || two.empty()) {
    rep.skip(ratio, "every n or 2n batch was faster than its baseline");
    return;
  }
  double m1 = median(one), m2 = median(two);
  rep.scalar(ratio, m1 > 0 ? m2 / m1 : 0.0, "ratio", labels);
}

}  // namespace kperflab::cpumask
