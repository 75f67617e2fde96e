// SPDX-License-Identifier: GPL-2.0-only
// The membarrier probe: syscall latency of every command the kernel offers
// (Google Benchmark drives the points; every call's latency goes into a
// kperflab histogram), sweeps over targets / thread state / topology
// placement / concurrent callers, and per-target IPI delivery (BPF).
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <list>
#include <map>
#include <mutex>
#include <optional>

#include <benchmark/benchmark.h>

#include "commands.h"
#include "delivery.h"
#include "orders.h"
#include "points.h"
#include "core/probe.h"
#include "report.h"
#include "core/stop.h"
#include "host/sysinfo.h"
#include "workloads/bystander.h"
#include "workloads/cpu_relax.h"

namespace kperflab::membarrier {

using nlohmann::json;

namespace {

json profile_params(Profile p) {
  json j = {{"states", {"spin", "sleep", "half"}},
            {"sweep_commands", {"private_expedited", "global_expedited",
                                "private_expedited_sync_core", "private_expedited_rseq"}},
            {"register_threads", {1, 4}}, {"placement", true}, {"callers_sweep", true},
            {"max_targets", 0}, {"sweep_counts", 0}, {"delivery_mode", "auto"},
            {"order_points", true},
            {"call_pad_ns", 0},
            {"bystander_rounds", 5},
            {"bystander_window_ms", 200},
            {"sweep_cap", 2},
            {"litmus", {"control", "private_expedited", "global_expedited",
                        "private_expedited_rseq", "private_expedited_sync_core"}}};
  switch (p) {
    case Profile::quick:
      j.update({{"iterations", 2000}, {"delivery_iterations", 500}, {"global_calls", 20},
                {"sweep_counts", 5},
                {"register_samples", 10}, {"overhead_rounds", 5}, {"overhead_calls", 50000},
                {"litmus_trials", 20000}, {"litmus_control_trials", 200000}, {"litmus_max_s", 3}});
      break;
    case Profile::standard:
      j.update({{"iterations", 10000}, {"delivery_iterations", 2000}, {"global_calls", 50},
                {"sweep_counts", 6},
                {"register_samples", 30}, {"overhead_rounds", 7}, {"overhead_calls", 100000},
                {"litmus_trials", 200000}, {"litmus_control_trials", 1000000}, {"litmus_max_s", 20}});
      break;
    case Profile::full:
      j.update({{"iterations", 50000}, {"delivery_iterations", 10000}, {"global_calls", 200},
                {"register_samples", 100}, {"overhead_rounds", 11}, {"overhead_calls", 200000},
                {"litmus_trials", 1000000}, {"litmus_control_trials", 5000000}, {"litmus_max_s", 90}});
      break;
    case Profile::lab:  // QEMU TCG: every IPI costs milliseconds of emulation
      j.update({{"iterations", 200}, {"delivery_iterations", 50}, {"global_calls", 5},
                {"register_samples", 3}, {"states", {"spin", "sleep"}}, {"overhead_rounds", 3},
                {"overhead_calls", 2000}, {"litmus_trials", 500}, {"litmus_control_trials", 20000},
                {"litmus_max_s", 5}, {"bystander_rounds", 3}, {"sweep_cap", 0}});
      break;
  }
  return j;
}

// Bounds keep one point under ~a minute on a VM (an IPI-sending call costs
// 1-50 us) and every count inside the unsigned/int the loops use.
ParamSpecs specs(unsigned online_cpus) {
  std::vector<std::string> sweep;
  for (auto& c : commands())
    if (c.sends_ipis) sweep.push_back(c.name);
  return {
      ParamSpec::integer("iterations", 1, 1000000, "timed calls per sweep point"),
      ParamSpec::integer("delivery_iterations", 1, 1000000,
                         "calls per point while IPI delivery is traced (BPF)"),
      ParamSpec::integer("global_calls", 1, 10000,
                         "MEMBARRIER_CMD_GLOBAL calls (each waits for an RCU grace period)"),
      ParamSpec::integer("register_samples", 1, 1000,
                         "REGISTER_* calls timed, each in a fresh child process"),
      ParamSpec::integer("overhead_rounds", 1, 51,
                         "off/on rounds of the tracer's syscall-overhead figure"),
      ParamSpec::integer("overhead_calls", 1, 500000, "getppid() calls per overhead round"),
      ParamSpec::choice_list("states", {"spin", "sleep", "half"}, 1,
                             "what the target threads do during the targets sweep"),
      ParamSpec::choice_list("sweep_commands", sweep, 0, "commands swept over target counts"),
      ParamSpec::integer_list("register_threads", 1, 256, 0, 8,
                              "threads of the mm when REGISTER_* is timed"),
      ParamSpec::boolean("placement", "time private_expedited to a CPU at each topology distance"),
      ParamSpec::boolean("callers_sweep", "time 1, 2, 4, ... concurrent callers"),
      // core/point_cap.h: the budgeted profiles' bound on a point whose
      // callers the host cannot run side by side.
      ParamSpec::number("sweep_cap", 0, 100,
                        "a concurrent-callers point ends at this multiple of one caller's "
                        "time (0: when every caller made its calls)"),
      ParamSpec::integer("max_targets", 0, online_cpus > 1 ? online_cpus - 1 : 0,
                         "at most this many target CPUs (0: every other online CPU)"),
      ParamSpec::integer("sweep_counts", 0, 64,
                         "at most this many target (and caller) counts a sweep, 0, 1 and all "
                         "kept, powers of two between evenly spaced (0: every power of two; "
                         "else at least 3)"),
      ParamSpec::choice("delivery_mode", {"auto", "csd", "send_fentry", "call_window"},
                        "how IPIs are paired with our sends (auto: best that loads)"),
      ParamSpec::boolean("order_points", "GLOBAL_EXPEDITED with registration before / after "
                                         "the target thread exists (a fresh process each)"),
      ParamSpec::choice_list("litmus", {"control", "private_expedited", "global_expedited",
                                        "private_expedited_rseq", "private_expedited_sync_core"},
                             0, "store-buffering litmus cases (control: no membarrier)"),
      ParamSpec::integer("litmus_trials", 1, 100000000, "trials per litmus case with membarrier"),
      ParamSpec::integer("litmus_control_trials", 1, 100000000,
                         "trials of the control (no membarrier: cheap)"),
      ParamSpec::number("litmus_max_s", 0.1, 600, "seconds one litmus case may take at most "
                                                  "(the trials done are stored, capped)"),
      ParamSpec::integer("bystander_rounds", 0, 50,
                         "interleaved rounds of a bystander process's fault rate with the "
                         "delivery programs detached and attached, once per run (0: none)"),
      ParamSpec::integer("bystander_window_ms", 50, 2000, "length of each bystander window, ms"),
      ParamSpec::integer("call_pad_ns", 0, 1000000,
                         "busy-wait after each timed call of the sweep points, inside the timed "
                         "region: a known change, to check that compare finds one (0: none)"),
  };
}

class Session : public ProbeSession {
 public:
  Session(RunContext& ctx, json params) : params_(std::move(params)), clock_(Clock::select()) {
    long mask = query();
    if (mask < 0) throw std::runtime_error("MEMBARRIER_CMD_QUERY: " + errno_text(static_cast<int>(-mask)));
    mask_ = mask;
    // Register before any thread exists: registering a multi-threaded mm
    // waits for a grace period (kernel-notes).
    for (auto& c : commands()) {
      if (!c.register_cmd || !(mask_ & c.cmd)) continue;
      if (sys_membarrier(c.register_cmd, 0, 0) < 0) {
        register_errors_[c.name] = "REGISTER failed: " + errno_text(errno);
        mask_ &= ~c.cmd;
      }
    }
    delivery_reason_ = DeliveryTracer::unavailable_reason();
    if (delivery_reason_.empty()) {
      try {
        tracer_.emplace(params_.value("delivery_mode", std::string("auto")));
      } catch (const std::exception& e) {
        delivery_reason_ = e.what();
      }
    }
    auto& p = ctx.parameters();
    p["clock"] = clock_.describe();
    p["supported_mask"] = mask;
    p["targets_on_cpu_floor"] = kTargetsOnCpuFloor;
    p["delivery"] = tracer_ ? tracer_->describe() : json{{"unavailable", delivery_reason_}};
    std::vector<Skipped> sk;
    points_ = build_points(params_, ctx.host(), mask_, sk);
    skipped_ = std::move(sk);
    for (auto& [name, why] : register_errors_) skipped_.push_back({name, why});
  }

  unsigned steps() const override {
    return static_cast<unsigned>(points_.size() + params_["register_threads"].size() * 3) +
           order_steps(params_) + check_steps();
  }
  unsigned check_steps() const override {
    return params_.value("bystander_rounds", 0) > 0 ? 1 : 0;
  }

  void run_repetition(RunContext& ctx, Repetition& rep) override;

 private:
  void register_point_benchmark(RunContext& ctx, const Point& p, PointResult& r);
  void register_registration_benchmarks(RunContext& ctx, std::list<RegResult>& regs);
  void measure_overhead(RunContext& ctx, Repetition& rep);
  void bystander(RunContext& ctx, Repetition& rep);

  json params_;
  Clock clock_;
  long mask_ = 0;
  std::map<std::string, std::string> register_errors_;
  std::optional<DeliveryTracer> tracer_;
  std::string delivery_reason_;
  bool overhead_measured_ = false;
  std::vector<Point> points_;
  std::map<int, double> slowest_single_s_;  // command -> seconds, this repetition
  std::vector<Skipped> skipped_;
  json gbench_runs_ = json::array();
  json gbench_context_;
};

// Stops at ^C inside the point: a relaxed load per call, outside the timed
// region, so even a point of 10^6 IPI calls or of GLOBAL calls (a grace
// period each) ends within one call.
// With r.cap_s > 0 (concurrent callers, core/point_cap.h) the cap starts at
// the first call of any caller; past it a caller runs out its iterations
// without calls, counted in r.calls_cut.
void run_point_calls(const Clock& clk, const Point& p, benchmark::State& st, Histogram& h,
                     int& err, bool& interrupted, uint64_t pad_ns, PointResult& r) {
  bool first = true;
  uint64_t cut = 0;
  for (auto _ : st) {
    if (stop_requested()) {
      interrupted = true;
      st.SkipWithError("interrupted");
      break;
    }
    if (r.cap_s > 0) {
      if (first) {
        std::call_once(r.cap_once, [&r] { r.cap.emplace(r.cap_s); });
        first = false;
      } else if (r.cap->reached()) {
        ++cut;
        continue;
      }
    }
    uint64_t t0 = clk.now();
    long rc = sys_membarrier(p.cmd, p.flags, p.cpu_id);
    uint64_t t1 = clk.now();
    if (pad_ns)  // call_pad_ns: known extra work, timed with the call
      for (uint64_t s = t1; clk.to_ns((t1 = clk.now()) - s) < pad_ns;) kpl_cpu_relax();
    if (rc < 0) {
      err = errno;
      st.SkipWithError(errno_text(err).c_str());
      break;
    }
    h.record(clk.to_ns(t1 - t0));
  }
  if (cut) r.calls_cut.fetch_add(cut);
}

void Session::register_point_benchmark(RunContext& ctx, const Point& p, PointResult& r) {
  auto* b = benchmark::RegisterBenchmark(
      ("membarrier/" + p.name).c_str(), [this, &ctx, &p, &r](benchmark::State& st) {
        if (st.thread_index() == 0) ctx.progress().step(p.name);
        if (stop_requested()) {
          st.SkipWithError("interrupted");
          return;
        }
        int cpu = p.callers > 1 ? static_cast<int>(ctx.host().online_cpus()[st.thread_index()])
                                : p.caller_cpu;
        // Concurrent callers end at sweep_cap x one caller's time: the
        // slowest single-caller point of the command so far in this
        // repetition, or the estimate (15 us a call) when longer.
        if (st.thread_index() == 0 && p.callers > 1) {
          const double cap_x = params_.value("sweep_cap", 0.0);
          auto it = slowest_single_s_.find(p.cmd);
          const double one = std::max(p.iters * 15e-6, it == slowest_single_s_.end() ? 0.0 : it->second);
          r.cap_s = cap_x > 0 ? cap_x * one : 0;
        }
        std::optional<workloads::Spinners> spin;
        std::optional<workloads::ForeignSpinner> foreign;
        try {
          workloads::pin_self(cpu);
          if (!p.threads.empty()) spin.emplace(p.threads);
          if (p.foreign_cpu >= 0) foreign.emplace(p.foreign_cpu);
        } catch (const std::exception& e) {
          r.setup_error = e.what();
          st.SkipWithError(e.what());
          return;
        }
        Histogram h;
        int err = 0;
        bool interrupted = false;
        if (spin) spin->mark();
        const auto t0 = std::chrono::steady_clock::now();
        run_point_calls(clock_, p, st, h, err, interrupted, params_["call_pad_ns"].get<uint64_t>(),
                        r);
        if (st.thread_index() == 0) {
          r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          // The reference of this command's concurrent-callers points.
          if (p.callers == 1 && !err && !interrupted)
            slowest_single_s_[p.cmd] = std::max(slowest_single_s_[p.cmd], r.wall_s);
        }
        {
          std::lock_guard<std::mutex> g(r.lock);
          r.latency.merge(h);
          if (err) r.error = err;
          if (interrupted) r.interrupted = true;
        }
        // The spinners' share of the CPU in each window that needs them
        // there: the timed calls, then the traced ones. One window over both
        // hid a spinner preempted through the short timed window behind a
        // long traced one (CI: targets=1/spin p50 = sleep p50, 1087 ns,
        // with 0.9+ of the whole window on its CPU).
        std::optional<double> on_cpu = spin ? spin->spin_on_cpu_fraction() : std::nullopt;
        if (st.thread_index() == 0 && p.delivery && tracer_ && !err && !interrupted) {
          // A point is stored whole or not at all: delivery is part of it.
          if (spin) spin->mark();
          r.delivery = trace_delivery(*tracer_, p, params_["delivery_iterations"]);
          if (!r.delivery) r.interrupted = true;
          std::optional<double> traced = spin ? spin->spin_on_cpu_fraction() : std::nullopt;
          if (on_cpu && (!traced || *traced < *on_cpu)) on_cpu = traced;
        }
        if (on_cpu) {
          std::lock_guard<std::mutex> g(r.lock);
          if (!r.targets_on_cpu || *on_cpu < *r.targets_on_cpu) r.targets_on_cpu = on_cpu;
        }
        st.counters["p50_ns"] = static_cast<double>(h.quantile(0.5));
        st.counters["p99_ns"] = static_cast<double>(h.quantile(0.99));
      });
  b->Iterations(p.iters)->Unit(benchmark::kMicrosecond);
  if (p.callers > 1) b->Threads(static_cast<int>(p.callers));
}

void Session::register_registration_benchmarks(RunContext& ctx, std::list<RegResult>& regs) {
  regs.clear();
  for (auto& c : commands()) {
    if (!c.register_cmd || !(mask_ & c.cmd)) continue;
    for (unsigned threads : params_["register_threads"]) {
      RegResult& r = regs.emplace_back();
      r.register_cmd = c.register_cmd;
      r.threads = threads;
      r.name = std::string("register_") + c.name + "/threads=" + std::to_string(threads);
      std::string name = r.name;
      benchmark::RegisterBenchmark(("membarrier/" + name).c_str(), [this, &ctx, &r](benchmark::State& st) {
        ctx.progress().step(r.name);
        for (auto _ : st) {
          if (stop_requested()) {
            r.interrupted = true;
            st.SkipWithError("interrupted");
            break;
          }
          long long ns = time_register_in_child(clock_, r.register_cmd, r.threads);
          if (ns < 0) {
            r.error = static_cast<int>(-ns);
            st.SkipWithError(errno_text(r.error).c_str());
            break;
          }
          r.latency.record(static_cast<uint64_t>(ns));
          st.SetIterationTime(static_cast<double>(ns) / 1e9);
        }
      })->Iterations(params_["register_samples"].get<int>())->UseManualTime()->Unit(benchmark::kMicrosecond);
    }
  }
}

// What the attached programs cost other processes' syscalls: once per run
// (first repetition), not per point.
void Session::measure_overhead(RunContext& ctx, Repetition& rep) {
  if (overhead_measured_ || !tracer_) return;
  overhead_measured_ = true;
  auto online = ctx.host().online_cpus();
  try {
    auto o = tracer_->measure_syscall_overhead(online.empty() ? 0 : online.front(),
                                               params_.value("overhead_rounds", 5u),
                                               params_.value("overhead_calls", 50000u));
    report_overhead(rep, o, tracer_->mode());
  } catch (const std::exception& e) {
    rep.skip("delivery/syscall_overhead", e.what());
  }
}

// A process that is not ours faulting on the last CPU, with the delivery
// programs detached and attached in turn (#28): what every process on the
// host pays while a point is traced (sys_enter/sys_exit and CSD programs
// run for everyone and filter inside). Once per run.
void Session::bystander(RunContext& ctx, Repetition& rep) {
  if (params_.value("bystander_rounds", 0) <= 0 || !ctx.run_checks() || stop_requested()) return;
  if (!tracer_) {
    rep.skip("effect/bystander", "nothing to attach: IPI delivery tracing unavailable (" +
                                     delivery_reason_ + ")");
    return;
  }
  ctx.progress().step("bystander");
  auto online = ctx.host().online_cpus();
  workloads::record_bystander(
      rep, online.empty() ? 0 : online.back(), params_["bystander_rounds"].get<int>(),
      params_["bystander_window_ms"].get<uint64_t>(),
      [&](bool on) {
        if (on) tracer_->arm();
        else tracer_->disarm();
      },
      [] { return stop_requested(); }, {{"mode", tracer_->mode()}});
  tracer_->take_armed();  // the bystander's windows are not the points' cost
}

void Session::run_repetition(RunContext& ctx, Repetition& rep) {
  measure_overhead(ctx, rep);
  // The kernel's run time and count of the delivery programs over this
  // repetition's traced points (statistics on only while it runs).
  bpf::RunStats stats;
  if (tracer_) tracer_->take_armed();  // the overhead figure's windows
  cpu_set_t saved;
  sched_getaffinity(0, sizeof saved, &saved);
  std::vector<PointResult> results(points_.size());
  slowest_single_s_.clear();
  std::list<RegResult> regs;
  benchmark::ClearRegisteredBenchmarks();
  for (size_t i = 0; i < points_.size(); ++i) register_point_benchmark(ctx, points_[i], results[i]);
  register_registration_benchmarks(ctx, regs);
  std::string gbench = run_gbench(ctx);
  benchmark::ClearRegisteredBenchmarks();
  sched_setaffinity(0, sizeof saved, &saved);

  Report report(ctx.host(), rep);
  for (size_t i = 0; i < points_.size(); ++i) report.point(points_[i], results[i]);
  for (auto& r : regs) report.registration(r);
  auto online = ctx.host().online_cpus();
  OrderSweep o{params_, clock_, mask_, tracer_ ? &*tracer_ : nullptr,
               online.empty() ? 0 : online.front(), online.size() > 1 ? online[1] : -1};
  run_order_sweeps(ctx, o, report, rep);
  sched_setaffinity(0, sizeof saved, &saved);
  for (auto& s : skipped_) rep.skip(s.name, s.reason);
  if (!tracer_) rep.extra()["delivery_unavailable"] = delivery_reason_;
  rep.scalar("clock/overhead", clock_.overhead_ns(), "ns", {{"clock", to_string(clock_.source())}});
  if (tracer_) {
    auto armed = tracer_->take_armed();
    bpf::record_program_costs(rep, stats, armed.runs, armed.seconds);
  } else {
    rep.skip("effect/bpf", "no programs: IPI delivery tracing unavailable");
  }
  bystander(ctx, rep);
  report.finish();
  merge_gbench(gbench_runs_, gbench_context_, gbench, ctx);
  ctx.attach_file("gbench.json", json{{"context", gbench_context_}, {"benchmarks", gbench_runs_}}.dump(2));
}

// Sweep points of one repetition with these parameters on cpus online CPUs
// (as build_points() makes them, every command assumed present), and the
// REGISTER rows.
unsigned point_count(const json& p, unsigned cpus) {
  unsigned others = cpus > 1 ? cpus - 1 : 0;
  unsigned max_targets = p.value("max_targets", 0u);
  if (max_targets && others > max_targets) others = max_targets;
  unsigned n = 3;  // query, get_registrations, global
  const unsigned max_counts = p.value("sweep_counts", 0u);
  for (unsigned t : target_counts(others, max_counts))
    for (std::string st : p["states"])
      n += t == 0 ? st == "spin" : !(st == "half" && t < 2);
  n = 3 + (n - 3) * static_cast<unsigned>(p["sweep_commands"].size());
  if (p.value("placement", true)) n += std::min(others, 4u);  // SMT, LLC, package, NUMA at most
  if (p.value("callers_sweep", true))
    n += static_cast<unsigned>(target_counts(cpus, max_counts).size()) - 1;
  return n + 2;  // rseq flag_cpu own_mm, other_mm
}

class MembarrierProbe : public Probe {
 public:
  std::string_view name() const override { return "membarrier"; }
  std::string_view summary() const override {
    return "membarrier(): latency of every command, sweeps, per-target IPI delivery";
  }
  Availability check(const HostInfo&) const override {
    long m = query();
    if (m < 0) return Availability::no("membarrier(MEMBARRIER_CMD_QUERY): " + errno_text(static_cast<int>(-m)));
    return Availability::yes();
  }
  json parameters(Profile p, const HostInfo&) const override { return profile_params(p); }
  ParamSpecs param_specs(unsigned online_cpus) const override { return specs(online_cpus); }
  // Measured on a 2-vCPU VM at load 5-8 (standard and quick, 20 points): a
  // point ~15 us a timed call, ~60 us a traced one, 0.1 s to start its
  // threads; a REGISTER sample ~33 ms (a fresh child process); GLOBAL
  // ~30 ms (a grace period); the litmus cases as order_estimate_seconds()
  // (28 us a trial where it assumes 40, and ~0.3 s to start each case).
  double estimate_seconds(const json& p) const override {
    double pts = static_cast<double>(point_count(p, online_cpu_count()));
    double regs = 4.0 * static_cast<double>(p["register_threads"].size());
    return 0.5 + pts * (p["iterations"].get<double>() * 15e-6 +
                        p["delivery_iterations"].get<double>() * 60e-6 + 0.1) +
           order_estimate_seconds(p) + p["global_calls"].get<double>() * 0.03 +
           regs * p["register_samples"].get<double>() * 0.033;
  }
  // The syscall-overhead figure (first repetition only): 2 x rounds x calls
  // getppid() at ~1-2 us on a VM.
  // The bystander: 2 x rounds windows, each with a 25 ms settle.
  double estimate_checks_seconds(const json& p) const override {
    return 2.0 * p.value("overhead_rounds", 0.0) * p.value("overhead_calls", 0.0) * 2e-6 +
           2.0 * p.value("bystander_rounds", 0.0) * (p.value("bystander_window_ms", 0.0) + 25) / 1000;
  }
  unsigned points(const json& p, const HostInfo& host) const override {
    return point_count(p, host.online_count());
  }
  // The sweeps' counts left out on many CPUs (sweep_counts).
  std::string sampled(const json& p, const HostInfo& host) const override {
    unsigned cpus = host.online_count(), others = cpus > 1 ? cpus - 1 : 0;
    unsigned max_targets = p.value("max_targets", 0u);
    if (max_targets && others > max_targets) others = max_targets;
    auto list = [](const std::vector<unsigned>& v, bool zero) {
      std::string s;
      for (unsigned n : v)
        if (n || zero) s += (s.empty() ? "" : ",") + std::to_string(n);
      return s;
    };
    std::string out;
    const unsigned max = p.value("sweep_counts", 0u);
    auto t = target_counts(others, max), all_t = target_counts(others);
    if (t != all_t) out = "targets " + list(t, true) + " of " + list(all_t, true);
    auto c = target_counts(cpus, max), all_c = target_counts(cpus);
    if (p.value("callers_sweep", true) && c != all_c)
      out += (out.empty() ? "" : "; ") + std::string("callers ") + list(c, false) + " of " +
             list(all_c, false);
    return out;
  }
  // The litmus cases check the kernel's ordering, the sweep points are the
  // headline: fewer litmus trials first (down to 50000, the control to
  // 200000), then 10 REGISTER samples and one thread count for them (the
  // first), then no half-spinning targets (where there are any), then the
  // litmus trials halved down to 10000 (the control 100000), and only then
  // fewer calls a point (down to 2000 timed, 500 traced).
  std::optional<json> cheaper(const json& p, const HostInfo& host) const override {
    json c = p;
    const int64_t trials = p["litmus_trials"].get<int64_t>();
    const int64_t control = p["litmus_control_trials"].get<int64_t>();
    auto half = std::find(c["states"].begin(), c["states"].end(), "half");
    const bool litmus = !p["litmus"].empty();
    auto cut_litmus = [&](int64_t floor, int64_t control_floor) {
      c["litmus_trials"] = std::max<int64_t>(std::min(floor, trials), trials / 2);
      c["litmus_control_trials"] =
          std::max<int64_t>(std::min(control_floor, control), control / 2);
    };
    if (litmus && trials > 50000) {
      cut_litmus(50000, 200000);
    } else if (p["register_samples"].get<int>() > 10 && !p["register_threads"].empty()) {
      c["register_samples"] = 10;
    } else if (p["register_threads"].size() > 1) {  // REGISTER in a 1-thread mm only
      c["register_threads"] = {p["register_threads"].front()};
    } else if (c["states"].size() > 1 && half != c["states"].end() &&
               host.online_count() > 2) {  // no half point below 2 targets
      c["states"].erase(static_cast<size_t>(half - c["states"].begin()));
    } else if (litmus && (trials > 10000 || control > 100000)) {
      cut_litmus(10000, 100000);
    } else if (p["iterations"].get<int>() > 2000 || p["delivery_iterations"].get<int>() > 500) {
      c["iterations"] = std::max(2000, p["iterations"].get<int>() / 2);
      c["delivery_iterations"] = std::max(500, p["delivery_iterations"].get<int>() / 2);
    } else {
      return std::nullopt;
    }
    return c;
  }
  double budget_weight() const override { return 3.5; }
  std::unique_ptr<ProbeSession> prepare(RunContext& ctx, const json& params) override {
    if (unsigned n = params.value("sweep_counts", 0u); n == 1 || n == 2)
      throw std::invalid_argument("membarrier.sweep_counts: 0 (every count) or at least 3");
    return std::make_unique<Session>(ctx, params);
  }
};

}  // namespace

KPERFLAB_REGISTER_PROBE(MembarrierProbe);

}  // namespace kperflab::membarrier
