// SPDX-License-Identifier: GPL-2.0-only
// What the verdicts engine finds over the rows (verdicts_internal.h): each
// unit's common shift, a geometric-mean row per probe, the warning of
// flagged rows that lean on one unit, and the units a side would need.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "analysis/stats.h"
#include "analysis/verdicts.h"
#include "analysis/verdicts_internal.h"

namespace kperflab::compare::detail {

namespace {

using stats::mean;

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace kperflab::compare::detail
