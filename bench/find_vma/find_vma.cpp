// SPDX-License-Identifier: GPL-2.0-only
// The find_vma probe: how often bpf_find_vma and build-id user stacks fall
// back because mmap_lock cannot be taken (or its unlock cannot be queued)
// with IRQs off, and what each helper call costs. Pinned spinners are
// sampled by perf events (cpu-clock; cycles where a PMU exists) while
// writer threads in the same mm take mmap_lock for write at a set rate;
// a sleepable uprobe takes the same stacks with IRQs on. Sweep: sampling
// frequency x writer rate x sampled threads (find_vma.bpf.c says how).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "host/bpf_prog_stats.h"
#include "find_vma.h"
#include "core/probe.h"
#include "core/stop.h"
#include "sampler.h"
#include "host/sysctl_hold.h"
#include "workloads/bystander.h"

namespace kperflab::find_vma {

using nlohmann::json;

namespace {

// Writer rates at or above this run back to back (FaultStorm's rate 0).
constexpr double kBackToBack = 1e9;

json profile_params(Profile p) {
  json j = {{"freqs_hz", {1000, 10000}},
            {"writer_rates", {0, 1000, kBackToBack}},
            {"threads", {1}},
            {"writer", "mmap_munmap"},
            {"writers", 1},
            {"duration_ms", 2000},
            {"mark_rate", 1000},
            {"bystander_rounds", 5},
            {"bystander_window_ms", 200}};
  switch (p) {
    case Profile::quick:
      j.update({{"freqs_hz", {1000}}, {"writer_rates", {0, kBackToBack}}, {"duration_ms", 500}});
      break;
    case Profile::standard: break;
    case Profile::full:
      j.update({{"freqs_hz", {1000, 5000, 20000}},
                {"writer_rates", {0, 100, 1000, 10000, kBackToBack}},
                {"threads", json::array()}});
      break;
    case Profile::lab:
      // TCG: a few seconds in all; rates of fallback, not times, matter.
      j.update({{"freqs_hz", {1000}},
                {"writer_rates", {0, kBackToBack}},
                {"duration_ms", 600},
                {"mark_rate", 200},
                {"bystander_rounds", 3}});
      break;
  }
  return j;
}

ParamSpecs specs(unsigned online_cpus) {
  return {
      ParamSpec::integer_list("freqs_hz", 10, 100000, 1, 16,
                              "sampling frequencies of the perf events, Hz"),
      ParamSpec::number_list("writer_rates", 0, kBackToBack, 1, 16,
                             "mmap_lock writer operations per second per writer (0: no writer, "
                             "1e9: back to back)"),
      ParamSpec::integer_list("threads", 1, std::max(1u, online_cpus), 0, 64,
                              "sampled spinner threads per point (empty: 1 and every online CPU)"),
      ParamSpec::choice("writer", {"mmap_munmap", "mprotect"},
                        "what a writer does (workloads/fault_storm.h)"),
      ParamSpec::integer("writers", 1, 64, "writer threads when the writer rate is not 0"),
      ParamSpec::integer("duration_ms", 50, 600000, "time per sweep point, ms"),
      ParamSpec::number("mark_rate", 0, 100000,
                        "calls per second of the sleepable uprobe's function (0: none)"),
      ParamSpec::integer("bystander_rounds", 0, 50,
                         "interleaved rounds of a bystander process's fault rate with our "
                         "programs detached and attached (one sampled spinner), once per run "
                         "(0: none)"),
      ParamSpec::integer("bystander_window_ms", 50, 2000, "length of each bystander window, ms"),
  };
}

std::string rate_name(double r) {
  if (r <= 0) return "none";
  if (r >= kBackToBack) return "max";
  return std::to_string(static_cast<uint64_t>(std::llround(r)));
}

struct Point {
  unsigned freq;
  double writer_rate;
  unsigned threads;
  std::string name() const {
    return "freq=" + std::to_string(freq) + "/writer_rate=" + rate_name(writer_rate) +
           "/threads=" + std::to_string(threads);
  }
};

const char* const kSourceName[KPL_FV_NR_SOURCES] = {"clock", "cycles", "uprobe_s"};
const char* const kCallName[KPL_FV_NR_CALLS] = {"find_vma", "oracle", "stack"};
const char* const kOutcomeName[KPL_FV_NR_OUTCOMES] = {"ok", "ebusy", "enoent", "other"};

void sleep_ms_interruptible(uint64_t ms) {
  const uint64_t slice = 20;
  for (uint64_t done = 0; done < ms && !stop_requested(); done += slice) {
    timespec ts{0, static_cast<long>(std::min(slice, ms - done) * 1000000)};
    nanosleep(&ts, nullptr);
  }
}

double ratio(uint64_t a, uint64_t b) { return b ? double(a) / double(b) : 0; }

// The metrics of one source at one point.
void report_source(Repetition& rep, const std::string& base, const json& labels, int src,
                   const SourceCounts& c, const Sampler& s) {
  auto put = [&](const std::string& n, double v, const char* unit, const char* better,
                 json extra = json::object()) {
    json l = labels;
    l["source"] = kSourceName[src];
    l["better"] = better;
    l.update(extra);
    rep.scalar(base + "/" + n, v, unit, l);
  };
  put("samples", double(c.samples), "runs", "none");
  for (int o = 0; o < KPL_FV_NR_OUTCOMES; ++o) {
    put(std::string("find_vma/") + kOutcomeName[o], double(c.find_vma[o]), "calls", "none");
    put(std::string("oracle/") + kOutcomeName[o], double(c.oracle[o]), "calls", "none");
  }
  put("find_vma/calls", double(c.find_vma_calls), "calls", "none");
  put("oracle/calls", double(c.oracle_calls), "calls", "none");
  if (c.find_vma_calls)
    put("find_vma/ebusy_ratio", ratio(c.find_vma[KPL_FV_EBUSY], c.find_vma_calls), "ratio",
        "lower");
  if (src != KPL_FV_UPROBE_S)
    // Only where IRQs are off: there a first call that returned 0 queued
    // the irq_work, which cannot run before the program ends.
    put("check/oracle_not_busy", double(c.oracle_not_busy), "calls", "lower",
        {{"first_ok", c.find_vma[KPL_FV_OK]}});
  put("check/negative", double(c.negative), "calls", "lower");
  if (src == KPL_FV_UPROBE_S)
    put("check/busy_skipped", double(c.busy_skipped), "runs", "lower",
        {{"meaning", "sleepable runs skipped: another task was inside the program on that CPU"}});
  put("stack/calls", double(c.stack_calls), "calls", "none");
  put("stack/errors", double(c.stack_errors), "calls", "lower");
  put("stack/all_ip", double(c.stack_all_ip), "calls", "lower",
      {{"meaning", "every frame BPF_STACK_BUILD_ID_IP (busy or trylock failed)"}});
  put("stack/some_ip", double(c.stack_some_ip), "calls", "lower");
  put("stack/all_valid", double(c.stack_all_valid), "calls", "higher");
  put("stack/frames_valid", double(c.frames_valid), "frames", "higher");
  put("stack/frames_ip", double(c.frames_ip), "frames", "lower");
  put("stack/frames_empty", double(c.frames_empty), "frames", "none");
  if (c.frames_valid + c.frames_ip)
    put("stack/fallback_ratio", ratio(c.frames_ip, c.frames_valid + c.frames_ip), "ratio",
        "lower");
  for (int call = 0; call < KPL_FV_NR_CALLS; ++call) {
    Histogram h = s.hist(src, call);
    if (h.empty()) continue;
    json l = labels;
    l.update({{"source", kSourceName[src]}, {"call", kCallName[call]}});
    rep.histogram(base + "/latency/" + kCallName[call], h, "ns", l);
  }
}

class Session : public ProbeSession {
 public:
  Session(RunContext& ctx, const json& p) : p_(p) {
    cpus_ = ctx.host().online_cpus();
    if (cpus_.empty()) throw std::runtime_error("no online CPUs");
    sampler_ = std::make_unique<Sampler>();
    std::vector<unsigned> threads;
    for (auto& t : p_["threads"])
      threads.push_back(std::min(t.get<unsigned>(), static_cast<unsigned>(cpus_.size())));
    if (threads.empty()) {
      threads.push_back(1);
      if (cpus_.size() > 1) threads.push_back(static_cast<unsigned>(cpus_.size()));
    }
    for (unsigned f : p_["freqs_hz"])
      for (double w : p_["writer_rates"])
        for (unsigned t : threads) points_.push_back({f, w, t});
    auto& pr = ctx.parameters();
    pr["sleepable_uprobe"] = sampler_->uprobe_ok() ? json("loaded") : json(sampler_->uprobe_reason());
    // The path by the kernel's capability, not by whether it loaded (6.1
    // loads sleepable uprobes, and takes their stacks without faulting).
    pr["sleepable_stack"] = Sampler::sleepable_stack();
    pr["fentry_do_mmap_read_unlock"] =
        sampler_->fentry_ok() ? json("loaded") : json(sampler_->fentry_reason());
    pr["points"] = json::array();
    for (auto& pt : points_) pr["points"].push_back(pt.name());
  }

  unsigned steps() const override { return static_cast<unsigned>(points_.size()) + check_steps(); }
  unsigned check_steps() const override { return p_["bystander_rounds"].get<int>() > 0 ? 1 : 0; }

  void run_repetition(RunContext& ctx, Repetition& rep) override {
    const auto rate_before = max_sample_rate();
    bpf::run_points_costed(ctx, rep, points_, point_runs_, point_seconds_,
                           [&](const Point& pt) { measure(rep, pt); });
    if (p_["bystander_rounds"].get<int>() > 0 && ctx.run_checks() && !stop_requested()) {
      ctx.progress().step("bystander");
      bystander(rep);
    }
    check_sample_rate(ctx, rep, rate_before);
  }

 private:
  static constexpr const char* kMaxRate = "/proc/sys/kernel/perf_event_max_sample_rate";
  static std::optional<long> max_sample_rate() {
    try {
      if (auto v = read_setting(kMaxRate)) return std::stol(*v);
    } catch (const std::exception&) {
    }
    return std::nullopt;
  }
  // The cycles events sample from NMIs, and a slow NMI handler (ours runs
  // in it) makes the kernel lower kernel.perf_event_max_sample_rate for
  // every perf user of the host, for good. Compared before and after the
  // repetition's points; lowered, it is put back and the bundle says so.
  void check_sample_rate(RunContext& ctx, Repetition& rep, std::optional<long> before) {
    auto after = max_sample_rate();
    if (!before || !after) {
      rep.skip("check/perf_event_max_sample_rate", std::string(kMaxRate) + " unreadable");
      return;
    }
    json l = {{"before", *before}, {"after", *after}, {"better", "lower"}};
    if (*after < *before) {
      {
        std::ofstream f(kMaxRate);
        f << *before << "\n";
      }
      auto now = max_sample_rate();
      l["restored"] = now && *now == *before;
      ctx.progress().note("find_vma: the kernel lowered perf_event_max_sample_rate from " +
                          std::to_string(*before) + " to " + std::to_string(*after) +
                          (l["restored"].get<bool>() ? " during the points; put back"
                                                      : " during the points; could not put it back"));
    }
    rep.scalar("check/perf_event_max_sample_rate_lowered_by",
               static_cast<double>(*after < *before ? *before - *after : 0), "Hz", l);
  }

  void measure(Repetition& rep, const Point& pt) {
    const std::string base = pt.name();
    LoadConfig lc;
    lc.threads = pt.threads;
    lc.writer_rate = pt.writer_rate;
    lc.writers = p_["writers"].get<unsigned>();
    lc.writer = workloads::parse_writer_kind(p_["writer"].get<std::string>());
    lc.mark_rate = sampler_->uprobe_ok() ? p_["mark_rate"].get<double>() : 0;
    lc.cpus = cpus_;
    workloads::FaultStormResult wr;
    uint64_t marks = 0;
    const bpf::ProgRuns runs0 = sampler_->runs();
    try {
      Load load(lc);
      sampler_->attach(load.spinner_tids(), pt.freq);
      sampler_->reset();
      sampler_->arm(true);
      auto t0 = std::chrono::steady_clock::now();
      sleep_ms_interruptible(p_["duration_ms"].get<uint64_t>());
      sampler_->arm(false);
      sampler_->detach();
      point_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      bpf::add_runs(point_runs_, sampler_->runs(), runs0);
      wr = load.stop();
      marks = load.marks();
    } catch (const std::exception& e) {
      sampler_->arm(false);
      sampler_->detach();
      rep.skip(base, e.what());
      return;
    }
    if (stop_requested()) {
      rep.skip(base, "interrupted (^C) during the point (discarded)");
      return;
    }
    if (!wr.error.empty()) {
      rep.skip(base, "writer: " + wr.error);
      return;
    }
    json labels = {{"freq_hz", pt.freq},
                   {"writer_rate", pt.writer_rate},
                   {"writer", p_["writer"]},
                   {"threads", pt.threads}};
    SourceCounts c[KPL_FV_NR_SOURCES];
    for (int src = 0; src < KPL_FV_NR_SOURCES; ++src) c[src] = sampler_->counts(src);
    report_source(rep, base + "/clock", labels, KPL_FV_CLOCK, c[KPL_FV_CLOCK], *sampler_);
    if (sampler_->cycles_ok())
      report_source(rep, base + "/cycles", labels, KPL_FV_CYCLES, c[KPL_FV_CYCLES], *sampler_);
    else
      rep.skip(base + "/cycles", sampler_->cycles_reason());
    if (sampler_->uprobe_ok()) {
      json ul = labels;
      ul["stack_path"] = Sampler::sleepable_stack();
      // A faultable stack and a page-cache-only one are different
      // measurements: compare never decides across them.
      ul["comparable_with"] = "sleepable_stack=" + Sampler::sleepable_stack();
      report_source(rep, base + "/uprobe_s", ul, KPL_FV_UPROBE_S, c[KPL_FV_UPROBE_S], *sampler_);
    }
    else
      rep.skip(base + "/uprobe_s", sampler_->uprobe_reason());
    unlocks(rep, base, labels, c);
    if (pt.writer_rate > 0 && wr.seconds > 0) {
      json l = labels;
      l["better"] = "none";
      rep.scalar(base + "/writer_ops_per_s", double(wr.writer_ops) / wr.seconds, "ops/s", l);
    }
    rep.extra()[base] = {{"marks", marks}, {"writer_ops", wr.writer_ops}, {"seconds", wr.seconds}};
  }

  // A process that is not ours faulting on the last CPU, with our programs
  // detached and attached in turn around one sampled spinner on the first
  // CPU at the first frequency (#28): the fentry on do_mmap_read_unlock
  // runs for every process, the sampling NMIs and timers for our spinner's
  // CPU. Once per run.
  void bystander(Repetition& rep) {
    LoadConfig lc;
    lc.threads = 1;
    lc.mark_rate = sampler_->uprobe_ok() ? p_["mark_rate"].get<double>() : 0;
    lc.cpus = cpus_;
    const unsigned freq = p_["freqs_hz"].empty() ? 1000 : p_["freqs_hz"][0].get<unsigned>();
    try {
      Load load(lc);
      workloads::record_bystander(
          rep, cpus_.back(), p_["bystander_rounds"].get<int>(),
          p_["bystander_window_ms"].get<uint64_t>(),
          [&](bool on) {
            sampler_->arm(false);
            sampler_->detach();
            if (on) {
              sampler_->attach(load.spinner_tids(), freq);
              sampler_->arm(true);
            }
          },
          [] { return stop_requested(); }, {{"freq_hz", freq}, {"threads", 1}});
      load.stop();
    } catch (const std::exception& e) {
      sampler_->arm(false);
      sampler_->detach();
      rep.skip("effect/bystander", e.what());
    }
  }

  // Deferred unlocks (the irq_work ran do_mmap_read_unlock) against the
  // calls that must have deferred one (IRQs off, lock taken), and the
  // direct ones of the sleepable uprobe (IRQs on).
  void unlocks(Repetition& rep, const std::string& base, const json& labels,
               const SourceCounts* c) {
    json l = labels;
    l["better"] = "none";
    uint64_t expected = 0;
    for (int src : {KPL_FV_CLOCK, KPL_FV_CYCLES})
      expected += c[src].find_vma[KPL_FV_OK] + c[src].stack_all_valid + c[src].stack_some_ip;
    json le = l;
    le["meaning"] = "perf_event helper calls that took mmap_lock (find_vma 0, a stack with a "
                    "valid frame): each deferred its unlock; a lower bound";
    rep.scalar(base + "/unlock/deferred_expected", double(expected), "unlocks", le);
    if (sampler_->fentry_ok()) {
      kpl_fv_unlocks u = sampler_->unlocks();
      json ld = l;
      ld["all_tasks"] = u.deferred_all;
      rep.scalar(base + "/unlock/deferred", double(u.deferred_ours), "unlocks", ld);
    } else {
      rep.skip(base + "/unlock/deferred", sampler_->fentry_reason());
    }
    if (sampler_->uprobe_ok()) {
      const SourceCounts& u = c[KPL_FV_UPROBE_S];
      json ld = l;
      ld["meaning"] = "sleepable uprobe helper calls that took mmap_lock with IRQs on (unlocked "
                      "in place); a lower bound";
      rep.scalar(base + "/unlock/direct",
                 double(u.find_vma[KPL_FV_OK] + u.oracle[KPL_FV_OK] + u.stack_all_valid +
                        u.stack_some_ip),
                 "unlocks", ld);
    } else {
      rep.skip(base + "/unlock/direct",
               "no helper call with IRQs on to count: " + sampler_->uprobe_reason());
    }
  }

  json p_;
  std::vector<int> cpus_;
  std::unique_ptr<Sampler> sampler_;
  std::vector<Point> points_;
  bpf::ProgRuns point_runs_;  // this repetition's points, per program
  double point_seconds_ = 0;
};

std::string unavailable_reason() {
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return "no kernel BTF (/sys/kernel/btf/vmlinux): bpf_find_vma needs a BTF task pointer";
  return "";
}

class FindVmaProbe : public Probe {
 public:
  std::string_view name() const override { return "find_vma"; }
  std::string_view summary() const override {
    return "bpf_find_vma -EBUSY and build-id stack IP fallbacks from perf_event programs "
           "(irq_work mmap unlock) against writers; helper call latency";
  }
  Availability check(const HostInfo&) const override {
    auto why = unavailable_reason();
    return why.empty() ? Availability::yes() : Availability::no(why);
  }
  json parameters(Profile p, const HostInfo&) const override { return profile_params(p); }
  ParamSpecs param_specs(unsigned online_cpus) const override { return specs(online_cpus); }
  double estimate_seconds(const json& p) const override {
    double pts = double(p["freqs_hz"].size()) * double(p["writer_rates"].size()) *
                 double(std::max<size_t>(1, p["threads"].empty() ? 2 : p["threads"].size()));
    return pts * (p["duration_ms"].get<double>() / 1000 + 0.1);
  }
  // The bystander (once per run): 2 x rounds windows, each with a 25 ms
  // settle, and the spinner's start.
  double estimate_checks_seconds(const json& p) const override {
    return 2.0 * p["bystander_rounds"].get<double>() *
               (p["bystander_window_ms"].get<double>() + 25) / 1000 +
           0.1;
  }
  unsigned points(const json& p, const HostInfo& host) const override {
    size_t threads = p["threads"].empty() ? (host.online_count() > 1 ? 2 : 1) : p["threads"].size();
    return static_cast<unsigned>(p["freqs_hz"].size() * p["writer_rates"].size() * threads);
  }
  // The writer rates between none and back to back first, then 1 s points,
  // then the first sampling frequency only, then 500 ms points.
  std::optional<json> cheaper(const json& p, const HostInfo&) const override {
    json c = p;
    const double d = p["duration_ms"].get<double>();
    if (p["writer_rates"].size() > 2) {
      c["writer_rates"] = {p["writer_rates"].front(), p["writer_rates"].back()};
    } else if (d > 1000) {
      c["duration_ms"] = 1000;
    } else if (p["freqs_hz"].size() > 1) {
      c["freqs_hz"] = {p["freqs_hz"].front()};
    } else if (d > 500) {
      c["duration_ms"] = 500;
    } else {
      return std::nullopt;
    }
    return c;
  }
  double budget_weight() const override { return 1.5; }
  std::unique_ptr<ProbeSession> prepare(RunContext& ctx, const json& params) override {
    return std::make_unique<Session>(ctx, params);
  }
};

}  // namespace

KPERFLAB_REGISTER_PROBE(FindVmaProbe);

}  // namespace kperflab::find_vma
