// SPDX-License-Identifier: GPL-2.0-only
// What the series renderings list (series.h): the flagged and the largest
// undecided steps, the findings per probe and step, the steps' warnings once;
// and the step marks and tags the renderings share (series_internal.h).
#include <algorithm>
#include <map>
#include <tuple>

#include "analysis/report.h"
#include "analysis/series.h"
#include "analysis/series_internal.h"
#include "core/until_ci.h"

namespace kperflab::series {

using compare::Verdict;

namespace detail {

const char* mark(const Step& s) {
  if (!s.present) return "";
  switch (s.verdict) {
    case Verdict::regression: return "R";
    case Verdict::improvement: return "I";
    case Verdict::change: return "C";
    case Verdict::undecided: return "?";
    default: return "";
  }
}

bool flagged(const Step& s) {
  return s.present && (s.verdict == Verdict::regression || s.verdict == Verdict::improvement ||
                       s.verdict == Verdict::change);
}

std::string step_text(const Step& s) {
  if (!s.present) return "";
  std::string t = report::fmt_change(s.change);
  if (*mark(s)) t += std::string(" ") + mark(s);
  return t;
}

std::string side_tag(size_t i) { return "[" + std::to_string(i + 1) + "]"; }
std::string step_tag(size_t s) { return side_tag(s) + "->" + side_tag(s + 1); }

}  // namespace detail

using detail::flagged;
using detail::side_tag;
using detail::step_text;

// Every line with a flagged step (its flagged steps), by probe, largest
// change first.
std::vector<Pick> flagged_picks(const Result& r, size_t limit,
                                std::map<std::string, size_t>* left) {
  std::vector<std::pair<double, Pick>> v;
  for (auto& l : r.lines) {
    Pick p{&l, {}};
    double e = -1;
    for (size_t s = 0; s < l.steps.size(); ++s)
      if (flagged(l.steps[s])) p.steps.push_back(s), e = std::max(e, step_effect(l, s));
    if (!p.steps.empty()) v.emplace_back(e, p);
  }
  if (v.size() > limit) {  // the largest changes over every probe
    std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first > b.first; });
    if (left)
      for (size_t i = limit; i < v.size(); ++i) ++(*left)[v[i].second.line->probe];
    v.resize(limit);
  }
  std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) {
    if (a.second.line->probe != b.second.line->probe)
      return a.second.line->probe < b.second.line->probe;
    return a.first > b.first;
  });
  std::vector<Pick> out;
  for (auto& [e, p] : v) out.push_back(p);
  return out;
}

// The `top` undecided steps of largest |change| over every line, grouped by
// line (largest first); `total`: the undecided steps of every line.
std::vector<Pick> undecided_picks(const Result& r, size_t& total) {
  std::vector<std::tuple<double, size_t, size_t>> v;  // effect, line, step
  for (size_t i = 0; i < r.lines.size(); ++i)
    for (size_t s = 0; s < r.lines[i].steps.size(); ++s)
      if (r.lines[i].steps[s].present && r.lines[i].steps[s].verdict == Verdict::undecided)
        v.emplace_back(step_effect(r.lines[i], s), i, s);
  total = v.size();
  std::stable_sort(v.begin(), v.end(),
                   [](auto& a, auto& b) { return std::get<0>(a) > std::get<0>(b); });
  if (v.size() > r.top) v.resize(r.top);
  std::vector<Pick> out;
  std::map<size_t, size_t> at;  // line -> index in out
  for (auto& [e, i, s] : v) {
    auto [it, fresh] = at.emplace(i, out.size());
    if (fresh) out.push_back({&r.lines[i], {}});
    out[it->second].steps.push_back(s);
  }
  for (auto& p : out) std::sort(p.steps.begin(), p.steps.end());
  return out;
}

std::vector<std::pair<std::string, std::string>> findings(const Result& r,
                                                          const std::string& arrow) {
  std::map<std::string, std::vector<std::string>> per;  // probe -> per step
  for (size_t s = 0; s < r.steps.size(); ++s)
    for (auto& x : r.steps[s].rows) per[x.probe].resize(r.steps.size());
  for (auto& [probe, v] : per)
    for (size_t s = 0; s < r.steps.size(); ++s) {
      size_t n[3] = {0, 0, 0};
      const compare::Row* gm = nullptr;
      for (auto& x : r.steps[s].rows) {
        if (x.probe != probe) continue;
        if (x.summary) gm = &x;
        else if (x.verdict == Verdict::regression) ++n[0];
        else if (x.verdict == Verdict::improvement) ++n[1];
        else if (x.verdict == Verdict::change) ++n[2];
      }
      std::string t;
      const char* what[] = {" R", " I", " C"};
      for (int k = 0; k < 3; ++k)
        if (n[k]) t += (t.empty() ? "" : ", ") + std::to_string(n[k]) + what[k];
      if (gm) {
        Step st{true, gm->verdict, gm->change, gm->p_adj};
        t += (t.empty() ? "" : ", ") + std::string("gm ") + step_text(st);
      }
      // A step with nothing flagged and no geometric mean says nothing.
      if (!t.empty()) v[s] = side_tag(s) + arrow + side_tag(s + 1) + " " + t;
    }
  std::vector<std::pair<std::string, std::string>> out;
  std::string quiet;
  for (auto& [probe, v] : per) {
    std::string t;
    for (auto& x : v)
      if (!x.empty()) t += (t.empty() ? "" : "; ") + x;
    if (t.empty()) quiet += (quiet.empty() ? "" : ", ") + printable(probe);
    else out.emplace_back(probe, t);
  }
  if (!quiet.empty()) out.emplace_back("nothing flagged", quiet);
  return out;
}

std::vector<std::pair<std::string, std::vector<size_t>>> step_warnings(const Result& r) {
  std::vector<std::pair<std::string, std::vector<size_t>>> out;
  for (size_t s = 0; s < r.steps.size(); ++s)
    for (auto& w : r.steps[s].warnings) {
      auto it = std::find_if(out.begin(), out.end(), [&](auto& x) { return x.first == w; });
      if (it == out.end()) out.push_back({w, {s}});
      else it->second.push_back(s);
    }
  return out;
}

std::string steps_text(const std::vector<size_t>& steps, size_t nsteps, const std::string& arrow) {
  if (steps.size() == nsteps && nsteps > 1) return "every step";
  std::string t;
  for (size_t s : steps) t += (t.empty() ? "" : ", ") + side_tag(s) + arrow + side_tag(s + 1);
  return t;
}

}  // namespace kperflab::series
