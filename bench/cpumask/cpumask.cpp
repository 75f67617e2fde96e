// SPDX-License-Identifier: GPL-2.0-only
// The cpumask probe: ns per bpf_cpumask_* kfunc call. Method (kernel-notes):
// the loop runs inside a SYSCALL program, ktime is read outside it, n is
// calibrated so one batch takes ~sample_ms, the baseline program (same loop,
// no kfunc) is run next to every batch and subtracted, and a 2N/N check
// reports proportionality. Costs are stored in picoseconds per operation.
// A batch whose loop did not run exactly n iterations (the program reports
// the count) is never a sample: it is counted, reported and run again.
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include <bpf/libbpf.h>

#include "batch.h"
#include "host/kmod_device.h"
#include "core/point_cap.h"
#include "core/probe.h"
#include "core/stop.h"
#include "workloads/fault_storm.h"
#include "workloads/spinner.h"

namespace kperflab::cpumask {

using nlohmann::json;

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

// Whether params p measure op (an empty "ops" list measures every one).
bool selected(const json& p, std::string_view op) {
  const json& o = p.contains("ops") ? p["ops"] : json::array();
  if (o.empty()) return true;
  for (const json& v : o)
    if (v.get<std::string>() == op) return true;
  return false;
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

uint32_t density_of(const std::string& d) {
  if (d == "empty") return KPL_CM_EMPTY;
  if (d == "full") return KPL_CM_FULL;
  if (d == "half") return KPL_CM_HALF;
  throw std::invalid_argument("cpumask.densities: '" + d + "' is not empty, half or full");
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

struct Setting {
  uint32_t cpu;
  uint32_t density;
};

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

// The program type the parameter asks for; "auto": what loads here.
ProgType resolve_prog_type(const json& p) {
  std::string want = p.value("prog_type", "auto");
  if (want != "auto") return prog_type_of(want);
  ProgType t = ProgType::syscall;
  std::string why = unavailable_reason(&t);
  if (!why.empty()) throw std::runtime_error(why);
  return t;
}

class Session : public ProbeSession {
 public:
  Session(RunContext& ctx, json params)
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
  // Every op measured, the setall+weight check, each thread count of concurrency().
  unsigned steps() const override { return selected_count(p_) + 1 + thread_points_; }
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

constexpr int kMaxInvalidInARow = 3;

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

void Session::concurrency(RunContext& ctx, Repetition& rep) {
  auto cpus = ctx.host().online_cpus();
  std::vector<unsigned> counts;
  for (auto& t : p_["threads"])  // each 1..online CPUs (checked by specs())
    counts.push_back(std::min(t.get<unsigned>(), static_cast<unsigned>(cpus.size())));
  if (counts.empty()) {
    for (unsigned k = 1; k < cpus.size(); k *= 2) counts.push_back(k);
    counts.push_back(static_cast<unsigned>(cpus.size()));
  }
  const Setting s{0, KPL_CM_EMPTY};
  uint64_t n = calibrated("create_release", s);
  // Released masks are freed after RCU grace periods: N CPUs creating and
  // releasing back to back can outrun them (a 64-vCPU TCG guest's
  // unreclaimable slab reached 1.2 GB and the OOM killer took kperflab).
  // The sweep stops when the memory available falls below half of what it
  // was when the sweep began, or below 128 MiB.
  const uint64_t avail0 = workloads::mem_available_bytes();
  const uint64_t floor = std::max<uint64_t>(avail0 / 2, uint64_t{128} << 20);
  std::atomic<bool> low{false};
  std::string low_text;
  // core/point_cap.h: a point ends at sweep_cap x one thread's time, the
  // longer of the 1-thread point's wall time and its estimate (samples
  // batches and their baselines).
  const int samples = p_["samples"].get<int>();
  const double cap_x = p_.value("sweep_cap", 0.0);
  double one_thread_s = samples * 1.7 * p_["sample_ms"].get<double>() / 1000;
  for (unsigned k : counts) {
    if (stop_requested()) break;
    const std::string name = "create_release/threads=" + std::to_string(k);
    if (low.load()) {
      rep.skip(name + "/cost", low_text);
      continue;
    }
    ctx.progress().step(name);
    Histogram h;
    std::mutex lock;
    // Start together, waiting asleep: threads spinning for the others took
    // the vCPUs the rest needed to start and pin (a 64-vCPU TCG guest:
    // 21 s a repetition before the first sample).
    std::latch ready(k);
    std::atomic<uint64_t> taken{0};
    std::string error;
    std::vector<std::thread> th;
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<PointCap> cap;  // set when every thread is on its CPU
    std::once_flag cap_once;
    for (unsigned t = 0; t < k; ++t)
      th.emplace_back([&, t] {
        bool arrived = false;
        try {
          workloads::pin_self(cpus[t]);
          arrived = true;
          ready.arrive_and_wait();
          std::call_once(cap_once, [&] {
            if (k > 1 && cap_x > 0) cap.emplace(cap_x * one_thread_s);
            else cap.emplace();
          });
          Histogram mine;
          // Every thread takes one sample at least: each CPU is in the point.
          for (int i = 0; i < samples && !stop_requested() && !low.load() &&
                          (i == 0 || !cap->reached());
               ++i) {
            if (t == 0 && avail0) {
              uint64_t a = workloads::mem_available_bytes();
              if (a && a < floor) {
                std::lock_guard<std::mutex> g(lock);
                low_text = "stopped: MemAvailable fell to " + std::to_string(a >> 20) +
                           " MiB (from " + std::to_string(avail0 >> 20) +
                           " MiB): released cpumasks wait for RCU grace periods faster than "
                           "they pass";
                low.store(true);
                break;
              }
            }
            if (auto ps = sample("create_release", n, s))
              mine.record(static_cast<uint64_t>(*ps + 0.5));
            taken.fetch_add(1);
          }
          std::lock_guard<std::mutex> g(lock);
          h.merge(mine);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> g(lock);
          error = e.what();
          if (!arrived) ready.count_down();  // the others do not wait for this one
        }
      });
    for (auto& t : th) t.join();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (k == 1 && error.empty() && !low.load()) one_thread_s = std::max(one_thread_s, wall);
    const std::string metric = name + "/cost";
    const uint64_t planned = uint64_t{k} * static_cast<uint64_t>(samples);
    const uint64_t cut = planned - std::min(planned, taken.load());
    if (low.load())
      rep.skip(metric, low_text);
    else if (stop_requested())  // some thread stopped before its last sample
      rep.skip(metric, "interrupted (^C) before every thread took its samples (discarded)");
    else if (!error.empty())
      rep.skip(metric, error);
    else if (h.empty())
      rep.skip(metric, "no sample before " + cap->text() + ": the host does not run " +
                           std::to_string(k) + " threads side by side");
    else
      rep.histogram(metric, h, "ps", {{"op", "create_release"}, {"threads", k}, {"n", n}});
    if (cap && cap->capped() && !h.empty())
      rep.scalar(name + "/check/samples_cut", static_cast<double>(cut), "samples",
                 {{"planned", planned}, {"cap_s", cap->seconds()}, {"better", "none"}});
  }
}

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
