// SPDX-License-Identifier: GPL-2.0-only
#include "core/until_ci.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace kperflab {

using nlohmann::json;

double default_until_ci_budget(double estimate_one_repetition_s) {
  return std::max(60.0, 10.0 * estimate_one_repetition_s);
}

std::optional<MedianCi> median_ci95(std::vector<double> v) {
  const size_t n = v.size();
  if (n < UntilCi::kMinReps) return std::nullopt;
  std::sort(v.begin(), v.end());
  // cdf[j] = P(B <= j), B ~ Binomial(n, 1/2), in logs to stay exact enough
  // for n up to thousands.
  auto pmf = [n](size_t j) {
    double l = std::lgamma(n + 1.0) - std::lgamma(j + 1.0) - std::lgamma(n - j + 1.0) -
               static_cast<double>(n) * std::log(2.0);
    return std::exp(l);
  };
  size_t k = 0;  // 1-based order statistic; 0 = none found
  double tail = 0;  // P(B <= k - 1)
  for (size_t cand = 1; cand <= n / 2; ++cand) {
    double t = tail + pmf(cand - 1);
    if (2 * t > 0.05) break;
    tail = t;
    k = cand;
  }
  if (k == 0) return std::nullopt;
  MedianCi ci;
  ci.lo = v[k - 1];
  ci.hi = v[n - k];
  ci.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  ci.coverage = 1 - 2 * tail;
  return ci;
}

std::optional<double> median_ci_half_width_pct(const std::vector<double>& v) {
  auto ci = median_ci95(v);
  if (!ci || !(ci->median > 0)) return std::nullopt;
  return std::max(ci->median - ci->lo, ci->hi - ci->median) / ci->median * 100.0;
}

CiAssessment assess_until_ci(const json& repetitions, double pct) {
  CiAssessment a;
  if (!repetitions.is_array() || repetitions.empty()) return a;
  std::map<std::string, std::vector<double>> p50;
  std::map<std::string, size_t> seen;
  for (const auto& rep : repetitions) {
    if (!rep.contains("metrics") || !rep["metrics"].is_object()) continue;
    for (const auto& [name, m] : rep["metrics"].items()) {
      if (m.value("kind", "") != "histogram") continue;
      if (m.value("count", uint64_t{0}) < kHeadlineMinCount) continue;
      if (!m.contains("p50") || !m["p50"].is_number()) continue;
      p50[name].push_back(m["p50"].get<double>());
      ++seen[name];
    }
  }
  std::vector<std::pair<std::string, double>> judged;
  for (auto& [name, values] : p50) {
    if (seen[name] != repetitions.size()) continue;  // not a headline in every repetition
    auto w = median_ci_half_width_pct(values);
    if (!w) continue;
    ++a.headline;
    if (*w > pct) ++a.above;
    judged.emplace_back(name, *w);
  }
  std::sort(judged.begin(), judged.end(),
            [](const auto& x, const auto& y) { return x.second > y.second || (x.second == y.second && x.first < y.first); });
  if (judged.size() > 5) judged.resize(5);
  a.widest = std::move(judged);
  return a;
}

std::string until_ci_stop(const UntilCi& u, double budget_s, size_t n, double elapsed_s,
                          const CiAssessment& a) {
  double per_rep = n ? elapsed_s / static_cast<double>(n) : 0;
  bool over = elapsed_s + per_rep > budget_s;
  if (n < u.min_reps) return over && u.budget_s > 0 ? "budget" : "";
  if (a.headline == 0) return "no_headline_metric";
  if (a.above == 0) return "converged";
  if (n >= u.max_reps) return "max_repetitions";
  return over ? "budget" : "";
}

json until_ci_record(const UntilCi& u, double budget_s, const CiAssessment& a, size_t repetitions,
                     double elapsed_s, const std::string& stopped) {
  json widest = json::array();
  for (auto& [name, w] : a.widest) widest.push_back({{"metric", name}, {"half_width_pct", w}});
  return {{"target_half_width_pct", u.pct},
          {"confidence", 0.95},
          {"statistic", "p50 of every histogram with >= " + std::to_string(kHeadlineMinCount) +
                            " samples in each repetition; distribution-free interval of its "
                            "median over repetitions: this boot's median, not the kernel's "
                            "(boots differ by more)"},
          {"min_repetitions", u.min_reps},
          {"max_repetitions", u.max_reps},
          {"budget_s", budget_s},
          {"repetitions", repetitions},
          {"elapsed_s", elapsed_s},
          {"stopped", stopped},
          {"headline_metrics", a.headline},
          {"above_target", a.above},
          {"widest", std::move(widest)}};
}

}  // namespace kperflab
