// SPDX-License-Identifier: GPL-2.0-only
#include "orders.h"

#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "ipi_count.h"
#include "order_child.h"
#include "core/stop.h"
#include "workloads/spinner.h"

namespace kperflab::membarrier {

using nlohmann::json;

namespace {

// The litmus cases: command (metric name), call, registration, orders.
struct LitmusCase {
  const char* param;  // name in membarrier.litmus
  const char* name;   // metric component
  int cmd, register_cmd;
  std::vector<RegOrder> orders;
};

const std::vector<LitmusCase>& litmus_cases() {
  static const std::vector<LitmusCase> c = {
      {"control", "none", 0, 0, {RegOrder::none}},
      {"private_expedited", "private_expedited", kPrivateExpedited, kRegisterPrivateExpedited,
       {RegOrder::before_threads}},
      {"global_expedited", "global_expedited", kGlobalExpedited, kRegisterGlobalExpedited,
       {RegOrder::before_threads, RegOrder::after_threads}},
      {"private_expedited_rseq", "private_expedited_rseq", kPrivateExpeditedRseq,
       kRegisterPrivateExpeditedRseq, {RegOrder::before_threads}},
      {"private_expedited_sync_core", "private_expedited_sync_core", kPrivateExpeditedSyncCore,
       kRegisterPrivateExpeditedSyncCore, {RegOrder::before_threads}},
  };
  return c;
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

bool wanted(const json& list, const char* name) {
  for (auto& v : list)
    if (v == name) return true;
  return false;
}

// One registration order, in a fresh process: first GLOBAL_EXPEDITED alone
// with IPIs paired by BPF (the child's tgid; the skip, where it happens,
// lasts only until the target switches to our thread from another mm, so
// this pass comes first); then GLOBAL_EXPEDITED and the PRIVATE_EXPEDITED
// control interleaved, counted at the target from /proc/interrupts: their
// ratio says whether a miss is the kernel's (the control reached the
// running target) or the machine's (neither reached it).
void order_point(const OrderSweep& o, RegOrder order, Report& report, Repetition& rep,
                 json& rows) {
  const std::string name = std::string("global_expedited/registered=") + to_string(order) +
                           "/targets=1/spin";
  json labels = {{"cmd", "global_expedited"}, {"registered", to_string(order)}, {"targets", 1},
                 {"state", "spin"}, {"target_cpu", o.target_cpu},
                 {"counted_by", o.tracer ? "bpf" : "proc_interrupts"}};
  const uint64_t calls = o.params["delivery_iterations"];
  OrderChild child(o.clock, {order, {kRegisterGlobalExpedited, kRegisterPrivateExpedited},
                             o.caller_cpu, o.target_cpu, true});
  if (child.info().register_errno) {
    rep.skip(name, "REGISTER failed in the child: " + errno_text(child.info().register_errno));
    return;
  }
  labels["registrations"] = child.info().registrations;
  if (o.tracer) o.tracer->arm(child.pid());
  // In blocks, so that ^C ends the point within one block of calls.
  CallsResult g;
  bool stopped = false;
  for (uint64_t done = 0; done < calls && !g.error && !(stopped = stop_requested());) {
    CallsResult b = child.calls(kGlobalExpedited, std::min<uint64_t>(1000, calls - done));
    g.calls += b.calls, g.error = b.error, g.ns += b.ns;
    done += 1000;
  }
  Delivery d;
  if (o.tracer) {
    o.tracer->disarm();
    d.calls = g.calls;
    d.cpus = o.tracer->read();
  }
  Interleaved il;
  if (!stopped)
    il = interleave_with_control(child, kGlobalExpedited, kPrivateExpedited, calls, o.target_cpu,
                                 [] { return stop_requested(); });
  if (stopped || il.stopped) {
    rep.skip(name, "interrupted (^C): the point's calls are discarded");
    return;
  }
  if (g.error || il.error) {
    rep.skip(name, "membarrier failed in the child: " + errno_text(g.error ? g.error : il.error));
    return;
  }
  Point pt;
  pt.name = name;
  pt.labels = labels;
  pt.cmd = kGlobalExpedited;
  pt.caller_cpu = o.caller_cpu;
  pt.expected = {o.target_cpu};
  double missed = -1;
  std::optional<double> cal, ctl, rel;
  if (il.counted) {
    cal = il.per_call();
    ctl = il.control_per_call();
    rep.scalar(name + "/function_call_ipis_per_call", *cal, "ratio", labels);
    rep.scalar(name + "/control_private_expedited_ipis_per_call", *ctl, "ratio", labels);
    if (*ctl > 0) rep.scalar(name + "/global_to_control", *(rel = *cal / *ctl), "ratio", labels);
  }
  if (o.tracer) {
    missed = report.delivery_point(pt, d);
  } else if (rel) {
    // No BPF: the interleaved pass is the measurement.
    labels["calls"] = il.calls;
    rep.scalar(name + "/ipis_per_call", *cal, "ratio", labels);
    rep.scalar(name + "/missed_ipi_fraction", missed = std::max(0.0, 1.0 - *cal), "ratio", labels);
  } else {
    rep.skip(name + "/ipis_per_call", "no BPF delivery tracing, and no function-call IPI count "
                                      "at the target in /proc/interrupts");
  }
  // A kernel skip: GLOBAL reached the target at most half as often as the
  // control did, the control reaching it at least a fifth of the time.
  const bool kernel_skip = missed > 0.05 && rel && *ctl >= 0.2 && *rel <= 0.5;
  std::string why = "delivered";
  if (kernel_skip)
    why = "skipped by the kernel: the target ran our thread (PRIVATE_EXPEDITED reached it) but "
          "its runqueue's membarrier_state lacked GLOBAL_EXPEDITED";
  else if (missed > 0.05 && rel && *rel > 0.5)
    why = "missed in the first pass, but GLOBAL reached the target as often as the control "
          "in the interleaved pass: the target was not running then, or the skip ended (the "
          "target switched to our thread from another process)";
  else if (missed > 0.05)
    why = "missed; no control to tell why";
  else if (missed < 0)
    why = "not counted";
  rows.push_back({name, calls, missed < 0 ? json(nullptr) : json(missed),
                  cal ? json(*cal) : json(nullptr), ctl ? json(*ctl) : json(nullptr), why});
  if (kernel_skip)
    report.note(name + ": " + fmt(missed) + " of the calls sent no IPI to CPU " +
                std::to_string(o.target_cpu) + " although it ran a spinning thread of the "
                "registered process (interleaved PRIVATE_EXPEDITED: " + fmt(*ctl) +
                " IPIs per call, GLOBAL_EXPEDITED " + fmt(*cal) + "). " +
                (order == RegOrder::before_threads
                ? "Registered while single-threaded: sync_runqueues_membarrier_state() marks only "
                  "the registering CPU's runqueue, and the target CPU switched to our thread from "
                  "an idle task that lazily kept our mm, so membarrier_switch_mm() did not "
                  "refresh it. GLOBAL_EXPEDITED gives no guarantee for that thread."
                : "Registered while multi-threaded: unexpected (that path IPIs every CPU running "
                  "our mm); see bench/membarrier/README.md."));
}

void run_litmus_case(const OrderSweep& o, const LitmusCase& lc, RegOrder order, Report& report,
                     Repetition& rep, json& rows) {
  const std::string base = std::string("litmus/") + lc.name + "/" +
                           (order == RegOrder::none ? "control" : to_string(order));
  // The control's reordering is what it is there to see: no direction, and
  // compare's forbidden-outcome rule does not apply to it.
  json labels = {{"cmd", lc.name}, {"registered", to_string(order)},
                 {"better", order == RegOrder::none ? "none" : "lower"},
                 {"caller_cpu", o.caller_cpu}, {"target_cpu", o.target_cpu}};
  OrderSetup s{order, {}, o.caller_cpu, o.target_cpu, true};
  if (lc.register_cmd) s.register_cmds = {lc.register_cmd};
  OrderChild child(o.clock, s);
  if (child.info().register_errno) {
    rep.skip(base + "/forbidden_per_million",
             "REGISTER failed: " + errno_text(child.info().register_errno));
    return;
  }
  const uint64_t want = lc.cmd ? o.params["litmus_trials"].get<uint64_t>()
                               : o.params["litmus_control_trials"].get<uint64_t>();
  const uint64_t cap_ns = static_cast<uint64_t>(o.params["litmus_max_s"].get<double>() * 1e9);
  LitmusResult total;
  // Batches keep ^C within a fraction of a second.
  while (total.trials < want && !total.capped) {
    if (stop_requested()) {
      rep.skip(base + "/forbidden_per_million",
               "interrupted after " + std::to_string(total.trials) + " trials (discarded)");
      return;
    }
    uint64_t left_ns = cap_ns > total.ns ? cap_ns - total.ns : 0;
    LitmusResult b = child.litmus(lc.cmd, std::min<uint64_t>(want - total.trials, 10000), left_ns);
    total.trials += b.trials, total.forbidden += b.forbidden, total.both += b.both;
    total.caller_first += b.caller_first, total.target_first += b.target_first;
    total.ns += b.ns;
    total.capped = b.capped || (total.ns >= cap_ns && total.trials < want);
    if (b.error) {
      rep.skip(base + "/forbidden_per_million",
               (b.error == ETIMEDOUT ? std::string("the target thread stopped running: ")
                                     : std::string("membarrier failed: ")) + errno_text(b.error));
      return;
    }
  }
  if (total.trials == 0) {
    rep.skip(base + "/forbidden_per_million", "no trial ran within litmus_max_s");
    return;
  }
  labels["capped"] = total.capped;
  labels["trials_wanted"] = want;
  const double per_m = 1e6 * static_cast<double>(total.forbidden) / static_cast<double>(total.trials);
  rep.scalar(base + "/forbidden_per_million", per_m, "per_million", labels);
  rep.scalar(base + "/forbidden", static_cast<double>(total.forbidden), "count", labels);
  rep.scalar(base + "/trials", static_cast<double>(total.trials), "count", labels);
  rep.scalar(base + "/overlapped", static_cast<double>(total.both), "count", labels);
  std::string shows;
  if (!lc.cmd)
    shows = total.forbidden ? "the CPU reorders store-load: the test can see it"
          : total.both       ? "no reordering seen although the sides overlapped"
                             : "the sides never overlapped (loaded machine?): shows nothing";
  else if (total.forbidden)
    shows = "FORBIDDEN OUTCOME SEEN: the guarantee failed";
  else if (order == RegOrder::before_threads && lc.cmd == kGlobalExpedited)
    shows = "none seen; proves nothing where the IPI is skipped (see the registered= points)";
  else
    shows = "none seen";
  rows.push_back({base, total.trials, total.forbidden, per_m, total.both, total.capped, shows});
  if (total.forbidden && lc.cmd)
    report.note(base + ": " + std::to_string(total.forbidden) + " of " +
                std::to_string(total.trials) + " trials saw r1 == r2 == 0, which membarrier(" +
                lc.name + ") forbids: a thread of the registered process was not ordered.");
}

}  // namespace

unsigned order_steps(const json& p) {
  unsigned n = p.value("order_points", true) ? 2 : 0;
  for (auto& lc : litmus_cases())
    if (wanted(p["litmus"], lc.param)) n += static_cast<unsigned>(lc.orders.size());
  return n;
}

double order_estimate_seconds(const json& p) {
  // Per trial: the 3 us start lead plus, with membarrier, an IPI-sending
  // call (tens of us on a VM); a case ends at litmus_max_s at the latest.
  const double cap = p["litmus_max_s"].get<double>();
  double s = p.value("order_points", true) ? 2 * 3 * p["delivery_iterations"].get<double>() * 30e-6 : 0;
  for (auto& lc : litmus_cases())
    if (wanted(p["litmus"], lc.param))
      s += static_cast<double>(lc.orders.size()) *
           std::min(cap, lc.cmd ? p["litmus_trials"].get<double>() * 40e-6
                                : p["litmus_control_trials"].get<double>() * 5e-6);
  return s;
}

void run_order_sweeps(RunContext& ctx, const OrderSweep& o, Report& report, Repetition& rep) {
  const bool orders = o.params.value("order_points", true);
  if (o.target_cpu < 0) {
    if (orders) rep.skip("global_expedited/registered", "needs a second online CPU for the target");
    if (!o.params["litmus"].empty()) rep.skip("litmus", "needs a second online CPU for the target");
    return;
  }
  // This process stays on the caller CPU while the children run: waking up
  // on the target CPU, it would switch that CPU to another mm and back,
  // which refreshes the runqueue state and ends a skip (the caller
  // restores the affinity).
  try {
    workloads::pin_self(o.caller_cpu);
  } catch (const std::exception&) {
    // The children pin themselves; this only makes the skip less likely.
  }
  json order_rows = json::array(), litmus_rows = json::array();
  if (orders && !(o.mask & kGlobalExpedited))
    rep.skip("global_expedited/registered", "not in MEMBARRIER_CMD_QUERY's mask (or REGISTER refused)");
  else if (orders && !(o.mask & kPrivateExpedited))
    rep.skip("global_expedited/registered", "needs PRIVATE_EXPEDITED for the control");
  else if (orders)
    for (RegOrder order : {RegOrder::before_threads, RegOrder::after_threads}) {
      if (stop_requested()) return;
      ctx.progress().step(std::string("global_expedited/registered=") + to_string(order));
      try {
        order_point(o, order, report, rep, order_rows);
      } catch (const std::exception& e) {
        if (o.tracer) o.tracer->disarm();
        rep.skip(std::string("global_expedited/registered=") + to_string(order), e.what());
      }
    }
  for (auto& lc : litmus_cases()) {
    if (!wanted(o.params["litmus"], lc.param)) continue;
    for (RegOrder order : lc.orders) {
      if (stop_requested()) return;
      const std::string base = std::string("litmus/") + lc.name + "/" +
                               (order == RegOrder::none ? "control" : to_string(order));
      ctx.progress().step(base);
      if (lc.cmd && !(o.mask & lc.cmd)) {
        rep.skip(base + "/forbidden_per_million",
                 "not in MEMBARRIER_CMD_QUERY's mask (or REGISTER refused): the kernel lacks it");
        continue;
      }
      try {
        run_litmus_case(o, lc, order, report, rep, litmus_rows);
      } catch (const std::exception& e) {
        rep.skip(base + "/forbidden_per_million", e.what());
      }
    }
  }
  auto& tables = rep.extra()["tables"];
  if (!order_rows.empty())
    tables.push_back(
        {{"title", "membarrier GLOBAL_EXPEDITED by registration order (a fresh process per row; "
                   "control = PRIVATE_EXPEDITED IPIs to the same target, proves it was running)"},
         {"columns", {"point", "calls", "missed", "fn-call IPIs/call", "control IPIs/call", "why"}},
         {"rows", std::move(order_rows)}});
  if (!litmus_rows.empty())
    tables.push_back(
        {{"title", "membarrier litmus: store buffering, forbidden = r1 == r2 == 0 (overlapped = "
                   "r1 == r2 == 1: the two sides ran at the same time)"},
         {"columns", {"case", "trials", "forbidden", "per million", "overlapped", "capped", "shows"}},
         {"rows", std::move(litmus_rows)}});
}

}  // namespace kperflab::membarrier
