// SPDX-License-Identifier: GPL-2.0-only
// One run of the cpumask probe, declared once for the files that define its
// parts: the kfunc batches, their calibration and the 2N/N check
// (kfunc.cpp), the native cpumask baseline of the kmod (native.cpp), the
// create_release thread sweep (concurrency.cpp), and set-up, the order of
// a repetition and its checks (cpumask.cpp). They share the programs, the
// calibrated n and the counts of batches that were not samples.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "batch.h"
#include "host/kmod_device.h"
#include "core/probe.h"

namespace kperflab::cpumask {

using nlohmann::json;

// Whether params p measure op (an empty "ops" list measures every one).
bool selected(const json& p, std::string_view op);

uint32_t density_of(const std::string& d);

// The skip reason of a metric that ^C cut short.
std::string interrupted(int done, int of);

struct Setting {
  uint32_t cpu;
  uint32_t density;
};

class Session : public ProbeSession {
 public:
  Session(RunContext& ctx, json params);
  // Every op measured, the setall+weight check, each thread count of concurrency().
  unsigned steps() const override;
  void run_repetition(RunContext& ctx, Repetition& rep) override;

 private:
  // One batch whose loop ran all n iterations. One that did not is counted
  // in invalid_ and run again; kMaxInvalidInARow in a row end the probe.
  kpl_cm_args batch(const std::string& op, uint64_t n, Setting s) const;
  uint64_t calibrate(const std::string& op, Setting s) const;
  // calibrate() in a repetition that runs the checks, its last n otherwise.
  uint64_t calibrated(const std::string& op, Setting s) const;
  // ps per op of one batch, baseline of the same n subtracted; nullopt (and
  // counted in negative_) when the baseline batch took longer: no sample.
  std::optional<double> sample(const std::string& op, uint64_t n, Setting s) const;
  std::optional<double> per_op_ps(uint64_t op_ns, uint64_t base_ns, uint64_t n) const;
  static std::string baseline_of(const std::string& op);
  void measure(Repetition& rep, const Op& op, const std::string& metric, Setting s,
               json labels, bool check2n);
  void concurrency(RunContext& ctx, Repetition& rep);
  // The same method with the module's native cpumask loop: cost (ps/op)
  // and the kfunc / native ratio of the medians.
  void native(Repetition& rep, const std::string& op, const Histogram& kfunc);

  json p_;
  // Whether this repetition runs the method checks (RunContext::run_checks):
  // the 2N/N proportionality and a fresh calibration of every n.
  bool checks_ = true;
  // n of every (op, cpu, density) from the last calibration: later
  // repetitions reuse it unless they run the checks.
  mutable std::map<std::tuple<std::string, uint32_t, uint32_t>, uint64_t> calibrated_;
  mutable std::mutex calibrated_lock_;
  std::optional<KmodDevice> dev_;
  std::string native_reason_;
  Batches b_;
  uint32_t nr_cpus_ = 0;
  unsigned thread_points_ = 0;
  // Batches of this repetition that ran short, from every thread, and the
  // first of them in words (under invalid_lock_).
  mutable std::atomic<uint64_t> invalid_{0};
  // Samples whose baseline took longer than the operation (not recorded).
  mutable std::atomic<uint64_t> negative_{0};
  mutable std::mutex invalid_lock_;
  mutable std::string invalid_first_;
};

}  // namespace kperflab::cpumask
