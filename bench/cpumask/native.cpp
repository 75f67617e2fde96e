// SPDX-License-Identifier: GPL-2.0-only
// The native baseline: the same operations as kernel C in the kmod
// (kmod/cpumask.c) timed by the same method, so a kfunc's cost reads
// against what the cpumask API itself costs. Optional: without the module
// the probe measures the kfuncs alone and says why.
#include <algorithm>
#include <map>
#include <string>

#include "host/kmod_device.h"
#include "core/probe.h"
#include "core/stop.h"
#include "session.h"

namespace kperflab::cpumask {

namespace {

// The native cpumask operation each kfunc wraps (kmod/cpumask.c), -1: none.
int native_op(const std::string& op) {
  static const std::map<std::string, int> m = {
      {"create_release", KPL_CMOP_ALLOC_FREE}, {"first", KPL_CMOP_FIRST},
      {"first_zero", KPL_CMOP_FIRST_ZERO}, {"first_and", KPL_CMOP_FIRST_AND},
      {"set_cpu", KPL_CMOP_SET_CPU}, {"clear_cpu", KPL_CMOP_CLEAR_CPU},
      {"test_cpu", KPL_CMOP_TEST_CPU}, {"test_and_set_cpu", KPL_CMOP_TEST_AND_SET_CPU},
      {"test_and_clear_cpu", KPL_CMOP_TEST_AND_CLEAR_CPU}, {"setall", KPL_CMOP_SETALL},
      {"clear", KPL_CMOP_CLEAR}, {"and", KPL_CMOP_AND}, {"or", KPL_CMOP_OR}, {"xor", KPL_CMOP_XOR},
      {"equal", KPL_CMOP_EQUAL}, {"intersects", KPL_CMOP_INTERSECTS}, {"subset", KPL_CMOP_SUBSET},
      {"empty", KPL_CMOP_EMPTY}, {"full", KPL_CMOP_FULL}, {"copy", KPL_CMOP_COPY},
      {"any_distribute", KPL_CMOP_ANY_DISTRIBUTE},
      {"any_and_distribute", KPL_CMOP_ANY_AND_DISTRIBUTE}, {"weight", KPL_CMOP_WEIGHT}};
  auto it = m.find(op);
  return it == m.end() ? -1 : it->second;
}

}  // namespace

void Session::native(Repetition& rep, const std::string& op, const Histogram& kfunc) {
  int nop = native_op(op);
  if (!dev_) return;  // one skip entry for all, below
  if (nop < 0) {
    rep.skip(op + "/native/cost", "no native cpumask operation corresponds");
    return;
  }
  if (nop == KPL_CMOP_ALLOC_FREE && !(dev_->info().features & KPL_FEAT_CPUMASK_OFFSTACK)) {
    rep.skip(op + "/native/cost",
             "CONFIG_CPUMASK_OFFSTACK is off: alloc_cpumask_var() allocates nothing");
    return;
  }
  const double target_ns = p_["sample_ms"].get<double>() * 1e6;
  uint64_t n = 1000;
  for (int i = 0; i < 4; ++i) {  // calibrate as for the kfunc
    auto r = dev_->cpumask(static_cast<uint32_t>(nop), n, 0, KPL_CM_HALF);
    double per = static_cast<double>(std::max<uint64_t>(r.elapsed_ns, 1)) / static_cast<double>(n);
    n = std::clamp<uint64_t>(static_cast<uint64_t>(target_ns / per), 100, KPL_MAX_ITERATIONS);
    if (r.elapsed_ns > target_ns / 2) break;
  }
  Histogram h;
  const int samples = p_["samples"].get<int>();
  int i = 0;
  for (; i < samples && !stop_requested(); ++i) {
    auto base = dev_->cpumask(KPL_CMOP_BASELINE, n, 0, KPL_CM_HALF);
    auto r = dev_->cpumask(static_cast<uint32_t>(nop), n, 0, KPL_CM_HALF);
    if (auto ps = per_op_ps(r.elapsed_ns, base.elapsed_ns, n))
      h.record(static_cast<uint64_t>(*ps + 0.5));
  }
  if (i < samples) {
    rep.skip(op + "/native/cost", interrupted(i, samples));
    return;
  }
  rep.histogram(op + "/native/cost", h, "ps", {{"op", op}, {"n", n}});
  double nat = static_cast<double>(h.quantile(0.5));
  if (nat > 0)
    rep.scalar(op + "/kfunc_native_ratio", static_cast<double>(kfunc.quantile(0.5)) / nat,
               "ratio", {{"op", op}, {"better", "none"}});
}

}  // namespace kperflab::cpumask
