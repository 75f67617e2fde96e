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
#include "analysis/verdicts.h"
#include "core/histogram.h"
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
    case Basis::paired: return "paired boots";
    case Basis::runs: return "runs";
    case Basis::noise: return "noise model";
    case Basis::one_boot: return "one boot";
    case Basis::confounded: return "repetitions";
  }
  return "?";
}

namespace {

// Direction of "better" from the unit: time and cost units are lower-is-
// better; a metric may say otherwise with labels.better = "higher"|"lower"|
// "none". Fractions named *missed* or *unexpected* are lower-is-better.
std::string better_of(const std::string& metric, const MetricInfo& m) {
  if (m.labels.contains("better")) return m.better;
  static const std::set<std::string> time_units = {"ns", "ps", "us", "ms", "s", "cycles"};
  if (time_units.count(m.unit)) return "lower";
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

// A boot's label: its id's first 8 characters, or the bundle's directory.
std::string unit_label(const std::string& boot) {
  if (boot.rfind("boot:", 0) == 0) return boot.substr(5, 8);
  return fs::path(boot.substr(7)).filename().string();
}

// The unit of replication from what the bundles show (README "Between
// boots"): boots when there are several; within one boot, the run.
Basis basis_of(const Collected& cb, const Collected& cc, bool noise, Units& u) {
  std::set<std::string> sb(cb.boots.begin(), cb.boots.end()), sc(cc.boots.begin(), cc.boots.end());
  std::set<std::string> all = sb;
  all.insert(sc.begin(), sc.end());
  if (all.size() == 1) {
    if (cb.runs.size() < 2 || cc.runs.size() < 2) return Basis::one_boot;
    u.by_run = true;
    u.base = cb.runs;
    u.cand = cc.runs;
    return Basis::runs;
  }
  for (auto& b : cb.boots) u.base.push_back(unit_label(b));
  for (auto& b : cc.boots) u.cand.push_back(unit_label(b));
  if (sb == sc && sb.size() >= 2) {
    for (auto& b : cc.boots)
      u.pair.push_back(std::find(cb.boots.begin(), cb.boots.end(), b) - cb.boots.begin());
    return Basis::paired;
  }
  if (sb.size() >= 2 || sc.size() >= 2) return Basis::boots;
  return noise ? Basis::noise : Basis::confounded;
}

// Repetitions per boot of a side (its runs' repetitions summed).
std::vector<size_t> reps_per_boot(const Collected& c) {
  std::vector<size_t> by(c.boots.size(), 0);
  for (size_t r = 0; r < c.run_reps.size(); ++r) by[c.run_boot[r]] += c.run_reps[r];
  return by;
}

// The host's noise model, when there is one and it fits these bundles:
// the same host, the base's kernel among those it was built on, and as
// many repetitions per boot (a boot's median of 3 repetitions spreads more
// than one of 10). Said in the warnings either way, with its age.
std::optional<NoiseModel> usable_noise(const Options& o, const Side& base, const Collected& cb,
                                       const Collected& cc, const std::string& hb,
                                       std::vector<std::string>& warn) {
  if (o.noise == "none") return std::nullopt;
  std::optional<fs::path> file;
  if (!o.noise.empty()) file = o.noise;
  else if (auto d = default_noise_path(base.bundles[0].dir, hb); d && fs::exists(*d)) file = d;
  if (!file) return std::nullopt;
  NoiseModel nm = NoiseModel::load(*file);
  std::string name = printable(file->string());
  if (nm.host != hb) {
    if (!o.noise.empty())
      throw std::invalid_argument("noise model " + name + " is of host " + printable(nm.host) +
                                  ", the bundles of " + printable(hb));
    return std::nullopt;
  }
  for (auto& b : base.bundles) {
    std::string rel = b.meta_view().at("kernel").at("release").str();
    if (std::find(nm.kernels.begin(), nm.kernels.end(), rel) == nm.kernels.end()) {
      warn.push_back("noise model " + name + " was built on other kernels than the base's " +
                     printable(rel) + ": not used");
      return std::nullopt;
    }
  }
  for (const Collected* c : {&cb, &cc})
    for (size_t n : reps_per_boot(*c))
      if (n < nm.reps_min || n > nm.reps_max) {
        warn.push_back("noise model " + name + " was built from " + std::to_string(nm.reps_min) +
                       "-" + std::to_string(nm.reps_max) + " repetitions per boot, these "
                       "bundles have " + std::to_string(n) + ": its spreads do not apply, not "
                       "used");
        return std::nullopt;
      }
  warn.push_back("noise model " + name + ": " + std::to_string(nm.boots) + " boots, built " +
                 (nm.created.empty() ? std::string("at an unknown time") : nm.created) +
                 " (" + noise_age(nm) + "), the prior of every row's variance");
  return nm;
}

// Whether the runs of the two sides alternate in time (from meta.json
// started): A B B A has two switches, A A B B one.
bool interleaved(const Collected& cb, const Collected& cc) {
  std::vector<std::pair<std::string, int>> t;
  for (auto& x : cb.run_started) t.emplace_back(x, 0);
  for (auto& x : cc.run_started) t.emplace_back(x, 1);
  for (auto& [x, side] : t)
    if (x.empty()) return true;  // not recorded: not judged
  std::sort(t.begin(), t.end());
  size_t switches = 0;
  for (size_t i = 1; i < t.size(); ++i) switches += t[i].second != t[i - 1].second;
  return switches >= 2;
}

// What the basis means for the verdicts.
void basis_warnings(Result& res, const Collected& cb, const Collected& cc, const std::string& hb,
                    const Options& o) {
  if (res.basis == Basis::confounded)
    res.warnings.push_back(
        "one boot per side and no noise model for host " + printable(hb) +
        ": a kernel effect cannot be told from a boot effect (boots of one kernel differ by "
        "a few percent on many metrics). Give each side bundles from several boots, or "
        "measure the host's noise once: `kperflab noise DIR` over 8 or more boots of one "
        "kernel");
  if (res.basis == Basis::one_boot)
    res.warnings.push_back(
        "one run a side in one boot (base started " + printable(cb.run_started[0]) +
        ", candidate " + printable(cc.run_started[0]) + "): the run is the unit (it shares its "
        "process, BPF objects, calibration and the minutes it ran in), so one run's "
        "repetitions against another's are not independent. Alternate several short runs "
        "a side: `kperflab ab --a ARGS --b ARGS`");
  if (res.basis == Basis::runs && !interleaved(cb, cc))
    res.warnings.push_back(
        "the runs of each side ran one block after the other, not interleaved: a drift of "
        "the machine reads as a change (`kperflab ab` alternates them)");
  size_t m = std::max<size_t>(res.rows.size(), 1);
  double lone = o.alpha / static_cast<double>(m);  // BH's bar for a single discovery
  char buf[64];
  auto num = [&](double x) {
    std::snprintf(buf, sizeof buf, "%.2g", x);
    return std::string(buf);
  };
  size_t undecided = 0, flagged = 0;
  for (auto& r : res.rows) {
    undecided += r.verdict == Verdict::undecided && r.note.empty();
    flagged += r.verdict != Verdict::unchanged && r.verdict != Verdict::undecided;
  }
  if (!has_units(res.basis) && o.trust_one_boot) {
    // The rank test's smallest p for these sizes against BH's bar for one
    // discovery, counted in repetitions summed over each side's bundles.
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
  } else if (undecided && res.boots_needed) {
    const char* what = res.basis == Basis::runs ? "runs" : "boots";
    res.warnings.push_back(std::to_string(undecided) +
                           " rows changed by more than their noise but are not significant "
                           "with " + std::to_string(res.basis == Basis::runs ? cb.runs.size() : res.base_boots) +
                           " vs " + std::to_string(res.basis == Basis::runs ? cc.runs.size() : res.cand_boots) +
                           " " + what + ": about " + std::to_string(res.boots_needed) + " " +
                           what + " per side would find the median one with 80% power");
  }
}

}  // namespace

Collected collect(const Side& s) {
  // A quantile q needs 10 / (1 - q) samples in a repetition to be more than
  // its largest few samples (p99 of 40 samples is the max): fewer, left out.
  static const std::pair<const char*, double> kStats[] = {
      {"p50", 20}, {"p90", 100}, {"p99", 1000}, {"p99_9", 10000}, {"mean", 1}};
  Collected c;
  std::map<std::string, size_t> boot_index;
  for (auto& b : s.bundles) {
    size_t most = 0;  // repetitions of this bundle (its probes run the same count)
    std::string key = "bundle:" + b.dir.string();
    if (auto k = b.meta_view().at("kernel").find("boot_id"); k && k->is_string())
      key = "boot:" + k->str();
    size_t boot = boot_index.emplace(key, boot_index.size()).first->second;
    size_t run = c.runs.size();
    c.runs.push_back(b.dir.filename().string());
    c.run_boot.push_back(boot);
    c.run_started.push_back(b.meta_view().text("started", ""));
    c.run_finished.push_back(b.meta_view().text("finished", ""));
    for (auto& [probe, p] : b.probes) {
      most = std::max(most, p.reps.size());
      for (auto& rep : p.reps) {
        for (auto& m : rep.metrics) {
          const std::string& name = p.name(m);
          std::string id = probe + '\x1f' + name;
          c.meta.insert_or_assign(id, p.infos[m.info]);
          // The metric's map, named outside the lambda (clang 14 cannot
          // capture structured bindings).
          auto& stats_of = c.v[probe][name];
          auto put = [&](const char* st, double x) {
            Series& ser = stats_of[st];
            ser.v.push_back(x);
            ser.boot.push_back(boot);
            ser.run.push_back(run);
          };
          if (!p.info(m).histogram) {
            if (!std::isnan(m.stat[0])) put("value", m.stat[0]);
            continue;
          }
          uint64_t count = m.count;
          if (count == 0) continue;
          if (m.overflow) c.overflow.insert(id);
          for (size_t i = 0; i < m.stat.size(); ++i) {
            auto [st, need] = kStats[i];
            if (std::isnan(m.stat[i])) continue;
            if (static_cast<double>(count) < need) {
              ++c.thin[probe + "/" + name + ":" + st];
              continue;
            }
            put(st, m.stat[i]);
          }
        }
      }
    }
    c.reps += most;
    c.run_reps.push_back(most);
  }
  c.boots.resize(boot_index.size());
  for (auto& [k, i] : boot_index) c.boots[i] = k;
  return c;
}

std::vector<double> per_unit(const std::vector<double>& v, const std::vector<size_t>& unit,
                             size_t n) {
  std::vector<std::vector<double>> by(n);
  for (size_t i = 0; i < v.size() && i < unit.size(); ++i) by[unit[i]].push_back(v[i]);
  std::vector<double> out(n, NAN);
  for (size_t k = 0; k < n; ++k)
    if (!by[k].empty()) out[k] = stats::median(by[k]);
  return out;
}

std::vector<double> per_boot(const Series& s, size_t nboots) {
  std::vector<double> out;
  for (double x : per_unit(s.v, s.boot, nboots))
    if (!std::isnan(x)) out.push_back(x);
  return out;
}

Result compare(const Side& base, const Side& cand, const Options& o) {
  Result res;
  res.base_label = base.label;
  res.cand_label = cand.label;
  auto hostname = [](const BundleSummary& b) { return b.meta_view().at("host").at("hostname").str(); };
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
  std::optional<NoiseModel> noise = usable_noise(o, base, cb, cc, hb, res.warnings);
  // The unit of replication (README "Between boots").
  Units units;
  res.basis = basis_of(cb, cc, noise.has_value(), units);
  if (res.basis == Basis::noise) res.noise_file = noise->file.string();
  auto wanted = [&](const std::string& probe) {
    return o.probes.empty() || std::find(o.probes.begin(), o.probes.end(), probe) != o.probes.end();
  };
  for (const auto& p : o.probes)
    if (!cb.v.count(p) && !cc.v.count(p))
      throw std::invalid_argument("--probe " + p + ": in neither side's bundles");
  std::vector<RowInput> inputs;
  std::map<std::string, size_t> seen;  // data_key -> row
  size_t noise_missing = 0;
  std::vector<std::string> unit_differs;
  for (auto& [probe, metrics] : cb.v) {
    if (!wanted(probe)) continue;
    auto pit = cc.v.find(probe);
    if (pit == cc.v.end()) continue;
    for (auto& [name, st] : metrics) {
      auto mit = pit->second.find(name);
      if (mit == pit->second.end()) continue;
      const MetricInfo& m = *cb.meta.at(probe + '\x1f' + name);
      const MetricInfo& mc = *cc.meta.at(probe + '\x1f' + name);
      if (m.unit != mc.unit) {
        unit_differs.push_back(probe + "/" + name + " (" + m.unit + " vs " + mc.unit + ")");
        continue;
      }
      for (auto& [stat, bs] : st) {
        if (!mit->second.count(stat)) continue;
        const Series& cs = mit->second.at(stat);
        auto [it, fresh] = seen.emplace(data_key(probe, bs, cs), res.rows.size());
        if (!fresh) {
          Row& first = res.rows[it->second];
          // The same values as a histogram quantile: they are bucket edges.
          inputs[it->second].quantised |= stat != "mean" && stat != "value";
          first.aliases.push_back(first.metric == name ? stat : name + ":" + stat);
          ++res.merged_rows;
          continue;
        }
        Row r;
        r.probe = probe;
        r.metric = name;
        r.stat = stat;
        r.unit = m.unit;
        r.labels = m.labels;

        r.better = better_of(name, m);
        r.base = bs.v;
        r.cand = cs.v;
        r.base_median = stats::median(r.base);
        r.cand_median = stats::median(r.cand);
        std::string id = probe + '\x1f' + name;
        r.overflow = (cb.overflow.count(id) || cc.overflow.count(id)) && stat != "p50";
        std::string key = probe + "/" + name + ":" + stat;
        r.min_effect = effect_for(o, key);  // the floor; the test raises it to the noise
        RowInput in;
        in.base = &bs;
        in.cand = &cs;
        in.basis = r.basis = res.basis;
        in.quantised = stat != "mean" && stat != "value";
        // The sides say they measured different things (label
        // comparable_with, e.g. mmap_lock's hold and wait on kernels that
        // format the memcg path inside the hold, and on those that do not).
        if (const std::string &cwb = m.comparable_with, &cwc = mc.comparable_with; cwb != cwc)
          in.not_comparable = printable((cwb.empty() ? "unlabelled" : cwb) + " vs " +
                                        (cwc.empty() ? "unlabelled" : cwc));
        if (noise) in.noise = noise->find(key);
        if (r.basis == Basis::noise && (!in.noise || in.noise->boots < 2)) {
          r.basis = in.basis = Basis::confounded;
          ++noise_missing;
        }
        res.rows.push_back(std::move(r));
        inputs.push_back(in);
      }
    }
  }
  test_rows(res, inputs, units, o);
  basis_warnings(res, cb, cc, hb, o);
  if (noise_missing)
    res.warnings.push_back(std::to_string(noise_missing) +
                           " rows are not in the noise model " +
                           printable(noise->file.string()) + ": one unit a side there");
  if (!unit_differs.empty())
    res.warnings.push_back(std::to_string(unit_differs.size()) +
                           " metrics have a different unit on each side and are not compared, "
                           "e.g. " + printable(unit_differs[0]));
  size_t thin = 0;
  std::string thin_eg;
  for (auto* c : {&cb, &cc})
    for (auto& [k, n] : c->thin) thin += n, thin_eg = k;
  if (thin)
    res.warnings.push_back(std::to_string(thin) + " quantile values left out: fewer samples in "
                           "a repetition than 10 / (1 - q) (a p99 of 40 samples is the "
                           "maximum), e.g. " + printable(thin_eg));
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
    auto p = b.probes.find(probe);
    if (p == b.probes.end()) continue;
    for (auto& rep : p->second.reps) {
      const MetricValues* m = p->second.find(rep, metric);
      if (!m || !p->second.info(*m).histogram) continue;
      h.merge(Histogram::decode_base64(std::string(p->second.hist(*m))));
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
