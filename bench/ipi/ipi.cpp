// SPDX-License-Identifier: GPL-2.0-only
// The ipi probe (kernel side: kmod/ipi.c): smp_call_function_single one-way
// and round trip from the first online CPU to every other, broadcast to
// 1, 2, 4, ... all other CPUs, irq_work self-IPI per CPU, and a source x
// target matrix under a time budget. The module's handler delay (parameter
// or `--set ipi.handler_delay_ns=N`) lets regression detection be tested
// end to end.
#include <algorithm>
#include <system_error>

#include "kmod_device.h"
#include "probe.h"
#include "runner.h"

namespace kperflab::ipi {

using nlohmann::json;

namespace {

json profile_params(Profile p) {
  json j = {{"handler_delay_ns", 0}, {"matrix", true}};
  switch (p) {
    case Profile::quick: j.update({{"samples", 2000}, {"matrix_samples", 200}, {"matrix_budget_s", 10}}); break;
    case Profile::standard: j.update({{"samples", 10000}, {"matrix_samples", 1000}, {"matrix_budget_s", 60}}); break;
    case Profile::full: j.update({{"samples", 50000}, {"matrix_samples", 5000}, {"matrix_budget_s", 300}}); break;
    case Profile::lab: j.update({{"samples", 200}, {"matrix_samples", 30}, {"matrix_budget_s", 8}}); break;
  }
  return j;
}

std::vector<unsigned> counts_upto(unsigned n) {
  std::vector<unsigned> v;
  for (unsigned k = 1; k < n; k *= 2) v.push_back(k);
  if (n) v.push_back(n);
  return v;
}

class Session : public ProbeSession {
 public:
  Session(RunContext& ctx, json p) : p_(std::move(p)), cpus_(ctx.host().online_cpus()) {
    if (cpus_.size() < 2) throw std::runtime_error("needs at least 2 online CPUs");
    ctx.parameters()["module_version"] = dev_.info().module_version;
    ctx.parameters()["module_handler_delay_ns"] = dev_.info().handler_delay_ns;
  }
  unsigned steps() const override { return static_cast<unsigned>(cpus_.size() * 2 + 2); }
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
  void singles(RunContext& ctx, Repetition& rep);
  void broadcast(RunContext& ctx, Repetition& rep);
  void irq_work(RunContext& ctx, Repetition& rep);
  void matrix(RunContext& ctx, Repetition& rep);

  json p_;
  std::vector<int> cpus_;
  KmodDevice dev_;
};

void Session::singles(RunContext& ctx, Repetition& rep) {
  int src = cpus_[0];
  for (size_t i = 1; i < cpus_.size() && !stop_requested(); ++i) {
    int dst = cpus_[i];
    ctx.progress().step("single " + std::to_string(src) + "->" + std::to_string(dst));
    auto q = base(KPL_IPI_SINGLE, p_["samples"]);
    q.src_cpu = src;
    q.dst_cpu = dst;
    auto r = dev_.ipi(q);
    std::string d = to_string(ctx.host().distance(src, dst));
    json l = {{"src", src}, {"dst", dst}, {"distance", d}};
    std::string pre = "single/src=" + std::to_string(src) + "/dst=" + std::to_string(dst);
    rep.histogram(pre + "/oneway", r.hist, "ns", l);
    rep.histogram(pre + "/roundtrip", r.hist2, "ns", l);
  }
}

void Session::broadcast(RunContext& ctx, Repetition& rep) {
  for (unsigned n : counts_upto(static_cast<unsigned>(cpus_.size() - 1))) {
    if (stop_requested()) return;
    ctx.progress().step("broadcast targets=" + std::to_string(n));
    auto q = base(KPL_IPI_BROADCAST, p_["samples"]);
    q.src_cpu = cpus_[0];
    q.nr_targets = n;
    auto r = dev_.ipi(q);
    json l = {{"targets", n}};
    std::string pre = "broadcast/targets=" + std::to_string(n);
    rep.histogram(pre + "/all_handlers", r.hist, "ns", l);
    rep.histogram(pre + "/return", r.hist2, "ns", l);
  }
}

void Session::irq_work(RunContext& ctx, Repetition& rep) {
  for (size_t i = 0; i < cpus_.size() && !stop_requested(); ++i) {
    int cpu = cpus_[i];
    ctx.progress().step("irq_work cpu=" + std::to_string(cpu));
    auto q = base(KPL_IPI_IRQ_WORK, p_["samples"]);
    q.dst_cpu = cpu;
    q.src_cpu = cpus_[i == 0 ? 1 : 0];  // validated, not used: irq_work runs on dst
    auto r = dev_.ipi(q);
    rep.histogram("irq_work/cpu=" + std::to_string(cpu) + "/self_ipi", r.hist, "ns",
                  {{"cpu", cpu}});
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
      auto r = dev_.ipi(q);
      row_ow.push_back(r.hist.empty() ? json(nullptr) : json(r.hist.quantile(0.5)));
      row_rt.push_back(r.hist2.empty() ? json(nullptr) : json(r.hist2.quantile(0.5)));
      if (n <= 16 && !r.hist.empty())
        rep.histogram("matrix/src=" + std::to_string(src) + "/dst=" + std::to_string(dst) +
                          "/oneway", r.hist, "ns", {{"src", src}, {"dst", dst}});
    }
    ow.push_back(row_ow);
    rt.push_back(row_rt);
  }
  rep.extra()["matrices"].push_back(
      {{"title", "smp_call_function_single one-way p50"}, {"unit", "ns"}, {"rows", cpus_},
       {"cols", cpus_}, {"values", ow}});
  rep.extra()["matrices"].push_back(
      {{"title", "smp_call_function_single round-trip p50"}, {"unit", "ns"}, {"rows", cpus_},
       {"cols", cpus_}, {"values", rt}});
}

void Session::run_repetition(RunContext& ctx, Repetition& rep) {
  singles(ctx, rep);
  broadcast(ctx, rep);
  irq_work(ctx, rep);
  if (p_["matrix"].get<bool>() && !stop_requested()) matrix(ctx, rep);
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
  double estimate_seconds(const json& p) const override {
    return 2.0 + p["matrix_budget_s"].get<double>();
  }
  std::unique_ptr<ProbeSession> prepare(RunContext& ctx, const json& params) override {
    if (params["handler_delay_ns"].get<uint64_t>() > KPL_MAX_HANDLER_DELAY_NS)
      throw std::invalid_argument("ipi.handler_delay_ns: at most " +
                                  std::to_string(KPL_MAX_HANDLER_DELAY_NS));
    return std::make_unique<Session>(ctx, params);
  }
};

}  // namespace

KPERFLAB_REGISTER_PROBE(IpiProbe);

}  // namespace kperflab::ipi
