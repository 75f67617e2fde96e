// SPDX-License-Identifier: GPL-2.0-only
// The catalog's summary cache (issue #30): per bundle directory, the
// BundleSummary it reduced to once Bundle::load had checked every field,
// kept in the runs root's catalog.sqlite (table summaries) and keyed by
// the bundle files' identity, so that compare, series, noise, campaign and
// trend of a thousand bundles a side read summaries instead of parsing and
// validating every bundle again.
//
// Identity: every top-level *.json file of the bundle (meta.json and the
// probes' files: what Bundle::load reads), each with its size, mtime,
// ctime, inode and device, and an XXH3-128 hash of their names and
// contents. A summary is used when
//   - the identity is the one stored and the files were not changed within
//     kRacyNs of when they were checked (a change in the same clock tick
//     can leave size and times alike: such an entry is used only after its
//     content hash matched), or
//   - the identity differs (a copy, a touch, a move) but the content hash
//     is the stored one: the new identity is stored;
// otherwise the bundle is loaded and checked in full and its summary
// stored, unless its files changed while it was read. A summary written by
// another format (summary_codec::kSummaryFormat), or one whose blob fails
// its checksum or checks, is checked again from the bundle.
//
// The cache never decides whether a command works: a catalog that cannot
// be opened or written (read-only runs root, another program's file, a lock
// held past the busy timeout) leaves the bundles checked in full, and says
// so once on stderr.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "analysis/summary.h"

namespace kperflab::catalog {

// A file changed this close to when it was checked is verified by content.
inline constexpr int64_t kRacyNs = 2'000'000'000;
// Summaries written per transaction (a writer holds the lock that long).
inline constexpr size_t kPutBatch = 32;

struct CacheStats {
  std::atomic<size_t> hits{0};      // summaries read back
  std::atomic<size_t> rehashed{0};  // of which the identity had changed, the content not
  std::atomic<size_t> checked{0};   // bundles loaded and checked in full
  std::atomic<size_t> stored{0};    // summaries written
  std::atomic<size_t> not_stored{0};  // changed while read, or the write failed
};

// The files' identity of a bundle directory, and (on demand) their content hash.
struct BundleIdentity {
  std::string files;  // "name size mtime_ns ctime_ns ino dev\n" per file, sorted by name
  int64_t newest_ns = 0;  // the latest mtime or ctime among them
  static BundleIdentity of(const std::filesystem::path& dir);
  // XXH3-128 of each file's name, size and bytes, in name order; "" when a
  // file could not be read.
  std::string content(const std::filesystem::path& dir) const;
};

class SummaryCache {
 public:
  // The cache of runs_root/catalog.sqlite; nullptr, with why set, when it
  // cannot be used (no such directory, not writable, another program's
  // file, corrupt or held past the busy timeout: `kperflab catalog` says
  // and mends what can be mended). Creates the catalog when missing.
  static std::shared_ptr<SummaryCache> open(const std::filesystem::path& runs_root,
                                            std::string* why = nullptr);
  ~SummaryCache();

  struct Pending;
  // One per thread: its own connection. Writes are queued in the cache and
  // written by one session at a time, kPutBatch a transaction.
  class Session {
   public:
    ~Session();  // flushes what is pending (errors counted, not thrown)
    // The cached summary of dir, or nullopt: then load it and put() it.
    std::optional<BundleSummary> find(const std::filesystem::path& dir, bool histograms);
    // The summary of dir, loaded with Bundle::load from the files whose
    // identity `before` was taken before loading; stored unless the files
    // changed meanwhile.
    void put(const std::filesystem::path& dir, const BundleIdentity& before,
             int64_t checked_ns, const BundleSummary& s);
    void flush();  // writes everything queued in the cache

   private:
    friend class SummaryCache;
    void write(std::vector<Pending>& todo);
    struct Impl;
    explicit Session(SummaryCache& c);
    std::unique_ptr<Impl> impl_;
  };
  std::unique_ptr<Session> session();

  // Loads dir through the cache: a hit, or Bundle::load + store.
  BundleSummary load(Session& s, const std::filesystem::path& dir, bool histograms);

  // Every dir through the cache on all CPUs, each summary dropped as soon
  // as it is stored (memory: one bundle per CPU): what `kperflab catalog
  // --check` does so that later commands find every summary. failed: the
  // bundles that did not pass Bundle::load, with why.
  struct Checked {
    size_t cached = 0, checked = 0;
    std::vector<std::pair<std::filesystem::path, std::string>> failed;
  };
  Checked check(const std::vector<std::filesystem::path>& dirs);

  const CacheStats& stats() const { return stats_; }
  const std::filesystem::path& file() const { return file_; }
  // Problems met while writing (the first one), for the once-said warning.
  std::string write_problem() const;

 private:
  SummaryCache() = default;
  void enqueue(Pending p, Session& s);
  void write_queued(Session& s, bool all);
  std::filesystem::path file_;
  std::mutex queue_m_, write_m_;
  std::vector<Pending> queue_;
  CacheStats stats_;
  mutable std::atomic<bool> has_problem_{false};
  std::string problem_;
};

// A realtime clock reading in ns (files' times are on that clock).
int64_t realtime_ns();

}  // namespace kperflab::catalog
