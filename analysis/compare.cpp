// SPDX-License-Identifier: GPL-2.0-only
#include "analysis/compare.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "analysis/stats.h"
#include "histogram.h"
#include "kperflab/hist.h"

namespace kperflab::compare {

namespace fs = std::filesystem;
using nlohmann::json;

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::unchanged: return "unchanged";
    case Verdict::regression: return "REGRESSION";
    case Verdict::improvement: return "improvement";
    case Verdict::change: return "change";
    case Verdict::undecided: return "undecided";
  }
  return "?";
}

const char* to_string(Basis b) {
  switch (b) {
    case Basis::boots: return "boots";
    case Basis::noise: return "noise model";
    case Basis::one_boot: return "one boot";
    case Basis::confounded: return "repetitions";
  }
  return "?";
}

Side Side::load(const fs::path& p) {
  Side s;
  if (!fs::exists(p)) throw std::invalid_argument("no such bundle or directory: " + p.string());
  if (fs::exists(p / "meta.json")) {
    s.bundles.push_back(Bundle::load(p));
  } else {
    std::vector<fs::path> dirs;
    for (auto& e : fs::recursive_directory_iterator(p))
      if (e.is_regular_file() && e.path().filename() == "meta.json")
        dirs.push_back(e.path().parent_path());
    std::sort(dirs.begin(), dirs.end());
    for (auto& d : dirs) s.bundles.push_back(Bundle::load(d));
  }
  if (s.bundles.empty()) throw std::invalid_argument("no bundle (meta.json) under " + p.string());
  std::set<std::string> rel;
  for (auto& b : s.bundles) rel.insert(b.meta_view().at("kernel").at("release").str());
  s.label = *rel.begin() + (rel.size() > 1 ? " (+" + std::to_string(rel.size() - 1) + " kernels)" : "");
  if (s.bundles.size() > 1) s.label += " (" + std::to_string(s.bundles.size()) + " bundles)";
  return s;
}

namespace {

// Direction of "better" from the unit: time and cost units are lower-is-
// better; a metric may say otherwise with labels.better = "higher"|"lower"|
// "none". Fractions named *missed* or *unexpected* are lower-is-better.
std::string better_of(const std::string& metric, const JsonView& m) {
  if (auto labels = m.find("labels"))
    if (auto better = labels->find("better"))
      return better->str() == "none" ? "" : better->str();
  static const std::set<std::string> time_units = {"ns", "ps", "us", "ms", "s", "cycles"};
  if (time_units.count(m.at("unit").str())) return "lower";
  if (metric.find("missed") != std::string::npos || metric.find("unexpected") != std::string::npos)
    return "lower";
  return "";
}

double effect_for(const Options& o, const std::string& key) {
  double e = o.min_effect;
  for (auto& [glob, v] : o.min_effect_for)
    if (fnmatch(glob.c_str(), key.c_str(), 0) == 0) e = v;
  return e;
}

// probe -> metric -> stat -> values (one per repetition), plus unit/labels.
struct Collected {
  std::map<std::string, std::map<std::string, std::map<std::string, std::vector<double>>>> v;
  std::map<std::string, JsonView> meta;  // "probe\x1fmetric" -> metric (last seen)
  size_t reps = 0;
};

Collected collect(const Side& s) {
  static const char* kStats[] = {"p50", "p90", "p99", "p99_9", "mean"};
  Collected c;
  for (auto& b : s.bundles)
    for (auto& [probe, d] : b.probes) {
      JsonView reps = b.probe_view(probe).at("repetitions");
      for (auto& rep : reps.elements()) {
        c.reps = std::max(c.reps, reps.size() * s.bundles.size());
        for (auto& [name, m] : rep.at("metrics").members()) {
          c.meta.insert_or_assign(probe + '\x1f' + name, m);
          if (m.at("kind").str() == "scalar") {
            if (m.at("value").is_number()) c.v[probe][name]["value"].push_back(m.at("value").num());
            continue;
          }
          if (m.at("count").u64() == 0) continue;
          for (const char* st : kStats)
            if (auto x = m.find(st); x && x->is_number()) c.v[probe][name][st].push_back(x->num());
        }
      }
    }
  return c;
}

// A change is reported when it is significant (BH-adjusted U test) AND at
// least the minimum effect with a bootstrap CI that excludes "no change".
// Big and clear but not significant (too few repetitions for the number of
// comparisons): undecided.
void decide(Row& r, double alpha) {
  bool significant = r.p_adj < alpha;
  bool big = std::fabs(r.change) >= r.min_effect;
  bool clear = r.ci_lo > 0 || r.ci_hi < 0;
  if (!(big && clear)) {
    r.verdict = Verdict::unchanged;
  } else if (!significant) {
    r.verdict = Verdict::undecided;
  } else if (r.better.empty()) {
    r.verdict = Verdict::change;
  } else {
    r.verdict = (r.better == "lower") == (r.change > 0) ? Verdict::regression
                                                         : Verdict::improvement;
  }
}

}  // namespace

Result compare(const Side& base, const Side& cand, const Options& o) {
  Result res;
  res.base_label = base.label;
  res.cand_label = cand.label;
  auto hostname = [](const Bundle& b) { return b.meta_view().at("host").at("hostname").str(); };
  std::string hb = hostname(base.bundles[0]), hc = hostname(cand.bundles[0]);
  for (const Side* s : {&base, &cand})
    for (auto& b : s->bundles)
      if (hostname(b) != hb && !o.cross_host)
        throw std::invalid_argument("bundles come from different hosts (" + printable(hb) + ", " +
                                    printable(hostname(b)) +
                                    "): absolute latencies do not compare across hosts; "
                                    "pass --cross-host to compare anyway");
  if (hb != hc)
    res.warnings.push_back("comparing across hosts (" + printable(hb) + " vs " + printable(hc) +
                           ")");
  res.provenance = provenance_diff(base, cand);  // meta and probe parameters, every bundle
  for (const Side* s : {&base, &cand})
    for (auto& b : s->bundles)
      if (b.meta_view().at("status").str() != "complete")
        res.warnings.push_back(printable(b.dir.string()) +
                               " is partial (interrupted or a probe failed)");
  Collected cb = collect(base), cc = collect(cand);
  res.base_reps = cb.reps;
  res.cand_reps = cc.reps;
  auto wanted = [&](const std::string& probe) {
    return o.probes.empty() || std::find(o.probes.begin(), o.probes.end(), probe) != o.probes.end();
  };
  for (const auto& p : o.probes)
    if (!cb.v.count(p) && !cc.v.count(p))
      throw std::invalid_argument("--probe " + p + ": in neither side's bundles");
  for (auto& [probe, metrics] : cb.v) {
    if (!wanted(probe)) continue;
    for (auto& [name, st] : metrics)
      for (auto& [stat, bv] : st) {
        auto pit = cc.v.find(probe);
        if (pit == cc.v.end() || !pit->second.count(name) || !pit->second[name].count(stat))
          continue;
        Row r;
        r.probe = probe;
        r.metric = name;
        r.stat = stat;
        const JsonView& m = cb.meta.at(probe + '\x1f' + name);
        r.unit = m.at("unit").str();
        r.labels = m.has("labels") ? m.at("labels").raw() : json::object();
        r.better = better_of(name, m);
        r.base = bv;
        r.cand = pit->second[name][stat];
        r.base_median = stats::median(r.base);
        r.cand_median = stats::median(r.cand);
        r.change = r.base_median != 0 ? r.cand_median / r.base_median - 1
                                      : (r.cand_median == 0 ? 0 : INFINITY);
        auto ci = stats::bootstrap_relative_change(r.base, r.cand, 1 - o.alpha, o.resamples,
                                                   o.seed + res.rows.size());
        r.ci_lo = ci.lo;
        r.ci_hi = ci.hi;
        r.p = stats::mann_whitney_p(r.base, r.cand);
        r.min_effect = effect_for(o, probe + "/" + name + ":" + stat);
        res.rows.push_back(std::move(r));
      }
  }
  std::vector<double> ps;
  for (auto& r : res.rows) ps.push_back(r.p);
  auto adj = stats::benjamini_hochberg(ps);
  for (size_t i = 0; i < res.rows.size(); ++i) {
    res.rows[i].p_adj = adj[i];
    decide(res.rows[i], o.alpha);
  }
  double minp = stats::mann_whitney_min_p(res.base_reps, res.cand_reps);
  if (minp * static_cast<double>(std::max<size_t>(res.rows.size(), 1)) >= o.alpha)
    res.warnings.push_back(
        "too few repetitions to decide after correcting for " + std::to_string(res.rows.size()) +
        " comparisons (" + std::to_string(res.base_reps) + " vs " + std::to_string(res.cand_reps) +
        " repetitions; the smallest possible p-value is " + std::to_string(minp) +
        "): run with --repeat 10 or more, or compare fewer probes");
  auto only = [&](Collected& x, Collected& y, const char* side) {
    std::vector<std::string> names;
    for (auto& [probe, metrics] : x.v)
      for (auto& [name, st] : metrics)
        if (wanted(probe) && (!y.v.count(probe) || !y.v[probe].count(name)))
          names.push_back(probe + "/" + name);
    if (names.empty()) return;
    std::string w = std::to_string(names.size()) + " metrics only in " + side + ", e.g. ";
    for (size_t i = 0; i < names.size() && i < 3; ++i) w += (i ? ", " : "") + names[i];
    res.warnings.push_back(w);
  };
  only(cb, cc, "base");
  only(cc, cb, "candidate");
  return res;
}

size_t Result::regressions() const {
  return std::count_if(rows.begin(), rows.end(),
                       [](const Row& r) { return r.verdict == Verdict::regression; });
}

size_t Result::improvements() const {
  return std::count_if(rows.begin(), rows.end(),
                       [](const Row& r) { return r.verdict == Verdict::improvement; });
}

json merged_cdf(const Side& s, const std::string& probe, const std::string& metric) {
  Histogram h;
  bool found = false;
  for (auto& b : s.bundles) {
    if (!b.probes.count(probe)) continue;
    for (auto& rep : b.probe_view(probe).at("repetitions").elements()) {
      auto m = rep.at("metrics").find(metric);
      if (!m || m->at("kind").str() != "histogram") continue;
      h.merge(Histogram::decode_base64(m->at("hist").str()));
      found = true;
    }
  }
  if (!found || h.empty()) return nullptr;
  json pts = json::array();
  uint64_t seen = 0, total = h.count() - h.overflow();
  const auto& c = h.counts();
  for (uint32_t i = 0; i < c.size(); ++i) {
    if (!c[i]) continue;
    seen += c[i];
    pts.push_back({kpl_hist_highest(i), static_cast<double>(seen) / static_cast<double>(total)});
  }
  return pts;
}

}  // namespace kperflab::compare
