// SPDX-License-Identifier: GPL-2.0-only
// Shared by the parts of the verdicts engine (verdicts.h): verdicts.cpp
// (test_rows, decide), verdicts_rows.cpp (one row: its units, the priors,
// its test) and verdicts_across.cpp (over the rows: shifts, geometric
// means, the one-unit warning, units needed). Not for readers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "analysis/stats.h"
#include "analysis/verdicts.h"

namespace kperflab::compare::detail {

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

// d, s2 and df of a prepared row from xb, xc.
void moments(Prep& p);
// The standard error of d with variance s2.
double se_of(const Prep& p, double s2);
// Fills a row's units from its series.
Prep prepare(const Row& r, const RowInput& in, const Units& u);
// Fits the variance priors over the rows; returns the rows left out of
// them as far out (hypervariable).
size_t fit_priors(std::vector<Prep>& preps, const std::vector<RowInput>& in);
// The moderated test of a prepared row: p, CI, change on the row.
void test_units(Row& r, Prep& p, const Options& o);
// The repetitions of one unit a side (trusted only on request).
void test_repetitions(Row& r, const Options& o, uint64_t seed);

// Each unit's common shift per side (res.shifts).
void unit_shifts(Result& res, const std::vector<Prep>& preps, const Units& u);
// A geometric-mean row per probe, appended to res.rows, preps and ins.
void add_geomeans(Result& res, std::vector<Prep>& preps, std::vector<RowInput>& ins,
                  const Units& u, const Options& o);
// The warning of flagged rows that lean on the unit of largest shift.
void one_unit_warning(Result& res, const std::vector<Prep>& preps, const Options& o);
// Units per side for 80% power on the median undecided row.
size_t units_needed(const Result& res, const std::vector<Prep>& preps, const Options& o);

}  // namespace kperflab::compare::detail
