// SPDX-License-Identifier: GPL-2.0-only
// The comparison engine: two sides (a bundle or a directory of bundles
// each), metrics matched by probe and name. The unit of replication is the
// boot (or the run, within one boot): per statistic a moderated t test over
// the units (analysis/verdicts.cpp), a minimum effect size, and
// Benjamini-Hochberg over all comparisons. One unit a side decides nothing
// unless the user trusts it (--trust-one-boot): then the repetitions are
// tested (Mann-Whitney U, bootstrap CI).
#pragma once

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/summary.h"
#include "results/bundle.h"
#include "results/json_access.h"

namespace kperflab::compare {

struct Options {
  double alpha = 0.05;
  // Floor of the minimum effect (|relative change|); each metric's own is
  // the larger of this and its measured noise (README "Statistics").
  double min_effect = 0.02;
  std::vector<std::pair<std::string, double>> min_effect_for;  // metric glob -> effect
  bool cross_host = false;
  unsigned resamples = 2000;
  uint64_t seed = 1;
  // Only these probes (empty: all). Each probe asks its own question, and
  // Benjamini-Hochberg over one probe is not loosened by another's changes.
  std::vector<std::string> probes;
  // The host's noise model (`kperflab noise`); empty: looked up beside the
  // base side's first bundle (results/runs/<host>/noise.json); "none": not
  // used.
  std::string noise;
  unsigned threads = 0;  // rows computed in parallel (0: the online CPUs)
  // Verdicts that rest on the repetitions of one boot (or one run) per side
  // are reported as undecided unless the user trusts them: a boot's shift
  // of a few percent then reads as hundreds of changes.
  bool trust_one_boot = false;
  // Minimum absolute change of a row whose base is 0 in every unit (a
  // failure fraction that appears): in the metric's own unit.
  double min_abs_effect = 0.01;
};

// Bytes of summaries held by the sides alive in this process, charged as
// they load (check_summary_budget) and given back when a side's last copy
// goes.
struct HeldSummaries {
  size_t bytes = 0;
  ~HeldSummaries();
};

// How a side is loaded.
struct LoadOptions {
  // The runs root whose catalog caches the bundles' summaries
  // (analysis/summary_cache.h); empty: every bundle checked in full.
  std::filesystem::path runs_root;
  // Hold each histogram's encoded text (what merged_cdf plots): only the
  // HTML reports need it.
  bool histograms = true;
};

// What loading a side read: from the catalog's cache, or checked in full.
struct LoadStats {
  size_t cached = 0, checked = 0;
  std::string cache_problem;  // why the cache was not used or not written ("" when it was)
};

// A side: every bundle found at a path (the bundle itself, or any bundle
// below a directory), each held as its summary (analysis/summary.h). Throws
// BundleError / std::invalid_argument.
struct Side {
  std::string label;  // e.g. "6.12.43+deb12-cloud-amd64 (3 bundles)"
  std::vector<BundleSummary> bundles;
  std::shared_ptr<HeldSummaries> held;
  LoadStats loaded;
  static Side load(const std::filesystem::path& p);
  // The bundles a catalog selector matches (analysis/catalog.h) under a
  // runs root, labelled with the selector.
  static Side select(const std::string& selector, const std::filesystem::path& runs_root);
  // Loads these bundle directories (in parallel, in order).
  static Side load_dirs(std::vector<std::filesystem::path> dirs, const std::string& what,
                        const LoadOptions& opt = {});
};

// At most this many bundles are loaded by one command, over all its sides
// (issue #27 item 5: 2000 candidates reached 5.8 GB when each was held
// whole; since then each is held as its summary, and kMaxSummaryBytes bounds
// them all; issue #30 asks for 1000 a side). Past it the command refuses,
// saying so. $KPERFLAB_MAX_BUNDLES can lower it (the tests prove the
// refusal without 10,001 bundles), never raise it.
inline constexpr size_t kMaxBundles = 10000;
size_t max_bundles();

// At most this many bytes of summaries are held by one process (every side
// of a command together): a bundle of a 64-CPU host's standard profile
// summarises to about 4.4 MiB (5.5 MB of RSS with what compare builds from
// it), a hostile one at the loader's caps to far more. Past it loading stops
// with std::invalid_argument naming the limit (docs/comparing.md "How much
// one command loads").
inline constexpr size_t kMaxSummaryBytes = size_t{512} << 20;

// The same directories once each (by canonical path), in order.
std::vector<std::filesystem::path> unique_dirs(std::vector<std::filesystem::path> dirs);

// What a side argument names, before anything is loaded: a path (a bundle,
// or every bundle below a directory) or a catalog selector.
struct SideSource {
  std::string arg;
  bool selector = false;
  std::vector<std::filesystem::path> dirs;  // each once
  std::filesystem::path runs_root;          // whose catalog caches the summaries
  static SideSource find(const std::string& arg, const std::filesystem::path& runs_root);
  Side load(bool histograms = true) const;
};

// Throws std::invalid_argument naming verb, the count and kMaxBundles when
// the sources hold more bundles than that in all.
void check_bundle_limit(const std::vector<SideSource>& sources, const std::string& verb);

enum class Verdict { unchanged, regression, improvement, change, undecided };
const char* to_string(Verdict v);

// What a row's verdict rests on (the unit of replication, README "Between
// boots"):
//   boots        several boots per side: one value per boot (the median of
//                its repetitions), a moderated t test across boots;
//   paired       the same boots on both sides (A/B interleaved in each of
//                several boots): a paired moderated t test over boots;
//   runs         one boot, several runs (bundles) per side: the run is the
//                unit (a run shares its process, BPF objects, calibration
//                and the minutes it ran in);
//   noise        one boot per side, the host's noise model (`kperflab noise`)
//                gives the spread between boots of this metric;
//   one_boot     one boot, one run per side: one unit a side, so nothing is
//                decided (repetitions tested only with --trust-one-boot);
//   confounded   one boot per side and no noise model: likewise, a kernel
//                effect cannot be told from a boot effect.
enum class Basis { boots, paired, runs, noise, one_boot, confounded };
// Whether verdicts on this basis rest on units with a variance between them.
bool has_units(Basis b);
const char* to_string(Basis b);

struct Row {
  std::string probe, metric, stat, unit;
  nlohmann::json labels;
  std::vector<double> base, cand;  // one value per repetition
  double base_median = 0, cand_median = 0, change = 0;  // change: relative
  double ci_lo = 0, ci_hi = 0, p = 1, p_adj = 1, min_effect = 0;
  Verdict verdict = Verdict::unchanged;
  std::string better;  // "lower", "higher" or "" (no direction)
  Basis basis = Basis::confounded;
  size_t base_n = 0, cand_n = 0;  // units tested per side (boots or repetitions, by basis)
  // Relative spread of the units per side (robust: 1.4826 * MAD / median);
  // NaN with fewer than 2 units.
  double base_spread = NAN, cand_spread = NAN;
  // Other statistics / metrics of the same probe whose values are identical
  // on both sides (p99 = p99.9 = max below 1000 samples; a per-CPU metric
  // equal to the aggregate): merged into this row, tested once.
  std::vector<std::string> aliases;
  // Why the verdict is what it is when no test made it (e.g. a litmus test's
  // forbidden outcome that the base never showed, or one unit a side).
  std::string note;
  bool absolute = false;  // base 0 in every unit: change and CI are absolute, in `unit`
  bool overflow = false;  // a histogram recorded values past its range: tails are floors
  bool summary = false;   // a probe's geometric mean over its lower-is-better rows
  double prior_df = 0;    // degrees of freedom the variance borrowed (moderation)
};

// A unit's common shift: the median over its rows of its deviation from
// its side's mean (log scale). One boot whose frequency or page placement
// moved moves many metrics together.
struct UnitShift {
  bool cand = false;
  std::string unit;  // boot id or bundle directory name
  size_t index = 0;  // the unit's index on its side
  double shift = 0;  // relative
  size_t rows = 0;
};

struct ProvDiff {
  std::string field, base, cand;
  bool words = false;     // long values: base/cand hold only the words that differ
  bool measured = false;  // a measured value (clock GHz) past the tolerance
};

struct Result {
  std::string base_label, cand_label;
  std::vector<ProvDiff> provenance;
  std::vector<Row> rows;  // every compared metric and statistic
  std::vector<std::string> warnings;
  size_t base_reps = 0, cand_reps = 0;  // repetitions summed over a side's bundles
  size_t base_boots = 0, cand_boots = 0;  // distinct boots per side
  Basis basis = Basis::confounded;  // of the report (rows may fall back, see Row::basis)
  std::string noise_file;  // the noise model used, if any
  size_t merged_rows = 0;  // rows merged into another as aliases (not tested again)
  // With units and undecided rows: how many units per side would find the
  // median undecided row's change with 80% power at the bar the test uses
  // (0: not estimated).
  size_t boots_needed = 0;
  std::vector<UnitShift> shifts;  // per unit, with units as the basis
  bool gating = true;  // verdicts may fail CI (false: one unit a side, not trusted)
  size_t regressions() const;
  size_t improvements() const;
};

Result compare(const Side& base, const Side& cand, const Options& opt);

// One metric statistic of one side: a value per repetition and the boot it
// ran in (index into Collected::boots).
struct Series {
  std::vector<double> v;
  std::vector<size_t> boot;
  std::vector<size_t> run;  // the bundle (index into Collected::runs)
};

// Every metric statistic of a side: probe -> metric -> stat ("p50", "p90",
// "p99", "p99_9", "mean" of histograms, "value" of scalars).
struct Collected {
  std::map<std::string, std::map<std::string, std::map<std::string, Series>>> v;
  // "probe\x1fmetric" -> its kind, unit and labels (last seen)
  std::map<std::string, std::shared_ptr<const MetricInfo>> meta;
  // A boot: meta kernel.boot_id; a bundle without one is its own boot.
  std::vector<std::string> boots;
  // A run: one bundle, its boot and its meta started/finished.
  std::vector<std::string> runs, run_started, run_finished;
  std::vector<size_t> run_boot, run_reps;  // a run's boot and repetitions
  size_t reps = 0;  // repetitions, summed over the side's bundles
  std::set<std::string> overflow;  // "probe\x1fmetric" with a non-zero overflow
  // Quantiles left out: fewer samples in a repetition than 10 / (1 - q)
  // (a p99 of 40 samples is the maximum), "probe/metric:stat" -> reps.
  std::map<std::string, size_t> thin;
};
Collected collect(const Side& s);

// The value of each boot of a series (the median of its repetitions), in
// boot order; boots without a value are left out.
std::vector<double> per_boot(const Series& s, size_t nboots);
// The same per unit (index vector `unit`, n units), NaN where a unit has no
// value.
std::vector<double> per_unit(const std::vector<double>& v, const std::vector<size_t>& unit,
                             size_t n);
// Fields of meta.json and probe parameters compared in the provenance
// section, over every bundle of each side (values passed through
// printable(): they end up on terminals and in mails). provenance.cpp.
std::vector<ProvDiff> provenance_diff(const Side& base, const Side& cand);

// Merged histogram (all repetitions, all bundles) of a metric on one side,
// for CDF plots; nullopt for scalars or absent metrics.
nlohmann::json merged_cdf(const Side& s, const std::string& probe, const std::string& metric);

}  // namespace kperflab::compare
