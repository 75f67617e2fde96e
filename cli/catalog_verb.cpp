// SPDX-License-Identifier: GPL-2.0-only
// `kperflab catalog`: the listing. Everything in it came from bundle files
// or the command line, so every string goes through printable().
#include <cstdio>

#include <stdexcept>

#include "analysis/catalog.h"
#include "analysis/summary_cache.h"
#include "cli/cli_args.h"
#include "cli/verbs.h"
#include "results/bundle.h"

namespace kperflab::catalog {

int catalog_main(const std::vector<std::string>& args) {
  std::string runs = "results/runs";
  std::vector<std::string> selectors;
  bool rebuild = false, paths_only = false, check = false;
  CLI::App app("Lists the bundles of the results catalog, all or those a selector matches.",
               "kperflab catalog");
  app.add_option("--runs-dir", runs, "the runs root (default results/runs)")->type_name("DIR");
  app.add_flag("--rebuild", rebuild, "index every bundle again from its files");
  app.add_flag("--paths", paths_only, "print only the bundle directories");
  app.add_flag("--check", check,
               "check every bundle in full once and cache its summary (compare, series, "
               "trend of thousands then read them back); lists those that fail");
  app.add_option("selector", selectors,
                 "tag:NAME, kernel:GLOB, host:GLOB, config:OPTION=VALUE, probe:NAME, boot:ID; "
                 "terms joined by '+' must all hold");
  cli::setup(app,
             "The catalog is results/runs/catalog.sqlite, synced with the bundle files on every\n"
             "use; compare takes the same selectors as sides, e.g.\n"
             "  kperflab compare tag:base tag:no-hz-full\n"
             "Exit: 0 done, 1 a bundle failed --check, 2 error.");
  cli::parse(app, args);
  Catalog cat(runs, rebuild);
  const auto& st = cat.sync_stats();
  if (!st.replaced.empty())
    std::fprintf(stderr, "kperflab catalog: %s was corrupt (%s): rebuilt from the bundles\n",
                 printable(cat.db_path().string()).c_str(), st.replaced.c_str());
  if (!paths_only)
    std::printf("# catalog %s: %zu bundles (%s%zu added, %zu updated, %zu removed, "
                "%zu unreadable%s)%s\n",
                printable(cat.db_path().string()).c_str(), st.bundles,
                st.rebuilt ? "rebuilt; " : "", st.added, st.updated, st.removed, st.unreadable,
                st.notes ? (", " + std::to_string(st.notes) + " with a note").c_str() : "",
                st.in_memory ? " [runs dir not writable: index kept in memory]" : "");
  if (check) {
    std::string why;
    auto cache = SummaryCache::open(runs, &why);
    if (!cache)
      throw std::runtime_error("--check: the summary cache of " + printable(runs) +
                               " cannot be used: " + why);
    std::vector<std::filesystem::path> dirs;
    for (auto& e : cat.all())
      if (e.error.empty()) dirs.push_back(cat.root() / e.path);
    auto r = cache->check(dirs);
    std::printf("# checked %zu bundles in full, %zu were cached already, %zu failed%s\n",
                r.checked, r.cached, r.failed.size(),
                cache->write_problem().empty()
                    ? ""
                    : ("; not all stored: " + printable(cache->write_problem())).c_str());
    for (auto& [dir, err] : r.failed)
      std::printf("  %s  FAILED: %s\n", printable(dir.string()).c_str(), err.c_str());
    if (!r.failed.empty()) return 1;
  }
  std::vector<std::vector<Entry>> lists;
  if (selectors.empty()) lists.push_back(cat.all());
  for (auto& s : selectors) lists.push_back(cat.select(s));
  for (size_t i = 0; i < lists.size(); ++i) {
    if (!selectors.empty() && !paths_only)
      std::printf("%s: %zu bundles\n", printable(selectors[i]).c_str(), lists[i].size());
    for (auto& e : lists[i]) {
      std::string p = printable((cat.root() / e.path).string());
      if (paths_only) {
        std::printf("%s\n", p.c_str());
        continue;
      }
      std::string tags;
      for (auto& t : e.tags) tags += (tags.empty() ? "" : ",") + t;
      if (!e.error.empty())
        std::printf("  %s  UNREADABLE: %s\n", p.c_str(), printable(e.error).c_str());
      else
        std::printf("  %s  %s %s boot=%s %s%s%s\n", p.c_str(), printable(e.host).c_str(),
                    printable(e.release).c_str(), printable(e.boot_id.substr(0, 8)).c_str(),
                    printable(e.status).c_str(), tags.empty() ? "" : " tags=",
                    printable(tags).c_str());
      if (!e.note.empty()) std::printf("    note: %s\n", printable(e.note).c_str());
    }
  }
  return 0;
}

}  // namespace kperflab::catalog
