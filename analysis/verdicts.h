// SPDX-License-Identifier: GPL-2.0-only
// The tests behind compare's rows, once the rows are built: per row the
// units (boots or runs) with a quantisation floor on their variance, an
// empirical-Bayes prior of the variances fitted over the report's rows (or
// the host's noise model as the prior), a moderated t test, a geometric-mean
// row per probe, each unit's common shift, Benjamini-Hochberg and the
// verdicts. Internal to analysis/ (compare.cpp and the simulation).
#pragma once

#include <string>
#include <vector>

#include "analysis/compare.h"
#include "analysis/noise.h"

namespace kperflab::compare {

// One row's data as compare() matched it.
struct RowInput {
  const Series* base = nullptr;
  const Series* cand = nullptr;
  Basis basis = Basis::confounded;
  const NoiseEntry* noise = nullptr;  // this row's entry in the noise model, if any
  bool quantised = false;             // a quantile of an HDR histogram (values are bucket edges)
  // Why the sides measured different things (compare: label comparable_with
  // differs), or "": such a row is shown, never decided, and stays out of
  // its probe's geometric mean.
  std::string not_comparable;
};

// The units of each side (boots or runs, by the report's basis) and, with
// basis paired, the base unit each candidate unit pairs with (-1: none).
struct Units {
  bool by_run = false;
  std::vector<std::string> base, cand;  // labels
  std::vector<long> pair;
};

// Tests every row of res (one RowInput each, in order), adds the probes'
// geometric-mean rows, adjusts for multiplicity, decides verdicts and adds
// the warnings that belong to them (one boot per side, thin units, a boot
// that moved most flagged rows, boots needed).
void test_rows(Result& res, const std::vector<RowInput>& in, const Units& units,
               const Options& o);

// The one place a change is called a change (see verdicts.cpp).
void decide(Row& r, double alpha);

}  // namespace kperflab::compare
