// SPDX-License-Identifier: GPL-2.0-only
// What differs between the two sides' provenance: meta.json fields and probe
// parameters, over every bundle of a side (a side whose bundles disagree
// says so). Measured values (a calibrated clock's GHz, a clock's read
// overhead) differ a little on every run: they count only past a tolerance.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "analysis/compare.h"

namespace kperflab::compare {

namespace {

// Relative tolerance of measured fields.
constexpr double kMeasuredTolerance = 0.01;

// Values longer than this that differ show the words that differ.
constexpr size_t kLongValue = 40;

// Leaf names of probe parameters that are measured on the host each run
// (core/clock.cpp Clock::describe, the kmod's clock granularity), not
// chosen: they differ between any two runs.
bool measured_key(const std::string& leaf) {
  static const std::set<std::string> keys = {"ghz", "ns_per_tick", "overhead_ns",
                                             "clock_granularity_ns"};
  return keys.count(leaf) > 0;
}

// A provenance field for display; "n/a" where any step is absent or null.
std::string at(const JsonView& j, const std::vector<std::string>& path) {
  std::optional<JsonView> cur = j;
  for (size_t i = 0; i + 1 < path.size() && cur; ++i) cur = cur->find(path[i]);
  return cur ? printable(cur->text(path.back())) : "n/a";
}

// One bundle's fields: meta fields, then probe parameters; field -> probe
// ("" for meta) in `owner`.
struct Fields {
  std::vector<std::string> order;
  std::map<std::string, std::string> v;
  std::string& operator[](const std::string& k) {
    auto [it, fresh] = v.try_emplace(k);
    if (fresh) order.push_back(k);
    return it->second;
  }
};

void meta_values(const JsonView& m, Fields& out) {
  static const std::vector<std::vector<std::string>> fields = {
      {"host", "hostname"}, {"kernel", "release"}, {"kernel", "version"},
      {"kernel", "cmdline"}, {"kernel", "config", "sha256"}, {"cpu", "model_name"},
      {"cpu", "microcode"}, {"cpu", "online_count"}, {"cpu", "smt", "control"},
      {"cpu", "frequency", "governor"}, {"cpu", "frequency", "boost"},
      {"kernel", "clocksource", "current"}, {"kernel", "thp", "enabled"},
      {"host", "hypervisor"}, {"suite", "git_sha"}, {"profile"}};
  for (auto& f : fields) {
    std::string name;
    for (auto& k : f) name += (name.empty() ? "" : ".") + k;
    out[name] = at(m, f);
  }
  // The machine's state as the preflight found it and what --tune changed
  // (host/preflight.h, host/tune.h): settings, not measurements; the load,
  // the busiest processes and the throttle counters differ on every run.
  if (auto pf = m.find_if("preflight", J_OBJECT))
    if (auto fs = pf->find_if("findings", J_ARRAY))
      for (auto& f : fs->elements()) {
        std::string what = f.text("what", "");
        if (what.empty() || what == "load" || what == "busiest_processes" ||
            what == "thermal_throttle")
          continue;
        out["preflight." + printable(what)] = printable(f.text("value", ""));
      }
  auto tuning = m.find_if("tuning", J_OBJECT);
  out["tuning"] = !tuning ? "none"
                  : tuning->find("boost_off") && tuning->at("boost_off").raw() == true
                      ? "--tune --tune-boost-off"
                      : "--tune";
  if (tuning)
    if (auto st = tuning->find_if("settings", J_ARRAY))
      for (auto& x : st->elements()) {
        std::string status = x.text("status", "");
        out["tuning." + printable(x.text("setting", "?"))] =
            status == "tuned" ? printable(x.text("from", "") + " -> " + x.text("to", ""))
                              : printable(status);
      }
  for (const char* group : {"options", "vulnerabilities"}) {
    bool options = group == std::string("options");
    JsonView j = options ? m.at("kernel").at("config") : m.at("kernel");
    if (auto g = j.find_if(group, J_OBJECT))
      for (auto& [k, v] : g->members())
        out[(options ? "config." : "mitigation.") + printable(k)] = at(j, {group, k});
  }
}

// Probe parameters as dotted leaves (membarrier.clock.ghz), objects
// flattened so that one measured leaf does not make its whole object differ.
void param_values(const JsonView& j, const std::string& prefix, const std::string& probe,
                  Fields& out, std::map<std::string, std::string>& owner) {
  for (auto& [k, v] : j.members()) {
    std::string name = prefix + "." + printable(k);
    if (v.is_object() && v.size() > 0) {
      param_values(v, name, probe, out, owner);
    } else {
      out[name] = printable(j.text(k, "null"));
      owner[name] = probe;
    }
  }
}

struct ProvFields {
  std::vector<std::vector<Fields>> sides;  // per side, per bundle
  std::vector<std::vector<std::set<std::string>>> ran;  // probes per bundle
  std::vector<std::string> order;  // fields, first appearance (meta first)
  std::map<std::string, std::string> owner;  // parameter field -> probe
};

// The values of a side for a field, distinct, in order of appearance. A
// bundle without the field reads n/a (meta) or "(none)" (a parameter of a
// probe it ran); a bundle that did not run the probe has no say.
std::vector<std::string> values_of(const ProvFields& c, size_t side, const std::string& f) {
  std::vector<std::string> out;
  auto own = c.owner.find(f);
  for (size_t i = 0; i < c.sides[side].size(); ++i) {
    std::string v;
    const auto& fields = c.sides[side][i].v;
    if (auto it = fields.find(f); it != fields.end()) v = it->second;
    else if (own == c.owner.end()) v = "n/a";
    else if (c.ran[side][i].count(own->second)) v = "(none)";
    else continue;
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  return out;
}

ProvFields collect_prov(const Side& base, const Side& cand) {
  // Parameters of the probes both sides ran (a probe run by one side only
  // shows as metrics only in that side).
  std::set<std::string> probes[2];
  const Side* sides[2] = {&base, &cand};
  for (int s = 0; s < 2; ++s)
    for (auto& b : sides[s]->bundles)
      for (auto& [p, d] : b.probes) probes[s].insert(p);
  ProvFields c;
  c.sides.resize(2);
  c.ran.resize(2);
  std::set<std::string> seen;
  for (int s = 0; s < 2; ++s)
    for (auto& b : sides[s]->bundles) {
      Fields f;
      std::set<std::string> ran;
      meta_values(b.meta_view(), f);
      for (auto& [p, d] : b.probes)
        if (probes[1 - s].count(p)) {
          ran.insert(p);
          param_values(b.parameters_view(p), p, p, f, c.owner);
        }
      for (auto& k : f.order)
        if (seen.insert(k).second) c.order.push_back(k);
      c.sides[s].push_back(std::move(f));
      c.ran[s].push_back(std::move(ran));
    }
  // Meta fields before probe parameters.
  std::stable_partition(c.order.begin(), c.order.end(),
                        [&](const std::string& f) { return !c.owner.count(f); });
  return c;
}

std::optional<double> number(const std::string& s) {
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> w;
  std::istringstream in(s);
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

// The words of a not in b's and of b not in a's longest common subsequence.
std::pair<std::string, std::string> word_diff(const std::string& a, const std::string& b) {
  auto x = words(a), y = words(b);
  // The LCS table is |x| x |y|: a bundle's strings are at most 4 KiB
  // (<= 2048 words, a 16 MiB table); past that the values show in full.
  if ((x.size() + 1) * (y.size() + 1) > (1u << 22)) return {};
  std::vector<std::vector<unsigned>> l(x.size() + 1, std::vector<unsigned>(y.size() + 1));
  for (size_t i = x.size(); i-- > 0;)
    for (size_t j = y.size(); j-- > 0;)
      l[i][j] = x[i] == y[j] ? l[i + 1][j + 1] + 1 : std::max(l[i + 1][j], l[i][j + 1]);
  std::string gone, added;
  auto put = [](std::string& s, const std::string& w) { s += (s.empty() ? "" : " ") + w; };
  size_t i = 0, j = 0;
  while (i < x.size() || j < y.size()) {
    if (i < x.size() && j < y.size() && x[i] == y[j]) ++i, ++j;
    else if (j == y.size() || (i < x.size() && l[i + 1][j] >= l[i][j + 1])) put(gone, x[i++]);
    else put(added, y[j++]);
  }
  return {gone, added};
}

// One side's values for display: the value, or "N values: a | b".
std::string show(const std::vector<std::string>& v) {
  if (v.size() == 1) return v[0];
  std::string s = std::to_string(v.size()) + " values";
  size_t len = 0;
  for (auto& x : v) len += x.size() + 3;
  if (len > 60) return s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " | " : ": ") + v[i];
  return s;
}

// Measured: numbers within the tolerance of each other on both sides are
// the same value measured twice. Shown as the range of each side.
std::optional<ProvDiff> measured_diff(const std::string& field, const std::vector<std::string>& a,
                                      const std::vector<std::string>& b) {
  double lo = INFINITY, hi = -INFINITY;
  for (auto* side : {&a, &b})
    for (auto& s : *side) {
      auto d = number(s);
      if (!d) return std::nullopt;  // not a number: compare as text
      lo = std::min(lo, *d), hi = std::max(hi, *d);
    }
  if (hi - lo <= kMeasuredTolerance * std::max(std::fabs(lo), std::fabs(hi))) return ProvDiff{};
  auto range = [](const std::vector<std::string>& v) {
    if (v.size() == 1) return v[0];
    auto [mn, mx] = std::minmax_element(v.begin(), v.end(), [](auto& p, auto& q) {
      return *number(p) < *number(q);
    });
    return *mn + ".." + *mx + " (" + std::to_string(v.size()) + " values)";
  };
  ProvDiff d{field, range(a), range(b)};
  d.measured = true;
  return d;
}

}  // namespace

std::vector<ProvDiff> provenance_diff(const Side& base, const Side& cand) {
  ProvFields c = collect_prov(base, cand);
  std::vector<ProvDiff> out, measured;
  for (auto& f : c.order) {
    auto x = values_of(c, 0, f), y = values_of(c, 1, f);
    if (x.empty() || y.empty()) continue;
    if (c.owner.count(f) && measured_key(f.substr(f.rfind('.') + 1))) {
      if (auto d = measured_diff(f, x, y)) {
        if (!d->field.empty()) measured.push_back(*d);
        continue;
      }
    }
    if (x.size() == 1 && y.size() == 1 && x[0] == y[0]) continue;
    ProvDiff d{f, show(x), show(y)};
    if (x.size() == 1 && y.size() == 1 &&
        (x[0].size() > kLongValue || y[0].size() > kLongValue)) {
      auto [gone, added] = word_diff(x[0], y[0]);
      if (!gone.empty() || !added.empty()) {
        d.base = gone, d.cand = added;
        d.words = true;
      }
    }
    out.push_back(d);
  }
  out.insert(out.end(), measured.begin(), measured.end());
  return out;
}

}  // namespace kperflab::compare
