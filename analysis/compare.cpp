// SPDX-License-Identifier: GPL-2.0-only
#include "analysis/compare.h"

#include <fnmatch.h>

#include <algorithm>
#include <exception>
#include <atomic>
#include <cmath>
#include <optional>
#include <set>
#include <thread>

#include "analysis/catalog.h"
#include "analysis/noise.h"
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
  if (!fs::exists(p)) throw std::invalid_argument("no such bundle or directory: " + p.string());
  std::vector<fs::path> dirs;
  if (fs::exists(p / "meta.json")) {
    dirs.push_back(p);
  } else {
    for (auto& e : fs::recursive_directory_iterator(p))
      if (e.is_regular_file() && e.path().filename() == "meta.json")
        dirs.push_back(e.path().parent_path());
    std::sort(dirs.begin(), dirs.end());
  }
  return load_dirs(std::move(dirs), p.string());
}

Side Side::select(const std::string& selector, const fs::path& runs_root) {
  catalog::Catalog cat(runs_root);
  std::vector<fs::path> dirs;
  for (auto& e : cat.select(selector)) dirs.push_back(runs_root / e.path);
  if (dirs.empty())
    throw std::invalid_argument("'" + selector + "' matched no bundle in the catalog of " +
                                runs_root.string() + " (" +
                                std::to_string(cat.sync_stats().bundles) +
                                " bundles; `kperflab catalog` lists them)");
  Side s = load_dirs(std::move(dirs), selector);
  s.label = selector + ": " + s.label;
  return s;
}

Side Side::load_dirs(std::vector<fs::path> dirs, const std::string& what) {
  Side s;
  // Bundles load independently (parse + validation dominate compare on
  // fleets): in parallel, kept in order; the first failure (in order) is
  // rethrown.
  std::vector<std::optional<Bundle>> loaded(dirs.size());
  std::vector<std::exception_ptr> errors(dirs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < dirs.size();) try {
        loaded[i] = Bundle::load(dirs[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
  };
  unsigned n = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), dirs.size());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
  if (!dirs.empty()) work();
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < dirs.size(); ++i) {
    if (errors[i]) std::rethrow_exception(errors[i]);
    s.bundles.push_back(std::move(*loaded[i]));
  }
  if (s.bundles.empty()) throw std::invalid_argument("no bundle (meta.json) under " + what);
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

// A change is reported when it is significant (BH-adjusted) AND at least
// the row's minimum effect with a CI that excludes "no change". Big and clear
// but not significant (too few units for the number of comparisons):
// undecided.
void decide(Row& r, double alpha) {
  if (!r.note.empty()) return;  // decided by a rule (forbidden outcome)
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

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A litmus test's forbidden outcome (membarrier issue #14): any occurrence
// where the base had none is a regression whatever its size.
bool forbidden_metric(const std::string& metric) {
  return ends_with(metric, "/forbidden") || ends_with(metric, "/forbidden_per_million");
}

bool all_positive(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// Relative spread of a side's units (see Row::base_spread).
double rel_spread(const std::vector<double>& v) {
  double m = stats::median(v);
  return v.size() >= 2 && m != 0 ? stats::mad_sd(v) / std::fabs(m) : NAN;
}

struct RowInput {
  const Series* base;
  const Series* cand;
  size_t base_boots, cand_boots;
  Basis basis;
  const NoiseEntry* noise;
};

// The test behind one row, by its basis.
void test_row(Row& r, const RowInput& in, const Options& o, uint64_t seed) {
  double floor = r.min_effect;
  double noise_rel = NAN;
  if (r.basis == Basis::boots || r.basis == Basis::noise) {
    std::vector<double> ub = per_boot(*in.base, in.base_boots);
    std::vector<double> uc = per_boot(*in.cand, in.cand_boots);
    r.base_n = ub.size();
    r.cand_n = uc.size();
    r.base_spread = rel_spread(ub);
    r.cand_spread = rel_spread(uc);
    bool log = r.basis == Basis::noise ? in.noise->log : all_positive(ub) && all_positive(uc);
    if (log && !(all_positive(ub) && all_positive(uc))) log = false;  // cannot: fall back
    auto scale = [&](std::vector<double> v) {
      if (log)
        for (auto& x : v) x = std::log(x);
      return v;
    };
    std::vector<double> lb = scale(ub), lc = scale(uc);
    double d = mean(lc) - mean(lb), se, df;
    if (r.basis == Basis::noise) {
      double sd = in.noise->log == log ? in.noise->sd : NAN;
      se = sd * std::sqrt(1.0 / static_cast<double>(lb.size()) + 1.0 / static_cast<double>(lc.size()));
      df = static_cast<double>(in.noise->boots - 1);
      noise_rel = log ? sd : sd / std::fabs(mean(ub));
    } else {
      auto t = stats::t_test(lb, lc);
      se = t.se;
      df = t.df;
      // Between-boot SD of one boot's value (pooled over the sides).
      double var = 0, dfs = 0;
      for (auto* v : {&lb, &lc})
        if (v->size() >= 2) {
          double m = mean(*v);
          for (double x : *v) var += (x - m) * (x - m);
          dfs += static_cast<double>(v->size() - 1);
        }
      double sd = dfs > 0 ? std::sqrt(var / dfs) : NAN;
      noise_rel = log ? sd : sd / std::fabs(mean(ub));
    }
    double base_level = std::fabs(mean(ub));
    auto rel = [&](double x) { return log ? std::expm1(x) : base_level ? x / base_level : NAN; };
    r.change = rel(d);
    if (se == 0 || std::isnan(se)) {
      r.p = std::isnan(se) ? 1 : (d == 0 ? 1 : 0);
      r.ci_lo = r.ci_hi = r.change;
    } else {
      r.p = std::min(1.0, 2 * stats::student_t_sf(std::fabs(d) / se, df));
      double q = stats::student_t_quantile(1 - o.alpha / 2, df);
      r.ci_lo = rel(d - q * se);
      r.ci_hi = rel(d + q * se);
    }
  } else {
    r.base_n = r.base.size();
    r.cand_n = r.cand.size();
    r.base_spread = rel_spread(r.base);
    r.cand_spread = rel_spread(r.cand);
    r.change = r.base_median != 0 ? r.cand_median / r.base_median - 1
                                  : (r.cand_median == 0 ? 0 : INFINITY);
    auto ci = stats::bootstrap_relative_change(r.base, r.cand, 1 - o.alpha, o.resamples, seed);
    r.ci_lo = ci.lo;
    r.ci_hi = ci.hi;
    r.p = stats::mann_whitney_p(r.base, r.cand);
    // Repetitions of one boot: the noise of a side's median is about the
    // repetitions' spread over sqrt(n).
    double sb = r.base_spread, sc = r.cand_spread;
    if (!std::isnan(sb) && !std::isnan(sc))
      noise_rel = std::sqrt((sb * sb + sc * sc) / 2) /
                  std::sqrt(static_cast<double>(std::min(r.base_n, r.cand_n)));
  }
  r.min_effect = std::isnan(noise_rel) ? floor : std::max(floor, noise_rel);
  if (forbidden_metric(r.metric) && r.better == "lower") {  // not a control (better: none)
    bool base_none = std::all_of(r.base.begin(), r.base.end(), [](double x) { return x == 0; });
    bool cand_some = std::any_of(r.cand.begin(), r.cand.end(), [](double x) { return x > 0; });
    if (base_none && cand_some) {
      r.verdict = Verdict::regression;
      r.note = "forbidden outcome: none in the base, seen in the candidate";
    }
  }
}

// Identity of a row's data (values and boots of both sides), for merging
// rows that carry the same numbers.
std::string data_key(const std::string& probe, const Series& b, const Series& c) {
  std::string k = probe + '\x1f';
  for (const Series* s : {&b, &c}) {
    k.append(reinterpret_cast<const char*>(s->v.data()), s->v.size() * sizeof(double));
    k.append(reinterpret_cast<const char*>(s->boot.data()), s->boot.size() * sizeof(size_t));
    k += '\x1e';
  }
  return k;
}

// Smallest n per side for which the exact rank test can reach p <= target.
size_t reps_needed(double target) {
  for (size_t n = 2; n <= 1000; ++n)
    if (stats::mann_whitney_min_p(n, n) <= target) return n;
  return 1000;
}

}  // namespace

Collected collect(const Side& s) {
  static const char* kStats[] = {"p50", "p90", "p99", "p99_9", "mean"};
  Collected c;
  std::map<std::string, size_t> boot_index;
  for (auto& b : s.bundles) {
    std::string key = "bundle:" + b.dir.string();
    if (auto k = b.meta_view().at("kernel").find("boot_id"); k && k->is_string())
      key = "boot:" + k->str();
    size_t boot = boot_index.emplace(key, boot_index.size()).first->second;
    for (auto& [probe, d] : b.probes) {
      JsonView reps = b.probe_view(probe).at("repetitions");
      for (auto& rep : reps.elements()) {
        for (auto& [name, m] : rep.at("metrics").members()) {
          c.meta.insert_or_assign(probe + '\x1f' + name, m);
          // The metric's map, named outside the lambda (clang 14 cannot
          // capture structured bindings).
          auto& stats_of = c.v[probe][name];
          auto put = [&](const char* st, double x) {
            Series& ser = stats_of[st];
            ser.v.push_back(x);
            ser.boot.push_back(boot);
          };
          if (m.at("kind").str() == "scalar") {
            if (m.at("value").is_number()) put("value", m.at("value").num());
            continue;
          }
          if (m.at("count").u64() == 0) continue;
          for (const char* st : kStats)
            if (auto x = m.find(st); x && x->is_number()) put(st, x->num());
        }
      }
    }
    size_t most = 0;  // repetitions of this bundle (its probes run the same count)
    for (auto& [probe, d] : b.probes)
      most = std::max(most, b.probe_view(probe).at("repetitions").size());
    c.reps += most;
  }
  c.boots.resize(boot_index.size());
  for (auto& [k, i] : boot_index) c.boots[i] = k;
  return c;
}

std::vector<double> per_boot(const Series& s, size_t nboots) {
  std::vector<std::vector<double>> by(nboots);
  for (size_t i = 0; i < s.v.size(); ++i) by[s.boot[i]].push_back(s.v[i]);
  std::vector<double> out;
  for (auto& v : by)
    if (!v.empty()) out.push_back(stats::median(v));
  return out;
}

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
  res.base_boots = cb.boots.size();
  res.cand_boots = cc.boots.size();
  // The unit of replication (README "Between boots").
  std::set<std::string> all_boots(cb.boots.begin(), cb.boots.end());
  all_boots.insert(cc.boots.begin(), cc.boots.end());
  std::optional<NoiseModel> noise;
  if (o.noise != "none") {
    std::optional<fs::path> file;
    if (!o.noise.empty()) file = o.noise;
    else if (auto d = default_noise_path(base.bundles[0].dir, hb); d && fs::exists(*d)) file = d;
    if (file) {
      noise = NoiseModel::load(*file);
      if (noise->host != hb) {
        if (!o.noise.empty())
          throw std::invalid_argument("noise model " + printable(file->string()) + " is of host " +
                                      printable(noise->host) + ", the bundles of " +
                                      printable(hb));
        noise.reset();
      }
    }
  }
  if (all_boots.size() == 1) res.basis = Basis::one_boot;
  else if (res.base_boots >= 2 || res.cand_boots >= 2) res.basis = Basis::boots;
  else if (noise) res.basis = Basis::noise;
  else res.basis = Basis::confounded;
  if (noise && res.basis == Basis::noise) res.noise_file = noise->file.string();
  auto wanted = [&](const std::string& probe) {
    return o.probes.empty() || std::find(o.probes.begin(), o.probes.end(), probe) != o.probes.end();
  };
  for (const auto& p : o.probes)
    if (!cb.v.count(p) && !cc.v.count(p))
      throw std::invalid_argument("--probe " + p + ": in neither side's bundles");
  std::vector<RowInput> inputs;
  std::map<std::string, size_t> seen;  // data_key -> row
  size_t noise_missing = 0;
  for (auto& [probe, metrics] : cb.v) {
    if (!wanted(probe)) continue;
    auto pit = cc.v.find(probe);
    if (pit == cc.v.end()) continue;
    for (auto& [name, st] : metrics)
      for (auto& [stat, bs] : st) {
        auto mit = pit->second.find(name);
        if (mit == pit->second.end() || !mit->second.count(stat)) continue;
        const Series& cs = mit->second.at(stat);
        auto [it, fresh] = seen.emplace(data_key(probe, bs, cs), res.rows.size());
        if (!fresh) {
          Row& first = res.rows[it->second];
          first.aliases.push_back(first.metric == name ? stat : name + ":" + stat);
          ++res.merged_rows;
          continue;
        }
        Row r;
        r.probe = probe;
        r.metric = name;
        r.stat = stat;
        const JsonView& m = cb.meta.at(probe + '\x1f' + name);
        r.unit = m.at("unit").str();
        r.labels = m.has("labels") ? m.at("labels").raw() : json::object();
        r.better = better_of(name, m);
        r.base = bs.v;
        r.cand = cs.v;
        r.base_median = stats::median(r.base);
        r.cand_median = stats::median(r.cand);
        std::string key = probe + "/" + name + ":" + stat;
        r.min_effect = effect_for(o, key);  // the floor; test_row raises it to the noise
        RowInput in{&bs, &cs, cb.boots.size(), cc.boots.size(), res.basis, nullptr};
        r.basis = res.basis;
        if (r.basis == Basis::noise) {
          in.noise = noise->find(key);
          if (!in.noise || in.noise->boots < 2) {
            r.basis = in.basis = Basis::confounded;
            ++noise_missing;
          }
        }
        res.rows.push_back(std::move(r));
        inputs.push_back(in);
      }
  }
  // Rows are independent: computed in parallel, each with its own seed, so
  // the result does not depend on the thread count.
  unsigned nthreads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  nthreads = static_cast<unsigned>(std::min<size_t>(nthreads, res.rows.size() / 64 + 1));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < res.rows.size();)
      test_row(res.rows[i], inputs[i], o, o.seed + i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < nthreads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  std::vector<double> ps;
  for (auto& r : res.rows) ps.push_back(r.p);
  auto adj = stats::benjamini_hochberg(ps);
  for (size_t i = 0; i < res.rows.size(); ++i) {
    res.rows[i].p_adj = adj[i];
    decide(res.rows[i], o.alpha);
  }
  // What the basis means for the verdicts.
  size_t m = std::max<size_t>(res.rows.size(), 1);
  double lone = o.alpha / static_cast<double>(m);  // BH's bar for a single discovery
  char buf[64];
  auto num = [&](double x) {
    std::snprintf(buf, sizeof buf, "%.2g", x);
    return std::string(buf);
  };
  if (res.basis == Basis::confounded)
    res.warnings.push_back(
        "one boot per side and no noise model for host " + printable(hb) +
        ": a kernel effect cannot be told from a boot effect (boots of one kernel differ by "
        "a few percent on many metrics). Give each side bundles from several boots, or "
        "measure the host's noise once: `kperflab noise DIR` over 3 or more boots of one "
        "kernel");
  if (noise_missing)
    res.warnings.push_back(std::to_string(noise_missing) +
                           " rows are not in the noise model " +
                           printable(noise->file.string()) +
                           ": tested on repetitions, a boot effect reads as a change there");
  size_t undecided = 0, flagged = 0;
  for (auto& r : res.rows) {
    undecided += r.verdict == Verdict::undecided;
    flagged += r.verdict != Verdict::unchanged && r.verdict != Verdict::undecided;
  }
  if (res.basis == Basis::one_boot || res.basis == Basis::confounded) {
    // The rank test's smallest p for these sizes against BH's bar for one
    // discovery: consistent with the verdicts (BH), counted in repetitions
    // summed over each side's bundles.
    size_t nb = 0, nc = 0;
    for (auto& r : res.rows) nb = std::max(nb, r.base_n), nc = std::max(nc, r.cand_n);
    double minp = stats::mann_whitney_min_p(nb, nc);
    if (minp > lone)
      res.warnings.push_back(
          "a change confined to one metric cannot be flagged: with " + std::to_string(nb) +
          " vs " + std::to_string(nc) + " repetitions the smallest p-value is " + num(minp) +
          ", and Benjamini-Hochberg over " + std::to_string(m) + " comparisons needs " +
          num(lone) + " for a single one" +
          (flagged ? " (the " + std::to_string(flagged) + " flagged rows passed together)"
                   : std::string()) +
          ": " + std::to_string(reps_needed(lone)) +
          " repetitions per side are needed (--repeat), or compare fewer probes (--probe)");
  } else if (undecided) {
    // Boots: how many per side would make the undecided rows' effects
    // significant at BH's single-discovery bar, from their own spread.
    // Per undecided row: the SD of one boot's value from the CI's width
    // (half-width = q * sd * sqrt(1/nb + 1/nc)), then the n per side with
    // z * sd * sqrt(2/n) <= |change| (log scale, t with 10 df: approximate).
    size_t need = 0;
    double z = stats::student_t_quantile(1 - lone / 2, 10);
    for (auto& r : res.rows) {
      if (r.verdict != Verdict::undecided || !r.base_n || !r.cand_n) continue;
      double d = std::fabs(std::log1p(r.change));
      double q = stats::student_t_quantile(1 - o.alpha / 2, 10);
      double half = (std::log1p(r.ci_hi) - std::log1p(r.ci_lo)) / 2;
      double sd = half / q /
                  std::sqrt(1.0 / static_cast<double>(r.base_n) + 1.0 / static_cast<double>(r.cand_n));
      if (d > 0 && std::isfinite(sd))
        need = std::max(need, static_cast<size_t>(std::ceil(2 * std::pow(z * sd / d, 2))));
    }
    res.boots_needed = std::max<size_t>(need, 3);
    res.warnings.push_back(std::to_string(undecided) +
                           " rows changed by more than their noise but are not significant "
                           "with " + std::to_string(res.base_boots) + " vs " +
                           std::to_string(res.cand_boots) + " boots: about " +
                           std::to_string(res.boots_needed) +
                           " boots per side would decide them");
  }
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
