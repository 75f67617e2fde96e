// SPDX-License-Identifier: GPL-2.0-only
// The notifier probe (kernel side: kmod/notifier.c): mmu_interval_notifier
// read-retry rates under controlled invalidation load. Sweeps invalidation
// kind x rate, then reader work length, reader count and notifier count
// one at a time around a base point; and the cost on the invalidating side
// (per-operation latency) with 0, 1, 10, 1000 notifiers registered.
// Automatic NUMA balancing is held off while it measures (see README).
#include <cerrno>
#include <chrono>
#include <optional>
#include <set>
#include <system_error>
#include <thread>

#include "nt_device.h"
#include "nt_events.h"
#include "core/probe.h"
#include "core/stop.h"
#include "host/sysctl_hold.h"
#include "workloads/bystander.h"

namespace kperflab::notifier {

using nlohmann::json;
using workloads::InvalKind;

namespace {

// task_numa_work() makes a window of every VMA of a task PROT_NONE
// (MMU_NOTIFY_PROTECTION_VMA over the window) and the hinting faults after
// it migrate misplaced pages (MMU_NOTIFY_CLEAR, one page): callbacks no
// workload of ours asked for, on any host with two or more nodes.
constexpr const char* kNumaBalancing = "/proc/sys/kernel/numa_balancing";

json profile_params(Profile p) {
  json j = {{"kinds", {"madvise", "munmap", "mprotect", "fork", "migrate", "clear_refs",
                       "thp_split"}},
            {"rates_hz", {0, 100, 1000, -1}},  // 0: none, -1: back to back
            {"hmm_rates_hz", {0, 100, 1000, -1}},  // madvise, readers mirror with HMM
            {"work_ns", {500, 5000, 50000}},
            {"readers", {1, 2, 4}},
            {"notifiers", {1, 10, 1000}},
            {"cost_notifiers", {0, 1, 10, 1000}},
            {"base_work_ns", 2000},
            {"inval_threads", 1},
            {"window_ms", 1000},
            // keep: as found (a host-wide setting stays the host's); off:
            // held at 0 while measuring (the lab's guests, which are ours)
            {"numa_balancing", "keep"},
            {"bystander_rounds", 5},
            {"bystander_window_ms", 200}};
  switch (p) {
    case Profile::quick: j["window_ms"] = 300; break;
    case Profile::standard: break;
    case Profile::full:
      j["window_ms"] = 3000;
      j["rates_hz"] = {0, 10, 100, 1000, 10000, -1};
      j["hmm_rates_hz"] = j["rates_hz"];
      break;
    case Profile::lab:  // <= ~20 s under TCG on 4 vCPUs, every kind (the lab's
                        // guests have 2 NUMA nodes, so migrate runs there)
      j.update({{"rates_hz", {0, 1000, -1}}, {"hmm_rates_hz", {0, -1}},
                {"work_ns", {500, 20000}}, {"readers", {1, 2}},
                {"notifiers", {1, 100}}, {"window_ms", 250}, {"numa_balancing", "off"},
                {"bystander_rounds", 3}});
      break;
  }
  return j;
}

// A rate is -1 (back to back), 0 (no invalidation) or a positive Hz.
std::string rate_rule(const json& v) {
  for (auto& r : v)
    if (r.get<double>() < 0 && r.get<double>() != -1) return "a negative rate other than -1";
  return "";
}

// The module's own caps (uapi.h) bound every count and the window.
ParamSpecs specs() {
  std::vector<std::string> kinds;
  for (auto k : workloads::kAllInvalKinds) kinds.emplace_back(workloads::to_string(k));
  return {
      ParamSpec::choice_list("kinds", kinds, 0, "invalidation kinds swept over rates_hz"),
      ParamSpec::number_list("rates_hz", -1, 1e6, 0, 16,
                             "invalidation rates, Hz (0: none, -1: back to back)")
          .with_rule(rate_rule),
      ParamSpec::number_list("hmm_rates_hz", -1, 1e6, 0, 16,
                             "madvise rates while readers mirror with hmm_range_fault")
          .with_rule(rate_rule),
      ParamSpec::integer_list("work_ns", 0, KPL_NT_MAX_WORK_NS, 0, 16,
                              "reader critical-section lengths swept, ns"),
      ParamSpec::integer_list("readers", 1, KPL_NT_MAX_READERS, 0, 16, "reader counts swept"),
      ParamSpec::integer_list("notifiers", 1, KPL_NT_MAX_NOTIFIERS, 0, 16,
                              "notifier counts swept"),
      ParamSpec::integer_list("cost_notifiers", 0, KPL_NT_MAX_NOTIFIERS, 0, 16,
                              "notifier counts of the invalidation-cost sweep"),
      ParamSpec::integer("base_work_ns", 0, KPL_NT_MAX_WORK_NS,
                         "reader critical section outside the work_ns sweep, ns"),
      ParamSpec::integer("inval_threads", 1, 64, "invalidating threads"),
      ParamSpec::integer("window_ms", 1, KPL_MAX_MS, "measurement window per point, ms"),
      ParamSpec::choice("numa_balancing", {"off", "keep"},
                        "off: hold kernel.numa_balancing at 0 while measuring; keep: as found"),
      ParamSpec::integer("bystander_rounds", 0, 50,
                         "interleaved rounds of a bystander process's fault rate on the last "
                         "CPU with our readers and madvise storm off and on, once per run "
                         "(0: none)"),
      ParamSpec::integer("bystander_window_ms", 50, 2000, "length of each bystander window, ms"),
  };
}

std::string rate_name(double r) {
  return r < 0 ? "max" : std::to_string(static_cast<long>(r));
}

class Session : public ProbeSession {
 public:
  Session(RunContext& ctx, json p)
      : ctx_(ctx), p_(std::move(p)), cpus_(ctx.host().online_cpus()) {
    if (cpus_.size() < 2) throw std::runtime_error("needs at least 2 online CPUs");
    reader_cpus_.assign(cpus_.begin() + 1, cpus_.end());
    for (auto& k : p_["kinds"]) kinds_.push_back(workloads::parse_inval_kind(k.get<std::string>()));
    hold_numa_balancing();
  }
  ~Session() override;
  unsigned steps() const override {
    return static_cast<unsigned>(kinds_.size() + 1 + p_["work_ns"].size() + p_["readers"].size() +
                                 p_["notifiers"].size() + p_["cost_notifiers"].size()) +
           check_steps();
  }
  unsigned check_steps() const override { return p_["bystander_rounds"].get<int>() > 0 ? 1 : 0; }
  void run_repetition(RunContext& ctx, Repetition& rep) override;

 private:
  Point base(InvalKind k, double rate) const {
    Point pt;
    pt.kind = k;
    pt.rate_hz = rate;
    pt.work_ns = p_["base_work_ns"];
    pt.window_ms = p_["window_ms"];
    pt.inval_threads = p_["inval_threads"];
    return pt;
  }
  void record(Repetition& rep, const Point& pt, const Result& r);
  // dev_.run: nullopt (the point recorded as skipped) when ^C ended the
  // module's window with EINTR: a shortened window is not this point.
  std::optional<Result> run(Repetition& rep, const Point& pt, const std::string& name);
  void measure(Repetition& rep, const Point& pt) {
    if (auto r = run(rep, pt, point_name(pt))) record(rep, pt, *r);
  }
  static std::string point_name(const Point& pt);
  std::set<std::string> measured_;  // point names of this repetition
  void kinds_by_rate(RunContext& ctx, Repetition& rep);
  void hmm_by_rate(RunContext& ctx, Repetition& rep);
  void one_factor(RunContext& ctx, Repetition& rep, const char* what);
  void cost(RunContext& ctx, Repetition& rep);
  void bystander(RunContext& ctx, Repetition& rep);
  void hold_numa_balancing();

  RunContext& ctx_;  // outlives the session (the runner's)
  // kernel.numa_balancing at 0 (notifier.numa_balancing=off); released in
  // ~Session, also when a repetition throws or ^C ends the run early.
  std::optional<SysctlHold> numa_;
  json p_;
  std::vector<int> cpus_, reader_cpus_;
  std::vector<InvalKind> kinds_;
  NtDevice dev_;
};

// Records the value found (parameters: numa_balancing_found, "absent" on a
// kernel without it) and the one the measurements ran with
// (numa_balancing_during); holds it at 0 unless numa_balancing=keep. A hold
// that fails is noted and recorded, and the probe measures anyway.
void Session::hold_numa_balancing() {
  auto& par = ctx_.parameters();
  std::optional<std::string> found;
  try {
    found = read_setting(kNumaBalancing);
  } catch (const std::exception& e) {
    par["numa_balancing_found"] = std::string("unreadable: ") + e.what();
    return;
  }
  par["numa_balancing_found"] = found.value_or("absent");
  par["numa_balancing_during"] = found.value_or("absent");
  if (!found || *found == "0" || p_["numa_balancing"] == "keep") return;
  try {
    numa_.emplace(kNumaBalancing, "0");
    par["numa_balancing_during"] = numa_->held();
    ctx_.progress().note("notifier: kernel.numa_balancing " + *found +
                         " held at 0 while measuring (notifier.numa_balancing=keep: as found)");
  } catch (const std::exception& e) {
    par["numa_balancing_hold_error"] = e.what();
    ctx_.progress().note(std::string("notifier: cannot hold kernel.numa_balancing at 0, "
                                     "measuring with it on: ") + e.what());
  }
}

Session::~Session() {
  if (!numa_) return;
  try {
    numa_->release();
  } catch (const std::exception& e) {  // the record stays: the next run retries
    ctx_.parameters()["numa_balancing_restore_error"] = e.what();
    ctx_.progress().note(std::string("notifier: restoring kernel.numa_balancing: ") + e.what());
  }
}

std::string Session::point_name(const Point& pt) {
  return std::string(workloads::to_string(pt.kind)) + "/rate=" + rate_name(pt.rate_hz) +
         "/work=" + (pt.work_kind == KPL_NT_WORK_HMM ? "hmm+" : "") + std::to_string(pt.work_ns) +
         "/readers=" + std::to_string(pt.readers) +
         "/notifiers=" + std::to_string(pt.notifiers);
}

std::optional<Result> Session::run(Repetition& rep, const Point& pt, const std::string& name) {
  try {
    return dev_.run(pt, reader_cpus_, cpus_[0]);
  } catch (const std::system_error& e) {
    if (e.code().value() != EINTR || !stop_requested()) throw;
    rep.skip(name, "interrupted (^C) inside the point's window (discarded)");
    return std::nullopt;
  }
}

void Session::record(Repetition& rep, const Point& pt, const Result& r) {
  const auto& q = r.req;
  std::string kind(workloads::to_string(pt.kind));
  json l = {{"kind", kind}, {"rate_hz", pt.rate_hz}, {"work_ns", pt.work_ns},
            {"readers", pt.readers}, {"notifiers", pt.notifiers},
            {"work", pt.work_kind == KPL_NT_WORK_HMM ? "hmm_range_fault+busy" : "busy"}};
  const std::string pre = point_name(pt);
  measured_.insert(pre);
  double secs = double(q.elapsed_ns) / 1e9;
  rep.scalar(pre + "/retry_ratio", q.attempts ? double(q.retries) / double(q.attempts) : 0,
             "ratio", l);
  rep.scalar(pre + "/commits_per_s", secs > 0 ? double(q.successes) / secs : 0, "1/s", l);
  rep.scalar(pre + "/ops_per_s", secs > 0 ? double(r.ops) / secs : 0, "1/s", l);
  rep.scalar(pre + "/invalidations", double(q.invalidations[workloads::notifier_event(pt.kind)]),
             "count", l);
  rep.scalar(pre + "/nonblock_fail", double(q.inval_nonblock_fail), "count", l);
  // Readers CPU hotplug moved off their CPU: each stopped reading there.
  if (pt.readers) {
    json lm = l;
    lm["better"] = "lower";
    rep.scalar(pre + "/check/readers_moved", double(q.readers_moved), "readers", lm);
  }
  if (pt.work_kind == KPL_NT_WORK_HMM)
    rep.scalar(pre + "/hmm_errors", double(q.work_errors), "count", l);
  if (!r.retries.empty()) rep.histogram(pre + "/retries_per_commit", r.retries, "count", l);
  if (!r.begin_wait.empty()) rep.histogram(pre + "/read_begin_wait", r.begin_wait, "ns", l);
  if (!r.commit.empty()) rep.histogram(pre + "/time_to_commit", r.commit, "ns", l);
  if (!r.invalidate.empty()) rep.histogram(pre + "/invalidate_duration", r.invalidate, "ns", l);
  // Every callback by event type, not only the kind's own: anything else
  // (NUMA balancing, compaction, khugepaged) shows here instead of hiding
  // in the retry ratio.
  json row = {pre};
  for (size_t e = 0; e < kEventNames.size(); ++e) {
    rep.scalar(pre + "/events/" + std::string(kEventNames[e]), double(q.invalidations[e]),
               "count", l);
    row.push_back(q.invalidations[e]);
  }
  uint64_t other = 0;  // KPL_NT_EV_OTHER (and the unused slots): a newer kernel's event
  for (size_t e = kEventNames.size(); e < KPL_NT_EVENTS; ++e) other += q.invalidations[e];
  // Callbacks of any other event than the kind's own (NUMA balancing's
  // protection_vma and migration clears when kernel.numa_balancing is on,
  // compaction, khugepaged): retries no workload of ours asked for.
  uint64_t all = other;
  for (size_t e = 0; e < kEventNames.size(); ++e) all += q.invalidations[e];
  {
    json lf = l;
    lf["better"] = "lower";
    lf["numa_balancing"] = ctx_.parameters().value("numa_balancing_during", json("unknown"));
    rep.scalar(pre + "/foreign_invalidations",
               double(all - q.invalidations[workloads::notifier_event(pt.kind)]), "count", lf);
  }
  rep.scalar(pre + "/inval_full", double(q.inval_full), "count", l);
  rep.scalar(pre + "/inval_partial", double(q.inval_partial), "count", l);
  row.insert(row.end(), {other, q.inval_full, q.inval_partial});
  rep.extra()["tables"][0]["rows"].push_back(std::move(row));
}

// The table `kperflab show` prints: callbacks per event type per point.
json events_table() {
  json cols = {"point"};
  for (auto n : kEventNames) cols.push_back(std::string(n));
  cols.insert(cols.end(), {std::string(kOtherEventName), "full", "partial"});
  return {{"title", "invalidation callbacks by mmu_notifier_event (full / partial overlap)"},
          {"columns", cols},
          {"rows", json::array()}};
}

void Session::kinds_by_rate(RunContext& ctx, Repetition& rep) {
  for (auto k : kinds_) {
    if (stop_requested()) return;
    ctx.progress().step(std::string("kind ") + std::string(workloads::to_string(k)));
    workloads::AnonBuffer probe_buf(k == InvalKind::thp_split ? 4UL << 20 : 4096 * 64,
                                    k == InvalKind::thp_split);
    if (auto why = workloads::inval_unavailable(k, probe_buf); !why.empty()) {
      rep.skip(std::string(workloads::to_string(k)), why);
      continue;
    }
    for (auto& rate : p_["rates_hz"]) {
      if (stop_requested()) return;
      measure(rep, base(k, rate.get<double>()));
    }
  }
}

// The readers mirror the range with hmm_range_fault (as a device driver
// does) instead of only spinning: madvise at hmm_rates_hz.
void Session::hmm_by_rate(RunContext& ctx, Repetition& rep) {
  ctx.progress().step("work hmm_range_fault");
  if (auto why = dev_.hmm_unavailable_reason(); !why.empty()) {
    rep.skip("hmm", why);
    return;
  }
  for (auto& rate : p_["hmm_rates_hz"]) {
    if (stop_requested()) return;
    Point pt = base(InvalKind::madv_dontneed, rate.get<double>());
    pt.work_kind = KPL_NT_WORK_HMM;
    measure(rep, pt);
  }
}

// work_ns, readers or notifiers swept alone at madvise, back to back.
void Session::one_factor(RunContext& ctx, Repetition& rep, const char* what) {
  for (auto& v : p_[what]) {
    if (stop_requested()) return;
    ctx.progress().step(std::string(what) + "=" + v.dump());
    Point pt = base(InvalKind::madv_dontneed, -1);
    if (std::string(what) == "work_ns") pt.work_ns = v;
    if (std::string(what) == "readers") pt.readers = v;
    if (std::string(what) == "notifiers") pt.notifiers = v;
    // The base point may already be a point of the kind x rate sweep.
    if (measured_.count(point_name(pt))) continue;
    measure(rep, pt);
  }
}

// madvise latency, back to back, no readers, N notifiers over the buffer.
void Session::cost(RunContext& ctx, Repetition& rep) {
  for (auto& v : p_["cost_notifiers"]) {
    if (stop_requested()) return;
    uint32_t n = v;
    ctx.progress().step("cost notifiers=" + std::to_string(n));
    Histogram lat;
    for (auto k : {InvalKind::madv_dontneed, InvalKind::munmap_mmap}) {
      std::string name(workloads::to_string(k));
      std::string metric = "cost/" + name + "/notifiers=" + std::to_string(n) + "/op_latency";
      if (n == 0) {  // no module involvement at all
        workloads::AnonBuffer buf(4096 * 64);
        workloads::Invalidator inv({.kind = k, .rate_hz = 0, .threads = 1, .cpus = {cpus_[0]},
                                    .max_ops = 0, .gate = nullptr}, buf);
        // The window in slices, so ^C ends it within 20 ms.
        auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(p_["window_ms"].get<int>());
        while (std::chrono::steady_clock::now() < end && !stop_requested())
          std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
              end - std::chrono::steady_clock::now(), std::chrono::milliseconds(20)));
        inv.stop();
        if (stop_requested()) {
          rep.skip(metric, "interrupted (^C) inside the point's window (discarded)");
          return;
        }
        lat = inv.latency();
      } else {
        Point pt = base(k, -1);
        pt.readers = 0;
        pt.notifiers = n;
        auto r = run(rep, pt, metric);
        if (!r) return;
        lat = r->op_latency;
      }
      rep.histogram(metric, lat, "ns", {{"kind", name}, {"notifiers", n}});
    }
  }
}

// What our load costs the host's other processes (#28), once per run: a
// process that is not ours faults on the last online CPU while the module's
// reader and our madvise storm run back to back (the base point, 50 ms
// windows), and while they do not, in interleaved windows. On 2 CPUs the
// reader shares the bystander's CPU, and takes half of it by design.
void Session::bystander(RunContext& ctx, Repetition& rep) {
  if (p_["bystander_rounds"].get<int>() <= 0 || !ctx.run_checks() || stop_requested()) return;
  ctx.progress().step("bystander");
  Point pt = base(InvalKind::madv_dontneed, -1);
  pt.window_ms = 50;  // a window's load stops within 50 ms of its end
  workloads::record_bystander_under_load(
      rep, cpus_.back(), p_["bystander_rounds"].get<int>(),
      p_["bystander_window_ms"].get<uint64_t>(), [&] { dev_.run(pt, reader_cpus_, cpus_[0]); },
      [] { return stop_requested(); }, "the notifier load", {{"load", point_name(pt)}});
}

void Session::run_repetition(RunContext& ctx, Repetition& rep) {
  // What observing costs the host (#28): no BPF program of ours runs; the
  // module's readers and our invalidations are measured against a
  // bystander once per run.
  rep.skip("effect/bpf", "no BPF programs: kperflab.ko measures");
  measured_.clear();
  rep.extra()["tables"] = json::array({events_table()});
  try {  // as it was when this repetition began: held, or changed by someone
    rep.extra()["numa_balancing"] = read_setting(kNumaBalancing).value_or("absent");
  } catch (const std::exception& e) {
    rep.extra()["numa_balancing"] = std::string("unreadable: ") + e.what();
  }
  kinds_by_rate(ctx, rep);
  hmm_by_rate(ctx, rep);
  for (const char* f : {"work_ns", "readers", "notifiers"}) one_factor(ctx, rep, f);
  cost(ctx, rep);
  bystander(ctx, rep);
}

class NotifierProbe : public Probe {
 public:
  std::string_view name() const override { return "notifier"; }
  std::string_view summary() const override {
    return "mmu_interval_notifier read-retry rates under controlled invalidation (kperflab.ko)";
  }
  Availability check(const HostInfo& host) const override {
    if (host.online_count() < 2) return Availability::no("needs at least 2 online CPUs");
    auto why = NtDevice::unavailable_reason();
    return why.empty() ? Availability::yes() : Availability::no(why);
  }
  json parameters(Profile p, const HostInfo&) const override { return profile_params(p); }
  ParamSpecs param_specs(unsigned) const override { return specs(); }
  double estimate_seconds(const json& p) const override {
    double points = double(p["kinds"].size() * p["rates_hz"].size() + p["hmm_rates_hz"].size() +
                           p["work_ns"].size() +
                           p["readers"].size() + p["notifiers"].size() +
                           2 * p["cost_notifiers"].size());
    return points * p["window_ms"].get<double>() / 1000.0 * 1.3;
  }
  // The bystander: 2 x rounds windows, each with a 20 ms settle.
  double estimate_checks_seconds(const json& p) const override {
    return 2.0 * p["bystander_rounds"].get<double>() *
           (p["bystander_window_ms"].get<double>() + 25) / 1000;
  }
  unsigned points(const json& p, const HostInfo&) const override {
    return static_cast<unsigned>(p["kinds"].size() * p["rates_hz"].size() +
                                 p["hmm_rates_hz"].size() + p["work_ns"].size() +
                                 p["readers"].size() + p["notifiers"].size() +
                                 2 * p["cost_notifiers"].size());
  }
  // Shorter windows, down to 250 ms (the lab profile's).
  std::optional<json> cheaper(const json& p, const HostInfo&) const override {
    if (p["window_ms"].get<int>() <= 250) return std::nullopt;
    json c = p;
    c["window_ms"] = std::max(250, p["window_ms"].get<int>() / 2);
    return c;
  }
  double budget_weight() const override { return 2; }
  std::unique_ptr<ProbeSession> prepare(RunContext& ctx, const json& params) override {
    for (auto& r : params["readers"])
      if (r.get<int64_t>() < 1 || r.get<int64_t>() > KPL_NT_MAX_READERS)
        throw std::invalid_argument("notifier.readers: 1.." + std::to_string(KPL_NT_MAX_READERS));
    for (auto& n : params["notifiers"])
      if (n.get<int64_t>() < 1 || n.get<int64_t>() > KPL_NT_MAX_NOTIFIERS)
        throw std::invalid_argument("notifier.notifiers: 1.." + std::to_string(KPL_NT_MAX_NOTIFIERS));
    if (params["window_ms"].get<int64_t>() < 1 || params["window_ms"].get<int64_t>() > KPL_MAX_MS)
      throw std::invalid_argument("notifier.window_ms: 1.." + std::to_string(KPL_MAX_MS));
    if (params["numa_balancing"] != "off" && params["numa_balancing"] != "keep")
      throw std::invalid_argument("notifier.numa_balancing: off (hold kernel.numa_balancing at 0 "
                                  "while measuring) or keep (as found), got " +
                                  params["numa_balancing"].dump());
    return std::make_unique<Session>(ctx, params);
  }
};

}  // namespace

KPERFLAB_REGISTER_PROBE(NotifierProbe);

}  // namespace kperflab::notifier
