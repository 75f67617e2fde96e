// SPDX-License-Identifier: GPL-2.0-only
// The load the mmap_lock probe measures and what one sweep point records:
// a fault storm (workloads/fault_storm.h) per point of kind x threads x
// writer, traced only from its go to its stop so its set-up is not in the
// histograms, and the per-VMA lock outcomes of the same window. The
// overhead and the cross-check run their storms through storm() here.
#include <time.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "mmap_lock.h"
#include "core/probe.h"
#include "core/stop.h"
#include "session.h"
#include "tracer.h"
#include "workloads/fault_storm.h"

namespace kperflab::mmap_lock {

namespace {

void sleep_ms_interruptible(uint64_t ms) {
  const uint64_t slice = 20;
  for (uint64_t done = 0; done < ms && !stop_requested(); done += slice) {
    timespec ts{0, static_cast<long>(std::min(slice, ms - done) * 1000000)};
    nanosleep(&ts, nullptr);
  }
}

}  // namespace

std::vector<unsigned> Session::thread_counts() const {
  std::vector<unsigned> v;
  for (auto& t : p_["threads"])
    v.push_back(std::min(t.get<unsigned>(), static_cast<unsigned>(cpus_.size())));
  if (v.empty()) {
    v.push_back(1);
    if (cpus_.size() > 1) v.push_back(static_cast<unsigned>(cpus_.size()));
  }
  return v;
}

workloads::FaultStormConfig Session::storm_config(const Point& pt) const {
  workloads::FaultStormConfig c;
  c.kind = pt.kind;
  c.threads = pt.threads;
  c.region_bytes = p_["region_mib"].get<size_t>() << 20;
  // Many threads of large regions: shrunk to half of the memory available
  // when the run began (the point's region_mib label says by how much).
  if (mem_budget_)
    if (size_t fit = workloads::fault_storm_region_that_fits(c, mem_budget_); fit && fit < c.region_bytes)
      c.region_bytes = std::max<size_t>(fit >> 20, 1) << 20;
  c.rate = p_["rate"].get<double>();
  c.writer = pt.writer;
  c.writers = pt.writer == workloads::WriterKind::none ? 0 : 1;
  c.writer_rate = p_["writer_rate"].get<double>();
  c.cpus = cpus_;
  return c;
}

workloads::FaultStormResult Session::storm(const Point& pt, uint64_t ms,
                                           const std::function<void()>& at_go) {
  workloads::FaultStorm s(storm_config(pt));
  s.prepare();
  if (at_go) at_go();
  s.go();
  sleep_ms_interruptible(ms);
  auto r = s.stop();
  if (!r.error.empty()) throw std::runtime_error(r.error);
  return r;
}

void Session::measure_point(RunContext&, Repetition& rep, const Point& pt) {
  const std::string base = pt.name();
  std::string why = workloads::fault_storm_unavailable(storm_config(pt));
  if (!why.empty()) {
    rep.skip(base, why);
    return;
  }
  tracer_->reset();
  std::map<std::string, uint64_t> before;
  workloads::FaultStormResult r;
  const bpf::ProgRuns runs0 = tracer_->runs();
  try {
    r = storm(pt, p_["duration_ms"].get<uint64_t>(), [&] {
      tracer_->attach();  // at go: the storm's set-up ran untraced
      before = read_vmstat();
      tracer_->arm(true);
    });
  } catch (const std::exception& e) {
    tracer_->arm(false);
    tracer_->detach();
    rep.skip(base, e.what());
    return;
  }
  tracer_->arm(false);
  tracer_->detach();  // the storm has stopped
  bpf::add_runs(point_runs_, tracer_->runs(), runs0);
  point_seconds_ += r.seconds;
  auto after = read_vmstat();
  if (stop_requested()) {
    rep.skip(base, "interrupted (^C) during the point (discarded)");
    return;
  }
  json labels = {{"kind", workloads::to_string(pt.kind)},
                 {"threads", pt.threads},
                 {"writer", workloads::to_string(pt.writer)},
                 {"region_mib", storm_config(pt).region_bytes >> 20}};
  static const char* who_name[] = {"ours", "other"};
  static const char* op_name[] = {"read", "write"};
  for (int kind = 0; kind < 2; ++kind)
    for (int w = 0; w < 2; ++w)
      for (int op = 0; op < 2; ++op) {
        Histogram h = tracer_->hist(kind, w, op);
        if (h.empty()) continue;  // e.g. no writer: no write waits
        json l = labels;
        l.update({{"who", who_name[w]}, {"op", op_name[op]}});
        // Up to 6.13 the tracepoints format the memcg path while the lock
        // is held (acquire_returned, released): holds include it. compare
        // never decides a row across the two (analysis/compare.cpp).
        l["comparable_with"] = std::string("tracepoints=") + to_string(tracer_->flav());
        rep.histogram(base + "/" + (kind ? "hold/" : "wait/") + who_name[w] + "/" + op_name[op],
                      h, "ns", l);
      }
  Counts c = tracer_->counts();
  const auto& r_ours = c.at(KPL_ML_OURS, KPL_ML_READ);
  const auto& w_ours = c.at(KPL_ML_OURS, KPL_ML_WRITE);
  uint64_t faults = r.minflt + r.majflt;
  auto scalar = [&](const std::string& name, double v, const char* unit, const char* better,
                    json extra = json::object()) {
    json l = labels;
    l["better"] = better;
    l.update(extra);
    rep.scalar(base + "/" + name, v, unit, l);
  };
  if (r.seconds > 0 && faults > 0) {
    scalar("faults_per_s", faults / r.seconds, "faults/s", "higher",
           {{"faults", faults}, {"pages", r.pages}, {"seconds", r.seconds}});
    // Read acquisitions of our tasks (locks and trylocks) per fault:
    // ~1 where every fault takes mmap_lock, ~0 with per-VMA locks.
    double acq = static_cast<double>(r_ours.acquired);
    scalar("acquisitions_per_fault", acq / faults, "ratio", "lower",
           {{"read_acquisitions", r_ours.acquired}});
  } else {
    rep.skip(base + "/faults_per_s", "the workload took no page faults in the window");
  }
  if (pt.writer != workloads::WriterKind::none && r.seconds > 0)
    scalar("writer_ops_per_s", r.writer_ops / r.seconds, "ops/s", "higher");
  // Our tasks released every lock they took (they stopped before disarm):
  // anything else is a pairing error of the probe, shown, never hidden. A
  // downgrade turns a write hold into a read hold: not a new acquisition.
  uint64_t acquired = r_ours.acquired + w_ours.acquired;
  uint64_t released = r_ours.released + w_ours.released;
  uint64_t unpaired = r_ours.unpaired_acquire + w_ours.unpaired_acquire +
                      r_ours.release_unmatched + w_ours.release_unmatched;
  scalar("ours/acquired", static_cast<double>(acquired), "locks", "none",
         {{"read", r_ours.acquired}, {"write", w_ours.acquired}});
  scalar("ours/downgraded", static_cast<double>(r_ours.downgraded), "locks", "none");
  scalar("ours/unmatched",
         static_cast<double>((acquired > released ? acquired - released : released - acquired) +
                             unpaired),
         "locks", "lower",
         {{"released", released},
          {"release_unmatched", r_ours.release_unmatched + w_ours.release_unmatched},
          {"unpaired_acquire", r_ours.unpaired_acquire + w_ours.unpaired_acquire}});
  // Failed attempts: trylocks that found the lock taken (the fault
  // path's first try), or killable locks cut by a fatal signal.
  scalar("ours/failed", static_cast<double>(r_ours.failed + w_ours.failed), "locks", "lower",
         {{"read", r_ours.failed}, {"write", w_ours.failed}});
  // The other tasks' pairing, as ours: acquire_returned with no start,
  // release with no hold of that task on that mm (most are locks taken
  // before the point attached, or across its end: other tasks never stop).
  const auto& r_other = c.at(KPL_ML_OTHER, KPL_ML_READ);
  const auto& w_other = c.at(KPL_ML_OTHER, KPL_ML_WRITE);
  scalar("other/unpaired",
         static_cast<double>(r_other.unpaired_acquire + w_other.unpaired_acquire +
                             r_other.release_unmatched + w_other.release_unmatched),
         "locks", "none",
         {{"release_unmatched", r_other.release_unmatched + w_other.release_unmatched},
          {"unpaired_acquire", r_other.unpaired_acquire + w_other.unpaired_acquire},
          {"acquired", r_other.acquired + w_other.acquired}});
  uint64_t negative = 0, slots = 0, before_arm = 0, state_failed = 0, nested = 0;
  for (auto& x : c.c) {
    negative += x.negative;
    slots += x.slots_full;
    before_arm += x.before_arm;
    state_failed += x.state_failed;
    nested += x.nested_dropped;
  }
  scalar("check/negative", static_cast<double>(negative), "samples", "lower");
  scalar("check/slots_full", static_cast<double>(slots), "holds", "lower");
  // Waits and holds that began before the point was armed: not timed.
  scalar("check/before_arm", static_cast<double>(before_arm), "samples", "none");
  // Events with no per-task state (task storage's recursion refusal, or
  // the LRU's failed update), and waits past KPL_ML_WAIT_SLOTS open in
  // one task: not timed; 0 expected.
  scalar("check/state_failed", static_cast<double>(state_failed), "events", "lower",
         {{"task_state", tracer_->task_state()}});
  scalar("check/nested_dropped", static_cast<double>(nested), "waits", "lower");
  // Counters of every task, for the extra table.
  json counters = json::object();
  for (int w = 0; w < 2; ++w)
    for (int op = 0; op < 2; ++op) {
      const auto& x = c.at(w, op);
      counters[std::string(who_name[w]) + "/" + op_name[op]] = {
          {"start_locking", x.start_locking}, {"acquired", x.acquired},
          {"failed", x.failed},               {"unpaired_acquire", x.unpaired_acquire},
          {"downgraded", x.downgraded},
          {"released", x.released},           {"release_unmatched", x.release_unmatched},
          {"negative", x.negative},           {"wait_ns_total", x.wait_ns_total},
          {"before_arm", x.before_arm},       {"state_failed", x.state_failed},
          {"nested_dropped", x.nested_dropped},
          {"wait_ns_max", x.wait_ns_max},     {"hold_ns_total", x.hold_ns_total},
          {"hold_ns_max", x.hold_ns_max}};
    }
  json& ex = rep.extra()[base];
  ex["counters"] = counters;
  ex["cgroups"] = tracer_->cgroups();
  {
    json l = labels;
    l["better"] = "lower";
    l["table_entries"] = tracer_->cgroup_capacity();
    rep.scalar(base + "/check/cgroups_dropped", double(tracer_->cgroups_dropped()), "events", l);
  }
  ex["workload"] = {{"pages", r.pages},       {"minflt", r.minflt},
                    {"majflt", r.majflt},     {"iterations", r.iterations},
                    {"writer_ops", r.writer_ops}, {"seconds", r.seconds}};
  per_vma(rep, base, labels, before, after, faults);
}

void Session::per_vma(Repetition& rep, const std::string& base, const json& labels,
                      const std::map<std::string, uint64_t>& before,
                      const std::map<std::string, uint64_t>& after, uint64_t faults) {
  const std::string& src = tracer_->vma_source();
  if (src.empty()) {
    rep.skip(base + "/per_vma", tracer_->vma_reason());
    return;
  }
  json l = labels;
  l["source"] = src;
  l["better"] = "none";
  if (src == "vmstat") {
    // System-wide counters: every process's faults in the window.
    l["scope"] = "system";
    for (const char* k : {"vma_lock_success", "vma_lock_abort", "vma_lock_retry", "vma_lock_miss"}) {
      auto b = before.find(k), a = after.find(k);
      if (b == before.end() || a == after.end()) continue;
      rep.scalar(base + "/per_vma/" + std::string(k).substr(9), double(a->second - b->second),
                 "faults", l);
    }
    return;
  }
  l["scope"] = "ours";
  kpl_ml_vma v = tracer_->vma(KPL_ML_OURS);
  rep.scalar(base + "/per_vma/success", double(v.success), "faults", l);
  l["better"] = "lower";
  rep.scalar(base + "/per_vma/fallback", double(v.fallback), "faults", l);
  if (faults)
    rep.scalar(base + "/per_vma/fallback_per_fault", double(v.fallback) / faults, "ratio", l);
}

}  // namespace kperflab::mmap_lock
