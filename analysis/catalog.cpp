// SPDX-License-Identifier: GPL-2.0-only
#include "analysis/catalog.h"

#include <fnmatch.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "cli_args.h"
#include "read_file.h"
#include "results/bundle.h"
#include "zlib_inflate.h"

namespace kperflab::catalog {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Bumped when the tables change: an older catalog is rebuilt.
constexpr int kSchemaVersion = 1;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS bundles(
  path TEXT PRIMARY KEY, mtime INTEGER, host TEXT, release TEXT, config_sha TEXT,
  boot_id TEXT, started TEXT, status TEXT, error TEXT);
CREATE TABLE IF NOT EXISTS tags(path TEXT, tag TEXT);
CREATE INDEX IF NOT EXISTS tags_tag ON tags(tag);
CREATE TABLE IF NOT EXISTS probes(path TEXT, probe TEXT, status TEXT);
CREATE TABLE IF NOT EXISTS kconfig(config_sha TEXT, key TEXT, value TEXT,
  PRIMARY KEY(config_sha, key));
)sql";

}  // namespace

struct Catalog::Db {
  sqlite3* h = nullptr;
  ~Db() {
    if (h) sqlite3_close(h);
  }
  void exec(const std::string& sql) {
    char* msg = nullptr;
    if (sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string m = msg ? msg : "?";
      sqlite3_free(msg);
      throw std::runtime_error("catalog: " + m + " (in: " + sql.substr(0, 60) + ")");
    }
  }
};

namespace {

// A prepared statement, bound by position, stepped row by row.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("catalog: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  bool row() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("catalog: ") + sqlite3_errmsg(db_));
    return false;
  }
  void run() {
    row();
    reset();
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string text(int col) const {
    auto* p = sqlite3_column_text(s_, col);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

int64_t mtime_ns(const fs::path& p) {
  auto t = fs::last_write_time(p).time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t).count();
}

std::string str_at(const json& j, std::initializer_list<const char*> keys) {
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object() || !cur->contains(k)) return "";
    cur = &(*cur)[k];
  }
  return cur->is_string() ? cur->get<std::string>() : "";
}

// "CONFIG_X=v" and "# CONFIG_X is not set" lines.
std::map<std::string, std::string> parse_kconfig(const std::string& text) {
  std::map<std::string, std::string> m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CONFIG_", 0) == 0) {
      auto eq = line.find('=');
      if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
    } else if (line.rfind("# CONFIG_", 0) == 0 && line.size() > 13 &&
               line.compare(line.size() - 11, 11, " is not set") == 0) {
      m[line.substr(2, line.size() - 13)] = "n";
    }
  }
  return m;
}

std::string unquote(std::string v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

}  // namespace

bool is_selector(const std::string& arg) {
  static const std::set<std::string> keys = {"tag", "kernel", "host", "config", "probe", "boot"};
  std::stringstream ss(arg);
  std::string term;
  bool any = false;
  while (std::getline(ss, term, '+')) {
    auto c = term.find(':');
    if (c == std::string::npos || !keys.count(term.substr(0, c))) return false;
    any = true;
  }
  return any;
}

Catalog::Catalog(const fs::path& runs_root, bool rebuild) : root_(runs_root), db_(new Db) {
  std::error_code ec;
  if (!fs::is_directory(root_, ec))
    throw std::invalid_argument("no runs directory " + root_.string() +
                                " (kperflab run writes bundles there; --runs-dir names another)");
  fs::path file = db_path();
  bool writable = access(root_.c_str(), W_OK) == 0 &&
                  (!fs::exists(file, ec) || access(file.c_str(), W_OK) == 0);
  stats_.in_memory = !writable;
  int rc = sqlite3_open_v2(writable ? file.c_str() : ":memory:", &db_->h,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) throw std::runtime_error("catalog: cannot open " + file.string());
  sqlite3_busy_timeout(db_->h, 10000);
  // A corrupt or foreign file: start over (the bundles are the truth).
  bool ok = true;
  try {
    db_->exec(kSchema);
    Stmt v(db_->h, "SELECT value FROM info WHERE key='schema'");
    std::string ver = v.row() ? v.text(0) : "";
    if (ver != std::to_string(kSchemaVersion)) rebuild = true;
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok) {
    sqlite3_close(db_->h);
    db_->h = nullptr;
    fs::remove(file, ec);
    if (sqlite3_open_v2(file.c_str(), &db_->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK)
      throw std::runtime_error("catalog: cannot recreate " + file.string());
    sqlite3_busy_timeout(db_->h, 10000);
    db_->exec(kSchema);
    rebuild = true;
  }
  sync(rebuild);
}

Catalog::~Catalog() = default;

void Catalog::sync(bool rebuild) {
  Db& d = *db_;
  d.exec("BEGIN IMMEDIATE");
  try {
    if (rebuild) {
      d.exec("DELETE FROM bundles; DELETE FROM tags; DELETE FROM probes; DELETE FROM kconfig;");
      Stmt s(d.h, "INSERT OR REPLACE INTO info(key, value) VALUES('schema', ?)");
      s.bind(1, std::to_string(kSchemaVersion)).run();
      stats_.rebuilt = true;
    }
    std::map<std::string, int64_t> known;
    {
      Stmt s(d.h, "SELECT path, mtime FROM bundles");
      while (s.row()) known[s.text(0)] = s.integer(1);
    }
    std::set<std::string> seen;
    Stmt del_b(d.h, "DELETE FROM bundles WHERE path=?");
    Stmt del_t(d.h, "DELETE FROM tags WHERE path=?");
    Stmt del_p(d.h, "DELETE FROM probes WHERE path=?");
    Stmt ins_b(d.h,
               "INSERT INTO bundles(path, mtime, host, release, config_sha, boot_id, started, "
               "status, error) VALUES(?,?,?,?,?,?,?,?,?)");
    Stmt ins_t(d.h, "INSERT INTO tags(path, tag) VALUES(?,?)");
    Stmt ins_p(d.h, "INSERT INTO probes(path, probe, status) VALUES(?,?,?)");
    Stmt has_cfg(d.h, "SELECT value FROM kconfig WHERE config_sha=? AND key='__source'");
    Stmt del_c(d.h, "DELETE FROM kconfig WHERE config_sha=?");
    Stmt ins_c(d.h, "INSERT OR IGNORE INTO kconfig(config_sha, key, value) VALUES(?,?,?)");
    auto forget = [&](const std::string& rel) {
      del_b.bind(1, rel).run();
      del_t.bind(1, rel).run();
      del_p.bind(1, rel).run();
    };
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root_, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (!it->is_regular_file(ec) || it->path().filename() != "meta.json") continue;
      fs::path dir = it->path().parent_path();
      // A bundle still being written lives in a temporary directory
      // (results/bundle.cpp renames it into place): skip hidden ones.
      if (dir.filename().string().rfind('.', 0) == 0) continue;
      std::string rel = fs::relative(dir, root_).string();
      seen.insert(rel);
      int64_t mt = mtime_ns(it->path());
      auto k = known.find(rel);
      if (k != known.end() && k->second == mt) continue;
      if (k != known.end()) forget(rel), ++stats_.updated;
      else ++stats_.added;
      std::string host, release, sha, boot, started, status, error;
      json meta;
      try {
        meta = read_json(it->path(), limits::kMetaFile);  // bounded (src/read_file.h)
        if (!meta.is_object() || str_at(meta, {"schema"}).rfind("kperflab.meta/", 0) != 0)
          throw std::runtime_error("not a kperflab meta.json");
        host = str_at(meta, {"host", "hostname"});
        release = str_at(meta, {"kernel", "release"});
        sha = str_at(meta, {"kernel", "config", "sha256"});
        boot = str_at(meta, {"kernel", "boot_id"});
        started = str_at(meta, {"started"});
        status = str_at(meta, {"status"});
      } catch (const std::exception& e) {
        error = e.what();
        ++stats_.unreadable;
      }
      ins_b.bind(1, rel).bind(2, mt).bind(3, host).bind(4, release).bind(5, sha).bind(6, boot)
          .bind(7, started).bind(8, status).bind(9, error).run();
      if (!error.empty()) continue;
      if (meta.contains("tags") && meta["tags"].is_array())
        for (auto& t : meta["tags"])
          if (t.is_string()) ins_t.bind(1, rel).bind(2, t.get<std::string>()).run();
      if (meta.contains("probes") && meta["probes"].is_object())
        for (auto& [name, p] : meta["probes"].items())
          ins_p.bind(1, rel).bind(2, name).bind(3, str_at(p, {"status"})).run();
      // The kernel config once per config hash: the full kconfig.gz when the
      // bundle has it, else the options meta.json selected.
      std::string key = sha.empty() ? "bundle:" + rel : sha;
      // Stored from meta's options only, and this bundle has the full
      // kconfig.gz: replace them.
      std::string source;
      if (has_cfg.bind(1, key).row()) source = has_cfg.text(0);
      has_cfg.reset();
      fs::path kc = dir / "kconfig.gz";
      bool full = fs::exists(kc, ec);
      if (source == "kconfig.gz" || (!source.empty() && !full)) continue;
      std::map<std::string, std::string> opts;
      if (full) try {
          opts = parse_kconfig(inflate_all(read_file(kc, 16u << 20, "a kconfig.gz"), 15 + 32,
                                           64u << 20));
        } catch (const std::exception&) {
          opts.clear();
        }
      std::string from = opts.empty() ? "meta" : "kconfig.gz";
      if (!source.empty() && from == "meta") continue;
      if (!source.empty()) del_c.bind(1, key).run();
      if (opts.empty() && meta.contains("kernel") && meta["kernel"].contains("config") &&
          meta["kernel"]["config"].contains("options"))
        for (auto& [o, v] : meta["kernel"]["config"]["options"].items())
          opts[o] = v.is_string() ? v.get<std::string>() : "n";
      opts["__source"] = from;
      for (auto& [o, v] : opts) ins_c.bind(1, key).bind(2, o).bind(3, unquote(v)).run();
    }
    for (auto& [rel, mt] : known)
      if (!seen.count(rel)) forget(rel), ++stats_.removed;
    {
      Stmt n(d.h, "SELECT COUNT(*) FROM bundles");
      stats_.bundles = n.row() ? static_cast<size_t>(n.integer(0)) : 0;
    }
    d.exec("COMMIT");
  } catch (...) {
    sqlite3_exec(d.h, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

namespace {

Entry entry_of(sqlite3* db, Stmt& s) {
  Entry e;
  e.path = s.text(0);
  e.host = s.text(1);
  e.release = s.text(2);
  e.config_sha = s.text(3);
  e.boot_id = s.text(4);
  e.started = s.text(5);
  e.status = s.text(6);
  e.error = s.text(7);
  Stmt t(db, "SELECT tag FROM tags WHERE path=? ORDER BY tag");
  t.bind(1, e.path);
  while (t.row()) e.tags.push_back(t.text(0));
  return e;
}

const char* kColumns = "path, host, release, config_sha, boot_id, started, status, error";

}  // namespace

std::vector<Entry> Catalog::all() const {
  std::vector<Entry> out;
  Stmt s(db_->h, std::string("SELECT ") + kColumns + " FROM bundles ORDER BY started, path");
  while (s.row()) out.push_back(entry_of(db_->h, s));
  return out;
}

std::vector<Entry> Catalog::select(const std::string& selector) const {
  if (!is_selector(selector))
    throw std::invalid_argument("'" + selector +
                                "' is not a selector (tag:, kernel:, host:, config:, probe:, "
                                "boot: terms joined by '+')");
  std::string where = "error = ''";
  std::vector<std::string> binds;
  std::stringstream ss(selector);
  std::string term;
  struct Glob {
    std::string column, pattern;
  };
  std::vector<Glob> globs;
  while (std::getline(ss, term, '+')) {
    auto c = term.find(':');
    std::string key = term.substr(0, c), val = term.substr(c + 1);
    if (val.empty()) throw std::invalid_argument("selector term '" + term + "' has no value");
    if (key == "tag") {
      where += " AND path IN (SELECT path FROM tags WHERE tag = ?)";
      binds.push_back(val);
    } else if (key == "kernel") {
      globs.push_back({"release", val});
    } else if (key == "host") {
      globs.push_back({"host", val});
    } else if (key == "boot") {
      where += " AND boot_id LIKE ? || '%'";
      binds.push_back(val);
    } else if (key == "probe") {
      where += " AND path IN (SELECT path FROM probes WHERE probe = ? AND status IN "
               "('complete', 'partial'))";
      binds.push_back(val);
    } else if (key == "config") {
      auto eq = val.find('=');
      if (eq == std::string::npos || eq == 0)
        throw std::invalid_argument("selector term '" + term + "': expected config:OPTION=VALUE");
      std::string opt = val.substr(0, eq), v = unquote(val.substr(eq + 1));
      if (opt.rfind("CONFIG_", 0) != 0) opt = "CONFIG_" + opt;
      // config_sha '' (no hash): the bundle's own entry, "bundle:<path>".
      std::string cfg =
          "(CASE WHEN bundles.config_sha = '' THEN 'bundle:' || bundles.path ELSE "
          "bundles.config_sha END)";
      if (v == "n")
        where += " AND NOT EXISTS (SELECT 1 FROM kconfig k WHERE k.config_sha = " + cfg +
                 " AND k.key = ? AND k.value != 'n')";
      else
        where += " AND EXISTS (SELECT 1 FROM kconfig k WHERE k.config_sha = " + cfg +
                 " AND k.key = ? AND k.value = ?)";
      binds.push_back(opt);
      if (v != "n") binds.push_back(v);
    }
  }
  Stmt s(db_->h, std::string("SELECT ") + kColumns + " FROM bundles WHERE " + where +
                     " ORDER BY started, path");
  for (size_t i = 0; i < binds.size(); ++i) s.bind(static_cast<int>(i + 1), binds[i]);
  std::vector<Entry> out;
  while (s.row()) {
    Entry e = entry_of(db_->h, s);
    bool ok = true;
    for (auto& g : globs) {
      const std::string& v = g.column == "release" ? e.release : e.host;
      if (fnmatch(g.pattern.c_str(), v.c_str(), 0) != 0) ok = false;
    }
    if (ok) out.push_back(std::move(e));
  }
  return out;
}

int catalog_main(const std::vector<std::string>& args) {
  std::string runs = "results/runs";
  std::vector<std::string> selectors;
  bool rebuild = false, paths_only = false;
  CLI::App app("Lists the bundles of the results catalog, all or those a selector matches.",
               "kperflab catalog");
  app.add_option("--runs-dir", runs, "the runs root (default results/runs)")->type_name("DIR");
  app.add_flag("--rebuild", rebuild, "index every bundle again from its files");
  app.add_flag("--paths", paths_only, "print only the bundle directories");
  app.add_option("selector", selectors,
                 "tag:NAME, kernel:GLOB, host:GLOB, config:OPTION=VALUE, probe:NAME, boot:ID; "
                 "terms joined by '+' must all hold");
  cli::setup(app,
             "The catalog is results/runs/catalog.sqlite, synced with the bundle files on every\n"
             "use; compare takes the same selectors as sides, e.g.\n"
             "  kperflab compare tag:base tag:no-hz-full\n");
  cli::parse(app, args);
  Catalog cat(runs, rebuild);
  const auto& st = cat.sync_stats();
  if (!paths_only)
    std::printf("# catalog %s: %zu bundles (%s%zu added, %zu updated, %zu removed, %zu unreadable)%s\n",
                cat.db_path().c_str(), st.bundles, st.rebuilt ? "rebuilt; " : "", st.added,
                st.updated, st.removed, st.unreadable,
                st.in_memory ? " [runs dir not writable: index kept in memory]" : "");
  std::vector<std::vector<Entry>> lists;
  if (selectors.empty()) lists.push_back(cat.all());
  for (auto& s : selectors) lists.push_back(cat.select(s));
  for (size_t i = 0; i < lists.size(); ++i) {
    if (!selectors.empty() && !paths_only)
      std::printf("%s: %zu bundles\n", selectors[i].c_str(), lists[i].size());
    for (auto& e : lists[i]) {
      std::string p = (cat.root() / e.path).string();
      if (paths_only) {
        std::printf("%s\n", p.c_str());
        continue;
      }
      std::string tags;
      for (auto& t : e.tags) tags += (tags.empty() ? "" : ",") + t;
      if (!e.error.empty())
        std::printf("  %s  UNREADABLE: %s\n", p.c_str(), e.error.c_str());
      else
        std::printf("  %s  %s %s boot=%.8s %s%s%s\n", p.c_str(), e.host.c_str(), e.release.c_str(),
                    e.boot_id.c_str(), e.status.c_str(), tags.empty() ? "" : " tags=",
                    tags.c_str());
    }
  }
  return 0;
}

}  // namespace kperflab::catalog
