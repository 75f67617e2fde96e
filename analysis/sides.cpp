// SPDX-License-Identifier: GPL-2.0-only
// The sides of compare, series, noise and export --kcidb: bundles found at
// paths or by catalog selectors, loaded once per directory, and no more
// than kMaxBundles in one command (issue #27 item 5: 2000 candidates reached
// 5.8 GB, 1024 series sides 3.5 GB, one directory given 300 times to noise
// ran out of memory).
#include <algorithm>
#include <atomic>
#include <exception>
#include <optional>
#include <set>
#include <thread>

#include "analysis/catalog.h"
#include "analysis/compare.h"

namespace kperflab::compare {

namespace fs = std::filesystem;

namespace {

// The bundle directories at p (p itself, or every bundle below it), each
// once, by its canonical path.
std::vector<fs::path> bundle_dirs(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) {
    // A symlink loop or a permission problem is named, not taken for absence.
    if (ec && ec != std::errc::no_such_file_or_directory)
      throw std::invalid_argument(p.string() + ": cannot read: " + ec.message());
    throw std::invalid_argument("no such bundle or directory: " + p.string());
  }
  std::vector<fs::path> dirs;
  if (fs::exists(p / "meta.json", ec)) {
    dirs.push_back(p);
  } else {
    for (auto& e : fs::recursive_directory_iterator(p))
      if (e.is_regular_file() && e.path().filename() == "meta.json")
        dirs.push_back(e.path().parent_path());
    std::sort(dirs.begin(), dirs.end());
  }
  return unique_dirs(std::move(dirs));
}

}  // namespace

std::vector<fs::path> unique_dirs(std::vector<fs::path> dirs) {
  std::set<fs::path> seen;
  std::vector<fs::path> out;
  for (auto& d : dirs) {
    std::error_code ec;
    fs::path c = fs::weakly_canonical(d, ec);
    if (seen.insert(ec ? d : c).second) out.push_back(std::move(d));
  }
  return out;
}

SideSource SideSource::find(const std::string& arg, const fs::path& runs_root) {
  SideSource s;
  s.arg = arg;
  std::error_code ec;
  if (!fs::exists(arg, ec) && catalog::is_selector(arg)) {
    s.selector = true;
    catalog::Catalog cat(runs_root);
    for (auto& e : cat.select(arg)) s.dirs.push_back(runs_root / e.path);
    if (s.dirs.empty())
      throw std::invalid_argument("'" + arg + "' matched no bundle in the catalog of " +
                                  runs_root.string() + " (" +
                                  std::to_string(cat.sync_stats().bundles) +
                                  " bundles; `kperflab catalog` lists them)");
    s.dirs = unique_dirs(std::move(s.dirs));
  } else {
    s.dirs = bundle_dirs(arg);
  }
  return s;
}

Side SideSource::load() const {
  Side s = Side::load_dirs(dirs, arg);
  if (selector) s.label = arg + ": " + s.label;
  return s;
}

void check_bundle_limit(const std::vector<SideSource>& sources, const std::string& verb) {
  size_t total = 0;
  for (auto& s : sources) total += s.dirs.size();
  if (total <= kMaxBundles) return;
  throw std::invalid_argument(
      verb + ": " + std::to_string(total) + " bundles over " + std::to_string(sources.size()) +
      " side" + (sources.size() == 1 ? "" : "s") + "; at most " + std::to_string(kMaxBundles) +
      " are loaded by one command (each is held in memory whole): give fewer sides or "
      "narrower directories or selectors");
}

Side Side::load(const fs::path& p) { return load_dirs(bundle_dirs(p), p.string()); }

Side Side::select(const std::string& selector, const fs::path& runs_root) {
  return SideSource::find(selector, runs_root).load();
}

Side Side::load_dirs(std::vector<fs::path> dirs, const std::string& what) {
  Side s;
  // Bundles load independently (parse + validation dominate compare on
  // fleets): in parallel, kept in order; the first failure (in order) is
  // rethrown.
  std::vector<std::optional<Bundle>> loaded(dirs.size());
  std::vector<std::exception_ptr> errors(dirs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < dirs.size();) try {
        loaded[i] = Bundle::load(dirs[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
  };
  unsigned n = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), dirs.size());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
  if (!dirs.empty()) work();
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < dirs.size(); ++i) {
    if (errors[i]) std::rethrow_exception(errors[i]);
    s.bundles.push_back(std::move(*loaded[i]));
  }
  if (s.bundles.empty()) throw std::invalid_argument("no bundle (meta.json) under " + what);
  std::set<std::string> rel;
  for (auto& b : s.bundles) rel.insert(b.meta_view().at("kernel").at("release").str());
  s.label = *rel.begin() + (rel.size() > 1 ? " (+" + std::to_string(rel.size() - 1) + " kernels)" : "");
  if (s.bundles.size() > 1) s.label += " (" + std::to_string(s.bundles.size()) + " bundles)";
  return s;
}

}  // namespace kperflab::compare
