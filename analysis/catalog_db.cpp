// SPDX-License-Identifier: GPL-2.0-only
#include "analysis/catalog_db.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

namespace kperflab::catalog::detail {

namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS bundles(
  path TEXT PRIMARY KEY, mtime INTEGER, host TEXT, release TEXT, config_sha TEXT,
  boot_id TEXT, started TEXT, status TEXT, error TEXT, note TEXT);
CREATE TABLE IF NOT EXISTS tags(path TEXT, tag TEXT);
CREATE INDEX IF NOT EXISTS tags_tag ON tags(tag);
CREATE INDEX IF NOT EXISTS tags_path ON tags(path);
CREATE TABLE IF NOT EXISTS probes(path TEXT, probe TEXT, status TEXT);
CREATE INDEX IF NOT EXISTS probes_path ON probes(path);
CREATE TABLE IF NOT EXISTS kconfig(config_sha TEXT, key TEXT, value TEXT,
  PRIMARY KEY(config_sha, key));
CREATE TABLE IF NOT EXISTS summaries(
  dir TEXT PRIMARY KEY, identity TEXT NOT NULL, content TEXT NOT NULL, checked_ns INTEGER,
  format INTEGER, summary BLOB, histograms BLOB);
)sql";

// The tables kperflab catalogs had, this schema's and older ones'.
const std::set<std::string> kOurTables = {"info",    "bundles", "tags",
                                           "probes",  "kconfig", "summaries"};

[[noreturn]] void fail(sqlite3* db, int rc, const std::string& what) {
  throw SqlError(rc, "catalog: " + what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

}  // namespace

void Db::exec(const std::string& sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string m = msg ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    throw SqlError(rc, "catalog: " + m + " (in: " + sql.substr(0, 60) + ")");
  }
}

Stmt::Stmt(sqlite3* db, const std::string& sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, "prepare");
}

Stmt& Stmt::bind(int i, const std::string& v) {
  sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}

bool Stmt::row() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) {
    sqlite3_reset(s_);
    fail(db_, rc, "step");
  }
  return false;
}

Stmt& Stmt::blob(int i, const std::string& v) {
  sqlite3_bind_blob64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT);
  return *this;
}

std::string Stmt::blob(int col) const {
  auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : "";
}

std::string Stmt::text(int col) const {
  auto* p = sqlite3_column_text(s_, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s_, col)))
           : "";
}

// One transaction: a crash never leaves our tables without the id that
// tells them from another program's.
void create_schema(Db& d) {
  d.exec(std::string("BEGIN IMMEDIATE;") + kSchema + "PRAGMA application_id = " +
         std::to_string(kApplicationId) + "; PRAGMA user_version = " +
         std::to_string(kSchemaVersion) + "; COMMIT");
}

namespace {

std::atomic<int64_t> longest_wait{0};

int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// sqlite3_busy_timeout's policy (retry until kBusyMs), with the time each
// wait took kept: n is 0 on the first call of each wait for a lock.
int on_busy(void*, int n) {
  thread_local int64_t since = 0;
  const int64_t now = mono_ns();
  if (n == 0) since = now;
  const int64_t waited = now - since;
  if (waited >= int64_t{kBusyMs} * 1'000'000) return 0;
  const int64_t nap = std::min<int64_t>(int64_t{1'000'000} << std::min(n, 5), 20'000'000);
  std::this_thread::sleep_for(std::chrono::nanoseconds(nap));
  for (int64_t seen = longest_wait.load(), w = waited + nap;
       w > seen && !longest_wait.compare_exchange_weak(seen, w);) {
  }
  return 1;
}

}  // namespace

int64_t longest_lock_wait_ns() { return longest_wait.load(); }

void open_db(Db& d, const std::string& file) {
  int rc = sqlite3_open_v2(file.c_str(), &d.h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) fail(d.h, rc, "cannot open " + file);
  sqlite3_extended_result_codes(d.h, 0);
  sqlite3_busy_handler(d.h, on_busy, nullptr);
  // With WAL, NORMAL never corrupts the file; a power cut may lose the last
  // transactions, which the next sync (or compare) writes again from the
  // bundles. FULL cost an fsync per batch of summaries.
  if (file != ":memory:") sqlite3_exec(d.h, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);
}

Verdict judge(Db& d, std::string& why, bool quick_check) {
  std::vector<std::string> tables;
  {
    Stmt s(d.h, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT "
                "LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
    while (s.row()) tables.push_back(s.text(0));
  }
  int64_t app = 0, ver = 0;
  {
    Stmt a(d.h, "PRAGMA application_id");
    if (a.row()) app = a.integer(0);
    Stmt v(d.h, "PRAGMA user_version");
    if (v.row()) ver = v.integer(0);
  }
  bool only_ours = true;
  for (auto& t : tables) only_ours = only_ours && kOurTables.count(t);
  if (tables.empty() && app == 0 && ver == 0) return Verdict::empty;
  // Ours: our application id, or (schema 1 had none) only our tables with
  // the info row that named the schema.
  bool ours = app == kApplicationId && only_ours;
  bool has_info = std::find(tables.begin(), tables.end(), "info") != tables.end();
  if (!ours && app == 0 && ver == 0 && only_ours && has_info) {
    Stmt s(d.h, "SELECT value FROM info WHERE key='schema'");
    ours = s.row();
  }
  if (!ours) {
    std::string list;
    for (size_t i = 0; i < tables.size() && i < 6; ++i) list += (i ? ", " : "") + tables[i];
    if (tables.size() > 6) list += ", ...";
    why = (tables.empty() ? std::string("no tables") : "tables " + list) +
          "; application_id " + std::to_string(app) + ", user_version " + std::to_string(ver);
    return Verdict::foreign;
  }
  // A corrupt page shows here even where the schema reads.
  if (quick_check) {
    Stmt q(d.h, "PRAGMA quick_check");
    if (q.row() && q.text(0) != "ok")
      throw SqlError(SQLITE_CORRUPT, "catalog: quick_check: " + q.text(0));
  }
  if (ver != kSchemaVersion || app != kApplicationId) return Verdict::older;
  // Ours by its id, but a table without the columns this schema reads (a
  // damaged or hand-edited file): rebuilt, rather than failing every use.
  for (const char* q : {"SELECT key, value FROM info",
                        "SELECT path, mtime, host, release, config_sha, boot_id, started, status, "
                        "error, note FROM bundles",
                        "SELECT path, tag FROM tags", "SELECT path, probe, status FROM probes",
                        "SELECT config_sha, key, value FROM kconfig",
                        "SELECT dir, identity, content, checked_ns, format, summary, histograms "
                        "FROM summaries"}) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(d.h, (std::string(q) + " LIMIT 0").c_str(), -1, &st, nullptr);
    sqlite3_finalize(st);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
      fail(d.h, rc, "schema");
    if (rc != SQLITE_OK) return Verdict::older;
  }
  return Verdict::ours;
}

bool parse_kconfig(std::string_view text, std::map<std::string, std::string>& opts) {
  opts.clear();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, 7) != "CONFIG_") continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq > kMaxOptionName) continue;
    std::string_view key = line.substr(0, eq), val = line.substr(eq + 1);
    if (key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
            std::string_view::npos ||
        val.size() > kMaxOptionValue)
      continue;
    if (opts.size() >= kMaxOptions && !opts.count(std::string(key))) {
      opts.clear();
      return false;
    }
    opts[std::string(key)] = unquote(std::string(val));
  }
  return true;
}

std::string unquote(std::string v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

}  // namespace kperflab::catalog::detail
