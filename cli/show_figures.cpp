// SPDX-License-Identifier: GPL-2.0-only
// Per-probe figures of the default `kperflab show` screen: the headline
// metrics (headline.h picks them, as for KTAP, LAVA and KCIDB), each
// summarised across the repetitions: the median of the per-repetition p50
// and p99 (scalars: of the value), +-: the larger side of the 95 %
// distribution-free interval of that median (until_ci.h, 6+ repetitions) in
// % of it, n: repetitions. A metric family is a name without its sweep
// parameters ("k=v" parts); a family swept over several points prints as a
// table, a row per point, and families swept over the same few points share
// one table, a row per family and a column of p50s per point.
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <regex>
#include <set>

#include "core/number_text.h"
#include "cli/show.h"
#include "cli/show_summary.h"
#include "core/until_ci.h"

namespace kperflab::show {

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  size_t n = v.size(), m = n / 2;
  std::nth_element(v.begin(), v.begin() + m, v.end());
  double hi = v[m];
  if (n % 2) return hi;
  return 0.5 * (*std::max_element(v.begin(), v.begin() + m) + hi);
}

std::map<std::string, Series> collect(const JsonView& doc) {
  std::map<std::string, Series> out;
  for (auto& rep : doc.at("repetitions").elements())
    for (auto& [name, m] : rep.at("metrics").members()) {
      Series& s = out[printable(name)];
      ++s.seen;
      s.unit = m.at("unit").str();
      if (m.at("kind").str() == "histogram") {
        s.hist = true;
        s.overflow += m.at("overflow").u64();
        if (auto x = m.find("p50"); x && x->is_number()) s.p50.push_back(x->num());
        if (auto x = m.find("p99"); x && x->is_number()) s.p99.push_back(x->num());
      } else if (auto v = m.find("value"); v && v->is_number()) {
        s.value.push_back(v->num());
      }
    }
  return out;
}

namespace {

// What print_figures() renders, for its caller to cut to a screen's share.
std::string* g_sink = nullptr;

__attribute__((format(printf, 1, 2))) void out(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (static_cast<size_t>(n) < sizeof buf) {
    g_sink->append(buf, static_cast<size_t>(n));
    return;
  }
  std::string big(static_cast<size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  std::vsnprintf(big.data(), big.size(), fmt, ap);
  va_end(ap);
  big.pop_back();
  g_sink->append(big);
}

std::vector<std::string> split(const std::string& name) {
  std::vector<std::string> out;
  for (size_t at = 0;;) {
    size_t end = name.find('/', at);
    out.push_back(name.substr(at, end == std::string::npos ? end : end - at));
    if (end == std::string::npos) return out;
    at = end + 1;
  }
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// "private_expedited/targets=1/spin/latency": family
// "private_expedited/spin/latency", point "targets=1".
std::pair<std::string, std::string> family_point(const std::string& name) {
  std::vector<std::string> fam, pt;
  for (auto& p : split(name)) (p.find('=') == std::string::npos ? fam : pt).push_back(p);
  return {join(fam), join(pt)};
}

bool per_cpu(const std::string& name) {
  static const std::regex re("(^|/)cpu=[0-9]+(/|$)");
  return std::regex_search(name, re);
}

std::string value_text(double v, const std::string& unit) {
  char b[48];
  if (!std::isfinite(v)) return "n/a";
  if (unit == "ns" || unit == "ps") return format_value(v, unit);
  if (unit == "ratio") std::snprintf(b, sizeof b, "%.3g", v);
  else if (unit.size() > 2 && unit.compare(unit.size() - 2, 2, "/s") == 0) {
    const char* k = v >= 1e6 ? "M" : v >= 1e3 ? "k" : "";
    double d = v >= 1e6 ? v / 1e6 : v >= 1e3 ? v / 1e3 : v;
    std::snprintf(b, sizeof b, "%.3g%s/s", d, k);
  } else if (unit == "per_million") std::snprintf(b, sizeof b, "%.4g ppm", v);
  else std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// "+-0.8%" or blank (fewer than 6 repetitions, or a median of 0).
std::string ci_text(const std::vector<double>& v) {
  auto h = median_ci_half_width_pct(v);
  if (!h) return "";
  char b[16];
  if (*h < 9.95) std::snprintf(b, sizeof b, "+-%.1f%%", *h);
  else if (*h < 999.5) std::snprintf(b, sizeof b, "+-%.0f%%", *h);
  else std::snprintf(b, sizeof b, "+-big");
  return b;
}

struct Item {
  std::string name, family, point;
  const Series* s;
};

// The columns of one figure: p50 and p99 for a histogram, the value else.
std::string cells(const Series& s) {
  char b[96];
  if (s.hist)
    std::snprintf(b, sizeof b, "%9s %-7s %9s %-7s %3zu", value_text(median(s.p50), s.unit).c_str(),
                  ci_text(s.p50).c_str(), value_text(median(s.p99), s.unit).c_str(),
                  ci_text(s.p99).c_str(), s.p50.size());
  else
    std::snprintf(b, sizeof b, "%9s %-7s %17s %3zu", value_text(median(s.value), s.unit).c_str(),
                  ci_text(s.value).c_str(), "", s.value.size());
  return b;
}

constexpr size_t kCells = 9 + 1 + 7 + 1 + 9 + 1 + 7 + 1 + 3;  // cells() width

void row(const std::string& label, const Series& s, size_t w) {
  std::string c = cells(s);
  while (!c.empty() && c.back() == ' ') c.pop_back();
  if (label.size() > w) {
    out("  %s\n  %-*s  %s\n", label.c_str(), static_cast<int>(w), "", c.c_str());
    return;
  }
  out("  %-*s  %s\n", static_cast<int>(w), label.c_str(), c.c_str());
}

const std::vector<double>& main_stat(const Series& s) { return s.hist ? s.p50 : s.value; }

// Column labels for a grid's points: the values alone when every point
// names the same parameters in the same order (the keys go in the title),
// else the points less the parts they all share.
std::pair<std::vector<std::string>, std::string> labels(const std::vector<std::string>& points) {
  std::vector<std::vector<std::string>> parts;
  for (auto& p : points) parts.push_back(p.empty() ? std::vector<std::string>{} : split(p));
  auto key = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  bool same_keys = !parts.empty() && !parts[0].empty();
  for (auto& v : parts) {
    if (v.size() != parts[0].size()) same_keys = false;
    for (size_t i = 0; same_keys && i < v.size(); ++i) same_keys = key(v[i]) == key(parts[0][i]);
  }
  std::vector<std::string> out;
  if (same_keys) {
    std::vector<std::string> keys;
    for (size_t i = 0; i < parts[0].size(); ++i) {
      bool common = true;
      for (auto& v : parts) common = common && v[i] == parts[0][i];
      if (!common || parts[0].size() == 1) keys.push_back(key(parts[0][i]));
    }
    for (auto& v : parts) {
      std::vector<std::string> vals;
      for (size_t i = 0; i < v.size(); ++i) {
        bool common = true;
        for (auto& w : parts) common = common && w[i] == v[i];
        if (!common || v.size() == 1) vals.push_back(v[i].substr(v[i].find('=') + 1));
      }
      out.push_back(join(vals));
    }
    return {out, join(keys)};
  }
  for (auto& p : points) out.push_back(p.empty() ? "-" : p);
  return {out, ""};
}

// Families swept over the same parameters: a row per family, a column per
// point (p50 and p99 of a histogram, the value of a scalar; "-" where a
// family lacks the point), as many points a table as fit kWidth.
void grid(const std::vector<std::string>& fams, const std::vector<std::string>& points,
          const std::map<std::string, std::map<std::string, const Series*>>& by, bool hist) {
  auto [label, keys] = labels(points);
  size_t fw = 0;
  for (auto& f : fams) fw = std::max(fw, f.size());
  std::string title = std::string(hist ? "p50 p99" : "value") + (keys.empty() ? "" : " at " + keys);
  fw = std::min(std::max(fw, title.size()), size_t{44});
  auto cell = [&](const std::string& f, const std::string& p) {
    auto it = by.at(f).find(p);
    if (it == by.at(f).end()) return hist ? std::string("-        -") : std::string("-");
    const Series& s = *it->second;
    if (!hist) return value_text(median(s.value), s.unit);
    char b[48];
    std::snprintf(b, sizeof b, "%s %8s", value_text(median(s.p50), s.unit).c_str(),
                  value_text(median(s.p99), s.unit).c_str());
    return std::string(b);
  };
  std::vector<size_t> cw;
  for (size_t i = 0; i < points.size(); ++i) {
    size_t w = std::max<size_t>(hist ? 17 : 9, label[i].size());
    for (auto& f : fams) w = std::max(w, cell(f, points[i]).size());
    cw.push_back(w);
  }
  for (size_t from = 0; from < points.size();) {
    size_t to = from, width = 2 + fw + 8;
    while (to < points.size() && (to == from || width + 2 + cw[to] <= kWidth)) width += 2 + cw[to++];
    out("  %-*s", static_cast<int>(fw), title.c_str());
    for (size_t i = from; i < to; ++i) out("  %*s", static_cast<int>(cw[i]), label[i].c_str());
    out("  widest\n");
    for (auto& f : fams) {
      bool any = false;  // a row with no point in this part of the table is left out
      for (size_t i = from; i < to; ++i) any = any || by.at(f).count(points[i]);
      if (!any) continue;
      std::string name = f.size() > fw ? "..." + f.substr(f.size() - fw + 3) : f;
      out("  %-*s", static_cast<int>(fw), name.c_str());
      double widest = -1;
      for (size_t i = from; i < to; ++i) {
        out("  %*s", static_cast<int>(cw[i]), cell(f, points[i]).c_str());
        auto it = by.at(f).find(points[i]);
        if (it == by.at(f).end()) continue;
        if (auto h = median_ci_half_width_pct(main_stat(*it->second))) widest = std::max(widest, *h);
      }
      char b[16] = "";
      if (widest >= 0) std::snprintf(b, sizeof b, widest < 9.95 ? "  +-%.1f%%" : "  +-%.0f%%", widest);
      out("%s\n", b);
    }
    from = to;
  }
}

// Scalars of one point each that end alike ("…/ipis_per_call"): one
// wrapped paragraph, "prefix value" per metric.
void packed(const std::string& leaf, const std::vector<const Item*>& items) {
  std::string text;
  for (auto* i : items)
    text += (text.empty() ? "" : ", ") +
            (i->name.size() > leaf.size() ? i->name.substr(0, i->name.size() - leaf.size() - 1) + " "
                                          : std::string()) +
            value_text(median(i->s->value), i->s->unit);
  out("%s", wrapped("    " + leaf + ": ", text, 6).c_str());
}

// The parameters a family is swept over, in order of appearance.
std::string sweep_keys(const std::map<std::string, const Series*>& pts) {
  std::vector<std::string> keys;
  for (auto& [p, s] : pts)
    for (auto& kv : split(p))
      if (std::find(keys.begin(), keys.end(), kv.substr(0, kv.find('='))) == keys.end())
        keys.push_back(kv.substr(0, kv.find('=')));
  return join(keys);
}

// Figures of one kind (histograms or scalars), by family.
void print_group(const std::vector<Item>& items, bool hist) {
  if (items.empty()) return;
  std::map<std::string, std::map<std::string, const Series*>> by;  // family -> point -> series
  std::map<std::string, std::string> name_of;                       // family + point -> name
  for (auto& i : items) {
    by[i.family][i.point] = i.s;
    name_of[i.family + "\n" + i.point] = i.name;
  }
  // Families of 2+ points swept over the same parameters: grids, when 2+.
  std::map<std::string, std::vector<std::string>> swept;  // parameters -> families
  for (auto& [f, pts] : by)
    if (pts.size() >= 2) swept[sweep_keys(pts)].push_back(f);
  // Scalars of one point, by the last part of their name: packed when 3+.
  std::map<std::string, std::vector<const Item*>> leaves;
  if (!hist)
    for (auto& i : items)
      if (by[i.family].size() == 1) leaves[i.name.substr(i.name.rfind('/') + 1)].push_back(&i);
  std::set<std::string> done;
  size_t w = 0;
  for (auto& [f, pts] : by)
    for (auto& [p, s] : pts)
      w = std::max(w, pts.size() == 1 ? name_of[f + "\n" + p].size() : std::max(f.size(), p.size() + 2));
  w = std::min(w, kWidth - 4 - kCells);
  out("  %-*s  %9s %-7s %9s %-7s %3s\n", static_cast<int>(w), hist ? "histogram" : "rate, ratio",
              hist ? "p50" : "value", "+-", hist ? "p99" : "", hist ? "+-" : "", "n");
  for (auto& [f, pts] : by) {
    if (done.count(f)) continue;
    if (pts.size() == 1) {
      const std::string& name = name_of[f + "\n" + pts.begin()->first];
      auto l = leaves.find(name.substr(name.rfind('/') + 1));
      if (l != leaves.end() && l->second.size() >= 3) {
        packed(l->first, l->second);
        for (auto* i : l->second) done.insert(i->family);
        continue;
      }
      row(name, *pts.begin()->second, w);
      continue;
    }
    auto& fams = swept[sweep_keys(pts)];
    if (fams.size() >= 2) {
      std::set<std::string> all;
      for (auto& g : fams)
        for (auto& [p, s] : by[g]) all.insert(p);
      grid(fams, std::vector<std::string>(all.begin(), all.end()), by, hist);
      done.insert(fams.begin(), fams.end());
      continue;
    }
    out("  %s\n", f.c_str());
    for (auto& [p, s] : pts) row("  " + (p.empty() ? "-" : p), *s, w);
  }
}

// Rates and ratios, by the last part of their name: one wrapped paragraph
// each, "rest-of-name value" per metric.
void print_scalars(const std::vector<Item>& items) {
  if (items.empty()) return;
  std::map<std::string, std::vector<const Item*>> leaves;
  for (auto& i : items) leaves[i.name.substr(i.name.rfind('/') + 1)].push_back(&i);
  out("  rates and ratios (median over the repetitions):\n");
  for (auto& [leaf, v] : leaves) packed(leaf, v);
}

// Families swept over CPU pairs ("src=A/dst=B", the ipi matrix's own
// histograms): one line each, like the per-CPU ones.
std::string pair_lines(std::vector<Item>& items) {
  std::string text, *saved = g_sink;
  g_sink = &text;
  std::map<std::string, std::vector<std::pair<double, std::string>>> fam;
  std::map<std::string, std::string> unit;
  std::vector<Item> rest;
  for (auto& i : items) {
    auto parts = split(i.point);
    if (parts.size() != 2 || parts[0].rfind("src=", 0) != 0 || parts[1].rfind("dst=", 0) != 0) {
      rest.push_back(i);
      continue;
    }
    fam[i.family].emplace_back(median(main_stat(*i.s)), parts[0].substr(4) + "->" + parts[1].substr(4));
    unit[i.family] = i.s->unit;
  }
  items.swap(rest);
  for (auto& [f, v] : fam) {
    std::sort(v.begin(), v.end());
    std::vector<double> xs;
    for (auto& [x, p] : v) xs.push_back(x);
    out("%s", wrapped("  ", f + "  " + std::to_string(v.size()) + " CPU pairs, p50 min " +
                                value_text(v.front().first, unit[f]) + " median " +
                                value_text(median(xs), unit[f]) + " max " +
                                value_text(v.back().first, unit[f]) + " (" + v.back().second + ")",
                      6).c_str());
  }
  g_sink = saved;
  return text;
}

// Per-CPU histogram families (".../cpu=N/..."): one line each, for 3 CPUs
// or more.
void per_cpu_lines(const std::map<std::string, Series>& all) {
  static const std::regex re("(^|/)cpu=([0-9]+)(/|$)");
  std::map<std::string, std::vector<std::pair<double, int>>> fam;
  std::map<std::string, std::string> unit;
  for (auto& [name, s] : all) {
    std::smatch m;
    if (!s.hist || !std::regex_search(name, m, re) || s.p50.empty()) continue;
    auto cpu = number_from<int>(m[2].str());  // range-checked (the loader refuses worse)
    if (!cpu) continue;
    std::string f = m.prefix().str() + m[1].str() + "cpu=*" + m[3].str() + m.suffix().str();
    fam[f].emplace_back(median(main_stat(s)), *cpu);
    unit[f] = s.unit;
  }
  for (auto& [f, v] : fam) {
    if (v.size() < 3) continue;
    std::sort(v.begin(), v.end());
    std::vector<double> xs;
    for (auto& [x, c] : v) xs.push_back(x);
    std::string line = f + "  " + std::to_string(v.size()) + " CPUs, p50 min " +
                       value_text(v.front().first, unit[f]) + " median " +
                       value_text(median(xs), unit[f]) + " max " +
                       value_text(v.back().first, unit[f]) + " (cpu " +
                       std::to_string(v.back().second) + ")";
    out("%s", wrapped("  ", line, 6).c_str());
  }
}

}  // namespace

// The figures of one probe: headline histograms, then rates and ratios.
std::string print_figures(const headline::Probe& p, const std::map<std::string, Series>& all) {
  std::string text;
  g_sink = &text;
  std::set<std::string> chosen;
  for (auto& f : p.figures) chosen.insert(printable(f.metric));
  std::vector<Item> hists, scalars;
  size_t zeros = 0;
  static const std::set<std::string> distances = {"same", "smt", "llc", "package", "numa"};
  for (auto& name : chosen) {
    auto it = all.find(name);
    if (it == all.end() || per_cpu(name)) continue;
    const Series& s = it->second;
    // A per-distance aggregate equal to its parent (one distance class).
    size_t slash = name.rfind('/');
    if (s.hist && slash != std::string::npos && distances.count(name.substr(slash + 1))) {
      auto par = all.find(name.substr(0, slash));
      if (par != all.end() && par->second.p50 == s.p50 && par->second.p99 == s.p99) continue;
    }
    // A rate or ratio of 0 (nothing missed, nothing unexpected) says nothing here.
    if (!s.hist && (s.value.empty() || median(s.value) == 0)) {
      ++zeros;
      continue;
    }
    auto [f, pt] = family_point(name);
    (s.hist ? hists : scalars).push_back({name, f, pt, &s});
  }
  std::string pairs = pair_lines(hists);
  print_group(hists, true);
  out("%s", pairs.c_str());
  per_cpu_lines(all);
  print_scalars(scalars);
  if (zeros) out("  (%zu rates and ratios of 0 left out)\n", zeros);
  if (p.thin)
    out("  (%zu histograms with under %llu samples in some repetition left out)\n", p.thin,
                static_cast<unsigned long long>(kHeadlineMinCount));
  g_sink = nullptr;
  return text;
}

}  // namespace kperflab::show
