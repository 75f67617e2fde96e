// SPDX-License-Identifier: GPL-2.0-only
// The ipi probe (kernel side: kmod/ipi.c): smp_call_function_single one-way
// and round trip from the first online CPU to every other, broadcast to
// 1, 2, 4, ... all other CPUs, irq_work self-IPI per CPU, and a source x
// target matrix under a time budget. Single and broadcast points run once
// per target state (`ipi.targets`): idle targets (on x86 a polling-idle CPU
// runs the handler from its idle loop, without an interrupt) and busy ones
// (a kthread of the module spins there, so every delivery interrupts a
// running CPU). Samples the module could not measure (a failed call, a
// handler that did not run, clocks that disagree across CPUs) are counted
// per point (`<point>/invalid`, breakdown in extra.invalid_samples), never
// recorded. The module's handler delay (parameter or
// `--set ipi.handler_delay_ns=N`) lets regression detection be tested end
// to end. On a many-core host the singles, irq_work and the matrix measure
// a topology sample of the CPUs (`ipi.sample_cpus`, host/cpu_sample.h: an
// SMT sibling, the same LLC, another LLC, every other node kept) instead of
// every CPU and every pair; broadcasts still reach every online CPU.
#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <system_error>

#include "host/cpu_sample.h"
#include "host/kmod_device.h"
#include "core/probe.h"
#include "core/stop.h"
#include "workloads/bystander.h"

namespace kperflab::ipi {

using nlohmann::json;

namespace {

json profile_params(Profile p) {
  json j = {{"handler_delay_ns", 0}, {"matrix", true}, {"targets", "idle,busy"},
            {"bystander_rounds", 5}, {"bystander_window_ms", 200}};
  switch (p) {
    case Profile::quick:
      j.update({{"samples", 2000}, {"matrix_samples", 200}, {"matrix_budget_s", 10},
                {"sample_cpus", 8}});
      break;
    case Profile::standard:
      j.update({{"samples", 10000}, {"matrix_samples", 1000}, {"matrix_budget_s", 60},
                {"sample_cpus", 16}});
      break;
    case Profile::full:
      j.update({{"samples", 50000}, {"matrix_samples", 5000}, {"matrix_budget_s", 300},
                {"sample_cpus", 0}});
      break;
    case Profile::lab:  // every CPU: lab_cpus16 checks the whole 16 x 16 matrix
      j.update({{"samples", 200}, {"matrix_samples", 30}, {"matrix_budget_s", 8},
                {"sample_cpus", 0}, {"bystander_rounds", 3}});
      break;
  }
  return j;
}

// "idle,busy" -> the module's target states, in order; throws on a typo.
std::vector<std::pair<std::string, uint32_t>> parse_targets(const std::string& list) {
  std::vector<std::pair<std::string, uint32_t>> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string t = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (t == "idle") out.emplace_back(t, KPL_IPI_TARGET_IDLE);
    else if (t == "busy") out.emplace_back(t, KPL_IPI_TARGET_BUSY);
    else throw std::invalid_argument("ipi.targets: '" + t + "' is not idle or busy");
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

// Samples and the matrix budget stay within the module's own caps
// (KPL_MAX_SAMPLES per ioctl, each ioctl capped at KPL_MAX_MS).
ParamSpecs specs() {
  return {
      ParamSpec::integer("samples", 1, KPL_MAX_SAMPLES, "IPIs timed per point"),
      ParamSpec::integer("matrix_samples", 1, KPL_MAX_SAMPLES,
                         "IPIs timed per source/target pair of the CPU x CPU matrix"),
      ParamSpec::number("matrix_budget_s", 0.1, 3600, "seconds the whole matrix may take"),
      ParamSpec::integer("handler_delay_ns", 0, KPL_MAX_HANDLER_DELAY_NS,
                         "busy wait inside the IPI handler (A/B tests)"),
      ParamSpec::boolean("matrix", "measure the CPU x CPU matrix"),
      ParamSpec::integer("bystander_rounds", 0, 50,
                         "interleaved rounds of a bystander process's fault rate on the last "
                         "CPU with our broadcast IPIs to it off and on, once per run (0: none)"),
      ParamSpec::integer("bystander_window_ms", 50, 2000, "length of each bystander window, ms"),
      ParamSpec::integer("sample_cpus", 0, 65536,
                         "CPUs the singles, irq_work and the matrix measure, a topology "
                         "sample (0: every online CPU)"),
      ParamSpec::text("targets", "what the target CPU does: a comma list of idle, busy")
          .with_rule([](const json& v) -> std::string {
            try {
              parse_targets(v.get<std::string>());
              return "";
            } catch (const std::invalid_argument& e) {
              return e.what();
            }
          }, "comma list of idle|busy"),
  };
}

std::vector<unsigned> counts_upto(unsigned n) {
  std::vector<unsigned> v;
  for (unsigned k = 1; k < n; k *= 2) v.push_back(k);
  if (n) v.push_back(n);
  return v;
}

class Session : public ProbeSession {
 public:
  Session(RunContext& ctx, json p)
      : p_(std::move(p)), targets_(parse_targets(p_["targets"])),
        online_(ctx.host().online_cpus()) {
    if (online_.size() < 2) throw std::runtime_error("needs at least 2 online CPUs");
    auto s = sample_cpus(ctx.host(), online_, online_.front(), p_["sample_cpus"].get<unsigned>());
    cpus_ = s.cpus;
    if (!s.whole()) ctx.parameters()["sampled_cpus"] = cpus_;
    ctx.parameters()["module_version"] = dev_.info().module_version;
    ctx.parameters()["module_handler_delay_ns"] = dev_.info().handler_delay_ns;
    // arm64 timers tick at 10-40 ns: coarser than the 1 ns buckets.
    ctx.parameters()["clock_granularity_ns"] = dev_.info().clock_granularity_ns;
  }
  unsigned steps() const override {
    size_t broadcasts = counts_upto(static_cast<unsigned>(online_.size() - 1)).size();
    return static_cast<unsigned>(targets_.size() * (cpus_.size() - 1 + broadcasts) +
                                 cpus_.size() + 1) +
           check_steps();
  }
  unsigned check_steps() const override { return p_["bystander_rounds"].get<int>() > 0 ? 1 : 0; }
  void run_repetition(RunContext& ctx, Repetition& rep) override;

 private:
  KmodDevice::IpiParams base(uint32_t pattern, uint32_t samples) const {
    KmodDevice::IpiParams q;
    q.pattern = pattern;
    q.samples = samples;
    q.max_ms = KPL_MAX_MS;
    q.handler_delay_ns = p_["handler_delay_ns"];
    return q;
  }
  // The module's run; at ^C the module ends it with EINTR, and the point is
  // recorded as skipped (discarded), never stored as if complete.
  std::optional<KmodDevice::IpiResult> call(const KmodDevice::IpiParams& q, Repetition& rep,
                                            const std::string& pre) const {
    try {
      return dev_.ipi(q);
    } catch (const std::system_error& e) {
      if (e.code().value() != EINTR || !stop_requested()) throw;
      rep.skip(pre, "interrupted (^C) inside the point (discarded)");
      return std::nullopt;
    }
  }
  // Records what the module could not measure at point pre; a note if any.
  void invalid(RunContext& ctx, Repetition& rep, const std::string& pre,
               const KmodDevice::IpiResult& r);
  void singles(RunContext& ctx, Repetition& rep, const std::string& tname, uint32_t target);
  void broadcast(RunContext& ctx, Repetition& rep, const std::string& tname, uint32_t target);
  void irq_work(RunContext& ctx, Repetition& rep);
  void matrix(RunContext& ctx, Repetition& rep);
  void bystander(RunContext& ctx, Repetition& rep);

  json p_;
  std::vector<std::pair<std::string, uint32_t>> targets_;
  std::vector<int> online_;  // every online CPU: broadcasts reach them all
  std::vector<int> cpus_;    // the CPUs singles, irq_work and the matrix measure
  KmodDevice dev_;
};

void Session::invalid(RunContext& ctx, Repetition& rep, const std::string& pre,
                      const KmodDevice::IpiResult& r) {
  rep.scalar(pre + "/invalid", static_cast<double>(r.invalid()), "samples");
  if (!r.invalid()) return;
  rep.extra()["invalid_samples"][pre] = {{"done", r.done},
                                         {"failed", r.failed},
                                         {"negative", r.negative},
                                         {"after_return", r.after_return},
                                         {"migrated", r.migrated}};
  ctx.progress().note(pre + ": " + std::to_string(r.invalid()) + " of " +
                      std::to_string(r.done) + " samples not measured (failed " +
                      std::to_string(r.failed) + ", clock disagreement " +
                      std::to_string(r.negative + r.after_return) + ")");
}

void Session::singles(RunContext& ctx, Repetition& rep, const std::string& tname,
                      uint32_t target) {
  int src = cpus_[0];
  for (size_t i = 1; i < cpus_.size() && !stop_requested(); ++i) {
    int dst = cpus_[i];
    ctx.progress().step("single " + std::to_string(src) + "->" + std::to_string(dst) + " " +
                        tname);
    auto q = base(KPL_IPI_SINGLE, p_["samples"]);
    q.src_cpu = src;
    q.dst_cpu = dst;
    q.target = target;
    std::string d = to_string(ctx.host().distance(src, dst));
    json l = {{"src", src}, {"dst", dst}, {"distance", d}, {"target", tname}};
    std::string pre = "single/src=" + std::to_string(src) + "/dst=" + std::to_string(dst) +
                      "/target=" + tname;
    auto res = call(q, rep, pre);
    if (!res) return;
    auto& r = *res;
    rep.histogram(pre + "/oneway", r.hist, "ns", l);
    rep.histogram(pre + "/roundtrip", r.hist2, "ns", l);
    invalid(ctx, rep, pre, r);
  }
}

void Session::broadcast(RunContext& ctx, Repetition& rep, const std::string& tname,
                        uint32_t target) {
  for (unsigned n : counts_upto(static_cast<unsigned>(online_.size() - 1))) {
    if (stop_requested()) return;
    ctx.progress().step("broadcast targets=" + std::to_string(n) + " " + tname);
    auto q = base(KPL_IPI_BROADCAST, p_["samples"]);
    q.src_cpu = online_[0];
    q.nr_targets = n;
    q.target = target;
    json l = {{"targets", n}, {"target", tname}};
    std::string pre = "broadcast/targets=" + std::to_string(n) + "/target=" + tname;
    auto res = call(q, rep, pre);
    if (!res) return;
    auto& r = *res;
    rep.histogram(pre + "/all_handlers", r.hist, "ns", l);
    rep.histogram(pre + "/return", r.hist2, "ns", l);
    invalid(ctx, rep, pre, r);
  }
}

void Session::irq_work(RunContext& ctx, Repetition& rep) {
  for (size_t i = 0; i < cpus_.size() && !stop_requested(); ++i) {
    int cpu = cpus_[i];
    ctx.progress().step("irq_work cpu=" + std::to_string(cpu));
    auto q = base(KPL_IPI_IRQ_WORK, p_["samples"]);
    q.dst_cpu = cpu;
    q.src_cpu = cpus_[i == 0 ? 1 : 0];  // validated, not used: irq_work runs on dst
    std::string pre = "irq_work/cpu=" + std::to_string(cpu);
    auto res = call(q, rep, pre);
    if (!res) return;
    auto& r = *res;
    rep.histogram(pre + "/self_ipi", r.hist, "ns", {{"cpu", cpu}});
    invalid(ctx, rep, pre, r);
  }
}

// Every source -> target pair with matrix_samples each, inside the budget;
// p50s into extra.matrices, per-pair histograms when there are <= 16 CPUs.
void Session::matrix(RunContext& ctx, Repetition& rep) {
  const size_t n = cpus_.size();
  const double budget_ms = p_["matrix_budget_s"].get<double>() * 1000;
  const uint32_t per_pair_ms =
      std::clamp<uint32_t>(static_cast<uint32_t>(budget_ms / static_cast<double>(n * (n - 1))), 1, KPL_MAX_MS);
  json ow = json::array(), rt = json::array();
  KmodDevice::IpiResult bad;  // invalid samples over all pairs
  ctx.progress().step("matrix");
  for (int src : cpus_) {
    json row_ow = json::array(), row_rt = json::array();
    for (int dst : cpus_) {
      if (src == dst || stop_requested()) {
        row_ow.push_back(nullptr);
        row_rt.push_back(nullptr);
        continue;
      }
      auto q = base(KPL_IPI_SINGLE, p_["matrix_samples"]);
      q.src_cpu = src;
      q.dst_cpu = dst;
      q.max_ms = per_pair_ms;
      std::string pre = "matrix/src=" + std::to_string(src) + "/dst=" + std::to_string(dst);
      auto res = call(q, rep, pre);
      if (!res) {
        row_ow.push_back(nullptr);
        row_rt.push_back(nullptr);
        continue;
      }
      auto& r = *res;
      bad.done += r.done;
      bad.failed += r.failed;
      bad.negative += r.negative;
      bad.after_return += r.after_return;
      bad.migrated += r.migrated;
      row_ow.push_back(r.hist.empty() ? json(nullptr) : json(r.hist.quantile(0.5)));
      row_rt.push_back(r.hist2.empty() ? json(nullptr) : json(r.hist2.quantile(0.5)));
      if (n <= 16 && !r.hist.empty())
        rep.histogram("matrix/src=" + std::to_string(src) + "/dst=" + std::to_string(dst) +
                          "/oneway", r.hist, "ns", {{"src", src}, {"dst", dst}});
    }
    ow.push_back(row_ow);
    rt.push_back(row_rt);
  }
  if (stop_requested()) {  // pairs missing: not the matrix this run asked for
    rep.skip("matrix", "interrupted (^C) before every pair was measured (discarded)");
    return;
  }
  invalid(ctx, rep, "matrix", bad);
  rep.extra()["matrices"].push_back(
      {{"title", "smp_call_function_single one-way p50"}, {"unit", "ns"}, {"rows", cpus_},
       {"cols", cpus_}, {"values", ow}});
  rep.extra()["matrices"].push_back(
      {{"title", "smp_call_function_single round-trip p50"}, {"unit", "ns"}, {"rows", cpus_},
       {"cols", cpus_}, {"values", rt}});
}

// What our IPIs cost the host's other processes (#28), once per run: a
// process that is not ours faults on the last online CPU while we
// broadcast to every other CPU (it among them) back to back, and while we
// do not, in interleaved windows. The targets are in the run's first state
// (idle: the handler's time only; busy adds a kthread of ours spinning on
// the bystander's CPU, which takes half of it by design).
void Session::bystander(RunContext& ctx, Repetition& rep) {
  if (p_["bystander_rounds"].get<int>() <= 0 || !ctx.run_checks() || stop_requested()) return;
  ctx.progress().step("bystander");
  const auto& [tname, target] = targets_.front();
  auto q = base(KPL_IPI_BROADCAST, KPL_MAX_SAMPLES);
  q.src_cpu = online_.front();
  q.nr_targets = static_cast<uint32_t>(online_.size() - 1);
  q.target = target;
  q.max_ms = 20;  // a window's load stops within 20 ms of its end
  workloads::record_bystander_under_load(
      rep, online_.back(), p_["bystander_rounds"].get<int>(),
      p_["bystander_window_ms"].get<uint64_t>(), [&] { dev_.ipi(q); },
      [] { return stop_requested(); }, "the IPI load",
      {{"load", "broadcast/targets=" + std::to_string(q.nr_targets) + "/target=" + tname}});
}

void Session::run_repetition(RunContext& ctx, Repetition& rep) {
  // What observing costs the host (#28): no BPF program of ours runs; the
  // module's IPIs are measured against a bystander once per run.
  rep.skip("effect/bpf", "no BPF programs: kperflab.ko measures");
  for (const auto& [tname, target] : targets_) singles(ctx, rep, tname, target);
  for (const auto& [tname, target] : targets_) broadcast(ctx, rep, tname, target);
  irq_work(ctx, rep);
  if (p_["matrix"].get<bool>() && !stop_requested()) matrix(ctx, rep);
  bystander(ctx, rep);
}

// CPUs the singles, irq_work and the matrix measure on this host.
unsigned measured(const json& p, const HostInfo& host) {
  auto online = host.online_cpus();
  if (online.size() < 2) return static_cast<unsigned>(online.size());
  return static_cast<unsigned>(
      sample_cpus(host, online, online.front(), p["sample_cpus"].get<unsigned>()).cpus.size());
}

class IpiProbe : public Probe {
 public:
  std::string_view name() const override { return "ipi"; }
  std::string_view summary() const override {
    return "raw IPIs via kperflab.ko: one-way, round trip, broadcast, irq_work, CPU x CPU";
  }
  Availability check(const HostInfo& host) const override {
    if (host.online_count() < 2) return Availability::no("needs at least 2 online CPUs");
    auto why = KmodDevice::unavailable_reason();
    return why.empty() ? Availability::yes() : Availability::no(why);
  }
  json parameters(Profile p, const HostInfo&) const override { return profile_params(p); }
  ParamSpecs param_specs(unsigned) const override { return specs(); }
  double estimate_seconds(const json& p) const override {
    return 2.0 + (p["matrix"].get<bool>() ? p["matrix_budget_s"].get<double>() : 0);
  }
  // The bystander: 2 x rounds windows, each with a 20 ms settle.
  double estimate_checks_seconds(const json& p) const override {
    return 2.0 * p["bystander_rounds"].get<double>() *
           (p["bystander_window_ms"].get<double>() + 25) / 1000;
  }
  // Singles and broadcasts per target state, irq_work, the matrix pairs.
  unsigned points(const json& p, const HostInfo& host) const override {
    const std::string targets = p["targets"].get<std::string>();  // one string, both ends
    unsigned states = 1 + static_cast<unsigned>(std::count(targets.begin(), targets.end(), ','));
    unsigned n = measured(p, host);
    return 2 * states + 1 + (p["matrix"].get<bool>() ? n * (n - 1) : 0);
  }
  std::string sampled(const json& p, const HostInfo& host) const override {
    auto online = host.online_cpus();
    if (online.size() < 2) return "";
    auto s = sample_cpus(host, online, online.front(), p["sample_cpus"].get<unsigned>());
    if (s.whole()) return "";
    size_t n = s.cpus.size(), all = online.size();
    return "singles, irq_work and matrix on " + s.summary(host) + "; matrix " +
           std::to_string(n * (n - 1)) + " of " + std::to_string(all * (all - 1)) + " pairs";
  }
  // The matrix's time first (it spreads over every pair), down to 5 s, then
  // fewer samples per point, down to 1000.
  std::optional<json> cheaper(const json& p, const HostInfo&) const override {
    json c = p;
    if (p["matrix"].get<bool>() && p["matrix_budget_s"].get<double>() > 5)
      c["matrix_budget_s"] = std::max(5.0, p["matrix_budget_s"].get<double>() / 2);
    else if (p["samples"].get<int>() > 1000)
      c["samples"] = std::max(1000, p["samples"].get<int>() / 2);
    else
      return std::nullopt;
    return c;
  }
  double budget_weight() const override { return 2; }
  std::unique_ptr<ProbeSession> prepare(RunContext& ctx, const json& params) override {
    if (params["handler_delay_ns"].get<uint64_t>() > KPL_MAX_HANDLER_DELAY_NS)
      throw std::invalid_argument("ipi.handler_delay_ns: at most " +
                                  std::to_string(KPL_MAX_HANDLER_DELAY_NS));
    if (params["sample_cpus"].get<unsigned>() == 1)
      throw std::invalid_argument("ipi.sample_cpus: 0 (every CPU) or at least 2");
    if (!params["targets"].is_string() || parse_targets(params["targets"]).empty())
      throw std::invalid_argument("ipi.targets: a list of idle,busy");
    return std::make_unique<Session>(ctx, params);
  }
};

}  // namespace

KPERFLAB_REGISTER_PROBE(IpiProbe);

}  // namespace kperflab::ipi
