// SPDX-License-Identifier: GPL-2.0-only
// One row of the verdicts engine (verdicts_internal.h): its units and
// moments, the variance priors fitted over the rows (with the rows far out
// left out of them), and its test, moderated on units or on repetitions.
#include <algorithm>
#include <cmath>
#include <map>

#include "analysis/stats.h"
#include "analysis/verdicts.h"
#include "analysis/verdicts_internal.h"

namespace kperflab::compare::detail {

namespace {

using stats::mean;
constexpr auto var = stats::variance;

bool all_positive(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
}

// Relative spread of a side's units (see Row::base_spread).
double rel_spread(const std::vector<double>& v) {
  double m = stats::median(v);
  return v.size() >= 2 && m != 0 ? stats::mad_sd(v) / std::fabs(m) : NAN;
}

// Unit values of a series, NaN where a unit has none.
std::vector<double> unit_values(const Series& s, bool by_run, size_t n) {
  return per_unit(s.v, by_run ? s.run : s.boot, n);
}

}  // namespace

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

}  // namespace kperflab::compare::detail
