// SPDX-License-Identifier: GPL-2.0-only
// Rows to verdicts (analysis/verdicts.h). Why each step is here:
// - A p-value needs a variance between units on both sides: one unit a side
//   has none, and values that are exact integers of a histogram bucket can
//   have a sample variance of 0 without being exact: each side's variance is
//   floored at the bucket's rounding variance (w^2/12).
// - 3 to 5 boots a side give 4 to 8 degrees of freedom per row: an isolated
//   10 % change over ~1000 rows is then never significant. The rows'
//   variances are drawn from one distribution per probe and statistic, so
//   each row borrows strength from the others (Smyth 2004, limma's
//   moderated t), or from the host's noise model when there is one.
// - Boot effects are shared across metrics: each unit's common shift is
//   shown, each probe gets a geometric-mean row, and a report whose flagged
//   rows lean on one boot says so.
// tests/analysis/sim_verdicts.cpp measures size and power of all of it.
#include "analysis/verdicts.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <thread>

#include "analysis/stats.h"

namespace kperflab::compare {

namespace {

using stats::mean;
constexpr auto var = stats::variance;

bool all_positive(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A litmus test's forbidden outcome (membarrier issue #14): any occurrence
// where the base had none is a regression whatever its size.
bool forbidden_metric(const std::string& metric) {
  return ends_with(metric, "/forbidden") || ends_with(metric, "/forbidden_per_million");
}

// Relative spread of a side's units (see Row::base_spread).
double rel_spread(const std::vector<double>& v) {
  double m = stats::median(v);
  return v.size() >= 2 && m != 0 ? stats::mad_sd(v) / std::fabs(m) : NAN;
}

// The note of a row whose sides measured different things (RowInput).
constexpr const char* kNotComparable = "not comparable: ";

// Student's t degrees of freedom stand in for "infinite" past this.
constexpr double kDfMax = 1e6;

// A row tested on units, before and after moderation.
struct Prep {
  bool units = false;  // tested on units (else repetitions or nothing)
  bool log = false, paired = false;
  std::vector<double> ub, uc;    // raw unit values present, per side
  std::vector<size_t> ib, ic;    // their unit indices
  std::vector<double> xb, xc;    // on the analysis scale (paired: aligned pairs)
  double d = 0, s2 = NAN, df = 0, qvar = 0;
  stats::VariancePrior prior;    // the prior the row takes
  bool noise_prior = false;      // ... from the host's noise model
  std::string group;             // prior group: basis|kind|probe|stat
  double s2_post = NAN, df_post = 0;
};

// Unit values of a series, NaN where a unit has none.
std::vector<double> unit_values(const Series& s, bool by_run, size_t n) {
  return per_unit(s.v, by_run ? s.run : s.boot, n);
}

// d, s2 and df of a prepared row from xb, xc.
void moments(Prep& p) {
  if (p.paired) {
    std::vector<double> diff;
    for (size_t i = 0; i < p.xb.size(); ++i) diff.push_back(p.xc[i] - p.xb[i]);
    p.d = mean(diff);
    p.df = diff.size() >= 2 ? static_cast<double>(diff.size() - 1) : 0;
    p.s2 = p.df > 0 ? std::max(var(diff), 2 * p.qvar) : NAN;
    return;
  }
  p.d = mean(p.xc) - mean(p.xb);
  size_t nb = p.xb.size(), nc = p.xc.size();
  if (nb < 2 || nc < 2) {
    p.s2 = NAN;
    p.df = 0;
    return;
  }
  double vb = std::max(var(p.xb), p.qvar), vc = std::max(var(p.xc), p.qvar);
  p.df = static_cast<double>(nb + nc - 2);
  p.s2 = (static_cast<double>(nb - 1) * vb + static_cast<double>(nc - 1) * vc) / p.df;
}

double se_of(const Prep& p, double s2) {
  if (p.paired) return std::sqrt(s2 / static_cast<double>(p.xb.size()));
  double nb = static_cast<double>(std::max<size_t>(p.xb.size(), 1));
  double nc = static_cast<double>(std::max<size_t>(p.xc.size(), 1));
  return std::sqrt(s2 * (1 / nb + 1 / nc));
}

// Fills a row's units from its series.
Prep prepare(const Row& r, const RowInput& in, const Units& u) {
  Prep p;
  p.units = has_units(in.basis);
  if (!p.units) return p;
  std::vector<double> vb = unit_values(*in.base, u.by_run, u.base.size());
  std::vector<double> vc = unit_values(*in.cand, u.by_run, u.cand.size());
  p.paired = in.basis == Basis::paired;
  if (p.paired) {
    for (size_t j = 0; j < vc.size(); ++j) {
      long i = u.pair[j];
      if (i < 0 || std::isnan(vc[j]) || std::isnan(vb[static_cast<size_t>(i)])) continue;
      p.ub.push_back(vb[static_cast<size_t>(i)]), p.ib.push_back(static_cast<size_t>(i));
      p.uc.push_back(vc[j]), p.ic.push_back(j);
    }
  } else {
    for (size_t i = 0; i < vb.size(); ++i)
      if (!std::isnan(vb[i])) p.ub.push_back(vb[i]), p.ib.push_back(i);
    for (size_t j = 0; j < vc.size(); ++j)
      if (!std::isnan(vc[j])) p.uc.push_back(vc[j]), p.ic.push_back(j);
  }
  p.log = all_positive(p.ub) && all_positive(p.uc) && !p.ub.empty() && !p.uc.empty();
  if (in.basis == Basis::noise && in.noise && !in.noise->log) p.log = false;
  std::vector<double> all = p.ub;
  all.insert(all.end(), p.uc.begin(), p.uc.end());
  double center = all.empty() ? NAN : stats::median(all);
  if (in.quantised && std::isfinite(center) && center != 0) {
    double q = stats::hdr_quantisation_var(center);
    p.qvar = p.log ? q / (center * center) : q;
  }
  auto scale = [&](const std::vector<double>& v) {
    std::vector<double> out = v;
    if (p.log)
      for (auto& x : out) x = std::log(x);
    return out;
  };
  p.xb = scale(p.ub);
  p.xc = scale(p.uc);
  moments(p);
  // Scalars (rates, ratios, overhead figures) never share a prior with
  // histogram statistics: their spreads are of another kind.
  p.group = std::string(to_string(in.basis)) + (r.stat == "value" ? "|scalar|" : "|hist|") +
            r.probe + '|' + r.stat;
  return p;
}

// Priors fitted over the rows, per basis, probe and statistic where a
// group has enough rows, else per basis and probe, else per basis (scalars
// and histogram statistics apart at every level); none
// below kMinRows rows (a metric's statistics share its boot effects, so a
// handful of rows is a handful of metrics at most: no prior to speak of).
//
// A row whose variance between units is far past what its prior allows
// (its s^2 / s0^2 in the upper tail of F(d, d0), Benjamini-Hochberg adjusted
// over the rows, below kOutlierAlpha) is not moderated: one outlier unit
// (a boot where the host took a vCPU away: CI's lab_boots_aa saw one boot's
// IPI mean at 2.6x the other five) makes a row hypervariable, and shrinking
// its variance to the others' flags it (A/A, +37 %, p = 0.029). It keeps its
// own variance and degrees of freedom, and the prior is fitted again
// without it (Phipson et al. 2016, robust hyperparameters, in its simplest
// form). tests/analysis/sim_verdicts measures it with outlier boots.
size_t fit_priors(std::vector<Prep>& preps, const std::vector<RowInput>& in) {
  constexpr size_t kMinRows = 20;
  constexpr double kOutlierAlpha = 0.05;
  auto levels = [](const std::string& g) {  // basis|kind|probe|stat
    size_t kind = g.find('|', g.find('|') + 1), stat = g.rfind('|');
    return std::vector<std::string>{g, g.substr(0, stat), g.substr(0, kind)};
  };
  std::vector<char> outlier(preps.size(), 0);
  std::vector<std::string> used(preps.size());  // the level a row's prior came from
  auto fit = [&] {
    std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by;
    for (size_t i = 0; i < preps.size(); ++i) {
      const Prep& p = preps[i];
      if (!p.units || !p.log || !(p.df > 0) || !(p.s2 > 0) || in[i].noise) continue;
      if (outlier[i]) continue;
      for (auto& k : levels(p.group)) {
        by[k].first.push_back(p.s2);
        by[k].second.push_back(p.df);
      }
    }
    std::map<std::string, stats::VariancePrior> fitted;
    for (auto& [k, v] : by) fitted[k] = stats::fit_variance_prior(v.first, v.second);
    for (size_t i = 0; i < preps.size(); ++i) {
      Prep& p = preps[i];
      if (!p.units) continue;
      p.prior = {};
      p.noise_prior = false;
      if (const NoiseEntry* n = in[i].noise; n && n->log == p.log && n->boots >= 2) {
        // The host's noise model is the prior (README "Between boots").
        p.prior.s2 = std::max(n->sd * n->sd, p.qvar);
        p.prior.df = static_cast<double>(n->boots - 1);
        p.noise_prior = true;
        continue;
      }
      if (!p.log || outlier[i]) continue;  // linear rows have units of their own: no common prior
      auto lv = levels(p.group);
      for (size_t l = 0; l < lv.size(); ++l) {
        auto it = by.find(lv[l]);
        if (it == by.end() || it->second.first.size() < kMinRows) continue;
        p.prior = fitted[lv[l]];
        used[i] = lv[l];
        break;
      }
    }
  };
  fit();
  // A row is far out when its variance is in the upper tail of F(d, d0)
  // under its prior, or when its log variance (bias-corrected for its df)
  // is in the upper tail of its group's, measured robustly (median and
  // MAD): one outlier row among 60 can inflate the fitted spread enough to
  // leave d0 near 1, and then only the robust measure sees it. Rows found
  // leave the prior; the prior fitted without them may show more (a
  // handful of rounds: each removes only what is far out).
  auto log_var = [](const Prep& p) {
    return std::log(p.s2) - stats::digamma(p.df / 2) + std::log(p.df / 2);
  };
  std::map<std::string, std::pair<double, double>> robust;  // level -> median, MAD sd of e
  {
    std::map<std::string, std::vector<double>> es;
    for (size_t i = 0; i < preps.size(); ++i)
      if (!used[i].empty() && preps[i].s2 > 0 && preps[i].df > 0)
        es[used[i]].push_back(log_var(preps[i]));
    for (auto& [k, v] : es) robust[k] = {stats::median(v), stats::mad_sd(v)};
  }
  size_t n = 0;
  for (int round = 0; round < 5; ++round) {
    std::vector<size_t> tested;
    std::vector<double> pf, pz;
    for (size_t i = 0; i < preps.size(); ++i) {
      const Prep& p = preps[i];
      if (!p.units || p.noise_prior || outlier[i] || used[i].empty() || !(p.prior.df > 0) ||
          !(p.prior.s2 > 0) || !(p.df > 0) || !(p.s2 > 0))
        continue;
      tested.push_back(i);
      pf.push_back(stats::f_sf(p.s2 / p.prior.s2, p.df, p.prior.df));
      auto [med, sd] = robust[used[i]];
      pz.push_back(sd > 0 ? 0.5 * std::erfc((log_var(p) - med) / sd / std::sqrt(2.0)) : 1.0);
    }
    auto af = stats::benjamini_hochberg(pf);
    auto az = stats::benjamini_hochberg(pz);
    size_t found = 0;
    for (size_t k = 0; k < tested.size(); ++k)
      if (af[k] < kOutlierAlpha || az[k] < kOutlierAlpha) outlier[tested[k]] = 1, ++found;
    if (!found) break;
    n += found;
    fit();
  }
  return n;
}

// The moderated test of a prepared row: p, CI, change on the row.
void test_units(Row& r, Prep& p, const Options& o) {
  r.base_n = p.ub.size();
  r.cand_n = p.uc.size();
  r.base_spread = rel_spread(p.ub);
  r.cand_spread = rel_spread(p.uc);
  bool prior = p.prior.df > 0 && std::isfinite(p.prior.s2);
  // Fewer than 2 units on a side: no variance of its own. Only the host's
  // noise model, measured for this very metric, may stand in; the other
  // rows' prior describes other metrics.
  bool own = p.paired ? p.ub.size() >= 2 : p.ub.size() >= 2 && p.uc.size() >= 2;
  if (p.ub.empty() || p.uc.empty() || (!own && !p.noise_prior)) {
    r.p = NAN;
    r.change = NAN;
    r.note = "fewer than 2 units on a side: no variance between units";
    r.verdict = Verdict::undecided;
    return;
  }
  double floor = r.min_effect;
  p.s2_post = prior ? stats::moderated_variance(p.prior, p.s2, p.df) : p.s2;
  p.df_post = std::min(kDfMax, p.df + (prior ? p.prior.df : 0));
  r.prior_df = prior ? std::min(kDfMax, p.prior.df) : 0;
  double se = se_of(p, p.s2_post);
  double base_level = p.log ? std::exp(mean(p.xb)) : mean(p.ub);
  r.base_median = base_level;
  r.cand_median = p.log ? std::exp(mean(p.xc)) : mean(p.uc);
  r.absolute = !p.log && base_level == 0;
  auto rel = [&](double x) {
    if (p.log) return std::expm1(x);
    return r.absolute ? x : x / std::fabs(base_level);
  };
  r.change = rel(p.d);
  if (!(se > 0)) {
    // Constant sides and no prior (a linear scalar): the exact rank test
    // over the units has a real distribution, never p = 0.
    r.p = p.d == 0 ? 1 : stats::mann_whitney_p(p.xb, p.xc);
    r.ci_lo = r.ci_hi = r.change;
  } else {
    r.p = std::min(1.0, 2 * stats::student_t_sf(std::fabs(p.d) / se, p.df_post));
    double q = stats::student_t_quantile(1 - o.alpha / 2, p.df_post);
    r.ci_lo = rel(p.d - q * se);
    r.ci_hi = rel(p.d + q * se);
  }
  double sd = std::sqrt(p.s2_post);
  double noise_rel = p.log ? sd : r.absolute ? NAN : sd / std::fabs(base_level);
  r.min_effect = r.absolute ? o.min_abs_effect
                            : std::isnan(noise_rel) ? floor : std::max(floor, noise_rel);
  // A failure fraction that appears: 0 in every base unit, non-zero in every
  // candidate unit (two or more each), past the absolute minimum.
  if (r.absolute && r.better == "lower" && p.ub.size() >= 2 && p.uc.size() >= 2 &&
      std::all_of(p.uc.begin(), p.uc.end(), [](double x) { return x > 0; }) &&
      mean(p.uc) >= o.min_abs_effect) {
    r.verdict = Verdict::regression;
    r.note = "0 in every base unit, non-zero in every candidate unit";
  }
}

// The repetitions of one unit a side (trusted only on request).
void test_repetitions(Row& r, const Options& o, uint64_t seed) {
  r.base_n = r.base.size();
  r.cand_n = r.cand.size();
  r.base_spread = rel_spread(r.base);
  r.cand_spread = rel_spread(r.cand);
  double floor = r.min_effect;
  r.absolute = r.base_median == 0;
  r.change = r.absolute ? r.cand_median : r.cand_median / r.base_median - 1;
  auto ci = stats::bootstrap_relative_change(r.base, r.cand, 1 - o.alpha, o.resamples, seed);
  r.ci_lo = r.absolute ? NAN : ci.lo;
  r.ci_hi = r.absolute ? NAN : ci.hi;
  r.p = stats::mann_whitney_p(r.base, r.cand);
  // The noise of a side's median is about the repetitions' spread over sqrt(n).
  double sb = r.base_spread, sc = r.cand_spread, noise_rel = NAN;
  if (!std::isnan(sb) && !std::isnan(sc))
    noise_rel = std::sqrt((sb * sb + sc * sc) / 2) /
                std::sqrt(static_cast<double>(std::min(r.base_n, r.cand_n)));
  r.min_effect = r.absolute ? o.min_abs_effect
                            : std::isnan(noise_rel) ? floor : std::max(floor, noise_rel);
}

}  // namespace

bool has_units(Basis b) {
  return b == Basis::boots || b == Basis::paired || b == Basis::runs || b == Basis::noise;
}

// A change is reported when it is significant (BH-adjusted) AND at least
// the row's minimum effect with a CI that excludes "no change". Big and clear
// but not significant (too few units for the number of comparisons):
// undecided.
void decide(Row& r, double alpha) {
  if (!r.note.empty()) return;  // decided by a rule (forbidden outcome, no variance)
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

namespace {

// Each unit's common shift per side: the median over the side's log-scale
// rows (two or more units) of the unit's deviation from the side's mean.
void unit_shifts(Result& res, const std::vector<Prep>& preps, const Units& u) {
  for (bool cand : {false, true}) {
    const auto& labels = cand ? u.cand : u.base;
    std::vector<std::vector<double>> dev(labels.size());
    for (auto& p : preps) {
      if (!p.units || !p.log) continue;
      const auto& x = cand ? p.xc : p.xb;
      const auto& idx = cand ? p.ic : p.ib;
      if (x.size() < 2) continue;
      double m = mean(x);
      for (size_t k = 0; k < x.size(); ++k) dev[idx[k]].push_back(x[k] - m);
    }
    for (size_t k = 0; k < labels.size(); ++k)
      if (dev[k].size() >= 3)
        res.shifts.push_back({cand, labels[k], k, std::expm1(stats::median(dev[k])), dev[k].size()});
  }
}

// Per probe, a row of the geometric mean over its lower-is-better
// log-scale rows present in every unit of both sides: per unit the mean
// of those rows' deviations from their centre, tested like a row (no
// prior: it is one row of its kind). As compare.py and mmtests report it.
void add_geomeans(Result& res, std::vector<Prep>& preps, std::vector<RowInput>& ins,
                  const Units& u, const Options& o) {
  std::map<std::string, std::vector<size_t>> by_probe;
  size_t n = res.rows.size();
  for (size_t i = 0; i < n; ++i) {
    const Prep& p = preps[i];
    const Row& r = res.rows[i];
    if (p.units && p.log && r.better == "lower" && ins[i].basis != Basis::noise &&
        ins[i].not_comparable.empty() &&
        p.xb.size() == (p.paired ? u.pair.size() : u.base.size()) &&
        p.xc.size() == u.cand.size() && p.xb.size() >= 2 && p.xc.size() >= 2)
      by_probe[r.probe].push_back(i);
  }
  for (auto& [probe, rows] : by_probe) {
    if (rows.size() < 3) continue;
    Prep g;
    g.units = true;
    g.log = true;
    g.paired = preps[rows[0]].paired;
    g.xb.assign(preps[rows[0]].xb.size(), 0);
    g.xc.assign(preps[rows[0]].xc.size(), 0);
    for (size_t i : rows) {
      const Prep& p = preps[i];
      double c = (mean(p.xb) + mean(p.xc)) / 2;
      for (size_t k = 0; k < g.xb.size(); ++k) g.xb[k] += (p.xb[k] - c) / static_cast<double>(rows.size());
      for (size_t k = 0; k < g.xc.size(); ++k) g.xc[k] += (p.xc[k] - c) / static_cast<double>(rows.size());
    }
    for (double x : g.xb) g.ub.push_back(std::exp(x));
    for (double x : g.xc) g.uc.push_back(std::exp(x));
    g.ib = preps[rows[0]].ib;
    g.ic = preps[rows[0]].ic;
    moments(g);
    Row r;
    r.probe = probe;
    r.metric = "geomean";
    r.stat = "gm";
    r.unit = "index";
    r.better = "lower";
    r.summary = true;
    r.labels = {{"rows", rows.size()}};
    r.min_effect = o.min_effect;
    r.basis = ins[rows[0]].basis;
    test_units(r, g, o);
    res.rows.push_back(std::move(r));
    preps.push_back(std::move(g));
    RowInput gi;
    gi.basis = ins[rows[0]].basis;
    ins.push_back(gi);
  }
}

// p of a prepared row without one unit of one side (same prior).
double p_without(const Prep& p, bool cand, size_t unit) {
  Prep q = p;
  auto drop = [&](std::vector<double>& x, std::vector<size_t>& idx, std::vector<double>& other,
                  std::vector<size_t>& oidx) {
    for (size_t k = 0; k < idx.size(); ++k)
      if (idx[k] == unit) {
        x.erase(x.begin() + static_cast<long>(k));
        idx.erase(idx.begin() + static_cast<long>(k));
        if (q.paired)
          other.erase(other.begin() + static_cast<long>(k)), oidx.erase(oidx.begin() + static_cast<long>(k));
        return true;
      }
    return false;
  };
  bool gone = cand ? drop(q.xc, q.ic, q.xb, q.ib) : drop(q.xb, q.ib, q.xc, q.ic);
  if (!gone) return NAN;
  if ((cand ? q.xc.size() : q.xb.size()) < 2) return NAN;
  moments(q);
  bool prior = q.prior.df > 0 && std::isfinite(q.prior.s2);
  double s2 = prior ? stats::moderated_variance(q.prior, q.s2, q.df) : q.s2;
  double df = std::min(kDfMax, q.df + (prior ? q.prior.df : 0));
  double se = se_of(q, s2);
  if (!(se > 0) || !(df > 0)) return NAN;
  return std::min(1.0, 2 * stats::student_t_sf(std::fabs(q.d) / se, df));
}

// When most flagged rows are significant only with the unit whose common
// shift is largest, the report says so: one boot, not N changes.
void one_unit_warning(Result& res, const std::vector<Prep>& preps, const Options& o) {
  if (res.shifts.empty()) return;
  const UnitShift* big = &res.shifts[0];
  for (auto& s : res.shifts)
    if (std::fabs(s.shift) > std::fabs(big->shift)) big = &s;
  size_t flagged = 0, lean = 0;
  for (size_t i = 0; i < res.rows.size(); ++i) {
    const Row& r = res.rows[i];
    if (r.summary || !preps[i].units || !r.note.empty()) continue;
    if (r.verdict == Verdict::unchanged || r.verdict == Verdict::undecided) continue;
    ++flagged;
    double p = p_without(preps[i], big->cand, big->index);
    lean += !(p < o.alpha);
  }
  if (flagged < 3 || 2 * lean <= flagged) return;
  char b[48];
  std::snprintf(b, sizeof b, "%+.1f%%", 100 * big->shift);
  res.warnings.push_back(std::to_string(lean) + " of the " + std::to_string(flagged) +
                         " flagged rows are not significant without " +
                         (big->cand ? "candidate" : "base") + " unit " + big->unit +
                         ", whose metrics moved together by " + b +
                         ": one boot's shift, not that many changes; measure more boots");
}

// Units per side for 80% power on the median undecided row, at the bar its
// test uses (BH's bar if all undecided rows were found together).
size_t units_needed(const Result& res, const std::vector<Prep>& preps, const Options& o) {
  size_t m = std::max<size_t>(res.rows.size(), 1), k = 0;
  for (auto& r : res.rows) k += r.verdict == Verdict::undecided && r.note.empty();
  if (!k) return 0;
  double bar = o.alpha * static_cast<double>(k) / static_cast<double>(m);
  std::vector<double> need;
  for (size_t i = 0; i < res.rows.size(); ++i) {
    const Row& r = res.rows[i];
    const Prep& p = preps[i];
    if (r.verdict != Verdict::undecided || !r.note.empty() || !p.units || !(p.s2_post > 0))
      continue;
    double d0 = p.prior.df > 0 ? std::min(kDfMax, p.prior.df) : 0;
    size_t n = 2;
    for (; n < 200; ++n) {
      double df = (p.paired ? n - 1.0 : 2.0 * n - 2) + d0;
      double se = std::sqrt(p.s2_post * (p.paired ? 1.0 : 2.0) / static_cast<double>(n));
      double tc = stats::student_t_quantile(1 - bar / 2, df);
      if (stats::student_t_sf(tc - std::fabs(p.d) / se, df) >= 0.8) break;
    }
    need.push_back(static_cast<double>(n));
  }
  return need.empty() ? 0 : static_cast<size_t>(std::ceil(stats::median(need)));
}

}  // namespace

void test_rows(Result& res, const std::vector<RowInput>& in_rows, const Units& units,
               const Options& o) {
  std::vector<RowInput> in = in_rows;
  std::vector<Prep> preps(res.rows.size());
  // Units and moments per row (independent: in parallel, order kept).
  unsigned nthreads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  nthreads = static_cast<unsigned>(std::min<size_t>(nthreads, res.rows.size() / 64 + 1));
  auto parallel = [&](auto fn) {
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < res.rows.size();) fn(i);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < nthreads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  };
  parallel([&](size_t i) { preps[i] = prepare(res.rows[i], in[i], units); });
  size_t hypervariable = fit_priors(preps, in);
  parallel([&](size_t i) {
    Row& r = res.rows[i];
    if (preps[i].units) test_units(r, preps[i], o);
    else test_repetitions(r, o, o.seed + i);
    if (!in[i].not_comparable.empty()) {
      r.verdict = Verdict::undecided;
      r.note = kNotComparable + in[i].not_comparable;
      return;
    }
    if (forbidden_metric(r.metric) && r.better == "lower") {  // not a control (better: none)
      bool base_none = std::all_of(r.base.begin(), r.base.end(), [](double x) { return x == 0; });
      bool cand_some = std::any_of(r.cand.begin(), r.cand.end(), [](double x) { return x > 0; });
      if (base_none && cand_some) {
        r.verdict = Verdict::regression;
        r.note = "forbidden outcome: none in the base, seen in the candidate";
      }
    }
  });
  if (has_units(res.basis) && res.basis != Basis::noise) {
    unit_shifts(res, preps, units);  // of the metrics' rows, before the geomean rows join
    add_geomeans(res, preps, in, units, o);
  }
  std::vector<double> ps;
  for (auto& r : res.rows) ps.push_back(std::isnan(r.p) ? 1.0 : r.p);
  auto adj = stats::benjamini_hochberg(ps);
  size_t held = 0;
  for (size_t i = 0; i < res.rows.size(); ++i) {
    Row& r = res.rows[i];
    r.p_adj = adj[i];
    decide(r, o.alpha);
    // One unit a side: shown, not decided (a litmus violation is a proof
    // on its own and stays).
    bool forbidden = r.note.rfind("forbidden", 0) == 0;
    if (!has_units(r.basis) && !o.trust_one_boot && !forbidden &&
        r.verdict != Verdict::unchanged && r.verdict != Verdict::undecided) {
      r.verdict = Verdict::undecided;
      r.note = "one unit a side: not decided (--trust-one-boot)";
      ++held;
    }
  }
  res.gating = has_units(res.basis) || o.trust_one_boot;
  if (held)
    res.warnings.push_back(std::to_string(held) +
                           " rows moved by more than their repetitions' noise, but each side is "
                           "one unit (one boot, or one run): cannot decide, and nothing here "
                           "fails CI. Compare several boots (or `kperflab ab` runs) a side, or "
                           "pass --trust-one-boot to take the repetitions as units");
  size_t thin = 0, incomparable = 0;
  std::string incomparable_eg;
  for (auto& r : res.rows) {
    thin += r.note.rfind("fewer than 2 units", 0) == 0;
    if (r.note.rfind(kNotComparable, 0) == 0) {
      if (!incomparable++)
        incomparable_eg = r.probe + " " + r.note.substr(std::string(kNotComparable).size());
    }
  }
  if (incomparable)
    res.warnings.push_back(std::to_string(incomparable) +
                           " rows measured different things on each side and are not decided: " +
                           incomparable_eg);
  if (thin)
    res.warnings.push_back(std::to_string(thin) +
                           " rows have fewer than 2 units on a side (a metric missing in some "
                           "boots or runs): no variance, undecided");
  if (hypervariable)
    res.warnings.push_back(std::to_string(hypervariable) +
                           " rows vary between units far more than the other rows of their "
                           "kind (an outlier boot or run?): tested on their own variance, "
                           "not the shared one");
  one_unit_warning(res, preps, o);
  res.boots_needed = units_needed(res, preps, o);
}

}  // namespace kperflab::compare
