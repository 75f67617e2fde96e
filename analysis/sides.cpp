// SPDX-License-Identifier: GPL-2.0-only
// The sides of compare, series, noise and export --kcidb: bundles found at
// paths or by catalog selectors, loaded once per directory, and no more
// than kMaxBundles in one command (issue #27 item 5: 2000 candidates reached
// 5.8 GB, 1024 series sides 3.5 GB, one directory given 300 times to noise
// ran out of memory).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <exception>
#include <optional>
#include <set>
#include <thread>

#include "analysis/catalog.h"
#include "analysis/compare.h"
#include "analysis/summary_cache.h"

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
  s.runs_root = runs_root;
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

Side SideSource::load(bool histograms) const {
  Side s = Side::load_dirs(dirs, arg, {runs_root, histograms});
  if (selector) s.label = arg + ": " + s.label;
  return s;
}

void check_bundle_limit(const std::vector<SideSource>& sources, const std::string& verb) {
  size_t total = 0;
  for (auto& s : sources) total += s.dirs.size();
  if (total <= max_bundles()) return;
  throw std::invalid_argument(
      verb + ": " + std::to_string(total) + " bundles over " + std::to_string(sources.size()) +
      " side" + (sources.size() == 1 ? "" : "s") + "; at most " + std::to_string(max_bundles()) +
      " are loaded by one command: give fewer sides or "
      "narrower directories or selectors");
}

Side Side::load(const fs::path& p) { return load_dirs(bundle_dirs(p), p.string()); }

Side Side::select(const std::string& selector, const fs::path& runs_root) {
  return SideSource::find(selector, runs_root).load();
}

namespace {

// Summaries held by every side alive in this process (HeldSummaries).
std::atomic<size_t> held_bytes{0};

std::string mib(size_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f MiB", bytes < (size_t{10} << 20) ? 1 : 0,
                static_cast<double>(bytes) / (1 << 20));
  return b;
}

// limit, or less where the environment variable says so (the tests prove
// a refusal without reaching the limit; it never raises it).
size_t lowered(const char* var, size_t limit, unsigned shift) {
  if (const char* e = std::getenv(var); e && *e) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(e, &end, 10);
    if (*end == 0 && v < (limit >> shift)) return static_cast<size_t>(v) << shift;
  }
  return limit;
}

size_t summary_budget() { return lowered("KPERFLAB_MAX_SUMMARY_MIB", kMaxSummaryBytes, 20); }

}  // namespace

size_t max_bundles() { return lowered("KPERFLAB_MAX_BUNDLES", kMaxBundles, 0); }

HeldSummaries::~HeldSummaries() { held_bytes -= bytes; }

Side Side::load_dirs(std::vector<fs::path> dirs, const std::string& what,
                     const LoadOptions& opt) {
  Side s;
  s.held = std::make_shared<HeldSummaries>();
  // The catalog's summary cache, when the runs root has one (or can): a
  // bundle seen before is read back, not parsed and checked again.
  std::shared_ptr<catalog::SummaryCache> cache;
  if (!opt.runs_root.empty() && !dirs.empty())
    cache = catalog::SummaryCache::open(opt.runs_root, &s.loaded.cache_problem);
  if (cache || s.loaded.cache_problem == "no runs directory") s.loaded.cache_problem.clear();
  // Bundles load independently (parse + validation dominate compare on
  // fleets): in parallel, kept in order; the first failure (in order) is
  // rethrown. Each worker holds one bundle's tree at a time and keeps only
  // its summary, charged against kMaxSummaryBytes; past that every worker
  // stops.
  std::vector<std::optional<BundleSummary>> loaded(dirs.size());
  std::vector<std::exception_ptr> errors(dirs.size());
  std::atomic<size_t> next{0}, mine{0};
  std::atomic<bool> over{false};
  const size_t budget = summary_budget();
  auto work = [&] {
    std::unique_ptr<catalog::SummaryCache::Session> session;
    if (cache) try {
        session = cache->session();
      } catch (const std::exception&) {
        session.reset();  // this worker checks in full
      }
    for (size_t i; !over && (i = next.fetch_add(1)) < dirs.size();) try {
        if (session) {
          loaded[i] = cache->load(*session, dirs[i], opt.histograms);
        } else {
          loaded[i] = BundleSummary::load(dirs[i]);
          if (!opt.histograms) loaded[i]->drop_histograms();
        }
        size_t b = loaded[i]->bytes;
        mine += b;
        if ((held_bytes += b) > budget) over = true;
      } catch (...) {
        errors[i] = std::current_exception();
      }
  };
  unsigned n = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), dirs.size());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
  if (!dirs.empty()) work();
  for (auto& t : pool) t.join();
  if (cache) {
    s.loaded.cached = cache->stats().hits;
    s.loaded.checked = dirs.size() - s.loaded.cached;
    s.loaded.cache_problem = cache->write_problem();
  } else {
    s.loaded.checked = dirs.size();
  }
  s.held->bytes = mine;
  if (over) {
    size_t count = 0;
    for (auto& l : loaded) count += l.has_value();
    throw std::invalid_argument(
        "the bundles' summaries held in memory passed " + mib(budget) + " at " +
        std::to_string(count) + " of the " + std::to_string(dirs.size()) + " bundles of " +
        printable(what) + " (about " + mib(mine / std::max<size_t>(count, 1)) +
        " each; a command holds at most " + mib(budget) + " of them, and at most " +
        std::to_string(max_bundles()) + " bundles): give fewer sides or narrower directories "
        "or selectors");
  }
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
