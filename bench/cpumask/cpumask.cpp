// SPDX-License-Identifier: GPL-2.0-only
// The cpumask probe: ns per bpf_cpumask_* kfunc call. Method (kernel-notes):
// the loop runs inside a SYSCALL program, ktime is read outside it, n is
// calibrated so one batch takes ~sample_ms, the baseline program (same loop,
// no kfunc) is run next to every batch and subtracted, and a 2N/N check
// reports proportionality. Costs are stored in picoseconds per operation.
// A batch whose loop did not run exactly n iterations (the program reports
// the count) is never a sample: it is counted, reported and run again.
//
// This file is what the runner sees: the parameters, the session's set-up,
// the order of a repetition and its checks, and the Probe's registration.
// The measurement lives beside it: kfunc.cpp (batches, calibration, 2N/N),
// native.cpp (the kmod's native baseline), concurrency.cpp (the thread
// sweep); batch.cpp loads and runs the programs.
#include <sched.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <bpf/libbpf.h>

#include "batch.h"
#include "host/kmod_device.h"
#include "core/probe.h"
#include "core/stop.h"
#include "session.h"
#include "workloads/spinner.h"

namespace kperflab::cpumask {

using nlohmann::json;

// Whether params p measure op (an empty "ops" list measures every one).
bool selected(const json& p, std::string_view op) {
  const json& o = p.contains("ops") ? p["ops"] : json::array();
  if (o.empty()) return true;
  for (const json& v : o)
    if (v.get<std::string>() == op) return true;
  return false;
}

uint32_t density_of(const std::string& d) {
  if (d == "empty") return KPL_CM_EMPTY;
  if (d == "full") return KPL_CM_FULL;
  if (d == "half") return KPL_CM_HALF;
  throw std::invalid_argument("cpumask.densities: '" + d + "' is not empty, half or full");
}

namespace {

json profile_params(Profile p) {
  json j = {{"densities", {"empty", "half", "full"}},
            {"ops", json::array()},
            {"threads", json::array()},
            {"prog_type", "auto"}};
  switch (p) {
    case Profile::quick: j.update({{"samples", 15}, {"sample_ms", 5}, {"sweep_cap", 2}}); break;
    case Profile::standard: j.update({{"samples", 40}, {"sample_ms", 10}, {"sweep_cap", 2}}); break;
    case Profile::full: j.update({{"samples", 100}, {"sample_ms", 10}, {"sweep_cap", 0}}); break;
    case Profile::lab:
      j.update({{"samples", 5}, {"sample_ms", 2}, {"densities", {"half"}}, {"sweep_cap", 0}});
      break;
  }
  return j;
}

unsigned selected_count(const json& p) {
  unsigned n = 0;
  for (const Op& op : ops()) n += selected(p, op.name);
  return n;
}

std::vector<std::string> op_names() {
  std::vector<std::string> v;
  for (const Op& op : ops()) v.push_back(op.name);
  return v;
}

// samples x sample_ms bounds one metric to under a minute (two batches per
// sample); a BPF test run cannot be interrupted, so sample_ms also bounds
// how long ^C waits (a batch is at most 4 x sample_ms, see calibrate()).
ParamSpecs specs(unsigned online_cpus) {
  return {
      ParamSpec::integer("samples", 1, 500, "timed batches per metric"),
      // 100 ms: the longest batch #11 asks to measure (2n runs ~200 ms; a tracing
      // batch has preemption off that long, far below soft-lockup and RCU stall limits).
      ParamSpec::number("sample_ms", 0.1, 100, "target duration of one batch, ms"),
      ParamSpec::choice_list("densities", {"empty", "half", "full"}, 0,
                             "cpumask densities swept where density matters"),
      // One kfunc or a few, e.g. --set 'cpumask.ops=["test_cpu","weight"]'.
      ParamSpec::choice_list("ops", op_names(), 0,
                             "kfuncs measured (empty: every one); the create_release "
                             "thread sweep runs with create_release"),
      ParamSpec::integer_list("threads", 1, std::max(1u, online_cpus), 0, 64,
                              "thread counts of the create_release concurrency sweep "
                              "(empty: 1, 2, 4, ... every online CPU)"),
      // core/point_cap.h: the budgeted profiles' bound on a point whose k
      // threads the host cannot run side by side.
      ParamSpec::number("sweep_cap", 0, 100,
                        "a create_release thread point ends at this multiple of one "
                        "thread's time (0: when every thread took its samples)"),
      ParamSpec::choice("prog_type", {"auto", "syscall", "tracing"},
                        "BPF program type the kfuncs run in (auto: what loads here)"),
  };
}

// The program type the parameter asks for; "auto": what loads here.
ProgType resolve_prog_type(const json& p) {
  std::string want = p.value("prog_type", "auto");
  if (want != "auto") return prog_type_of(want);
  ProgType t = ProgType::syscall;
  std::string why = unavailable_reason(&t);
  if (!why.empty()) throw std::runtime_error(why);
  return t;
}

}  // namespace

Session::Session(RunContext& ctx, json params)
    : p_(std::move(params)), b_(resolve_prog_type(p_)) {
  nr_cpus_ = static_cast<uint32_t>(libbpf_num_possible_cpus());
  ctx.parameters()["nr_cpu_ids"] = nr_cpus_;
  ctx.parameters()["prog_type"] = to_string(b_.type());
  ctx.parameters()["unit"] = "ps per operation (baseline loop subtracted)";
  for (std::string d : p_["densities"]) density_of(d);
  native_reason_ = KmodDevice::unavailable_reason();
  if (native_reason_.empty()) dev_.emplace();
  thread_points_ = static_cast<unsigned>(p_["threads"].size());
  if (!selected(p_, "create_release")) {
    thread_points_ = 0;
  } else if (!thread_points_) {  // 1, 2, 4, ... and every online CPU
    const unsigned cpus = ctx.host().online_count();
    for (unsigned k = 1; k < cpus; k *= 2) ++thread_points_;
    ++thread_points_;
  }
}

unsigned Session::steps() const { return selected_count(p_) + 1 + thread_points_; }

void Session::run_repetition(RunContext& ctx, Repetition& rep) {
  // What observing costs the host (#28): the programs run only in our own
  // calls, so there is no cost to others to measure, and their run time
  // is what the probe measures.
  rep.skip("effect/bystander",
           b_.type() == ProgType::syscall
               ? "nothing attached, the programs run in our own test runs only"
               : "on tp_btf/task_rename for a repetition: another task's rename runs them to "
                 "their op check, not measured");
  rep.skip("effect/bpf", "the programs' run time is this probe's measurement (ps per call)");
  b_.attach();
  struct Detach {
    Batches& b;
    ~Detach() { b.detach(); }
  } detach{b_};
  cpu_set_t saved;
  sched_getaffinity(0, sizeof saved, &saved);
  workloads::pin_self(ctx.host().online_cpus().front());
  checks_ = ctx.run_checks();
  invalid_ = 0;
  negative_ = 0;
  invalid_first_.clear();
  const uint32_t last = nr_cpus_ - 1;
  for (const Op& op : ops()) {
    if (!selected(p_, op.name)) continue;
    ctx.progress().step(op.name);
    if (stop_requested()) break;
    std::string base = op.name;
    if (!b_.loaded(op.name)) {
      rep.skip(base + "/cost", b_.missing_reason(op.name));
      continue;
    }
    json labels = {{"op", op.name}, {"density", "half"}, {"bit", "first"}};
    measure(rep, op, base + "/cost", {0, KPL_CM_HALF}, labels, true);
    if (op.uses_cpu)
      measure(rep, op, base + "/bit=last/cost", {last, KPL_CM_HALF},
              {{"op", op.name}, {"density", "half"}, {"bit", "last"}, {"cpu", last}}, false);
    if (op.density_matters)
      for (std::string d : p_["densities"])
        if (d != "half")
          measure(rep, op, base + "/density=" + d + "/cost", {0, density_of(d)},
                  {{"op", op.name}, {"density", d}, {"bit", "first"}}, false);
  }
  ctx.progress().step("setall+weight check");
  auto chk = b_.run("check_setall_weight", 1, 0, 0);
  rep.scalar("check/setall_weight", static_cast<double>(chk.result), "cpus",
             {{"nr_cpu_ids", nr_cpus_}});
  if (!dev_) rep.skip("native_baseline", "native cpumask baseline: " + native_reason_);
  if (!stop_requested() && selected(p_, "create_release")) concurrency(ctx, rep);
  sched_setaffinity(0, sizeof saved, &saved);
  // Short batches that a rerun replaced: 0 on a sound kernel and build.
  uint64_t bad = invalid_.load();
  rep.scalar("check/invalid_batches", static_cast<double>(bad), "batches",
             {{"better", "lower"},
              {"first", bad ? json(invalid_first_) : json(nullptr)},
              {"max_per_loop", KPL_CM_INNER_MAX}});
  if (bad)
    ctx.progress().note("cpumask: " + std::to_string(bad) +
                        " batches ran short and were run again; first: " + invalid_first_);
  // A sample is a batch minus its baseline; a negative one is not recorded.
  uint64_t neg = negative_.load();
  rep.scalar("check/negative_samples", static_cast<double>(neg), "samples",
             {{"better", "lower"}});
  if (neg)
    ctx.progress().note("cpumask: " + std::to_string(neg) +
                        " samples not recorded: the baseline batch took longer than the op's");
}

namespace {

// Metrics one repetition measures: every op at half density, the *_cpu ops
// at the last bit, the density sweep, the create_release thread counts.
unsigned metric_count(const json& p, unsigned online_cpus = 2) {
  unsigned n = 0;
  for (const Op& op : ops()) {
    if (!selected(p, op.name)) continue;
    n += 1 + (op.uses_cpu ? 1 : 0);
    if (op.density_matters)
      for (auto& d : p["densities"]) n += d != "half";
  }
  unsigned counts = static_cast<unsigned>(p["threads"].size());
  if (!selected(p, "create_release")) {
    counts = 0;
  } else if (!counts) {  // 1, 2, 4, ... and every online CPU (concurrency())
    for (unsigned k = 1; k < online_cpus; k *= 2) ++counts;
    ++counts;
  }
  return n + counts;
}

class CpumaskProbe : public Probe {
 public:
  std::string_view name() const override { return "cpumask"; }
  std::string_view summary() const override {
    return "BPF cpumask kfuncs: ps per bpf_cpumask_* call, bit/density/concurrency sweeps";
  }
  Availability check(const HostInfo&) const override {
    auto why = unavailable_reason();
    return why.empty() ? Availability::yes() : Availability::no(why);
  }
  json parameters(Profile p, const HostInfo&) const override { return profile_params(p); }
  ParamSpecs param_specs(unsigned online_cpus) const override { return specs(online_cpus); }
  // A sample is an op batch (~sample_ms) and its baseline batch (shorter),
  // a metric's calibration a few more batches: measured on a 2-vCPU VM
  // (quick, 32 metrics of 15 x 5 ms: 4.8 s a repetition at load 5, up to
  // 9 s while a compiler ran beside it).
  double estimate_seconds(const json& p) const override {
    const double ms = p["sample_ms"].get<double>() / 1000, samples = p["samples"].get<double>();
    double metrics = static_cast<double>(metric_count(p));
    if (KmodDevice::unavailable_reason().empty()) metrics += selected_count(p);
    return metrics * (samples * 1.7 + 4) * ms + 0.5;
  }
  // The 2N/N check and the calibration of every n (first repetition): 7
  // pairs of samples at n and 2n per op; 6 s at 5 ms on the same VM.
  double estimate_checks_seconds(const json& p) const override {
    return selected_count(p) * 7 * 7 * p["sample_ms"].get<double>() / 1000;
  }
  unsigned points(const json& p, const HostInfo& host) const override {
    return metric_count(p, host.online_count());
  }
  // Fewer samples down to 20 a metric, then the density sweep (half only),
  // then down to 10 samples (a headline metric needs 10, core/until_ci.h),
  // then shorter batches (down to 2 ms).
  std::optional<json> cheaper(const json& p, const HostInfo&) const override {
    json c = p;
    int samples = p["samples"].get<int>();
    if (samples > 20) {
      c["samples"] = std::max(20, samples / 2);
    } else if (p["densities"].size() > 1 || (p["densities"].size() == 1 && p["densities"][0] != "half")) {
      c["densities"] = {"half"};
    } else if (samples > 10) {
      c["samples"] = std::max(10, samples - 5);
    } else if (p["sample_ms"].get<double>() > 2) {
      c["sample_ms"] = std::max(2.0, p["sample_ms"].get<double>() / 2);
    } else {
      return std::nullopt;
    }
    return c;
  }
  double budget_weight() const override { return 3; }
  std::unique_ptr<ProbeSession> prepare(RunContext& ctx, const json& params) override {
    return std::make_unique<Session>(ctx, params);
  }
};

}  // namespace

KPERFLAB_REGISTER_PROBE(CpumaskProbe);

}  // namespace kperflab::cpumask
