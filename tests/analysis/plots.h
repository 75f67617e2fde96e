// SPDX-License-Identifier: GPL-2.0-only
// The SVG plots of the HTML reports read back by class (plot-area, xtick,
// ytick, xlabel, ylabel, legend), and the checks a reader's eye makes:
// named axes, round ticks (1-2-5 steps, few significant digits, integers
// for counts), the legend outside the plot area.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <regex>
#include <string>
#include <vector>

namespace kperflab::testing::plots {

// A plot's parts, read back from its SVG by class.
struct Plot {
  double x = 0, y = 0, w = 0, h = 0;  // the plot area
  std::vector<std::string> xt, yt;     // tick labels
  std::string xl, yl;                  // axis titles
  std::vector<double> legend_x;        // left edge of each legend text
};

inline std::vector<Plot> plots(const std::string& html) {
  std::vector<Plot> out;
  static const std::regex area("<rect class='plot-area' x='([-0-9.e]+)' y='([-0-9.e]+)' "
                               "width='([-0-9.e]+)' height='([-0-9.e]+)'");
  static const std::regex text("<text class='(xtick|ytick|xlabel|ylabel|legend)'([^>]*)>([^<]*)<");
  static const std::regex xattr(" x='([-0-9.e]+)'");
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) {
    std::string svg = html.substr(at, html.find("</svg>", at) - at);
    std::smatch m;
    if (!std::regex_search(svg, m, area)) continue;  // a heatmap or a colour scale
    Plot p{std::stod(m[1]), std::stod(m[2]), std::stod(m[3]), std::stod(m[4]), {}, {}, "", "", {}};
    for (std::sregex_iterator it(svg.begin(), svg.end(), text), end; it != end; ++it) {
      std::string cls = (*it)[1], attrs = (*it)[2], t = (*it)[3];
      if (cls == "xtick") p.xt.push_back(t);
      if (cls == "ytick") p.yt.push_back(t);
      if (cls == "xlabel") p.xl = t;
      if (cls == "ylabel") p.yl = t;
      std::smatch x;
      if (cls == "legend" && std::regex_search(attrs, x, xattr)) p.legend_x.push_back(std::stod(x[1]));
    }
    out.push_back(p);
  }
  return out;
}

// A tick label's value in ns (time units) or as printed.
inline double tick_value(const std::string& t) {
  size_t end = 0;
  double v = std::stod(t, &end);
  std::string unit = t.substr(end);
  return unit == "us" ? v * 1e3 : unit == "ms" ? v * 1e6 : unit == "s" ? v * 1e9 : v;
}

// Significant digits of a printed number: "0.4489ns" 4, "375ns" 3, "1e+06" 1.
inline int sig_digits(const std::string& t) {
  std::string d;
  for (char c : t) {
    if (c == 'e' || std::isalpha(static_cast<unsigned char>(c))) break;
    if (std::isdigit(static_cast<unsigned char>(c))) d += c;
  }
  d.erase(0, std::min(d.find_first_not_of('0'), d.size()));
  while (!d.empty() && d.back() == '0') d.pop_back();
  return static_cast<int>(d.size());
}

// 1, 2 or 5 times a power of ten.
inline bool one_two_five(double step) {
  if (!(step > 0)) return false;
  double m = step / std::pow(10, std::floor(std::log10(step) + 1e-9));
  for (double x : {1.0, 2.0, 5.0, 10.0})
    if (std::fabs(m - x) < 1e-6 * x) return true;
  return false;
}

// Linear ticks: evenly spaced by a 1-2-5 step. Log ticks: each 1, 2 or 5
// times a power of ten (or, narrower than that, linear ones). Either way
// few significant digits.
inline void expect_round_ticks(const std::vector<std::string>& ticks, bool log, const std::string& what) {
  ASSERT_GE(ticks.size(), 2u) << what;
  std::vector<double> v;
  for (auto& t : ticks) {
    EXPECT_LE(sig_digits(t), 3) << what << ": tick " << t;
    v.push_back(tick_value(t));
  }
  // A log axis narrower than a 1-2-5 step has linear ticks.
  if (log)
    for (double x : v)
      if (!one_two_five(x)) log = false;
  for (size_t i = 1; i < v.size(); ++i) {
    double step = v[i] - v[i - 1];
    if (log) {
      EXPECT_GT(step, 0) << what;
    } else {
      EXPECT_TRUE(one_two_five(step)) << what << ": step " << step << " between " << ticks[i - 1]
                                      << " and " << ticks[i];
      EXPECT_NEAR(step, v[1] - v[0], 1e-9 * std::fabs(step)) << what << ": uneven ticks";
    }
  }
  if (log)
    for (double x : v) {
      if (x > 0) {
        EXPECT_TRUE(one_two_five(x)) << what << ": log tick " << x;
      }
    }
}

inline void expect_legend_outside(const Plot& p, const std::string& what) {
  EXPECT_FALSE(p.legend_x.empty()) << what << ": no legend";
  for (double x : p.legend_x) EXPECT_GE(x, p.x + p.w) << what << ": legend on the plot area";
}

}  // namespace kperflab::testing::plots
