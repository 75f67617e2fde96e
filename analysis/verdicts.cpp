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
#include "analysis/verdicts_internal.h"

namespace kperflab::compare {

using detail::add_geomeans;
using detail::fit_priors;
using detail::one_unit_warning;
using detail::Prep;
using detail::prepare;
using detail::test_repetitions;
using detail::test_units;
using detail::unit_shifts;
using detail::units_needed;

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A litmus test's forbidden outcome (membarrier issue #14): any occurrence
// where the base had none is a regression whatever its size.
bool forbidden_metric(const std::string& metric) {
  return ends_with(metric, "/forbidden") || ends_with(metric, "/forbidden_per_million");
}

// The note of a row whose sides measured different things (RowInput).
constexpr const char* kNotComparable = "not comparable: ";

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
