// SPDX-License-Identifier: GPL-2.0-only
// The results catalog: an SQLite index over every bundle under a runs root
// (results/runs/catalog.sqlite), so compare and reports select sides by tag,
// kernel, config option, host or probe instead of directories given by hand.
//
// The bundle files stay the source of truth: the catalog is synced with them
// whenever it is opened (new bundles indexed, changed meta.json re-indexed,
// removed ones dropped) and rebuilt from scratch when missing, unreadable or
// of another schema version. A bundle whose meta.json cannot be read is
// listed as unreadable, never selected, never fatal.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace kperflab::catalog {

// What a selector is: `KEY:VALUE` terms joined by '+' (all must hold):
//   tag:NAME            run with --tag NAME
//   kernel:GLOB         kernel release (fnmatch), e.g. kernel:6.12.*
//   host:GLOB           hostname
//   config:OPT=VAL      kernel config option (CONFIG_ prefix optional); VAL n
//                       matches an option that is not set
//   probe:NAME          the bundle has this probe complete or partial
//   boot:ID             kernel.boot_id (a prefix of it)
// e.g. `tag:base+host:srv1`, `config:NO_HZ_FULL=y`.
bool is_selector(const std::string& arg);

struct Entry {
  std::string path;  // relative to the runs root
  std::string host, release, config_sha, boot_id, started, status;
  std::vector<std::string> tags;
  std::string error;  // unreadable meta.json: why
};

struct SyncStats {
  size_t bundles = 0, added = 0, updated = 0, removed = 0, unreadable = 0;
  bool rebuilt = false;
  bool in_memory = false;  // the runs root is not writable: nothing kept
};

class Catalog {
 public:
  // Opens (or creates) <runs_root>/catalog.sqlite and syncs it with the
  // files. rebuild: drop everything and index again.
  explicit Catalog(const std::filesystem::path& runs_root, bool rebuild = false);
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

 private:
  struct Db;
  void sync(bool rebuild);
  std::filesystem::path root_;
  std::unique_ptr<Db> db_;
  SyncStats stats_;
};

// `kperflab catalog [--runs-dir DIR] [--rebuild] [SELECTOR...]`
int catalog_main(const std::vector<std::string>& args);

}  // namespace kperflab::catalog
