// SPDX-License-Identifier: GPL-2.0-only
#include "host/cpu_sample.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace kperflab {

std::string CpuSample::summary(const HostInfo& host) const {
  if (whole()) return "all " + std::to_string(of) + " CPUs";
  std::map<CpuDistance, unsigned> by;
  for (size_t i = 1; i < cpus.size(); ++i) ++by[host.distance(cpus.front(), cpus[i])];
  std::string s = std::to_string(cpus.size()) + " of " + std::to_string(of) + " CPUs (";
  bool first = true;
  for (auto [d, n] : by) {
    s += (first ? "" : ", ") + std::string(to_string(d)) + " " + std::to_string(n);
    first = false;
  }
  return s + " from CPU " + std::to_string(cpus.front()) + ")";
}

CpuSample sample_cpus(const HostInfo& host, const std::vector<int>& cpus, int anchor,
                      unsigned max) {
  CpuSample out;
  std::vector<int> sorted = cpus;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  out.of = static_cast<unsigned>(sorted.size());
  if (std::find(sorted.begin(), sorted.end(), anchor) == sorted.end())
    throw std::invalid_argument("sample_cpus: CPU " + std::to_string(anchor) +
                                " is not among the CPUs to sample");
  std::set<int> chosen = {anchor};
  auto full = [&] { return max != 0 && chosen.size() >= max; };

  // 1. The nearest CPU at each distance from the anchor.
  for (CpuDistance d : {CpuDistance::smt, CpuDistance::llc, CpuDistance::package,
                        CpuDistance::numa}) {
    if (full()) break;
    for (int c : sorted)
      if (!chosen.count(c) && host.distance(anchor, c) == d) {
        chosen.insert(c);
        break;
      }
  }
  // 2. and 3. One CPU of every LLC group, then round robin over the groups.
  std::map<int, const CpuTopo*> topo;
  for (const auto& t : host.cpus()) topo[t.cpu] = &t;
  std::map<std::tuple<int, int, int>, std::vector<int>> groups;
  for (int c : sorted) {
    auto it = topo.find(c);
    const CpuTopo* t = it == topo.end() ? nullptr : it->second;
    groups[t ? std::make_tuple(t->node, t->package, t->llc) : std::make_tuple(-1, -1, -1)]
        .push_back(c);
  }
  std::vector<std::vector<int>> order;
  for (auto& [key, members] : groups) order.push_back(members);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.front() < b.front(); });
  for (const auto& g : order) {
    if (full()) break;
    if (std::none_of(g.begin(), g.end(), [&](int c) { return chosen.count(c) > 0; }))
      chosen.insert(g.front());
  }
  std::vector<size_t> next(order.size(), 0);
  for (bool added = true; added && !full();) {
    added = false;
    for (size_t i = 0; i < order.size() && !full(); ++i) {
      auto& g = order[i];
      while (next[i] < g.size() && chosen.count(g[next[i]])) ++next[i];
      if (next[i] < g.size()) {
        chosen.insert(g[next[i]++]);
        added = true;
      }
    }
  }
  out.cpus.push_back(anchor);
  for (int c : chosen)
    if (c != anchor) out.cpus.push_back(c);
  return out;
}

}  // namespace kperflab
