// SPDX-License-Identifier: GPL-2.0-only
// Per-probe part of `kperflab show`. Probes present sweeps and matrices
// through conventions in a repetition's "extra" (documented in
// results/README.md), so show needs no probe-specific code:
//   extra.tables   = [{"title", "columns": [..], "rows": [[..], ..]}]
//   extra.matrices = [{"title", "unit", "rows": [cpu..], "cols": [cpu..],
//                      "values": [[v|null, ..], ..]}]
// Their shapes (row widths, rows x cols values, caps) are checked on load;
// every string is printed through printable().
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <tuple>

#include "core/number_text.h"
#include "cli/show.h"

namespace kperflab {

using nlohmann::json;

namespace {

std::string cell(const json& v) {
  if (v.is_string()) return printable(v.get<std::string>());
  if (v.is_null()) return "-";
  if (v.is_number_float()) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v.get<double>());
    return b;
  }
  return v.dump();
}

std::string title(const JsonView& t) { return printable(t.text("title", "")); }

void print_table(const JsonView& t) {
  std::printf("  -- %s\n", title(t).c_str());
  JsonView columns = t.at("columns");
  std::vector<JsonView> rows = t.at("rows").elements();
  auto cells = [](const JsonView& row) {
    std::vector<std::string> out;
    for (auto& c : row.elements()) out.push_back(cell(c.raw()));
    return out;
  };
  std::vector<std::vector<std::string>> text{cells(columns)};
  for (auto& r : rows) text.push_back(cells(r));
  std::vector<size_t> w;
  for (auto& row : text)
    for (size_t i = 0; i < row.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], row[i].size());
    }
  for (auto& row : text) {
    std::printf("    ");
    for (size_t i = 0; i < row.size(); ++i)
      std::printf("%*s  ", static_cast<int>(w[i]), row[i].c_str());
    std::printf("\n");
  }
}

}  // namespace

// A matrix whose rows and columns are CPU numbers, by topology distance:
// per class the pairs, min, median and max, then the slowest pairs.
bool print_matrix_summary(const JsonView& m, const HostInfo& host) {
  std::string unit = m.text("unit", "");
  JsonView rows = m.at("rows"), cols = m.at("cols"), values = m.at("values");
  std::map<CpuDistance, std::vector<double>> by;
  std::vector<std::tuple<double, int, int>> pairs;
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!rows.at(r).raw().is_number_integer()) return false;
    for (size_t c = 0; c < cols.size(); ++c) {
      if (!cols.at(c).raw().is_number_integer()) return false;
      JsonView v = values.at(r).at(c);
      if (!v.is_number()) continue;
      int a = rows.at(r).raw().get<int>(), b = cols.at(c).raw().get<int>();
      by[host.distance(a, b)].push_back(v.num());
      pairs.emplace_back(v.num(), a, b);
    }
  }
  // Within 100 columns: a long title puts what follows on its own line.
  char what[96];
  std::snprintf(what, sizeof what, "(%zu x %zu CPUs, by topology distance; --full prints it whole)",
                rows.size(), cols.size());
  std::string t = title(m);
  if (6 + t.size() + std::strlen(what) > 100) std::printf("  -- %s\n     %s\n", t.c_str(), what);
  else std::printf("  -- %s %s\n", t.c_str(), what);
  std::printf("    %-10s %7s %10s %10s %10s\n", "distance", "pairs", "min", "median", "max");
  for (auto& [d, v] : by) {
    std::sort(v.begin(), v.end());
    double med = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    std::printf("    %-10s %7zu %10s %10s %10s\n", to_string(d), v.size(),
                format_value(v.front(), unit).c_str(), format_value(med, unit).c_str(),
                format_value(v.back(), unit).c_str());
  }
  // Slowest first; ties in CPU order, so the line is the same every time.
  std::sort(pairs.begin(), pairs.end(), [](auto& x, auto& y) {
    if (std::get<0>(x) != std::get<0>(y)) return std::get<0>(x) > std::get<0>(y);
    return std::make_pair(std::get<1>(x), std::get<2>(x)) < std::make_pair(std::get<1>(y), std::get<2>(y));
  });
  std::string slow;
  for (size_t i = 0; i < pairs.size() && i < 5; ++i)
    slow += (i ? ", " : "") + std::to_string(std::get<1>(pairs[i])) + "->" +
            std::to_string(std::get<2>(pairs[i])) + " " +
            format_value(std::get<0>(pairs[i]), unit);
  if (!slow.empty()) std::printf("    slowest: %s\n", slow.c_str());
  return true;
}

namespace {

void print_matrix(const JsonView& m) {
  std::string unit = m.text("unit", "");
  std::printf("  -- %s (rows: source CPU, columns: target CPU)\n        ", title(m).c_str());
  for (auto& c : m.at("cols").elements()) std::printf("%9s", cell(c.raw()).c_str());
  std::printf("\n");
  JsonView rows = m.at("rows"), values = m.at("values");
  for (size_t r = 0; r < rows.size(); ++r) {
    std::printf("    %3s ", cell(rows.at(r).raw()).c_str());
    for (auto& v : values.at(r).elements())
      std::printf("%9s", v.is_number() ? format_value(v.num(), unit).c_str() : "-");
    std::printf("\n");
  }
}

void print_metric(const std::string& name, const JsonView& m, int hist) {
  std::string unit = m.at("unit").str();
  if (m.at("kind").str() == "scalar") {
    JsonView v = m.at("value");
    std::printf("  %-58s %s\n", name.c_str(),
                v.is_number() ? format_value(v.num(), unit).c_str() : "n/a");
    return;
  }
  auto q = [&](const char* k) { return format_value(static_cast<double>(m.at(k).u64()), unit); };
  std::printf("  %-58s %9llu %10s %10s %10s%s\n", name.c_str(),
              static_cast<unsigned long long>(m.at("count").u64()), q("p50").c_str(),
              q("p99").c_str(), q("max").c_str(), m.at("overflow").u64() ? "  (overflow!)" : "");
  if (hist) draw_histogram(Histogram::decode_base64(m.at("hist").str()), unit, hist == 2);
}

}  // namespace

// extra.counters.perf_stat (run --perf-stat): one line per repetition,
// user's order lost to the object's key order; a reason once per probe.
void print_perf_stat(const JsonView& ps, std::set<std::string>& told) {
  std::string line;
  std::vector<std::string> reasons;
  char buf[64];
  for (auto& [ev, c] : ps.members()) {
    std::string e = printable(ev);
    if (c.has("unavailable")) {
      line += "  " + e + " n/a";
      if (told.insert(e).second) reasons.push_back(e + ": " + printable(c.at("unavailable").str()));
      continue;
    }
    double v = c.at("value").num();
    bool ns = ev == "task-clock" || ev == "cpu-clock";
    std::snprintf(buf, sizeof buf, "%.0f", v);
    line += "  " + e + " " + (ns ? format_value(v, "ns") : std::string(buf));
    if (c.at("scaled").boolean() && c.at("enabled_ns").num() > 0) {
      // Multiplexed: the value is scaled from this share of the time.
      std::snprintf(buf, sizeof buf, " (scaled, ran %.0f%%)",
                    100 * c.at("running_ns").num() / c.at("enabled_ns").num());
      line += buf;
    }
  }
  std::printf("  perf-stat:%s\n", line.c_str());
  for (auto& r : reasons) std::printf("    unavailable: %s\n", r.c_str());
}

void print_likwid(const JsonView& lk) {
  std::string line;
  for (auto& [ev, v] : lk.at("events").members())
    line += "  " + printable(ev) + " " + cell(v.raw());
  std::printf("  likwid %s:%s\n", printable(lk.at("region").str()).c_str(), line.c_str());
}

namespace {

// ".../cpu=N..." -> ".../cpu=*..." and N; nullopt for other names.
std::optional<std::pair<std::string, int>> per_cpu(const std::string& name) {
  static const std::regex re("(^|/)cpu=([0-9]+)(/|$)");
  std::smatch m;
  if (!std::regex_search(name, m, re)) return std::nullopt;
  // Range-checked: the loader refuses a CPU number past limits::kCpus with
  // file and field; one that is no int here is no per-CPU metric.
  auto cpu = number_from<int>(m[2].str());
  if (!cpu) return std::nullopt;
  return std::make_pair(m.prefix().str() + m[1].str() + "cpu=*" + m[3].str() + m.suffix().str(),
                        *cpu);
}

// One line for a family of per-CPU metrics: how many, their p50 (or value)
// min / median / max and the CPU of the largest.
void print_per_cpu_summary(const std::string& family,
                           const std::vector<std::pair<int, JsonView>>& members) {
  std::vector<std::pair<double, int>> v;
  std::string unit;
  for (auto& [cpu, m] : members) {
    unit = m.at("unit").str();
    JsonView x = m.at("kind").str() == "scalar" ? m.at("value") : m.at("p50");
    if (x.is_number()) v.emplace_back(x.num(), cpu);
  }
  if (v.empty()) return;
  std::sort(v.begin(), v.end());
  double med = v.size() % 2 ? v[v.size() / 2].first
                            : (v[v.size() / 2 - 1].first + v[v.size() / 2].first) / 2;
  std::printf("  %-58s %zu CPUs, %s min %s median %s max %s (cpu %d)\n", family.c_str(),
              members.size(), members.front().second.at("kind").str() == "scalar" ? "value" : "p50",
              format_value(v.front().first, unit).c_str(), format_value(med, unit).c_str(),
              format_value(v.back().first, unit).c_str(), v.back().second);
}

}  // namespace

void show_probe(const std::string& name, const JsonView& doc, int hist, const HostInfo& host,
                bool full) {
  std::printf("\n== %s: %s", printable(name).c_str(), printable(doc.at("status").str()).c_str());
  if (doc.at("reason").is_string()) std::printf(" (%s)", printable(doc.at("reason").str()).c_str());
  std::printf("\n");
  if (auto u = doc.find("until_ci"); u && u->is_object()) {
    // Written by the runner (core/until_ci.h); checked here only for shape.
    std::printf(" --until-ci +-%.3g %% (this boot's median): %.0f repetitions in %.0f s, "
                "stopped: %s; %.0f of %.0f headline metrics wider\n",
                u->at("target_half_width_pct").num(), u->at("repetitions").num(),
                u->at("elapsed_s").num(), printable(u->at("stopped").str()).c_str(),
                u->at("above_target").num(), u->at("headline_metrics").num());
    for (auto& w : u->at("widest").elements())
      std::printf("   +-%.3g %%  %s\n", w.at("half_width_pct").num(),
                  printable(w.at("metric").str()).c_str());
  }
  std::vector<JsonView> reps = doc.at("repetitions").elements();
  std::set<std::string> told;  // perf-stat events whose reason was printed
  for (size_t r = 0; r < reps.size(); ++r) {
    if (reps.size() > 1) std::printf(" repetition %zu\n", r);
    std::printf("  %-58s %9s %10s %10s %10s\n", "metric", "count", "p50", "p99", "max");
    // Per-CPU families beyond kShowCpus members: one summary line each.
    std::map<std::string, std::vector<std::pair<int, JsonView>>> families;
    auto metrics = reps[r].at("metrics").members();
    if (!full)
      for (auto& [n, m] : metrics)
        if (auto f = per_cpu(printable(n))) families[f->first].emplace_back(f->second, m);
    std::set<std::string> summarised;
    for (auto& [n, m] : metrics) {
      auto f = full ? std::nullopt : per_cpu(printable(n));
      if (f && families[f->first].size() > kShowCpus) {
        if (summarised.insert(f->first).second) print_per_cpu_summary(f->first, families[f->first]);
        continue;
      }
      print_metric(printable(n), m, hist);
    }
    for (auto& [n, why] : reps[r].at("skipped").members())
      std::printf("  %-58s skipped: %s\n", printable(n).c_str(), printable(why.str()).c_str());
    auto extra = reps[r].find("extra");
    if (!extra) continue;  // optional: a repetition with nothing but metrics
    if (auto c = extra->find("counters")) {
      if (auto ps = c->find("perf_stat")) print_perf_stat(*ps, told);
      if (auto lk = c->find("likwid"); lk && lk->has("events")) print_likwid(*lk);
    }
    if (auto t = extra->find("tables"))
      for (auto& x : t->elements()) print_table(x);
    if (auto m = extra->find("matrices"))
      for (auto& x : m->elements()) {
        bool big = x.at("rows").size() > kShowCpus || x.at("cols").size() > kShowCpus;
        if (!(big && !full && print_matrix_summary(x, host))) print_matrix(x);
      }
  }
}

}  // namespace kperflab
