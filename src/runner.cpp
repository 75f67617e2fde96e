// SPDX-License-Identifier: GPL-2.0-only
#include "runner.h"
#include "sysctl_hold.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <stdexcept>

#include "counters.h"
#include "kperflab_version.h"
#include "results/bundle.h"

namespace kperflab {

namespace {

std::atomic<bool> g_stop{false};

// The first ^C asks the probes to stop at their next check and keeps what
// was measured. A second one means "now": settings we hold are put back
// and the process exits at once; the bundle keeps every file written so far
// (each was renamed into place whole) and stays marked partial.
extern "C" void on_signal(int) {
  if (!g_stop.exchange(true)) return;
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
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Applies --set probe.key=value onto a probe's parameters (JSON-typed value
// when it parses as JSON, a string otherwise); unknown keys are an error so
// a typo never runs silently with defaults.
void apply_sets(const RunOptions& opt, const std::string& probe, nlohmann::json& params) {
  for (auto& [key, value] : opt.sets) {
    auto dot = key.find('.');
    if (key.substr(0, dot) != probe) continue;
    std::string k = key.substr(dot + 1);
    if (!params.contains(k))
      throw std::invalid_argument("--set " + key + ": probe '" + probe +
                                  "' has no parameter '" + k + "'");
    auto parsed = nlohmann::json::parse(value, nullptr, false);
    params[k] = parsed.is_discarded() ? nlohmann::json(value) : parsed;
  }
}

struct ProbeOutcome {
  std::string status;  // complete, partial, skipped, failed
  std::string reason;
  size_t metrics = 0;
};

ProbeOutcome run_probe(Probe& probe, const RunOptions& opt, const HostInfo& host,
                       Progress& progress, BundleWriter& bw) {
  std::string name(probe.name());
  nlohmann::json doc = {{"schema", kProbeSchema}, {"probe", name},
                        {"status", "skipped"}, {"reason", nullptr},
                        {"parameters", nlohmann::json::object()},
                        {"repetitions", nlohmann::json::array()}};
  ProbeOutcome out{"skipped", "", 0};
  auto avail = probe.check(host);
  if (!avail.ok) {
    out.reason = avail.reason;
    doc["reason"] = avail.reason;
    progress.note(name + ": skipped: " + avail.reason);
    bw.write_json(name + ".json", doc);
    return out;
  }
  RunContext ctx(opt.profile, opt.repeat, host, progress);
  try {
    auto params = probe.parameters(opt.profile, host);
    apply_sets(opt, name, params);
    doc["parameters"] = params;
    auto session = probe.prepare(ctx, params);
    progress.begin_probe(name, session->steps() * opt.repeat,
                         probe.estimate_seconds(params) * opt.repeat);
    Counters counters;
    for (unsigned r = 0; r < opt.repeat && !stop_requested(); ++r) {
      Repetition rep;
      counters.start();
      session->run_repetition(ctx, rep);
      auto c = counters.stop();
      auto j = rep.to_json();
      j["extra"]["counters"] = c;
      out.metrics += j["metrics"].size();
      doc["repetitions"].push_back(std::move(j));
      doc["status"] = "partial";
      bw.write_json(name + ".json", doc);  // keep what is measured so far
    }
    session.reset();
    out.status = stop_requested() ? "partial" : "complete";
    if (stop_requested()) out.reason = "interrupted";
  } catch (const std::exception& e) {
    out.status = doc["repetitions"].empty() ? "failed" : "partial";
    out.reason = e.what();
    progress.note(name + ": " + out.status + ": " + e.what());
  }
  for (auto& [k, v] : ctx.parameters().items()) doc["parameters"][k] = v;
  doc["status"] = out.status;
  doc["reason"] = out.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(out.reason);
  for (auto& [file, bytes] : ctx.attachments()) bw.write_file(file, bytes);
  bw.write_json(name + ".json", doc);
  progress.end_probe(out.status);
  return out;
}

}  // namespace

bool stop_requested() { return g_stop.load(std::memory_order_relaxed); }
void request_stop() { g_stop.store(true); }

nlohmann::json make_meta(const HostInfo& host, const RunOptions& opt) {
  nlohmann::json meta = host.provenance();
  meta["schema"] = kMetaSchema;
  meta["status"] = "partial";
  meta["suite"] = {{"version", KPERFLAB_VERSION}, {"git_sha", KPERFLAB_GIT_SHA}};
  meta["started"] = utc_now();
  meta["profile"] = std::string(to_string(opt.profile));
  meta["repetitions"] = opt.repeat;
  meta["counters"] = Counters::availability();
  meta["probes"] = nlohmann::json::object();
  return meta;
}

int run_main(const std::vector<std::string>& args) {
  RunOptions opt = parse_run_args(args);
  auto& reg = ProbeRegistry::instance();
  std::vector<Probe*> probes;
  for (auto& n : opt.probes) {
    Probe* p = reg.find(n);
    if (!p) throw std::invalid_argument("unknown probe '" + n + "' (see: kperflab list)");
    probes.push_back(p);
  }
  if (opt.probes.empty()) probes = reg.all();

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
  HostInfo host = HostInfo::collect();
  BundleWriter bw(opt.out ? *opt.out : opt.runs_root, make_meta(host, opt), opt.out.has_value());
  if (!recovered.empty()) bw.meta()["recovered_holds"] = recovered;
  if (host.kconfig()) bw.write_file("kconfig.gz", gzip_compress(*host.kconfig()));
  Progress progress(isatty(STDERR_FILENO));
  bool all_ok = true;
  for (Probe* p : probes) {
    if (stop_requested()) break;
    auto o = run_probe(*p, opt, host, progress, bw);
    bw.meta()["probes"][std::string(p->name())] = {
        {"status", o.status}, {"reason", o.reason.empty() ? nlohmann::json() : nlohmann::json(o.reason)},
        {"metrics", o.metrics}};
    bw.flush_meta();
    all_ok = all_ok && o.status != "failed" && o.status != "partial";
  }
  bw.meta()["finished"] = utc_now();
  if (!bw.write_failures().empty()) bw.meta()["write_failures"] = bw.write_failures();
  bool complete = !stop_requested() && all_ok && bw.write_failures().empty();
  bw.finish(complete);
  std::cout << "bundle: " << bw.dir().string() << " (" << (complete ? "complete" : "partial")
            << ")\n";
  for (auto& [name, o] : bw.meta()["probes"].items()) {
    std::cout << "  " << name << ": " << o["status"].get<std::string>();
    if (o["reason"].is_string()) std::cout << " (" << o["reason"].get<std::string>() << ")";
    std::cout << ", " << o["metrics"] << " metrics\n";
  }
  if (!bw.write_failures().empty()) {
    std::cerr << "kperflab run: the bundle " << bw.dir().string()
              << " lacks what could not be written to it:\n";
    for (auto& f : bw.write_failures()) std::cerr << "  " << f << "\n";
    std::cerr << "  (free space, then copy the saved files into the bundle)\n";
  }
  if (stop_requested()) return 130;
  return all_ok && bw.write_failures().empty() ? 0 : 1;
}

int list_main(const std::vector<std::string>& args) {
  if (!args.empty()) throw std::invalid_argument("list takes no arguments");
  HostInfo host = HostInfo::collect();
  std::printf("%-12s %-10s %s\n", "PROBE", "RUNNABLE", "WHAT / WHY NOT");
  for (Probe* p : ProbeRegistry::instance().all()) {
    auto a = p->check(host);
    std::printf("%-12.*s %-10s %.*s\n", static_cast<int>(p->name().size()), p->name().data(),
                a.ok ? "yes" : "no", static_cast<int>(p->summary().size()), p->summary().data());
    if (!a.ok) std::printf("%-12s %-10s -> %s\n", "", "", a.reason.c_str());
  }
  return 0;
}

}  // namespace kperflab

namespace kperflab {

namespace {
unsigned parse_unsigned(const std::string& flag, const std::string& v, unsigned lo,
                        unsigned hi) {
  size_t pos = 0;
  unsigned long n = 0;
  try {
    n = std::stoul(v, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (pos != v.size() || v.empty() || n < lo || n > hi)
    throw std::invalid_argument(flag + " wants a whole number from " + std::to_string(lo) +
                                " to " + std::to_string(hi) + ", got '" + v + "'");
  return static_cast<unsigned>(n);
}
}  // namespace

RunOptions parse_run_args(const std::vector<std::string>& args) {
  RunOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& flag) -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value");
      return args[++i];
    };
    if (a == "--probe" || a == "-p") {
      o.probes.push_back(value(a));
    } else if (a == "--profile") {
      auto v = value(a);
      auto p = parse_profile(v);
      if (!p)
        throw std::invalid_argument("--profile must be quick, standard, full or lab, got '" +
                                    v + "'");
      o.profile = *p;
    } else if (a == "--repeat" || a == "-r") {
      o.repeat = parse_unsigned(a, value(a), 1, 1000);
    } else if (a == "--out" || a == "-o") {
      o.out = value(a);
    } else if (a == "--runs-dir") {
      o.runs_root = value(a);
    } else if (a == "--set") {
      auto v = value(a);
      auto eq = v.find('=');
      auto dot = v.find('.');
      if (eq == std::string::npos || dot == std::string::npos || dot > eq)
        throw std::invalid_argument("--set wants PROBE.KEY=VALUE, got '" + v + "'");
      o.sets.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else {
      throw std::invalid_argument("run: unknown argument '" + a + "' (see: kperflab run --help)");
    }
  }
  return o;
}

}  // namespace kperflab
