// SPDX-License-Identifier: GPL-2.0-only
#include "cli/runner.h"

#include "analysis/catalog.h"
#include "cli/progress.h"
#include "host/bpf_links.h"
#include "host/sysctl_hold.h"

#include <unistd.h>

#include <algorithm>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <stdexcept>

#include "cli/cli_args.h"
#include "host/counters.h"
#include "results/headline.h"
#include "cli/ktap.h"
#include "host/likwid_run.h"
#include "host/noise_check.h"
#include "core/plan.h"
#include "host/preflight.h"
#include "host/tune.h"
#include "kperflab_version.h"
#include "results/bundle.h"
#include "results/json_access.h"
#include "core/codec.h"
#include "host/sysinfo.h"

namespace kperflab {

namespace {

// The first ^C asks the probes to stop at their next check and keeps what
// was measured. A second one means "now": settings we hold are put back
// and the process exits at once; the bundle keeps every file written so far
// (each was renamed into place whole) and stays marked partial.
extern "C" void on_signal(int) {
  if (!request_stop()) return;
  static const char msg[] =
      "\nkperflab: second interrupt: exiting now; the bundle keeps what was written so far\n";
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
  release_holds_now();
  _exit(130);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  // A closed terminal (SIGHUP) or a reader gone from our pipe (SIGPIPE,
  // `kperflab run | head`) ends a run as SIGTERM does: the held settings
  // come back. Their default action would kill us holding them (#27).
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaction(sig, &sa, nullptr);
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct ProbeOutcome {
  std::string status;  // complete, partial, skipped, failed
  std::string reason;
  size_t metrics = 0;
  nlohmann::json doc;  // <probe>.json as written (--ktap summarizes it)
};

// The repetition loop's stopping rule: opt.repeat repetitions, or with
// --until-ci at least that many and then until every headline CI is narrow
// enough, the budget would be overrun by the next repetition, or max_reps
// (until_ci_stop; an explicit --until-ci-budget also caps --repeat).
class Adaptive {
 public:
  Adaptive(const RunOptions& opt, double estimate_s) : opt_(opt) {
    if (opt.until_ci)
      budget_s_ = opt.until_ci->budget_s > 0 ? opt.until_ci->budget_s
                                              : default_until_ci_budget(estimate_s);
  }
  bool wants(unsigned r) const {
    if (!opt_.until_ci) return r < opt_.repeat;
    return stopped_.empty() && (r < opt_.repeat || r < opt_.until_ci->max_reps);
  }
  void after(const nlohmann::json& reps) {
    last_ = assess_until_ci(reps, opt_.until_ci->pct);
    stopped_ = until_ci_stop(*opt_.until_ci, budget_s_, reps.size(), elapsed(), last_);
  }
  nlohmann::json record(size_t n) const {
    std::string why = stopped_.empty() ? (stop_requested() ? "interrupted" : "max_repetitions")
                                       : stopped_;
    return until_ci_record(*opt_.until_ci, budget_s_, last_, n, elapsed(), why);
  }
  std::string summary(size_t n) const {
    auto r = record(n);
    char buf[200];
    std::snprintf(buf, sizeof buf, "%zu repetitions, stopped: %s (%zu of %zu headline metrics "
                  "wider than +-%.3g %%)", n, r["stopped"].get<std::string>().c_str(),
                  last_.above, last_.headline, opt_.until_ci->pct);
    std::string s = buf;
    if (!last_.widest.empty() && last_.above) {
      std::snprintf(buf, sizeof buf, "; widest %s +-%.3g %%", last_.widest[0].first.c_str(),
                    last_.widest[0].second);
      s += buf;
    }
    return s;
  }

 private:
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  const RunOptions& opt_;
  double budget_s_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  CiAssessment last_;
  std::string stopped_;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

ProbeOutcome run_probe(const ProbePlan& plan, const RunOptions& opt, const HostInfo& host,
                       Progress& progress, BundleWriter& bw) {
  Probe& probe = *plan.probe;
  const auto t0 = std::chrono::steady_clock::now();
  std::string name(probe.name());
  nlohmann::json doc = {{"schema", kProbeSchema}, {"probe", name},
                        {"status", "skipped"}, {"reason", nullptr},
                        {"parameters", nlohmann::json::object()},
                        {"repetitions", nlohmann::json::array()}};
  ProbeOutcome out{"skipped", "", 0, {}};
  if (!plan.runnable) {
    out.reason = printable(plan.reason);  // a bundle holds no control characters
    doc["reason"] = out.reason;
    progress.note(name + ": skipped: " + out.reason);
    doc["plan"] = probe_plan_json(plan, seconds_since(t0));
    bw.write_json(name + ".json", doc);
    out.doc = std::move(doc);
    return out;
  }
  const bool checks_every = plan.check_repetitions >= plan.repetitions;
  RunContext ctx(opt.profile, plan.repetitions, host, progress);
  const int links_before = open_bpf_links();
  try {
    if (!plan.reason.empty()) throw std::invalid_argument(plan.reason);
    const nlohmann::json& params = plan.params;
    doc["parameters"] = params;
    // Before prepare(): the threads it starts inherit the counters.
    Counters counters(opt.perf_stat);
    auto session = probe.prepare(ctx, params);
    progress.begin_probe(name,
                         session->steps() * plan.repetitions -
                             session->check_steps() * (plan.repetitions - plan.check_repetitions),
                         plan.estimated_s);
    RunOptions ropt = opt;  // the planned repetitions: --until-ci's minimum too
    ropt.repeat = plan.repetitions;
    Adaptive adaptive(ropt, probe.estimate_seconds(params));
    for (unsigned r = 0; adaptive.wants(r) && !stop_requested(); ++r) {
      ctx.set_repetition(r, checks_every);
      if (r >= plan.repetitions)
        progress.add_steps(session->steps() - (checks_every ? 0 : session->check_steps()));
      Repetition rep;
      counters.start("kperflab/" + name + "/rep" + std::to_string(r));
      session->run_repetition(ctx, rep);
      auto c = counters.stop();
      auto j = rep.to_json();
      j["extra"]["counters"] = c;
      // ^C arrived during this repetition: the probe discarded the point it
      // was in (a skipped metric saying "interrupted"), and the points after
      // it never ran; what is stored was measured whole.
      if (stop_requested()) j["extra"]["interrupted"] = true;
      out.metrics += j["metrics"].size();
      doc["repetitions"].push_back(std::move(j));
      doc["status"] = "partial";
      if (opt.until_ci && !stop_requested()) adaptive.after(doc["repetitions"]);
      bw.write_json(name + ".json", doc);  // keep what is measured so far
    }
    session.reset();
    if (opt.until_ci) {
      doc["until_ci"] = adaptive.record(doc["repetitions"].size());
      progress.note(name + ": --until-ci: " + adaptive.summary(doc["repetitions"].size()));
    }
    out.status = stop_requested() ? "partial" : "complete";
    if (stop_requested()) out.reason = "interrupted";
  } catch (const std::exception& e) {
    // A call the kernel ended with EINTR because of ^C is an interruption,
    // not a failure of the probe.
    out.status = doc["repetitions"].empty() && !stop_requested() ? "failed" : "partial";
    out.reason = stop_requested() ? std::string("interrupted") : printable(e.what());
    progress.note(name + ": " + out.status + ": " + out.reason);
  }
  // The session is gone (reset above, or unwound): every link it attached
  // must be closed, or its programs stay on the host's paths (#28).
  if (int after = open_bpf_links(); links_before >= 0 && after >= 0) {
    doc["bpf_links_left"] = std::max(0, after - links_before);
    if (after > links_before)
      progress.note(name + ": " + std::to_string(after - links_before) +
                    " BPF links still attached after the probe ended (a probe bug)");
  }
  for (auto& [k, v] : ctx.parameters().items()) doc["parameters"][k] = v;
  doc["plan"] = probe_plan_json(plan, seconds_since(t0));
  doc["status"] = out.status;
  doc["reason"] = out.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(out.reason);
  for (auto& [file, bytes] : ctx.attachments()) bw.write_file(file, bytes);
  bw.write_json(name + ".json", doc);
  progress.end_probe(out.status);
  out.doc = std::move(doc);
  return out;
}

void report_tuning(const Tuning& t) {
  std::cerr << "kperflab run: --tune: " << t.summary() << "\n";
  for (auto& it : t.items())
    if (it.status == "failed")
      std::cerr << "  could not tune " << it.setting << ": " << it.error << "\n";
}

void report_preflight(const Preflight& pf) {
  for (auto& f : pf.findings)
    if (f.severity == "warn")
      std::cerr << "kperflab run: preflight: " << f.what << " = " << f.value << "\n";
}

// What is noisy and the likely why: the CPUs, the load, the busiest processes.
std::string noisy_message(const NoiseCheck& nc, const Preflight& pf) {
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "noise check: run-to-run spread of a fixed integer loop (MAD/median of %u "
                "rounds of ~10 ms) above %.0f %% on ",
                nc.rounds, nc.threshold_pct);
  std::string m = buf + nc.noisy_cpus();
  if (pf.load1) {
    std::snprintf(buf, sizeof buf, "; load %.2f over %u CPUs", *pf.load1, pf.online_cpus);
    m += buf;
  }
  std::string busy;
  for (auto& p : pf.busiest) {
    std::snprintf(buf, sizeof buf, "%d %s %.0f%%", int(p.pid), p.comm.c_str(), p.cpu_pct);
    busy += (busy.empty() ? "" : ", ") + std::string(buf);
  }
  m += "; busiest: " + (busy.empty() ? std::string("none seen") : busy);
  return m;
}

}  // namespace

bool wants_noise_check(const RunOptions& opt) {
  return opt.noise_check.value_or(opt.strict || opt.profile == Profile::standard ||
                                  opt.profile == Profile::full);
}

nlohmann::json make_meta(const HostInfo& host, const RunOptions& opt) {
  nlohmann::json meta = host.provenance();
  meta["schema"] = kMetaSchema;
  meta["status"] = "partial";
  meta["suite"] = {{"version", KPERFLAB_VERSION}, {"git_sha", KPERFLAB_GIT_SHA}};
  meta["started"] = utc_now();
  meta["profile"] = std::string(to_string(opt.profile));
  if (!opt.tags.empty()) meta["tags"] = opt.tags;
  meta["repetitions"] = opt.repeat;
  if (opt.until_ci) {
    meta["until_ci"] = {{"target_half_width_pct", opt.until_ci->pct},
                        {"min_repetitions", opt.repeat}};
    if (opt.until_ci->budget_s > 0) meta["until_ci"]["budget_s"] = opt.until_ci->budget_s;
  }
  meta["counters"] = Counters::availability();
  if (!opt.perf_stat.empty())
    meta["counters"]["perf_stat"] = Counters::perf_stat_request(opt.perf_stat);
  meta["probes"] = nlohmann::json::object();
  return meta;
}

nlohmann::json resolve_sets(const RunOptions& opt, unsigned online_cpus) {
  auto& reg = ProbeRegistry::instance();
  std::string names;
  for (Probe* p : reg.all()) names += (names.empty() ? "" : ", ") + std::string(p->name());
  nlohmann::json out = nlohmann::json::object();
  for (auto& [key, value] : opt.sets) {
    const std::string probe = key.substr(0, key.find('.')), k = key.substr(key.find('.') + 1);
    const std::string flag = "--set " + key + "=" + value.substr(0, 60);
    Probe* p = reg.find(probe);
    if (!p) throw std::invalid_argument(flag + ": no probe '" + probe + "' (probes: " + names + ")");
    if (!opt.probes.empty() &&
        std::find(opt.probes.begin(), opt.probes.end(), probe) == opt.probes.end())
      throw std::invalid_argument(flag + ": probe '" + probe +
                                  "' does not run in this invocation (add --probe " + probe + ")");
    ParamSpecs specs = p->param_specs(online_cpus);
    const ParamSpec* spec = find_spec(specs, k);
    if (!spec)
      throw std::invalid_argument(flag + ": probe '" + probe + "' has no parameter '" + k +
                                  "' (it has: " + spec_keys(specs) + "; see kperflab list --params)");
    out[probe][k] = parse_param(probe, *spec, value);
  }
  return out;
}

std::vector<Probe*> select_probes(const RunOptions& opt) {
  auto& reg = ProbeRegistry::instance();
  if (opt.probes.empty()) return reg.all();
  std::vector<Probe*> probes;
  for (auto& n : opt.probes) {
    Probe* p = reg.find(n);
    if (!p) throw std::invalid_argument("unknown probe '" + n + "' (see: kperflab list)");
    probes.push_back(p);
  }
  return probes;
}

int run_main(const std::vector<std::string>& args) {
  RunOptions opt = parse_run_args(args);
  const std::vector<Probe*> probes = select_probes(opt);
  // Before anything runs or is written: a bad --set is exit 2 and no bundle.
  const nlohmann::json sets = resolve_sets(opt, online_cpu_count());
  // With likwid able to measure here, this re-executes the run under
  // likwid-perfctr and does not return.
  const nlohmann::json likwid = opt.likwid ? likwid_setup(*opt.likwid, args) : nlohmann::json();
  if (likwid.contains("unavailable"))
    std::cerr << "kperflab run: --likwid " << *opt.likwid
              << ": running without likwid: " << likwid["unavailable"].get<std::string>() << "\n";

  install_signal_handlers();
  // A run that crashed while holding a setting (e.g. kernel.numa_balancing)
  // left a restore record: put the value back before the provenance is read.
  nlohmann::json recovered = nlohmann::json::array();
  try {
    for (const auto& r : recover_stale_holds()) {
      std::cerr << "kperflab run: " << describe(r) << "\n";
      recovered.push_back(describe(r));
    }
  } catch (const std::exception& e) {
    std::cerr << "kperflab run: warning: restore records not checked: " << e.what() << "\n";
  }
  // --tune before the provenance and the preflight: they describe the
  // machine as it is measured. Every change comes back when `tuning` goes.
  std::optional<Tuning> tuning;
  if (opt.tune) tuning.emplace(TuneOptions{opt.tune_boost_off});
  if (tuning) report_tuning(*tuning);
  HostInfo host = collect_host_info();
  const Preflight pf = run_preflight({}, host.provenance());
  report_preflight(pf);
  // The plan, before anything is measured (core/plan.h).
  PlanRequest preq;
  preq.profile = opt.profile;
  preq.repeat = opt.until_ci ? opt.repeat : opt.repeat_asked;
  if (opt.until_ci) preq.repeat_by = "--until-ci";
  preq.checks_every = opt.profile == Profile::full || opt.repeat_asked > 0;
  preq.sets = sets;
  const RunPlan plan = make_plan(probes, host, preq);
  std::cerr << format_plan(plan);
  if (opt.plan_only) return 0;
  nlohmann::json noise = {{"ran", false}, {"reason", "off (--no-noise-check, or the " +
                                                         std::string(to_string(opt.profile)) +
                                                         " profile; --noise-check turns it on)"}};
  if (wants_noise_check(opt) && !stop_requested()) {
    NoiseCheck nc = run_noise_check(pick_noise_cpus(host.online_cpus()));
    nc.threshold_pct = opt.noise_threshold_pct;
    noise = nc.to_json();
    noise["ran"] = true;
    if (nc.noisy()) {
      std::cerr << "kperflab run: " << (opt.strict ? "refused: " : "warning: ")
                << noisy_message(nc, pf) << "\n";
      if (opt.strict) return kExitNoisy;  // nothing measured, no bundle; tuning goes back
    }
  }
  BundleWriter bw(opt.out ? *opt.out : opt.runs_root, make_meta(host, opt), opt.out.has_value());
  if (!recovered.empty()) bw.meta()["recovered_holds"] = recovered;
  if (opt.likwid) bw.meta()["counters"]["likwid"] = likwid;
  bw.meta()["preflight"] = pf.to_json();
  bw.meta()["noise_check"] = noise;
  if (tuning) bw.meta()["tuning"] = tuning->to_json();
  bw.flush_meta();
  if (host.kconfig()) bw.write_file("kconfig.gz", gzip_compress(*host.kconfig()));
  ConsoleProgress progress(isatty(STDERR_FILENO));
  std::optional<KtapWriter> ktap;
  if (opt.ktap) {
    ktap.emplace(std::cout, probes.size());
    ktap->diag("kperflab " KPERFLAB_VERSION " (" KPERFLAB_GIT_SHA ") on " +
               host.provenance()["host"].value("hostname", std::string("?")) + ", kernel " +
               host.provenance()["kernel"].value("release", std::string("?")) + ", profile " +
               std::string(to_string(opt.profile)) + ", bundle " + bw.dir().string());
  }
  bool all_ok = true;
  const auto run_start = std::chrono::steady_clock::now();
  double planned_left = plan.estimated_s;
  for (const ProbePlan& pp : plan.probes) {
    if (stop_requested()) break;
    Probe* p = pp.probe;
    planned_left -= pp.estimated_s;
    progress.set_after_s(planned_left);
    auto o = run_probe(pp, opt, host, progress, bw);
    if (ktap) {
      auto file = std::make_shared<const std::filesystem::path>(bw.dir() /
                                                                (std::string(p->name()) + ".json"));
      JsonView view(o.doc, file);
      ktap->probe(headline::summarize_probe(std::string(p->name()), o.status, o.reason, &view));
    }
    bw.meta()["probes"][std::string(p->name())] = {
        {"status", o.status}, {"reason", o.reason.empty() ? nlohmann::json() : nlohmann::json(o.reason)},
        {"metrics", o.metrics}};
    bw.flush_meta();
    all_ok = all_ok && o.status != "failed" && o.status != "partial";
  }
  if (tuning) {
    tuning->release();  // before the bundle is final: it records what came back
    bw.meta()["tuning"] = tuning->to_json();
  }
  bw.meta()["plan"] = run_plan_json(plan, seconds_since(run_start));
  bw.meta()["finished"] = utc_now();
  if (!bw.write_failures().empty()) bw.meta()["write_failures"] = bw.write_failures();
  bool complete = !stop_requested() && all_ok && bw.write_failures().empty();
  bw.finish(complete);
  // Indexed and its summary cached now, so that the first compare of it is
  // quick; a catalog that cannot take it costs a warning, never the bundle.
  if (!opt.out && !stop_requested())
    if (auto why = catalog::index_bundle(opt.runs_root, bw.dir()); !why.empty())
      std::cerr << "kperflab run: warning: the catalog of " << printable(opt.runs_root.string())
                << " was not updated (" << why << "); its next sync (`kperflab catalog`, a "
                << "selector) indexes the bundle\n";
  if (ktap) {
    for (size_t i = ktap->reported(); i < probes.size(); ++i)
      ktap->not_run(std::string(probes[i]->name()), "not run: the run was interrupted");
    ktap->diag("bundle: " + printable(bw.dir().string()) + " (" +
               (complete ? "complete" : "partial") + ")");
  } else {
    std::cout << "bundle: " << printable(bw.dir().string()) << " ("
              << (complete ? "complete" : "partial") << ")\n";
    for (auto& [name, o] : bw.meta()["probes"].items()) {
      std::cout << "  " << name << ": " << printable(o["status"].get<std::string>());
      if (o["reason"].is_string()) std::cout << " (" << printable(o["reason"].get<std::string>()) << ")";
      std::cout << ", " << o["metrics"] << " metrics\n";
    }
  }
  if (!bw.write_failures().empty()) {
    std::cerr << "kperflab run: the bundle " << printable(bw.dir().string())
              << " lacks what could not be written to it:\n";
    for (auto& f : bw.write_failures()) std::cerr << "  " << f << "\n";
    std::cerr << "  (free space, then copy the saved files into the bundle)\n";
  }
  if (stop_requested()) return 130;
  return all_ok && bw.write_failures().empty() ? 0 : 1;
}


}  // namespace kperflab
