// SPDX-License-Identifier: GPL-2.0-only
// The mmap_lock probe: wait and hold histograms of mmap_lock from its three
// tracepoints (mmap_lock.bpf.c) while a fault storm (workloads/fault_storm.h)
// runs at sweep points of kind x threads x writer; per-VMA lock outcomes;
// what tracing mmap_lock costs (fault throughput with no probe, ours, and
// perf on the same events, interleaved in one run); and our own process's
// waits against perf's lock:contention_begin/end on the same lock.
//
// This file is what the runner sees: the parameters, the session's set-up
// and the order of a repetition, and the Probe's registration. The parts
// live beside it: tracer.cpp (the BPF side), storms.cpp (the sweep),
// overhead.cpp (what tracing costs), crosscheck.cpp (perf's view).
#include <algorithm>
#include <memory>
#include <stdexcept>

#include "host/bpf_prog_stats.h"
#include "host/cpu_sample.h"
#include "perf_tool.h"
#include "core/probe.h"
#include "core/stop.h"
#include "session.h"
#include "tracer.h"
#include "workloads/fault_storm.h"

namespace kperflab::mmap_lock {

namespace {

// ---- parameters ----------------------------------------------------------

json profile_params(Profile p) {
  json j = {{"kinds", {"anon", "file", "cow"}},
            {"threads", json::array()},
            {"writers", {"none", "mmap_munmap"}},
            {"duration_ms", 1000},
            {"region_mib", 128},
            {"rate", 0},
            {"writer_rate", 0},
            {"overhead", true},
            {"overhead_rounds", 3},
            {"crosscheck", true},
            {"bystander_rounds", 5},
            {"bystander_window_ms", 200},
            {"memcg_path", "refuse"},
            {"task_state", "auto"},
            {"sample_cpus", 0}};
  switch (p) {
    case Profile::quick:
      j.update({{"kinds", {"anon"}}, {"duration_ms", 500}, {"overhead_rounds", 2},
                {"sample_cpus", 8}});
      break;
    case Profile::standard:
      // Ten repetitions by default: ~20 s each on 2 vCPUs. The storms
      // spread over a topology sample of 16 CPUs: a storm's set-up and
      // teardown (threads, regions, cow's children) grow with its threads.
      j.update({{"duration_ms", 500}, {"overhead_rounds", 2}, {"sample_cpus", 16}});
      break;
    case Profile::full:
      j.update({{"writers", {"none", "mmap_munmap", "mprotect", "brk"}},
                {"duration_ms", 2000},
                {"overhead_rounds", 5}});
      break;
    case Profile::lab:
      // TCG: absolute rates mean nothing; counts per fault and the pairing do.
      // A lab guest is ours alone: its tax is measured, not spared.
      j.update({{"duration_ms", 300}, {"region_mib", 16}, {"overhead_rounds", 1},
                {"memcg_path", "allow"}});
      break;
  }
  return j;
}

ParamSpecs specs(unsigned online_cpus) {
  return {
      ParamSpec::choice_list("kinds", {"anon", "file", "cow"}, 0,
                             "fault storms: anonymous first touch, file-backed read, COW "
                             "after fork"),
      ParamSpec::integer_list("threads", 1, std::max(1u, online_cpus), 0, 64,
                              "fault threads per point (empty: 1 and one per storm CPU, "
                              "see sample_cpus)"),
      ParamSpec::integer("sample_cpus", 0, 65536,
                         "CPUs the storms run on, a topology sample (0: every online CPU); "
                         "given threads run on every online CPU"),
      ParamSpec::choice_list("writers", {"none", "mmap_munmap", "mprotect", "brk"}, 0,
                             "a writer thread in the same mm (mmap_lock for write)"),
      ParamSpec::integer("duration_ms", 50, 600000, "time per sweep point, ms"),
      ParamSpec::integer("region_mib", 1, 65536,
                         "region each fault thread maps, touches and unmaps, MiB"),
      ParamSpec::number("rate", 0, 1e9, "faults per second per thread (0: back to back)"),
      ParamSpec::number("writer_rate", 0, 1e9,
                        "writer operations per second (0: back to back)"),
      ParamSpec::boolean("overhead", "fault throughput with no probe, ours and perf"),
      ParamSpec::integer("overhead_rounds", 1, 50, "interleaved rounds of the overhead runs"),
      ParamSpec::boolean("crosscheck",
                         "our waits against perf's lock:contention_begin/end on our mmap_lock"),
      ParamSpec::integer("bystander_rounds", 0, 50,
                         "interleaved rounds of a bystander process's fault rate with our "
                         "programs attached and detached (0: not measured)"),
      ParamSpec::integer("bystander_window_ms", 50, 2000,
                         "length of each bystander window, ms"),
      ParamSpec::choice("task_state", {"auto", "lru_hash"},
                        "where the programs keep each task's open waits and holds (auto: task "
                        "storage where the kernel gives it to them, else an LRU hash by tid)"),
      ParamSpec::choice("memcg_path", {"refuse", "allow"},
                        "on kernels whose mmap_lock tracepoints format the memcg path (up to "
                        "6.13), every process pays for it while we are attached: run there "
                        "only when allowed (the lab profile allows it)"),
  };
}

// The CPUs the storms run on, a thread on each (its many-thread points, the
// overhead and cross-check storms): a topology sample of sample_cpus
// (host/cpu_sample.h), or every online CPU when it is 0 or threads are given.
CpuSample storm_cpus(const HostInfo& host, const json& p) {
  auto online = host.online_cpus();
  if (online.empty()) return {};
  unsigned max = p["threads"].empty() ? p["sample_cpus"].get<unsigned>() : 0;
  return sample_cpus(host, online, online.front(), max);
}

}  // namespace

// ---- the session ---------------------------------------------------------

Session::Session(RunContext& ctx, const json& p) : p_(p) {
  const CpuSample storms = storm_cpus(ctx.host(), p_);
  cpus_ = storms.cpus;
  if (cpus_.empty()) throw std::runtime_error("no online CPUs");
  if (!storms.whole()) ctx.parameters()["sampled_cpus"] = cpus_;
  mem_budget_ = workloads::mem_available_bytes() / 2;
  tracer_ = std::make_unique<Tracer>(true, p_.value("task_state", std::string("auto")) == "auto");
  for (std::string k : p_["kinds"])
    for (unsigned t : thread_counts())
      for (std::string w : p_["writers"])
        points_.push_back(
            {workloads::parse_fault_kind(k), t, workloads::parse_writer_kind(w)});
  auto& pr = ctx.parameters();
  pr["tracepoint_flavour"] = to_string(tracer_->flav());
  pr["attach"] = tracer_->attach_type();
  pr["task_state"] = tracer_->task_state();
  if (!tracer_->task_storage_error().empty())
    pr["task_storage_refused"] = tracer_->task_storage_error();
  pr["per_vma_lock_source"] =
      tracer_->vma_source().empty() ? json(nullptr) : json(tracer_->vma_source());
  if (tracer_->vma_source().empty()) pr["per_vma_lock_unavailable"] = tracer_->vma_reason();
  pr["points"] = json::array();
  for (auto& pt : points_) pr["points"].push_back(pt.name());
  pr["storm_memory_budget_mib"] = mem_budget_ >> 20;
}

void Session::run_repetition(RunContext& ctx, Repetition& rep) {
  // The kernel's run time and count of our programs, for this
  // repetition's points (on only while they run: two clock reads per run
  // of every BPF program on the host).
  bpf::run_points_costed(ctx, rep, points_, point_runs_, point_seconds_,
                         [&](const Point& pt) { measure_point(ctx, rep, pt); });
  if (p_["bystander_rounds"].get<int>() > 0 && ctx.run_checks() && !stop_requested()) {
    ctx.progress().step("bystander");
    bystander(ctx, rep);
  }
  // What tracing costs and the cross-check with perf validate the method:
  // once per run (RunContext::run_checks).
  if (p_["overhead"].get<bool>() && ctx.run_checks() && !stop_requested()) {
    ctx.progress().step("overhead");
    overhead(ctx, rep);
  }
  if (p_["crosscheck"].get<bool>() && ctx.run_checks() && !stop_requested()) {
    ctx.progress().step("crosscheck");
    crosscheck(ctx, rep);
  }
  tracer_->detach();  // nothing of ours stays on the host between repetitions
}

namespace {

class MmapLockProbe : public Probe {
 public:
  std::string_view name() const override { return "mmap_lock"; }
  std::string_view summary() const override {
    return "mmap_lock wait/hold histograms from its tracepoints under fault storms and "
           "writers; per-VMA lock outcomes; tracing overhead vs perf";
  }
  Availability check(const HostInfo&) const override {
    auto why = unavailable_reason();
    return why.empty() ? Availability::yes() : Availability::no(why);
  }
  // Up to 6.13 (the tracepoints' memcg_path argument, found in BTF), any
  // program on them makes every mmap_lock event of every process format
  // its memcg path under the global kernfs_rename_lock; upstream removed it
  // in 6.14 for the fleet-wide cost. Outside the lab, only when allowed.
  std::string refused(const json& p, const HostInfo&) const override {
    if (p.value("memcg_path", std::string("refuse")) == "allow") return "";
    KernelBtf btf;
    if (!btf.ok() || flavour(btf) != Flavour::memcg_path) return "";
    return "this kernel's mmap_lock tracepoints format the memcg path of every lock event of "
           "every process while any program is attached (up to 6.13): the host pays for it "
           "while we measure; --set mmap_lock.memcg_path=allow runs it and measures that tax";
  }
  json parameters(Profile p, const HostInfo&) const override { return profile_params(p); }
  ParamSpecs param_specs(unsigned online_cpus) const override { return specs(online_cpus); }
  // Measured on a 2-vCPU VM at load 6-7 (quick and standard, 500 ms): a
  // point takes its duration and its setup, ~0.2 s for anon, ~0.65 s for
  // file (the page cache), ~1.3 s for cow (fork, first writes); an overhead
  // storm ~0.25 s more, ~1.5 s more under perf (perf record/trace start and
  // stop); the cross-check ~1 s more.
  double estimate_seconds(const json& p) const override {
    double per_kind = 0;
    for (auto& k : p["kinds"]) per_kind += k == "anon" ? 0.2 : k == "file" ? 0.65 : 1.3;
    double kinds = static_cast<double>(std::max<size_t>(1, p["kinds"].size()));
    return double(points(p, 2)) * (p["duration_ms"].get<double>() / 1000 + per_kind / kinds) + 0.2;
  }
  double estimate_checks_seconds(const json& p) const override {
    double d = p["duration_ms"].get<double>() / 1000;
    bool perf = !perf_path().empty();
    double over = p["overhead"].get<bool>()
                      ? 2 * p["overhead_rounds"].get<double>() * (2 * (d + 0.25) + (perf ? 3 * (d + 1.5) : 0))
                      : 0;
    double x = p["crosscheck"].get<bool>() && perf ? d + 1 : 0;
    double by = p["bystander_rounds"].get<double>() * 2 *
                (p["bystander_window_ms"].get<double>() + 25) / 1000;
    return over + x + by;
  }
  unsigned points(const json& p, const HostInfo& host) const override {
    return points(p, host.online_count());
  }
  std::string sampled(const json& p, const HostInfo& host) const override {
    CpuSample s = storm_cpus(host, p);
    if (s.whole()) return "";
    return "storms on " + s.summary(host) + ", many-thread points " +
           std::to_string(s.cpus.size()) + " threads";
  }
  static unsigned points(const json& p, unsigned cpus) {
    size_t threads = p["threads"].empty() ? (cpus > 1 ? 2 : 1) : p["threads"].size();
    return static_cast<unsigned>(p["kinds"].size() * threads * p["writers"].size());
  }
  // One round of the overhead runs, then the anon kind only (file and cow
  // add kinds of fault, anon is the headline), then 250 ms points.
  std::optional<json> cheaper(const json& p, const HostInfo&) const override {
    json c = p;
    if (p["overhead"].get<bool>() && p["overhead_rounds"].get<int>() > 1)
      c["overhead_rounds"] = 1;
    else if (p["kinds"].size() > 1)
      c["kinds"].erase(c["kinds"].size() - 1);
    else if (p["duration_ms"].get<int>() > 250)
      c["duration_ms"] = 250;
    else
      return std::nullopt;
    return c;
  }
  double budget_weight() const override { return 2.5; }
  std::unique_ptr<ProbeSession> prepare(RunContext& ctx, const json& params) override {
    if (params["sample_cpus"].get<unsigned>() == 1)
      throw std::invalid_argument("mmap_lock.sample_cpus: 0 (every CPU) or at least 2");
    return std::make_unique<Session>(ctx, params);
  }
};

}  // namespace

KPERFLAB_REGISTER_PROBE(MmapLockProbe);

}  // namespace kperflab::mmap_lock
