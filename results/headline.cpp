// SPDX-License-Identifier: GPL-2.0-only
#include "results/headline.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include "results/json_access.h"
#include "core/until_ci.h"

namespace kperflab::headline {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool is_rate(const std::string& unit) {
  return unit == "ratio" || unit.rfind("per_", 0) == 0 || ends_with(unit, "/s");
}

double median(std::vector<double> v) {
  size_t n = v.size(), m = n / 2;
  std::nth_element(v.begin(), v.begin() + m, v.end());
  double hi = v[m];
  if (n % 2) return hi;
  return 0.5 * (*std::max_element(v.begin(), v.begin() + m) + hi);
}

// litmus/<cmd>/<order>/forbidden with <cmd> a membarrier command.
bool forbids(const std::string& metric) {
  if (metric.rfind("litmus/", 0) != 0 || !ends_with(metric, "/forbidden")) return false;
  return metric.compare(7, 5, "none/") != 0;
}

struct Acc {
  std::string unit;
  std::map<std::string, std::vector<double>> stats;
  size_t seen = 0;
  bool thin = false, histogram = false;
};

}  // namespace

std::string Figure::group() const {
  // The first component that is not a sweep parameter ("freq=1000").
  for (size_t at = 0; at < metric.size();) {
    size_t end = std::min(metric.find('/', at), metric.size());
    std::string part = metric.substr(at, end - at);
    if (part.find('=') == std::string::npos) return part;
    at = end + 1;
  }
  return metric.substr(0, metric.find('/'));
}

std::string case_name(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') out += static_cast<char>(c);
    else if (c == '/') out += '.';
    else if (c == '=') out += '-';
    else out += '_';
  }
  return out;
}

std::string one_line(const std::string& text) {
  std::string out = printable(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  // The dispatcher's patterns are case-sensitive and all begin "<LAVA_"
  // (lava_dispatcher/actions/test/shell.py, multinode.py).
  for (size_t at = out.find("<LAVA_"); at != std::string::npos; at = out.find("<LAVA_", at))
    out[at] = '(';
  return out;
}

std::string run_violation(const std::string& status, const std::string& reason) {
  if (status != "partial" && status != "failed") return "";
  return "the probe ended " + status + (reason.empty() ? "" : ": " + reason);
}

Probe summarize_probe(const std::string& name, const std::string& status,
                      const std::string& reason, const JsonView* doc) {
  Probe p;
  p.name = name;
  p.status = status;
  p.reason = reason;
  if (doc) {
    std::map<std::string, Acc> acc;
    std::map<std::string, double> forbidden;  // summed over the repetitions
    auto reps = doc->at("repetitions").elements();
    for (auto& rep : reps) {
      for (auto& [metric, m] : rep.at("metrics").members()) {
        Acc& a = acc[metric];
        ++a.seen;
        a.unit = m.at("unit").str();
        if (m.at("kind").str() == "histogram") {
          a.histogram = true;
          if (m.at("count").u64() < kHeadlineMinCount) a.thin = true;
          for (const char* st : {"p50", "p99"})
            if (auto x = m.find(st); x && x->is_number()) a.stats[st].push_back(x->num());
          continue;
        }
        auto v = m.find("value");
        if (!v || !v->is_number()) continue;
        if (forbids(metric) && v->num() > 0) forbidden[metric] += v->num();
        if (is_rate(a.unit)) a.stats["value"].push_back(v->num());
      }
    }
    for (auto& [metric, n] : forbidden) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.0f", n);
      p.violations.push_back(metric + " = " + buf + " over " + std::to_string(reps.size()) +
                             " repetitions (an outcome the command forbids was observed)");
    }
    for (auto& [metric, a] : acc) {
      if (a.histogram && (a.thin || a.seen != reps.size())) {
        ++p.thin;
        continue;
      }
      for (auto& [st, values] : a.stats) {
        if (values.size() != a.seen) continue;  // not a number in some repetition
        p.figures.push_back({metric, st, median(values), a.unit, values.size()});
      }
    }
  }
  if (auto v = run_violation(p.status, p.reason); !v.empty()) p.violations.push_back(v);
  return p;
}

std::vector<Probe> summarize(const Bundle& b) {
  std::vector<Probe> out;
  for (auto& [name, entry] : b.meta_view().at("probes").members()) {
    std::string reason;
    if (auto r = entry.find("reason"); r && r->is_string()) reason = r->str();
    std::optional<JsonView> doc;
    if (b.probes.count(name)) doc = b.probe_view(name);
    out.push_back(summarize_probe(name, entry.at("status").str(), reason, doc ? &*doc : nullptr));
  }
  return out;
}

}  // namespace kperflab::headline
