// SPDX-License-Identifier: GPL-2.0-only
// The catalog's SQLite file (analysis/catalog.h), for catalog*.cpp only:
// statements, how a file is opened and judged (ours, an older schema of
// ours, another program's, corrupt, held by another process), and the
// kernel config options kept per config hash.
//
// Only a corruption verdict from SQLite (SQLITE_CORRUPT, SQLITE_NOTADB, a
// failed quick_check) lets the catalog replace a file, and then by building
// a new one beside it and renaming it into place. A lock held by another
// process is waited for (kBusyMs), then reported; a file that is not a
// kperflab catalog is never touched.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kperflab::catalog::detail {

// How long a statement waits for a lock another process holds. Syncs write
// in short transactions, so a concurrent kperflab never holds it this long.
inline constexpr int kBusyMs = 5000;

// A kernel config with more options than this is not indexed option by
// option (a real one has ~10,000; issue #27: a 3M-line kconfig.gz made a
// 586 MB catalog): its bundles keep the options meta.json selected.
inline constexpr size_t kMaxOptions = 40000;
inline constexpr size_t kMaxOptionName = 128, kMaxOptionValue = 256;
// kconfig.gz inflated beyond this is not read (a real one is ~300 KiB).
inline constexpr size_t kMaxKconfigBytes = 8u << 20;

// An SQLite error: the primary result code, and the message.
struct SqlError : std::runtime_error {
  SqlError(int rc, const std::string& what) : std::runtime_error(what), code(rc & 0xff) {}
  int code;
  bool corrupt() const { return code == SQLITE_CORRUPT || code == SQLITE_NOTADB; }
  bool busy() const { return code == SQLITE_BUSY || code == SQLITE_LOCKED; }
};

struct Db {
  sqlite3* h = nullptr;
  ~Db() {
    if (h) sqlite3_close_v2(h);
  }
  void exec(const std::string& sql);
};

// A prepared statement, bound by position, stepped row by row.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql);
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, const std::string& v);
  Stmt& bind(int i, int64_t v);
  Stmt& blob(int i, const std::string& v);
  bool row();
  void run() {
    row();
    reset();
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string text(int col) const;
  std::string blob(int col) const;
  int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

// The tables (schema version kSchemaVersion, PRAGMA user_version; 3 added
// summaries, the summary cache of analysis/summary_cache.h) and
// PRAGMA application_id kApplicationId ('kpfl').
inline constexpr int kSchemaVersion = 3;
inline constexpr int32_t kApplicationId = 0x6b70666c;
void create_schema(Db& d);

// Opens file (":memory:" for none) with the busy handler set (a lock is
// waited for up to kBusyMs); WAL journal for a file (readers are not
// blocked by a sync).
void open_db(Db& d, const std::string& file);
// The longest a statement of this process has waited for a lock so far
// (the concurrency test's measure of "blocked").
int64_t longest_lock_wait_ns();

enum class Verdict { ours, empty, older, foreign };
// What the file is. Throws SqlError (corrupt, busy). why: for foreign, what
// was found ("tables notes, people; user_version 7").
// quick_check: run PRAGMA quick_check (it reads the whole file: 40 ms for
// a catalog of 1000 bundles' summaries); the summary cache skips it, since a
// damaged page there fails its read and costs a full check of that bundle.
Verdict judge(Db& d, std::string& why, bool quick_check = true);

// "CONFIG_X=v" lines; "# CONFIG_X is not set" and anything else skipped (a
// selector's =n matches an option that is absent). false: more than
// kMaxOptions options, opts cleared.
bool parse_kconfig(std::string_view text, std::map<std::string, std::string>& opts);

std::string unquote(std::string v);

}  // namespace kperflab::catalog::detail
