// SPDX-License-Identifier: GPL-2.0-only
// The default screen of `kperflab show` (show_summary.h): header, findings,
// the time plan when the bundle records one, then the probes' figures.
#include "cli/show_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "cli/show.h"

namespace kperflab {

using show::kWidth;

namespace {

std::string str(const JsonView& j, const char* key) { return printable(j.text(key)); }

std::string cut(std::string s, size_t w = kWidth) {
  if (s.size() > w) s = s.substr(0, w - 3) + "...";
  return s;
}

std::optional<double> number(const std::optional<JsonView>& o, const char* key) {
  if (!o || !o->is_object()) return std::nullopt;
  auto v = o->find(key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->num();
}

// Seconds since the epoch of "YYYY-mm-ddTHH:MM:SSZ" (what run writes).
std::optional<double> epoch(const JsonView& m, const char* key) {
  auto v = m.find(key);
  if (!v || !v->is_string()) return std::nullopt;
  std::tm t{};
  if (std::sscanf(v->str().c_str(), "%d-%d-%dT%d:%d:%d", &t.tm_year, &t.tm_mon, &t.tm_mday,
                  &t.tm_hour, &t.tm_min, &t.tm_sec) != 6)
    return std::nullopt;
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  return static_cast<double>(timegm(&t));
}

void print_header(const JsonView& m) {
  JsonView k = m.at("kernel"), c = m.at("cpu"), h = m.at("host"), suite = m.at("suite");
  std::printf("%s\n", cut("bundle   " + str(m, "bundle_id") + "  status=" + str(m, "status") +
                          "  suite=" + str(suite, "version") + " (" +
                          str(suite, "git_sha").substr(0, 12) + ")").c_str());
  std::string virt = h.at("virtualized").is_null() ? "n/a"
                     : h.at("virtualized").raw().dump() == "true"
                         ? "virtualized (" + str(h, "hypervisor") + ")"
                         : "bare metal";
  std::printf("%s\n", cut("host     " + str(h, "hostname") + "  " + virt + "  kernel " +
                          str(k, "release")).c_str());
  JsonView config = k.at("config");
  std::printf("%s\n", cut("config   " + (config.is_object()
                                             ? "sha256=" + str(config, "sha256").substr(0, 16) +
                                                   " (" + str(config, "source") + ")"
                                             : std::string("n/a"))).c_str());
  std::printf("%s\n", cut("cpu      " + str(c, "model_name") + "  online=" + str(c, "online") +
                          " (" + str(c, "online_count") + ")  governor=" +
                          str(c.at("frequency"), "governor") + "  clocksource=" +
                          str(k.at("clocksource"), "current")).c_str());
  print_topology_counts(c);
  std::string run = "run      profile " + str(m, "profile") + ", " + str(m, "repetitions") +
                    " repetitions, " + str(m, "started");
  auto t0 = epoch(m, "started"), t1 = epoch(m, "finished");
  if (t0 && t1 && *t1 >= *t0)
    run += " .. " + str(m, "finished").substr(11) + " (" + show::format_duration(*t1 - *t0) + ")";
  std::printf("%s\n", cut(run).c_str());
}

// Warnings one line each; the rest counted.
void print_preflight(const JsonView& m) {
  auto pf = m.find_if("preflight", J_OBJECT);
  if (!pf) return;
  auto all = pf->at("findings").elements();
  size_t warn = 0;
  for (auto& f : all) warn += f.at("severity").str() == "warn";
  std::printf("preflight (%s ms sample): %zu warnings, %zu more findings (--repetitions lists "
              "them)\n", str(*pf, "sample_ms").c_str(), warn, all.size() - warn);
  for (auto& f : all)
    if (f.at("severity").str() == "warn")
      std::printf("%s\n", cut("  warn " + str(f, "what") + ": " + str(f, "value")).c_str());
}

void print_plan(const Bundle& b, const std::string& only) {
  auto plan = b.meta_view().find_if("plan", J_OBJECT);
  auto est = number(plan, "estimated_s"), act = number(plan, "actual_s");
  if (!plan || !est || !act || !only.empty()) return;
  std::string line = "time     estimated " + show::format_duration(*est) + ", took " +
                     show::format_duration(*act);
  if (auto budget = number(plan, "budget_s")) line += " (budget " + show::format_duration(*budget) + ")";
  std::printf("%s\n", cut(line).c_str());
}

// The probe's plan (runner): estimated and actual time, its points.
std::string probe_plan(const JsonView& doc, bool cuts) {
  auto plan = doc.find_if("plan", J_OBJECT);
  auto est = number(plan, "estimated_s"), act = number(plan, "actual_s");
  if (!est || !act) return "";
  std::string s = "estimated " + show::format_duration(*est) + ", took " +
                  show::format_duration(*act);
  if (auto budget = number(plan, "budget_s")) s += " (budget " + show::format_duration(*budget) + ")";
  auto pts = number(plan, "points"), reps = number(plan, "repetitions");
  char b[64];
  if (pts && reps) {
    std::snprintf(b, sizeof b, "; %.0f points x %.0f repetitions", *pts, *reps);
    s += b;
  }
  for (const char* k : {"sampled", "overridden"})
    if (auto x = plan->find(k); x && x->is_string()) s += "; " + std::string(k) + ": " + printable(x->str());
  // What the plan cut to fit: listed for one probe (--probe), else counted.
  if (auto c = plan->find("cuts"); c && c->is_array() && c->size()) {
    if (!cuts) s += "; " + std::to_string(c->size()) + " settings cut to fit (--probe lists them)";
    for (auto& x : c->elements())
      if (x.is_string() && cuts) s += "; cut: " + printable(x.str());
  }
  return s;
}

// What observing cost (#28), from the probe's effect/* metrics, on one
// line: the bystander's rate with our programs attached over detached
// (docs/run-artifacts.md: a process not ours), our programs' CPU time per second of the
// points and their ns per run (medians over the repetitions); without them, the probe's reason for none; "" when it gave
// neither.
std::string probe_effect(const std::vector<JsonView>& reps) {
  std::map<std::string, std::vector<double>> v;
  for (auto& r : reps)
    for (auto& [n, m] : r.at("metrics").members())
      if (n.rfind("effect/", 0) == 0)
        if (auto x = m.find("value"); x && x->is_number()) v[n].push_back(x->num());
  std::string s;
  char b[160];
  if (auto it = v.find("effect/bystander/ratio"); it != v.end()) {
    std::snprintf(b, sizeof b, "bystander at %.3fx its rate", show::median(it->second));
    s += b;
  }
  if (auto it = v.find("effect/bpf/cpu_share"); it != v.end()) {
    std::snprintf(b, sizeof b, "our programs %.2g %% of a CPU", 100 * show::median(it->second));
    s += (s.empty() ? "" : "; ") + std::string(b);
  }
  double lo = HUGE_VAL, hi = 0;
  for (auto& [n, x] : v)
    if (n.size() > 11 && n.compare(n.size() - 11, 11, "/ns_per_run") == 0) {
      double m = show::median(x);
      lo = std::min(lo, m);
      hi = std::max(hi, m);
    }
  if (hi > 0) {
    std::snprintf(b, sizeof b, ", %.0f-%.0f ns a run", lo, hi);
    s += b;
  }
  // No figure: the reason the probe gave for none (the first repetition's).
  if (s.empty() && !reps.empty())
    if (auto sk = reps[0].find("skipped"); sk && sk->is_object())
      if (auto why = sk->find("effect/bystander"); why && why->is_string())
        s = "none: " + printable(why->str());
  return s;
}

// Skipped metrics by reason, three reasons at most.
void print_skipped(const std::vector<JsonView>& reps) {
  std::map<std::string, std::set<std::string>> why;
  std::vector<std::string> order;
  for (auto& r : reps)
    for (auto& [n, w] : r.at("skipped").members()) {
      if (n.rfind("effect/", 0) == 0) continue;  // the "probe effect" line gives it
      std::string reason = printable(w.str());
      if (!why.count(reason)) order.push_back(reason);
      why[reason].insert(n);
    }
  for (size_t i = 0; i < order.size() && i < 2; ++i)
    std::printf("%s\n", cut("  skipped (" + std::to_string(why[order[i]].size()) + "): " +
                            order[i]).c_str());
  if (order.size() > 2)
    std::printf("  skipped: %zu more reasons (--repetitions lists each metric)\n",
                order.size() - 2);
}

// A matrix per title, each cell the median over the repetitions holding it.
void print_matrices(const std::vector<JsonView>& reps, const HostInfo& host) {
  std::vector<std::pair<std::string, nlohmann::json>> merged;
  std::map<std::string, std::vector<JsonView>> by;
  for (auto& r : reps) {
    auto e = r.find("extra");
    auto ms = e ? e->find("matrices") : std::nullopt;
    if (!ms || !ms->is_array()) continue;
    for (auto& x : ms->elements()) {
      std::string t = x.text("title", "");
      if (!by.count(t)) merged.emplace_back(t, nlohmann::json());
      by[t].push_back(x);
    }
  }
  for (auto& [t, j] : merged) {
    const JsonView& first = by[t].front();
    j = first.raw();
    size_t rows = first.at("rows").size(), cols = first.at("cols").size();
    for (size_t r = 0; r < rows; ++r)
      for (size_t c = 0; c < cols; ++c) {
        std::vector<double> v;
        for (auto& x : by[t])
          if (x.at("rows").size() == rows && x.at("cols").size() == cols &&
              x.at("values").at(r).at(c).is_number())
            v.push_back(x.at("values").at(r).at(c).num());
        j["values"][r][c] = v.empty() ? nlohmann::json() : nlohmann::json(show::median(v));
      }
    JsonView view(j, std::make_shared<const std::filesystem::path>(first.file()), first.path());
    if (!print_matrix_summary(view, host))
      std::printf("  -- %s: not by CPU (--full prints it)\n", printable(t).c_str());
  }
}

void print_probe(const std::string& name, const JsonView& doc, const headline::Probe& p,
                 const HostInfo& host, const ShowArgs& a, size_t share) {
  auto reps = doc.at("repetitions").elements();
  std::string head = "== " + printable(name) + ": " + printable(doc.at("status").str());
  if (doc.at("reason").is_string()) head += " (" + printable(doc.at("reason").str()) + ")";
  if (!reps.empty()) head += ", " + std::to_string(reps.size()) + " repetitions";
  std::printf("\n%s\n", cut(head).c_str());
  if (auto plan = probe_plan(doc, !a.probe.empty()); !plan.empty() && !reps.empty())
    show::print_wrapped("  time: ", plan, 8);
  if (auto e = probe_effect(reps); !e.empty()) show::print_wrapped("  probe effect: ", e, 8);
  if (auto u = doc.find("until_ci"); u && u->is_object())
    std::printf(" --until-ci +-%.3g %% (this boot's median): %.0f repetitions in %.0f s, "
                "stopped: %s; %.0f of %.0f wider\n",
                u->at("target_half_width_pct").num(), u->at("repetitions").num(),
                u->at("elapsed_s").num(), cut(printable(u->at("stopped").str()), 12).c_str(),
                u->at("above_target").num(), u->at("headline_metrics").num());
  if (reps.empty()) return;
  std::string text = show::print_figures(p, show::collect(doc));
  size_t lines = 0, at = 0;
  for (; at < text.size() && (lines < share || !a.probe.empty()); ++lines)
    at = text.find('\n', at) + 1;
  std::printf("%s", text.substr(0, at).c_str());
  if (at < text.size()) {
    size_t rest = static_cast<size_t>(std::count(text.begin() + at, text.end(), '\n'));
    std::printf("%s\n", cut("  ... " + std::to_string(rest) + " more lines: kperflab show BUNDLE "
                            "--probe " + printable(name)).c_str());
  }
  if (!a.full) print_matrices(reps, host);
  print_skipped(reps);
  // Counters the run was asked for (--perf-stat, --likwid): per repetition.
  std::set<std::string> told;
  for (auto& r : reps)
    if (auto e = r.find("extra"))
      if (auto c = e->find("counters")) {
        if (auto ps = c->find("perf_stat")) print_perf_stat(*ps, told);
        if (auto lk = c->find("likwid"); lk && lk->has("events")) print_likwid(*lk);
      }
}

}  // namespace

namespace show {

std::string format_duration(double s) {
  char b[48];
  if (s < 1) std::snprintf(b, sizeof b, "%.0f ms", s * 1e3);
  else if (s < 120) std::snprintf(b, sizeof b, "%.0f s", s);
  else if (s < 7200 && std::lround(std::fmod(s, 60)) % 60 == 0)
    std::snprintf(b, sizeof b, "%.0f min", std::round(s / 60));
  else if (s < 7200) std::snprintf(b, sizeof b, "%.0f min %.0f s", std::floor(s / 60), std::fmod(s, 60));
  else std::snprintf(b, sizeof b, "%.0f h %.0f min", std::floor(s / 3600), std::fmod(s, 3600) / 60);
  return b;
}

}  // namespace show

void show_summary(const Bundle& b, const ShowArgs& a) {
  JsonView m = b.meta_view();
  print_header(m);
  print_preflight(m);
  print_tuning(m);
  print_meta_counters(m);
  print_noise_check(m);
  print_plan(b, a.probe);
  auto probes = headline::summarize(b);
  // The default screen (~150 lines for the standard profile, #26) lists
  // two notes; --full and a single probe's view list them all.
  show::print_findings(show::findings(b, probes, a.probe),
                       a.full || !a.probe.empty() ? SIZE_MAX : 2);
  const HostInfo host = HostInfo::from_meta(b.meta);
  std::printf("\nfigures: median over the repetitions of each one's p50, p99 or value; +-: 95 %% "
              "interval of\nthat median, in %% of it (6+ repetitions); n: repetitions\n");
  size_t ran = 0;
  for (auto& [name, doc] : b.probes)
    ran += (a.probe.empty() || name == a.probe) && !b.probe_view(name).at("repetitions").elements().empty();
  size_t share = std::clamp<size_t>(show::kFigureLines / std::max<size_t>(ran, 1), 12, 30);
  for (auto& p : probes) {
    if ((!a.probe.empty() && p.name != a.probe) || !b.probes.count(p.name)) continue;
    print_probe(p.name, b.probe_view(p.name), p, host, a, share);
  }
  if (a.full) return;
  std::printf("\n--repetitions: every metric of every repetition and the probes' tables; "
              "--full: all of it\n");
}

}  // namespace kperflab
