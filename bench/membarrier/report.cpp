// SPDX-License-Identifier: GPL-2.0-only
#include "report.h"

#include <cstdio>
#include <sstream>

#include <benchmark/benchmark.h>

#include "commands.h"
#include "core/read_file.h"
#include "core/stop.h"

namespace kperflab::membarrier {

using nlohmann::json;

namespace {
std::string fmt3(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}
json with(json labels, const char* key, json value) {
  labels[key] = std::move(value);
  return labels;
}
}  // namespace

std::optional<Delivery> trace_delivery(DeliveryTracer& t, const Point& p, unsigned iters) {
  Delivery d;
  t.arm();
  bool stopped = false;
  for (unsigned i = 0; i < iters; ++i) {
    // A relaxed load per call (~1 ns next to a syscall of microseconds)
    // lets ^C end even a GLOBAL-sized point at once.
    if ((stopped = stop_requested())) break;
    if (sys_membarrier(p.cmd, p.flags, p.cpu_id) < 0) break;
    ++d.calls;
  }
  t.disarm();
  if (stopped) return std::nullopt;
  d.cpus = t.read();
  return d;
}

void Report::point(const Point& p, const PointResult& r) {
  const std::string metric = p.name + "/latency";
  if (!r.setup_error.empty()) {
    rep_.skip(metric, "setup failed: " + r.setup_error);
    return;
  }
  if (r.error) {
    rep_.skip(metric, "the kernel refused the command: " + errno_text(r.error));
    return;
  }
  if (r.interrupted) {
    rep_.skip(metric, "interrupted after " + std::to_string(r.latency.count()) + " of " +
                          std::to_string(p.iters * p.callers) + " calls (discarded)");
    return;
  }
  if (r.latency.empty()) {
    rep_.skip(metric, "not measured (interrupted)");
    return;
  }
  rep_.histogram(metric, r.latency, "ns", p.labels);
  if (r.cap_s > 0) {
    json l = p.labels;
    l["planned"] = uint64_t{p.iters} * p.callers;
    l["cap_s"] = r.cap_s;
    l["better"] = "none";
    rep_.scalar(p.name + "/check/samples_cut", static_cast<double>(r.calls_cut.load()), "calls",
                l);
  }
  if (r.targets_on_cpu) {
    // A spinner preempted while we call gets no IPI: below ~1 the latency
    // mixes IPI calls with calls that sent none (seen on a loaded 2-vCPU VM:
    // targets=1/spin p50 equal to targets=1/sleep).
    rep_.scalar(p.name + "/targets_on_cpu_fraction", *r.targets_on_cpu, "ratio", p.labels);
    if (*r.targets_on_cpu < kTargetsOnCpuFloor) preempted_.emplace_back(p.name, *r.targets_on_cpu);
  }
  json row = {p.name, r.latency.count(), r.latency.quantile(0.5), r.latency.quantile(0.99),
              nullptr, nullptr, nullptr, nullptr, nullptr};
  if (r.delivery) delivery(p, *r.delivery, row);
  rows_.push_back(std::move(row));
}

void Report::delivery(const Point& p, const Delivery& d, json& row) {
  // Foreign callbacks and negative deltas are counted even when no call of
  // ours succeeded: they say what else ran while we traced.
  uint64_t foreign = 0, negative = 0;
  for (const auto& c : d.cpus) {
    foreign += c.foreign;
    negative += c.negative;
    if (c.received || c.foreign || c.negative)
      cpu_rows_.push_back({p.name, c.cpu, c.received, c.foreign, c.negative});
  }
  traced_ = true;
  foreign_ += foreign;
  negative_ += negative;
  rep_.scalar(p.name + "/foreign_ipis", static_cast<double>(foreign), "count", p.labels);
  rep_.scalar(p.name + "/negative_deltas", static_cast<double>(negative), "count", p.labels);
  row[8] = foreign;
  if (d.calls == 0) {
    rep_.skip(p.name + "/delivery", "no membarrier() call succeeded while tracing");
    return;
  }
  std::vector<bool> expected(host_.cpus().size() + 1, false);
  for (int c : p.expected)
    if (c >= 0 && static_cast<size_t>(c) < expected.size()) expected[c] = true;
  Histogram all;
  std::map<std::string, Histogram> by_distance;
  uint64_t received = 0, unexpected = 0, missed = 0;
  for (const auto& c : d.cpus) {
    received += c.received;
    bool exp = static_cast<size_t>(c.cpu) < expected.size() && expected[c.cpu];
    if (!exp) {
      unexpected += c.received;
      continue;
    }
    missed += c.received < d.calls ? d.calls - c.received : 0;
    all.merge(c.latency);
    by_distance[to_string(host_.distance(p.caller_cpu, c.cpu))].merge(c.latency);
    const std::string cpu_metric = p.name + "/delivery/cpu=" + std::to_string(c.cpu);
    if (p.per_cpu && c.latency.empty())
      rep_.skip(cpu_metric, "no timed delivery of ours on this CPU");
    else if (p.per_cpu)
      rep_.histogram(cpu_metric, c.latency, "ns", with(p.labels, "target_cpu", c.cpu));
  }
  double calls = static_cast<double>(d.calls);
  double unexpected_fraction =
      received ? static_cast<double>(unexpected) / static_cast<double>(received) : 0.0;
  rep_.scalar(p.name + "/ipis_per_call", static_cast<double>(received) / calls, "ratio", p.labels);
  rep_.scalar(p.name + "/unexpected_ipi_fraction", unexpected_fraction, "ratio", p.labels);
  row[4] = static_cast<double>(received) / calls;
  row[7] = unexpected_fraction;
  if (p.expected.empty()) return;
  double missed_fraction =
      static_cast<double>(missed) / (calls * static_cast<double>(p.expected.size()));
  rep_.scalar(p.name + "/missed_ipi_fraction", missed_fraction, "ratio", p.labels);
  row[6] = missed_fraction;
  missed_[p.name] = missed_fraction;
  if (all.empty()) {
    // Every callback of ours was missed, untimed (a local run with no
    // remote target in the same call) or had a negative delta.
    rep_.skip(p.name + "/delivery", "no timed delivery of ours (see ipis_per_call, "
                                    "negative_deltas)");
    return;
  }
  rep_.histogram(p.name + "/delivery", all, "ns", p.labels);
  for (auto& [dist, h] : by_distance)
    if (!h.empty())
      rep_.histogram(p.name + "/delivery/" + dist, h, "ns", with(p.labels, "distance", dist));
  row[5] = all.quantile(0.5);
}

void Report::registration(const RegResult& r) {
  std::string metric = r.name + "/latency";
  json labels = {{"cmd", r.name.substr(0, r.name.find('/'))}, {"threads", r.threads}};
  if (r.error)
    rep_.skip(metric, "the kernel refused the command: " + errno_text(r.error));
  else if (r.interrupted)
    rep_.skip(metric, "interrupted after " + std::to_string(r.latency.count()) +
                          " samples (discarded)");
  else if (r.latency.empty())
    rep_.skip(metric, "not measured (interrupted)");
  else
    rep_.histogram(metric, r.latency, "ns", labels);
  if (!r.latency.empty() && !r.interrupted)
    rows_.push_back({r.name, r.latency.count(), r.latency.quantile(0.5), r.latency.quantile(0.99),
                     nullptr, nullptr, nullptr, nullptr, nullptr});
}

double Report::delivery_point(const Point& p, const Delivery& d) {
  json row = {p.name, d.calls, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  delivery(p, d, row);
  rows_.push_back(std::move(row));
  auto it = missed_.find(p.name);
  return it == missed_.end() ? -1.0 : it->second;
}

// A GLOBAL_EXPEDITED target sweep point that missed IPIs, next to the
// PRIVATE_EXPEDITED point with the same targets: when that one reached its
// targets, they were running, and the miss is the kernel's (README).
void Report::explain_global_misses() {
  const std::string g = "global_expedited/targets=";
  for (auto& [name, missed] : missed_) {
    if (name.rfind(g, 0) != 0 || missed <= 0.05) continue;
    auto priv = missed_.find("private_expedited/targets=" + name.substr(g.size()));
    std::string text = name + ": missed_ipi_fraction " + fmt3(missed) + ". ";
    if (priv != missed_.end() && priv->second <= 0.1 && missed >= 0.5)
      text += "PRIVATE_EXPEDITED reached the same spinning targets (missed " +
              fmt3(priv->second) + "), so they were running: GLOBAL_EXPEDITED skipped them "
              "because their runqueues' membarrier_state lacks GLOBAL_EXPEDITED. This process "
              "registered at start while single-threaded, which marks only the registering CPU's "
              "runqueue, and a switch from an idle task that lazily kept our mm does not refresh "
              "it (README: GLOBAL_EXPEDITED skips registered threads; compare the "
              "global_expedited/registered=* points).";
    else if (priv != missed_.end() && priv->second + 0.1 >= missed)
      text += "PRIVATE_EXPEDITED missed its targets about as often (" + fmt3(priv->second) +
              "): the spinning targets were not running all along (a loaded machine), which "
              "says nothing about the kernel.";
    else
      text += "Measured at another time than the PRIVATE_EXPEDITED point" +
              (priv != missed_.end() ? " (missed " + fmt3(priv->second) + ")" : std::string()) +
              ", so this alone does not say whether the kernel skipped running targets: the "
              "global_expedited/registered=* points interleave a control and do.";
    notes_.push_back(std::move(text));
  }
}

void Report::finish() {
  explain_global_misses();
  for (auto& [name, f] : preempted_)
    note(name + ": the spinning targets were on their CPUs for only " + fmt3(100 * f) +
         " % of the timed calls (other work preempted them despite nice -20), so its latency "
         "mixes calls that sent IPIs with calls that found no target; quiet the machine "
         "(--tune, --noise-check) before trusting this point");
  if (traced_) {
    rep_.scalar("delivery/foreign_ipis", static_cast<double>(foreign_), "count");
    rep_.scalar("delivery/negative_deltas", static_cast<double>(negative_), "count");
  }
  auto& tables = rep_.extra()["tables"];
  tables.push_back(
      {{"title", "membarrier sweep (latency ns; delivery = send -> IPI handler, ns; foreign = "
                 "other senders' callbacks seen while tracing)"},
       {"columns", {"point", "calls", "p50", "p99", "ipis/call", "delivery p50", "missed",
                    "unexpected", "foreign"}},
       {"rows", rows_}});
  if (!cpu_rows_.empty())
    tables.push_back(
        {{"title", "membarrier delivery attribution per CPU (ours: paired with our send, timed; "
                   "foreign and negative: counted, not timed)"},
         {"columns", {"point", "cpu", "ours", "foreign", "negative"}},
         {"rows", cpu_rows_}});
  if (!notes_.empty()) {
    json rows = json::array();
    for (auto& n : notes_) rows.push_back({n});
    tables.push_back({{"title", "membarrier notes (why a point missed IPIs, what a litmus "
                                "result shows)"},
                      {"columns", {"note"}},
                      {"rows", std::move(rows)}});
  }
}

void report_overhead(Repetition& rep, const SyscallOverhead& o, const std::string& mode) {
  json labels = {{"syscall", "getppid"}, {"clock", "CLOCK_THREAD_CPUTIME_ID"}, {"rounds", o.rounds},
                 {"calls_per_round", o.calls_per_round}, {"delivery_mode", mode}};
  rep.scalar("delivery/syscall_overhead/off_ns", o.off_ns, "ns", labels);
  rep.scalar("delivery/syscall_overhead/on_ns", o.on_ns, "ns", labels);
  rep.scalar("delivery/syscall_overhead/added_ns", o.on_ns - o.off_ns, "ns", labels);
  rep.scalar("delivery/syscall_overhead/ratio", o.off_ns > 0 ? o.on_ns / o.off_ns : 0.0, "ratio",
             labels);
}

std::string run_gbench(RunContext&) {
  std::ostringstream out, err;
  benchmark::JSONReporter reporter;
  reporter.SetOutputStream(&out);
  reporter.SetErrorStream(&err);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  return out.str();
}

void merge_gbench(json& runs, json& context, const std::string& report, RunContext& ctx) {
  json j;
  try {  // our own in-memory report, through the one bounded parser all the same
    j = parse_json(report, {size_t{256} << 20, 64, size_t{1} << 24, "google benchmark's report"},
                   "google benchmark's report");
  } catch (const FileError&) {
    return;
  }
  if (!j.is_object() || !j.contains("benchmarks")) return;
  unsigned rep = 0;
  for (auto& b : runs) rep = std::max(rep, b.value("repetition_index", 0u) + 1);
  if (runs.empty()) rep = 0;
  for (auto& b : j["benchmarks"]) {
    b["repetition_index"] = rep;
    runs.push_back(b);
  }
  context = j["context"];
  const auto& k = ctx.host().provenance()["kernel"];
  context["kernel_release"] = k["release"];
  context["kernel_version"] = k["version"];
  context["kernel_config_sha256"] =
      k["config"].is_object() ? k["config"]["sha256"] : json(nullptr);
  context["kernel_cmdline"] = k["cmdline"];
  context["clock"] = ctx.parameters()["clock"];
}

}  // namespace kperflab::membarrier
