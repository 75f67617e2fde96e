// SPDX-License-Identifier: GPL-2.0-only
// What differs between the two sides' provenance (meta.json).
#include <optional>
#include <set>

#include "analysis/compare.h"

namespace kperflab::compare {

namespace {

// A provenance field for display; "n/a" where any step is absent or null.
std::string at(const JsonView& j, const std::vector<std::string>& path) {
  std::optional<JsonView> cur = j;
  for (size_t i = 0; i + 1 < path.size() && cur; ++i) cur = cur->find(path[i]);
  return cur ? printable(cur->text(path.back())) : "n/a";
}

}  // namespace

std::vector<ProvDiff> provenance_diff(const JsonView& a, const JsonView& b) {
  std::vector<std::vector<std::string>> fields = {
      {"host", "hostname"}, {"kernel", "release"}, {"kernel", "version"},
      {"kernel", "cmdline"}, {"kernel", "config", "sha256"}, {"cpu", "model_name"},
      {"cpu", "microcode"}, {"cpu", "online_count"}, {"cpu", "smt", "control"},
      {"cpu", "frequency", "governor"}, {"cpu", "frequency", "boost"},
      {"kernel", "clocksource", "current"}, {"kernel", "thp", "enabled"},
      {"host", "hypervisor"}, {"suite", "git_sha"}, {"profile"}};
  std::vector<ProvDiff> out;
  auto join = [](const std::vector<std::string>& p) {
    std::string s;
    for (auto& k : p) s += (s.empty() ? "" : ".") + k;
    return s;
  };
  for (auto& f : fields) {
    std::string x = at(a, f), y = at(b, f);
    if (x != y) out.push_back({join(f), x, y});
  }
  for (const char* group : {"options", "vulnerabilities"}) {
    bool options = group == std::string("options");
    JsonView ja = options ? a.at("kernel").at("config") : a.at("kernel");
    JsonView jb = options ? b.at("kernel").at("config") : b.at("kernel");
    std::set<std::string> keys;
    for (const JsonView* j : {&ja, &jb})
      if (auto g = j->find_if(group, J_OBJECT))
        for (auto& [k, v] : g->members()) keys.insert(k);
    for (auto& k : keys) {
      std::string x = at(ja, {group, k}), y = at(jb, {group, k});
      if (x != y) out.push_back({(options ? "config." : "mitigation.") + printable(k), x, y});
    }
  }
  return out;
}

}  // namespace kperflab::compare
