// SPDX-License-Identifier: GPL-2.0-only
#include "analysis/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace kperflab::stats {

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

namespace {

// Ranks with ties averaged; returns the rank sum of the first n1 values and
// the tie correction term sum(t^3 - t).
std::pair<double, double> rank_sum(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<std::pair<double, int>> all;
  for (double x : a) all.emplace_back(x, 0);
  for (double x : b) all.emplace_back(x, 1);
  std::sort(all.begin(), all.end());
  double r1 = 0, ties = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    double t = static_cast<double>(j - i);
    ties += t * t * t - t;
    for (size_t k = i; k < j; ++k)
      if (all[k].second == 0) r1 += rank;
    i = j;
  }
  return {r1, ties};
}

// Number of arrangements giving each U for sizes (m, n): the classic
// recurrence f(u; m, n) = f(u - n; m - 1, n) + f(u; m, n - 1).
std::vector<double> u_distribution(size_t m, size_t n) {
  std::vector<std::vector<std::vector<double>>> f(
      m + 1, std::vector<std::vector<double>>(n + 1));
  for (size_t i = 0; i <= m; ++i)
    for (size_t j = 0; j <= n; ++j) {
      f[i][j].assign(i * j + 1, 0);
      if (i == 0 || j == 0) {
        f[i][j][0] = 1;
        continue;
      }
      for (size_t u = 0; u <= i * j; ++u) {
        double x = u >= j ? (u - j < f[i - 1][j].size() ? f[i - 1][j][u - j] : 0) : 0;
        double y = u < f[i][j - 1].size() ? f[i][j - 1][u] : 0;
        f[i][j][u] = x + y;
      }
    }
  return f[m][n];
}

double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

}  // namespace

double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b) {
  size_t n1 = a.size(), n2 = b.size();
  if (!n1 || !n2) return 1.0;
  auto [r1, ties] = rank_sum(a, b);
  double u1 = r1 - static_cast<double>(n1 * (n1 + 1)) / 2;
  double mu = static_cast<double>(n1 * n2) / 2;
  if (ties == 0 && n1 * n2 <= 400) {
    auto dist = u_distribution(n1, n2);
    double total = std::accumulate(dist.begin(), dist.end(), 0.0);
    double u = std::min(u1, static_cast<double>(n1 * n2) - u1);
    double tail = 0;
    for (size_t k = 0; k <= static_cast<size_t>(u); ++k) tail += dist[k];
    return std::min(1.0, 2 * tail / total);
  }
  double n = static_cast<double>(n1 + n2);
  double var = static_cast<double>(n1 * n2) / 12 * ((n + 1) - ties / (n * (n - 1)));
  if (var <= 0) return 1.0;  // every value equal
  double z = (std::fabs(u1 - mu) - 0.5) / std::sqrt(var);
  return std::min(1.0, 2 * normal_sf(std::max(0.0, z)));
}

double mann_whitney_min_p(size_t n1, size_t n2) {
  if (!n1 || !n2) return 1.0;
  double c = 1;  // C(n1 + n2, n1)
  for (size_t i = 1; i <= n1; ++i) c = c * static_cast<double>(n2 + i) / static_cast<double>(i);
  return std::min(1.0, 2 / c);
}

Interval bootstrap_relative_change(const std::vector<double>& a, const std::vector<double>& b,
                                   double confidence, unsigned resamples, uint64_t seed) {
  if (a.empty() || b.empty()) return {NAN, NAN};
  std::mt19937_64 rng(seed);
  std::vector<double> out, ra(a.size()), rb(b.size());
  out.reserve(resamples);
  for (unsigned i = 0; i < resamples; ++i) {
    for (auto& x : ra) x = a[rng() % a.size()];
    for (auto& x : rb) x = b[rng() % b.size()];
    double ma = median(ra);
    if (ma != 0) out.push_back(median(rb) / ma - 1);
  }
  if (out.empty()) return {NAN, NAN};
  std::sort(out.begin(), out.end());
  double tail = (1 - confidence) / 2;
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(out.size() - 1) + 0.5);
    return out[std::min(i, out.size() - 1)];
  };
  return {at(tail), at(1 - tail)};
}

std::vector<double> benjamini_hochberg(const std::vector<double>& p) {
  size_t m = p.size();
  std::vector<size_t> idx(m);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return p[x] < p[y]; });
  std::vector<double> adj(m);
  double running = 1.0;
  for (size_t r = m; r-- > 0;) {
    double v = p[idx[r]] * static_cast<double>(m) / static_cast<double>(r + 1);
    running = std::min(running, v);
    adj[idx[r]] = std::min(1.0, running);
  }
  return adj;
}

}  // namespace kperflab::stats
