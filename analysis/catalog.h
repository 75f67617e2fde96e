// SPDX-License-Identifier: GPL-2.0-only
// The results catalog: an SQLite index over every bundle under a runs root
// (results/runs/catalog.sqlite), so compare and reports select sides by tag,
// kernel, config option, host or probe instead of directories given by hand.
//
// The bundle files stay the source of truth: the catalog is synced with them
// whenever it is opened (new bundles indexed, changed meta.json re-indexed,
// removed ones dropped), in short transactions on a WAL journal, so that
// selector verbs read while another process syncs. It is rebuilt when
// missing or of an older schema of ours, and replaced (a new file renamed
// into place) only on SQLite's verdict of corruption; a lock held by another
// process is waited for, then reported; a file of another program (other
// tables, application_id) is reported and never touched, not even by
// --rebuild (analysis/catalog_db.h). A bundle whose meta.json cannot be read
// is listed as unreadable, never selected, never fatal; a tag `run --tag`
// would refuse is not indexed (the listing says so). Per config hash the
// options of its kconfig.gz are kept, at most 40,000 of them.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kperflab::catalog {

// What a selector is: `KEY:VALUE` terms joined by '+' (all must hold):
//   tag:NAME            run with --tag NAME
//   kernel:GLOB         kernel release (fnmatch), e.g. kernel:6.12.*
//   host:GLOB           hostname
//   config:OPT=VAL      kernel config option (CONFIG_ prefix optional); VAL n
//                       matches an option that is not set
//   probe:NAME          the bundle has this probe complete or partial
//   boot:ID             kernel.boot_id (a prefix of it, '%' and '_' literal)
// e.g. `tag:base+host:srv1`, `config:NO_HZ_FULL=y`.
// is_selector: arg looks like one (a known KEY before the first ':'), so a
// malformed selector is reported as such rather than as a missing path.
bool is_selector(const std::string& arg);
// The KEY, VALUE terms of a selector. Throws std::invalid_argument naming
// the term: an empty one (a leading, trailing or doubled '+'), an unknown
// key, no value, config: without OPTION=VALUE.
std::vector<std::pair<std::string, std::string>> parse_selector(const std::string& selector);

namespace detail {
struct Parsed;  // analysis/catalog.cpp
}

struct Entry {
  std::string path;  // relative to the runs root
  std::string host, release, config_sha, boot_id, started, status;
  std::vector<std::string> tags;
  std::string error;  // unreadable meta.json: why
  std::string note;   // what was not indexed (a tag `run --tag` refuses, an oversized kconfig)
};

struct SyncStats {
  size_t bundles = 0, added = 0, updated = 0, removed = 0, unreadable = 0;
  size_t notes = 0;       // bundles indexed with a note (Entry::note)
  bool rebuilt = false;
  std::string replaced;   // the file was corrupt and replaced: SQLite's verdict
  bool in_memory = false;  // the runs root is not writable: nothing kept
  size_t summaries_removed = 0;  // cached summaries of bundles that are gone
};

class Catalog {
 public:
  // Opens (or creates) <runs_root>/catalog.sqlite and syncs it with the
  // files. rebuild: drop everything and index again.
  explicit Catalog(const std::filesystem::path& runs_root, bool rebuild = false);
  // Opens it without syncing with the files (a new catalog, or one of an
  // older schema, is synced all the same); then add() indexes one bundle.
  struct NoSync {};
  Catalog(const std::filesystem::path& runs_root, NoSync);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  const SyncStats& sync_stats() const { return stats_; }
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path db_path() const { return root_ / "catalog.sqlite"; }

  // Bundles matching a selector, oldest first (by started time, then path).
  // Throws std::invalid_argument naming a malformed term.
  std::vector<Entry> select(const std::string& selector) const;
  // Every indexed bundle, unreadable ones included.
  std::vector<Entry> all() const;
  // Indexes (or re-indexes) the bundle at dir, a directory below the root.
  void add(const std::filesystem::path& dir);

 private:
  struct Db;
  void open(bool rebuild, bool sync_files);
  void sync(bool rebuild);
  void write_batch(std::vector<std::pair<std::filesystem::path, detail::Parsed>>& todo,
                   size_t from, size_t to);
  void forget(const std::string& rel);
  void prune_summaries();
  void replace_corrupt(const std::string& why);
  std::filesystem::path root_;
  std::unique_ptr<Db> db_;
  SyncStats stats_;
};

// What `kperflab run` does once its bundle is final (issue #30): the bundle
// at dir, below runs_root, indexed in the catalog and its summary cached,
// so that the first compare reads it back. A short transaction each; ""
// when done, else why not (the run warns and goes on: the next sync
// indexes it).
std::string index_bundle(const std::filesystem::path& runs_root, const std::filesystem::path& dir);

}  // namespace kperflab::catalog
