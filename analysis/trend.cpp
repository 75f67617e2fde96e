// SPDX-License-Identifier: GPL-2.0-only
// The change-point engine of `kperflab trend` and the history it runs on
// (analysis/trend.h). Why these choices: docs/trend.md "The method".
#include "analysis/trend.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

#include "analysis/report.h"
#include "analysis/stats.h"
#include "core/until_ci.h"
#include "results/json_access.h"

namespace kperflab::trend {

// Two a side at least: a pooled variance needs a degree of freedom.
size_t min_side(const Options& o) { return std::max<size_t>(2, std::min(o.min_side, o.window)); }

const char* verdict(const Change& c, const Metric& m) {
  if (m.better.empty() || c.abs_change == 0) return "change";
  return (m.better == "lower") == (c.abs_change > 0) ? "regression" : "improvement";
}

size_t Detection::flagged() const {
  return static_cast<size_t>(
      std::count_if(peaks.begin(), peaks.end(), [](const Change& c) { return c.flagged; }));
}

namespace {

// The robust SD of one unit's value from neighbouring units: 1.4826 times
// the median absolute successive difference, over sqrt(2). A step moves one
// difference, an outlier boot two: the median ignores both.
double successive_sd(const std::vector<double>& x) {
  std::vector<double> d;
  for (size_t i = 1; i < x.size(); ++i) d.push_back(std::fabs(x[i] - x[i - 1]));
  return d.empty() ? NAN : 1.4826 * stats::median(d) / std::sqrt(2.0);
}

// A metric's present values, centred (log or linear), and where they sit.
struct Prepared {
  std::vector<double> x;     // centred on the median: sums of squares stay exact
  std::vector<size_t> unit;  // the unit of each value
  std::vector<double> raw;
  bool log = true;
  double centre = 0;
  double floor_var = 0;  // variance floor of one value (HDR rounding), on x's scale
  size_t clipped = 0;    // outlying values pulled in (clip_outliers)
};

// A boot whose host took a CPU away reads 1.3x to 4x on some metrics; one
// such value in a window swamps its variance, and the step beside it goes
// unseen (sim_trend: 10 % steps with 1 % outlier boots were found 82 % of
// the time). A Hampel filter: a value further than kClip robust SDs from
// the median of its neighbours (kReach either side) is pulled in to that
// distance. The neighbours' median stays on the value's own side of a step
// as long as the segment has kReach + 1 values, so steps are kept.
constexpr size_t kReach = 3;
constexpr double kClip = 4;

size_t clip_outliers(std::vector<double>& x) {
  double sd = successive_sd(x);
  if (!(sd > 0)) return 0;
  std::vector<double> out = x;
  size_t n = x.size(), clipped = 0;
  for (size_t k = 0; k < n; ++k) {
    size_t a = k > kReach ? k - kReach : 0, b = std::min(n, k + kReach + 1);
    double med = stats::median(std::vector<double>(x.begin() + a, x.begin() + b));
    if (std::fabs(x[k] - med) > kClip * sd) {
      out[k] = med + std::copysign(kClip * sd, x[k] - med);
      ++clipped;
    }
  }
  x = std::move(out);
  return clipped;
}

Prepared prepare(const Metric& m) {
  Prepared p;
  for (size_t i = 0; i < m.v.size(); ++i)
    if (std::isfinite(m.v[i])) p.raw.push_back(m.v[i]), p.unit.push_back(i);
  p.log = std::all_of(p.raw.begin(), p.raw.end(), [](double v) { return v > 0; });
  p.x = p.raw;
  if (p.log)
    for (double& v : p.x) v = std::log(v);
  if (p.x.empty()) return p;
  p.centre = stats::median(p.x);
  for (double& v : p.x) v -= p.centre;
  p.clipped = clip_outliers(p.x);
  if (m.quantised) {
    double med = stats::median(p.raw);
    double q = stats::hdr_quantisation_var(med);
    if (std::isfinite(q)) p.floor_var = p.log ? (med > 0 ? q / (med * med) : 0) : q;
  }
  return p;
}

struct Candidate {
  size_t i = 0, a0 = 0, b1 = 0;  // before [a0, i), after [i, b1)
  double diff = 0, se = 0, t = 0, df = 0, p = 1;
};

// Prefix sums of a metric's values and of their squares.
struct Sums {
  std::vector<double> s, s2;
  explicit Sums(const std::vector<double>& x) : s(x.size() + 1, 0), s2(x.size() + 1, 0) {
    for (size_t k = 0; k < x.size(); ++k) s[k + 1] = s[k] + x[k], s2[k + 1] = s2[k] + x[k] * x[k];
  }
  double mean(size_t a, size_t b) const { return (s[b] - s[a]) / static_cast<double>(b - a); }
  // The sum of squares about the mean of [a, b).
  double ss(size_t a, size_t b) const {
    double m = mean(a, b);
    return std::max(0.0, s2[b] - s2[a] - m * m * static_cast<double>(b - a));
  }
};

// The pooled t test of the windows either side of point i.
Candidate test_at(const Sums& S, const Prepared& p, size_t i, size_t w) {
  const size_t n = p.x.size();
  Candidate c;
  c.i = i;
  c.a0 = i > w ? i - w : 0;
  c.b1 = std::min(n, i + w);
  double na = static_cast<double>(i - c.a0), nb = static_cast<double>(c.b1 - i);
  c.diff = S.mean(i, c.b1) - S.mean(c.a0, i);
  c.df = na + nb - 2;
  double var = std::max((S.ss(c.a0, i) + S.ss(i, c.b1)) / c.df, p.floor_var);
  c.se = std::sqrt(var * (1 / na + 1 / nb));
  if (c.se > 0) {
    c.t = c.diff / c.se;
    c.p = std::min(1.0, 2 * stats::student_t_sf(std::fabs(c.t), c.df));
  } else {  // both windows constant: a change exactly when their levels differ
    c.t = c.diff == 0 ? 0 : std::copysign(INFINITY, c.diff);
    c.p = c.diff == 0 ? 1 : 0;
  }
  return c;
}

// Where exactly: the window test's largest t lands a boot or two off the
// step now and then (its windows move with the point: 1.5 % of 10 % steps
// at 2-3 % noise, sim_trend). The least-squares split of the span both
// windows cover (the step's maximum-likelihood location) within a quarter
// window of it, each side keeping min_side units; the test is then that of
// the windows at the split (its p is never below the scan's smallest: the
// Bonferroni bound holds).
Candidate refine(const Sums& S, const Prepared& p, const Candidate& c, size_t w, size_t ms) {
  const size_t n = p.x.size(), reach = std::max<size_t>(1, w / 4);
  size_t lo = std::max({c.a0 + ms, c.i > reach ? c.i - reach : 0, ms});
  size_t hi = std::min({c.b1 - ms, c.i + reach, n - ms});
  size_t best = c.i;
  double best_sse = S.ss(c.a0, c.i) + S.ss(c.i, c.b1);
  for (size_t k = lo; k <= hi; ++k) {
    double sse = S.ss(c.a0, k) + S.ss(k, c.b1);
    if (sse < best_sse - 1e-12 * std::fabs(best_sse)) best = k, best_sse = sse;
  }
  return best == c.i ? c : test_at(S, p, best, w);
}

// The pooled two-window t test at every candidate point.
std::vector<Candidate> scan(const Sums& S, const Prepared& p, size_t w, size_t ms) {
  std::vector<Candidate> out;
  for (size_t i = ms; i + ms <= p.x.size(); ++i) out.push_back(test_at(S, p, i, w));
  return out;
}

// Local maxima: the smallest p first, then the next at least a window away
// from every one taken (its windows then never straddle an earlier change).
std::vector<Candidate> peaks_of(std::vector<Candidate> c, size_t w) {
  std::stable_sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) {
    if (a.p != b.p) return a.p < b.p;
    return std::fabs(a.t) > std::fabs(b.t);
  });
  std::vector<Candidate> out;
  for (auto& x : c) {
    bool near = std::any_of(out.begin(), out.end(), [&](const Candidate& y) {
      return (x.i > y.i ? x.i - y.i : y.i - x.i) < w;
    });
    if (!near) out.push_back(x);
  }
  std::sort(out.begin(), out.end(),
            [](const Candidate& a, const Candidate& b) { return a.i < b.i; });
  return out;
}

Change change_of(const Prepared& p, const Candidate& c, size_t metric, size_t ncand) {
  Change ch;
  ch.metric = metric;
  ch.at = p.unit[c.i];
  ch.prev = p.unit[c.i - 1];
  ch.before_n = c.i - c.a0;
  ch.after_n = c.b1 - c.i;
  ch.log = p.log;
  ch.t = c.t;
  ch.df = c.df;
  ch.p = c.p;
  ch.candidates = ncand;
  ch.p_metric = std::min(1.0, c.p * static_cast<double>(ncand));
  double mean_a = 0;
  for (size_t k = c.a0; k < c.i; ++k) mean_a += p.x[k];
  mean_a = mean_a / static_cast<double>(ch.before_n) + p.centre;
  double h = c.se > 0 ? stats::student_t_quantile(0.975, c.df) * c.se : 0;
  double sd = successive_sd(p.x);
  if (p.log) {
    ch.before = std::exp(mean_a);
    ch.after = std::exp(mean_a + c.diff);
    ch.change = std::expm1(c.diff);
    ch.lo = std::expm1(c.diff - h);
    ch.hi = std::expm1(c.diff + h);
    ch.abs_change = ch.after - ch.before;
    ch.abs_lo = ch.before * ch.lo;
    ch.abs_hi = ch.before * ch.hi;
    ch.noise = std::expm1(sd);
  } else {
    ch.before = mean_a;
    ch.after = mean_a + c.diff;
    ch.abs_change = c.diff;
    ch.abs_lo = c.diff - h;
    ch.abs_hi = c.diff + h;
    auto rel = [&](double d) {
      if (ch.before != 0) return d / std::fabs(ch.before);
      return d == 0 ? 0.0 : std::copysign(INFINITY, d);
    };
    ch.change = rel(c.diff);
    ch.lo = rel(ch.abs_lo);
    ch.hi = rel(ch.abs_hi);
    ch.noise = sd;  // in the metric's unit
  }
  return ch;
}

// Whether a peak is large enough: |relative change| at least the floor and
// the metric's noise (log), or |absolute change| at least the floor times
// the level before and the noise (linear: some value was 0).
void gate(Change& c, const Options& o) {
  if (c.log) {
    c.min_effect = std::max(o.min_effect, std::isfinite(c.noise) ? c.noise : 0.0);
    c.flagged = c.q <= o.alpha && std::fabs(c.change) >= c.min_effect;
  } else {
    c.min_effect = std::max(o.min_effect * std::fabs(c.before),
                            std::isfinite(c.noise) ? c.noise : 0.0);
    c.flagged = c.q <= o.alpha && c.abs_change != 0 && std::fabs(c.abs_change) >= c.min_effect;
  }
}

}  // namespace

Detection detect(const std::vector<Metric>& metrics, const Options& o) {
  Detection d;
  const size_t ms = min_side(o), w = std::max(o.window, ms);
  for (size_t m = 0; m < metrics.size(); ++m) {
    Prepared p = prepare(metrics[m]);
    if (p.x.size() < 2 * ms) {
      ++d.short_metrics;
      continue;
    }
    ++d.tested;
    d.clipped += p.clipped;
    Sums S(p.x);
    auto cand = scan(S, p, w, ms);
    for (auto& c : peaks_of(cand, w))
      d.peaks.push_back(change_of(p, refine(S, p, c, w, ms), m, cand.size()));
  }
  std::vector<double> pm;
  for (auto& c : d.peaks) pm.push_back(c.p_metric);
  auto q = stats::benjamini_hochberg(pm);
  for (size_t k = 0; k < d.peaks.size(); ++k) {
    d.peaks[k].q = q[k];
    gate(d.peaks[k], o);
  }
  return d;
}

int version_compare(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t i1 = i, j1 = j;
      while (i1 < a.size() && digit(a[i1])) ++i1;
      while (j1 < b.size() && digit(b[j1])) ++j1;
      // Leading zeros do not count; then the longer number is the larger.
      size_t za = i, zb = j;
      while (za + 1 < i1 && a[za] == '0') ++za;
      while (zb + 1 < j1 && b[zb] == '0') ++zb;
      if (i1 - za != j1 - zb) return i1 - za < j1 - zb ? -1 : 1;
      if (int c = a.compare(za, i1 - za, b, zb, j1 - zb)) return c < 0 ? -1 : 1;
      i = i1, j = j1;
      continue;
    }
    auto ca = static_cast<unsigned char>(a[i]), cb = static_cast<unsigned char>(b[j]);
    if (ca != cb) return ca < cb ? -1 : 1;
    ++i, ++j;
  }
  if (i < a.size()) return 1;
  return j < b.size() ? -1 : 0;
}

double epoch_seconds(const std::string& t) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  auto num = [&](size_t at, size_t len) {
    int v = 0;
    for (size_t k = at; k < at + len; ++k) {
      if (k >= t.size() || !std::isdigit(static_cast<unsigned char>(t[k]))) return -1;
      v = v * 10 + (t[k] - '0');
    }
    return v;
  };
  int y = num(0, 4), mo = num(5, 2), d = num(8, 2);
  int h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  if (y < 0 || mo < 1 || d < 1 || h < 0 || mi < 0 || se < 0) return NAN;
  size_t k = 19;
  double frac = 0;
  if (k < t.size() && t[k] == '.') {
    double scale = 0.1;
    for (++k; k < t.size() && std::isdigit(static_cast<unsigned char>(t[k])); ++k, scale /= 10)
      frac += (t[k] - '0') * scale;
  }
  double offset = 0;
  if (k < t.size() && (t[k] == '+' || t[k] == '-')) {
    int oh = num(k + 1, 2), om = num(k + 4, 2);
    if (oh < 0 || om < 0) return NAN;
    offset = (t[k] == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
  } else if (k >= t.size() || (t[k] != 'Z' && t[k] != 'z')) {
    return NAN;
  }
  // Days from the civil date (H. Hinnant's algorithm).
  int yy = mo <= 2 ? y - 1 : y;
  int era = yy / 400, yoe = yy - era * 400;
  int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  double days = era * 146097.0 + doe - 719468.0;
  return days * 86400 + h * 3600.0 + mi * 60.0 + se + frac - offset;
}

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// results/headline.cpp's rate or ratio.
bool is_rate(const std::string& unit) {
  return unit == "ratio" || unit.rfind("per_", 0) == 0 || ends_with(unit, "/s");
}

// compare's direction (analysis/compare.cpp): time and cost units are
// lower-is-better, so are *missed* and *unexpected*; labels.better wins.
std::string better_of(const std::string& metric, const MetricInfo& m) {
  if (m.labels.contains("better")) return m.better == "none" ? "" : m.better;
  static const std::set<std::string> time_units = {"ns", "ps", "us", "ms", "s", "cycles"};
  if (time_units.count(m.unit)) return "lower";
  if (metric.find("missed") != std::string::npos || metric.find("unexpected") != std::string::npos)
    return "lower";
  return "";
}

// One bundle's headline figures (results/headline.h's selection, from its
// summary): per histogram present in every repetition with at least
// kHeadlineMinCount samples in each, its p50 and p99; per rate or ratio
// scalar its value; each the median over the repetitions.
void bundle_figures(const BundleSummary& b, const Options& o, size_t unit,
                    std::map<std::string, Metric>& out,
                    std::map<std::string, std::vector<std::vector<double>>>& values,
                    size_t nunits) {
  for (auto& [probe, p] : b.probes) {
    if (!o.probes.empty() && std::find(o.probes.begin(), o.probes.end(), probe) == o.probes.end())
      continue;
    struct Acc {
      std::vector<double> p50, p99, value;
      size_t seen = 0;
      bool thin = false;
      const MetricInfo* info = nullptr;
    };
    std::vector<Acc> acc(p.names.size());
    for (auto& rep : p.reps)
      for (auto& m : rep.metrics) {
        Acc& a = acc[m.name];
        ++a.seen;
        a.info = &p.info(m);
        if (a.info->histogram) {
          if (m.count < kHeadlineMinCount) a.thin = true;
          if (!std::isnan(m.stat[0])) a.p50.push_back(m.stat[0]);
          if (!std::isnan(m.stat[2])) a.p99.push_back(m.stat[2]);
        } else if (!std::isnan(m.stat[0]) && is_rate(a.info->unit)) {
          a.value.push_back(m.stat[0]);
        }
      }
    for (size_t k = 0; k < acc.size(); ++k) {
      const Acc& a = acc[k];
      if (!a.info || (a.info->histogram && (a.thin || a.seen != p.reps.size()))) continue;
      const std::pair<const char*, const std::vector<double>*> stats3[] = {
          {"p50", &a.p50}, {"p99", &a.p99}, {"value", &a.value}};
      for (auto [st, v] : stats3) {
        if (v->empty() || v->size() != a.seen) continue;
        Metric m{probe, p.names[k], st, a.info->unit, better_of(p.names[k], *a.info),
                 a.info->histogram, {}};
        std::string key = m.key();
        out.try_emplace(key, std::move(m));
        auto& per = values[key];
        if (per.empty()) per.resize(nunits);
        per[unit].push_back(stats::median(*v));
      }
    }
  }
}

std::string release_of(const BundleSummary& b) {
  return b.meta_view().at("kernel").at("release").str();
}

}  // namespace

std::vector<const Change*> Result::changes() const {
  std::vector<const Change*> out;
  for (auto& c : det.peaks)
    if (c.flagged) out.push_back(&c);
  std::stable_sort(out.begin(), out.end(), [](const Change* a, const Change* b) {
    return report::effect_rank(a->change) > report::effect_rank(b->change);
  });
  return out;
}

std::vector<std::string> Result::kernels() const {
  std::vector<std::string> out;
  for (auto& b : bundles)
    if (std::find(out.begin(), out.end(), b.release) == out.end()) out.push_back(b.release);
  return out;
}

namespace {

// One host (absolute latencies do not compare across hosts), and the probes
// asked for present somewhere.
void check_side(const compare::Side& side, const std::string& source, const Options& o) {
  const auto& bs = side.bundles;
  std::set<std::string> hosts;
  for (auto& b : bs) hosts.insert(b.meta_view().at("host").at("hostname").str());
  if (hosts.size() > 1 && !o.cross_host)
    throw std::invalid_argument(
        printable(source) + " holds bundles of " + std::to_string(hosts.size()) + " hosts (" +
        printable(*hosts.begin()) + ", " + printable(*std::next(hosts.begin())) +
        (hosts.size() > 2 ? ", ..." : "") + "): absolute latencies do not compare across "
        "hosts; narrow the selector (host:NAME) or pass --cross-host");
  for (auto& want : o.probes)
    if (std::none_of(bs.begin(), bs.end(),
                     [&](const BundleSummary& b) { return b.probes.count(want) > 0; }))
      throw std::invalid_argument("--probe " + printable(want) + ": no bundle of " +
                                  printable(source) + " has this probe");
}

// The history's order: by time, or by kernel version then time; the path
// last. Bundles without a started time go last.
std::vector<size_t> history_order(const std::vector<BundleSummary>& bs, bool by_kernel) {
  std::vector<size_t> order(bs.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<double> when(bs.size());
  for (size_t i = 0; i < bs.size(); ++i) {
    when[i] = epoch_seconds(bs[i].meta_view().text("started", ""));
    if (std::isnan(when[i])) when[i] = INFINITY;
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (by_kernel)
      if (int c = version_compare(release_of(bs[a]), release_of(bs[b]))) return c < 0;
    if (when[a] != when[b]) return when[a] < when[b];
    return bs[a].dir < bs[b].dir;
  });
  return order;
}

// Boots: bundles sharing kernel.boot_id (a bundle without one is its own),
// in the order of their first bundle.
void group_units(Result& r, const std::vector<BundleSummary>& bs,
                 const std::vector<size_t>& order) {
  std::map<std::string, size_t> unit_of;
  for (size_t i : order) {
    const auto& b = bs[i];
    BundleRef ref{b.dir.string(), b.meta_view().text("started", ""), release_of(b), ""};
    if (auto k = b.meta_view().at("kernel").find("boot_id"); k && k->is_string())
      ref.boot = k->str();
    std::string key = ref.boot.empty() ? "bundle:" + ref.path : "boot:" + ref.boot;
    auto [it, fresh] = unit_of.emplace(key, r.units.size());
    if (fresh) r.units.push_back({ref.boot.empty() ? b.dir.filename().string() : ref.boot, {}});
    r.units[it->second].bundles.push_back(r.bundles.size());
    r.bundles.push_back(std::move(ref));
  }
}

// Each bundle's figures, then each unit's value: the median of its bundles'.
void unit_values(Result& r, const std::vector<BundleSummary>& bs, const std::vector<size_t>& order,
                 const Options& o) {
  std::map<std::string, Metric> metrics;
  std::map<std::string, std::vector<std::vector<double>>> values;
  for (size_t u = 0; u < r.units.size(); ++u)
    for (size_t k : r.units[u].bundles)  // r.bundles[k] is bs[order[k]]
      bundle_figures(bs[order[k]], o, u, metrics, values, r.units.size());
  for (auto& [key, m] : metrics) {
    m.v.assign(r.units.size(), NAN);
    auto& per = values[key];
    for (size_t u = 0; u < per.size(); ++u)
      if (!per[u].empty()) m.v[u] = stats::median(per[u]);
    r.metrics.push_back(std::move(m));
  }
}

}  // namespace

std::string Result::span() const {
  const BundleRef *lo = nullptr, *hi = nullptr;
  for (auto& b : bundles) {
    double t = epoch_seconds(b.started);
    if (std::isnan(t)) continue;
    if (!lo || t < epoch_seconds(lo->started)) lo = &b;
    if (!hi || t > epoch_seconds(hi->started)) hi = &b;
  }
  return lo ? lo->started + " .. " + hi->started : "no start times";
}

Result build(const compare::Side& side, const std::string& source, const Options& o) {
  check_side(side, source, o);
  Result r;
  r.source = source;
  r.opt = o;
  r.machine = report::machine(side);
  auto order = history_order(side.bundles, o.by_kernel);
  group_units(r, side.bundles, order);
  const size_t ms = min_side(o), nb = r.bundles.size(), nu = r.units.size();
  if (nu < 2 * ms)
    throw std::invalid_argument(
        printable(source) + " has " + std::to_string(nb) + " bundle" + (nb == 1 ? "" : "s") +
        " in " + std::to_string(nu) + " boot" + (nu == 1 ? "" : "s") + "; two windows need " +
        std::to_string(2 * ms) + " boots at least (" + std::to_string(ms) +
        " a side; bundles of one boot count once)");
  unit_values(r, side.bundles, order, o);
  r.det = detect(r.metrics, o);
  return r;
}

}  // namespace kperflab::trend
