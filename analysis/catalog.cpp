// SPDX-License-Identifier: GPL-2.0-only
// The catalog: opening and judging its file, syncing it with the bundles,
// selecting. The file itself: analysis/catalog_db.{h,cpp}; the verb:
// cli/catalog_verb.cpp.
#include "analysis/catalog.h"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "analysis/catalog_db.h"
#include "analysis/summary_cache.h"
#include "core/read_file.h"
#include "results/bundle.h"
#include "core/zlib_inflate.h"

namespace kperflab::catalog {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace detail;

struct Catalog::Db : detail::Db {};

namespace detail {
// One bundle's rows, read from its files before the write transaction.
struct Parsed {
  std::string rel;
  int64_t mtime = 0;
  bool update = false;
  std::string host, release, sha, boot, started, status, error, note;
  std::vector<std::string> tags;
  std::vector<std::pair<std::string, std::string>> probes;
  std::string cfg_key, cfg_from;  // from: "kconfig.gz", "meta" or "" (keep what is stored)
  std::map<std::string, std::string> opts;
};

}  // namespace detail

namespace {

// Bundles indexed per write transaction: a sync holds the write lock for
// one batch at a time, never for the whole tree (issue #27 item 3c).
constexpr size_t kBatch = 32;

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

void parse_meta(const fs::path& file, Parsed& p, json& meta) {
  meta = read_json(file, limits::kMetaFile);  // bounded (core/read_file.h)
  if (!meta.is_object() || str_at(meta, {"schema"}).rfind("kperflab.meta/", 0) != 0)
    throw std::runtime_error("not a kperflab meta.json");
  p.host = str_at(meta, {"host", "hostname"});
  p.release = str_at(meta, {"kernel", "release"});
  p.sha = str_at(meta, {"kernel", "config", "sha256"});
  p.boot = str_at(meta, {"kernel", "boot_id"});
  p.started = str_at(meta, {"started"});
  p.status = str_at(meta, {"status"});
  // Text the loader would refuse makes the bundle unreadable here too.
  for (auto* t : {&p.host, &p.release, &p.sha, &p.boot, &p.started, &p.status})
    if (auto why = refused_text(*t); !why.empty()) throw std::runtime_error("a field " + why);
  // A tag `run --tag` would refuse (hand-edited) is not indexed: reported.
  if (meta.contains("tags") && meta["tags"].is_array())
    for (auto& t : meta["tags"]) {
      std::string tag = t.is_string() ? t.get<std::string>() : t.dump();
      if (auto why = tag_problem(tag); t.is_string() && why.empty())
        p.tags.push_back(tag);
      else
        p.note += (p.note.empty() ? "" : "; ") + std::string("tag not indexed: ") + why;
    }
  if (meta.contains("probes") && meta["probes"].is_object())
    for (auto& [name, pr] : meta["probes"].items())
      p.probes.emplace_back(name, str_at(pr, {"status"}));
}

// The config's options: the full kconfig.gz when the bundle has one (and
// what is stored came from meta only), else the options meta.json selected.
void parse_config(const fs::path& dir, const json& meta, const std::string& stored, Parsed& p) {
  std::error_code ec;
  fs::path kc = dir / "kconfig.gz";
  bool full = fs::exists(kc, ec);
  if (stored == "kconfig.gz" || (!stored.empty() && !full)) return;
  if (full) try {
      if (!parse_kconfig(inflate_all(read_file(kc, 16u << 20, "a kconfig.gz"), 15 + 32,
                                     kMaxKconfigBytes),
                         p.opts))
        p.note += (p.note.empty() ? "" : "; ") + std::string("kconfig.gz has more than ") +
                  std::to_string(kMaxOptions) + " options: meta.json's used";
    } catch (const std::exception&) {
      p.opts.clear();
    }
  p.cfg_from = p.opts.empty() ? "meta" : "kconfig.gz";
  if (!stored.empty() && p.cfg_from == "meta") {
    p.cfg_from.clear();
    return;
  }
  const json* opts = &meta;
  for (const char* k : {"kernel", "config", "options"})
    opts = opts && opts->is_object() && opts->contains(k) ? &(*opts)[k] : nullptr;
  if (p.opts.empty() && opts && opts->is_object())
    for (auto& [o, v] : opts->items()) {
      if (p.opts.size() >= kMaxOptions) break;
      if (o.size() <= kMaxOptionName)
        p.opts[o] = v.is_string() ? unquote(v.get<std::string>()).substr(0, kMaxOptionValue) : "n";
    }
}

}  // namespace

bool is_selector(const std::string& arg) {
  // Looks like one: a known key before the first ':'. Whether it is well
  // formed is select()'s to say, naming the term.
  static const std::set<std::string> keys = {"tag", "kernel", "host", "config", "probe", "boot"};
  auto c = arg.find(':');
  return c != std::string::npos && keys.count(arg.substr(0, c)) > 0;
}

std::vector<std::pair<std::string, std::string>> parse_selector(const std::string& selector) {
  static const std::set<std::string> keys = {"tag", "kernel", "host", "config", "probe", "boot"};
  const std::string shown = "'" + printable(selector.substr(0, 200)) + "'";
  if (!is_selector(selector))
    throw std::invalid_argument(shown + " is not a selector (tag:, kernel:, host:, config:, "
                                "probe:, boot: terms joined by '+')");
  std::vector<std::pair<std::string, std::string>> terms;
  size_t pos = 0;
  while (true) {
    size_t plus = selector.find('+', pos);
    const bool last = plus == std::string::npos;
    std::string term = selector.substr(pos, last ? std::string::npos : plus - pos);
    if (term.empty())
      throw std::invalid_argument("selector " + shown + ": an empty term (a '+' " +
                                  (pos == 0 ? "at the start" : last ? "at the end" : "after '+'") +
                                  "; terms are KEY:VALUE joined by '+')");
    auto c = term.find(':');
    std::string t = "'" + printable(term.substr(0, 200)) + "'";
    if (c == std::string::npos || !keys.count(term.substr(0, c)))
      throw std::invalid_argument("selector term " + t + ": expected KEY:VALUE with KEY one of "
                                  "tag, kernel, host, config, probe, boot");
    std::string key = term.substr(0, c), val = term.substr(c + 1);
    if (val.empty()) throw std::invalid_argument("selector term " + t + " has no value");
    if (auto why = refused_text(val, true); !why.empty())
      throw std::invalid_argument("selector term " + t + ": the value " + why);
    if (key == "config") {
      auto eq = val.find('=');
      if (eq == std::string::npos || eq == 0)
        throw std::invalid_argument("selector term " + t + ": expected config:OPTION=VALUE");
    }
    terms.emplace_back(key, val);
    if (last) break;
    pos = plus + 1;
  }
  return terms;
}

Catalog::Catalog(const fs::path& runs_root, bool rebuild) : root_(runs_root), db_(new Db) {
  open(rebuild, true);
}

Catalog::Catalog(const fs::path& runs_root, NoSync) : root_(runs_root), db_(new Db) {
  open(false, false);
}

void Catalog::open(bool rebuild, bool sync_files) {
  std::error_code ec;
  if (!fs::exists(root_, ec))
    throw std::invalid_argument("no runs directory " + printable(root_.string()) +
                                " (kperflab run writes bundles there; --runs-dir names another)");
  if (!fs::is_directory(root_, ec))
    throw std::invalid_argument("runs directory " + printable(root_.string()) +
                                " is not a directory (--runs-dir names the root of the bundles)");
  fs::path file = db_path();
  const std::string shown = printable(file.string());
  auto st = fs::symlink_status(file, ec);
  if (!ec && fs::exists(st) && !fs::is_regular_file(st))
    throw std::invalid_argument("not a kperflab catalog: " + shown +
                                " is not a regular file; move it away");
  bool writable = access(root_.c_str(), W_OK) == 0 &&
                  (!fs::exists(file, ec) || access(file.c_str(), W_OK) == 0);
  stats_.in_memory = !writable;
  try {
    open_db(*db_, writable ? file.string() : ":memory:");
    std::string why;
    Verdict v = judge(*db_, why);
    if (v == Verdict::foreign)
      throw std::invalid_argument("not a kperflab catalog: " + shown + " (" + printable(why) +
                                  "); kperflab keeps its index of " + printable(root_.string()) +
                                  " there and never deletes another program's file: move it "
                                  "away, or pass another --runs-dir");
    if (v != Verdict::ours) {
      // An older schema of ours: its tables go, the new ones come.
      db_->exec("BEGIN IMMEDIATE; DROP TABLE IF EXISTS bundles; DROP TABLE IF EXISTS tags; "
                "DROP TABLE IF EXISTS probes; DROP TABLE IF EXISTS kconfig; "
                "DROP TABLE IF EXISTS info; DROP TABLE IF EXISTS summaries; COMMIT");
      create_schema(*db_);
      rebuild = true;
    }
    if (writable) db_->exec("PRAGMA journal_mode=WAL");
    if (sync_files || rebuild || v != Verdict::ours) sync(rebuild);
  } catch (const SqlError& e) {
    if (e.busy())
      throw std::runtime_error("catalog " + shown + " is held by another process (waited " +
                               std::to_string(kBusyMs / 1000) + " s for its lock; nothing was "
                               "changed): try again when it is done");
    if (!e.corrupt() || !writable) throw std::runtime_error(shown + ": " + e.what());
    replace_corrupt(e.what());
  }
}

Catalog::~Catalog() = default;

// A corruption verdict: a new catalog is built beside the old file and
// renamed over it (the bundles are the truth); never on a lock or a
// foreign file.
void Catalog::replace_corrupt(const std::string& why) {
  fs::path file = db_path();
  fs::path fresh = file;
  fresh += ".rebuild-" + std::to_string(getpid());
  std::error_code ec;
  db_.reset(new Db);
  fs::remove(fresh, ec);
  try {
    open_db(*db_, fresh.string());
    create_schema(*db_);
    sync(true);
  } catch (...) {
    db_.reset();
    fs::remove(fresh, ec);
    throw;
  }
  db_.reset(new Db);  // closed: everything is in the file
  for (const char* x : {"-wal", "-shm", "-journal"}) {
    fs::path side = file;
    fs::remove(side += x, ec);
  }
  fs::rename(fresh, file);
  open_db(*db_, file.string());
  db_->exec("PRAGMA journal_mode=WAL");
  stats_.rebuilt = true;
  stats_.replaced = printable(why);
}

void Catalog::sync(bool rebuild) {
  Db& d = *db_;
  stats_.added = stats_.updated = stats_.removed = stats_.unreadable = stats_.notes = 0;
  if (rebuild) {
    d.exec("BEGIN IMMEDIATE; DELETE FROM bundles; DELETE FROM tags; DELETE FROM probes; "
           "DELETE FROM kconfig; DELETE FROM info; DELETE FROM summaries;");
    try {
      Stmt s(d.h, "INSERT OR REPLACE INTO info(key, value) VALUES('schema', ?)");
      s.bind(1, std::to_string(kSchemaVersion)).run();
      d.exec("COMMIT");
    } catch (...) {
      sqlite3_exec(d.h, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    stats_.rebuilt = true;
  }
  std::map<std::string, int64_t> known;
  {
    Stmt s(d.h, "SELECT path, mtime FROM bundles");
    while (s.row()) known[s.text(0)] = s.integer(1);
  }
  // What changed, from the files alone (no lock held).
  std::set<std::string> seen;
  std::vector<std::pair<fs::path, Parsed>> todo;
  std::error_code ec;
  const auto opts = fs::directory_options::skip_permission_denied;
  for (auto it = fs::recursive_directory_iterator(root_, opts, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;  // the walk ends early: nothing is taken for gone unless it is (below)
    // A bundle being written lives in a hidden directory that is renamed
    // away: never walked into (it may vanish mid-walk).
    if (it->path().filename().string().rfind('.', 0) == 0 && it->is_directory(ec)) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || it->path().filename() != "meta.json") continue;
    fs::path dir = it->path().parent_path();
    // A bundle still being written lives in a temporary directory
    // (results/bundle.cpp renames it into place): skip hidden ones.
    if (dir.filename().string().rfind('.', 0) == 0) continue;
    Parsed p;
    p.rel = fs::relative(dir, root_, ec).string();
    if (ec || p.rel.empty()) continue;
    seen.insert(p.rel);
    p.mtime = mtime_ns(it->path());
    auto k = known.find(p.rel);
    if (k != known.end() && k->second == p.mtime) continue;
    p.update = k != known.end();
    todo.emplace_back(dir, std::move(p));
  }
  for (size_t at = 0; at < todo.size(); at += kBatch)
    write_batch(todo, at, std::min(todo.size(), at + kBatch));
  // Gone: not seen by the walk and its meta.json verifiably absent (a walk
  // cut short by a directory renamed under it, as a run finishing does,
  // must not drop what it did not reach: issue #30's concurrency test).
  std::vector<std::string> gone;
  for (auto& [rel, mt] : known)
    if (!seen.count(rel) && !fs::exists(root_ / rel / "meta.json", ec) && !ec) gone.push_back(rel);
  for (size_t at = 0; at < gone.size(); at += kBatch * 8) {
    d.exec("BEGIN IMMEDIATE");
    try {
      for (size_t i = at; i < std::min(gone.size(), at + kBatch * 8); ++i) forget(gone[i]);
      d.exec("COMMIT");
    } catch (...) {
      sqlite3_exec(d.h, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    stats_.removed += std::min(gone.size(), at + kBatch * 8) - at;
  }
  prune_summaries();
  Stmt n(d.h, "SELECT COUNT(*), COALESCE(SUM(error != ''), 0) FROM bundles");
  if (n.row()) stats_.bundles = static_cast<size_t>(n.integer(0));
}

// Summaries of bundles that are gone (under the root or anywhere else a
// command loaded them from): dropped, a batch per transaction.
void Catalog::prune_summaries() {
  std::vector<std::string> gone;
  {
    Stmt s(db_->h, "SELECT dir FROM summaries");
    std::error_code ec;
    while (s.row()) {
      std::string dir = s.text(0);
      if (!fs::exists(fs::path(dir) / "meta.json", ec)) gone.push_back(dir);
    }
  }
  for (size_t at = 0; at < gone.size(); at += kBatch * 8) {
    db_->exec("BEGIN IMMEDIATE");
    try {
      Stmt del(db_->h, "DELETE FROM summaries WHERE dir=?");
      for (size_t i = at; i < std::min(gone.size(), at + kBatch * 8); ++i) del.bind(1, gone[i]).run();
      db_->exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_->h, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
  stats_.summaries_removed = gone.size();
}

void Catalog::add(const fs::path& dir) {
  std::error_code ec;
  fs::path rel = fs::relative(dir, root_, ec);
  if (ec || rel.empty() || *rel.begin() == "..")
    throw std::invalid_argument(printable(dir.string()) + " is not below " +
                                printable(root_.string()));
  std::vector<std::pair<fs::path, Parsed>> todo(1);
  todo[0].first = dir;
  todo[0].second.rel = rel.string();
  todo[0].second.mtime = mtime_ns(dir / "meta.json");
  write_batch(todo, 0, 1);
}

std::string index_bundle(const fs::path& runs_root, const fs::path& dir) {
  try {
    Catalog c(runs_root, Catalog::NoSync{});
    if (c.sync_stats().in_memory) return printable(runs_root.string()) + " is not writable";
    c.add(dir);
  } catch (const std::exception& e) {
    return printable(e.what());
  }
  std::string why;
  auto cache = SummaryCache::open(runs_root, &why);
  if (!cache) return why;
  try {
    auto s = cache->session();
    cache->load(*s, dir, false);
    s->flush();
  } catch (const std::exception& e) {
    return printable(e.what());
  }
  return cache->write_problem();
}

void Catalog::forget(const std::string& rel) {
  for (const char* t : {"bundles", "tags", "probes"}) {
    Stmt s(db_->h, std::string("DELETE FROM ") + t + " WHERE path=?");
    s.bind(1, rel).run();
  }
}

// Parses todo[from, to) without a lock, then writes them in one short
// transaction.
void Catalog::write_batch(std::vector<std::pair<fs::path, Parsed>>& todo, size_t from, size_t to) {
  Db& d = *db_;
  Stmt has_cfg(d.h, "SELECT value FROM kconfig WHERE config_sha=? AND key='__source'");
  auto stored = [&](const std::string& key) {
    std::string source;
    if (has_cfg.bind(1, key).row()) source = has_cfg.text(0);
    has_cfg.reset();
    return source;
  };
  for (size_t i = from; i < to; ++i) {
    auto& [dir, p] = todo[i];
    json meta;
    try {
      parse_meta(dir / "meta.json", p, meta);
      p.cfg_key = p.sha.empty() ? "bundle:" + p.rel : p.sha;
      parse_config(dir, meta, stored(p.cfg_key), p);
    } catch (const std::exception& e) {
      p.error = printable(e.what());
      p.error = p.error.empty() ? "unreadable" : p.error;
    }
  }
  d.exec("BEGIN IMMEDIATE");
  try {
    Stmt ins_b(d.h,
               "INSERT INTO bundles(path, mtime, host, release, config_sha, boot_id, started, "
               "status, error, note) VALUES(?,?,?,?,?,?,?,?,?,?)");
    Stmt ins_t(d.h, "INSERT INTO tags(path, tag) VALUES(?,?)");
    Stmt ins_p(d.h, "INSERT INTO probes(path, probe, status) VALUES(?,?,?)");
    Stmt del_c(d.h, "DELETE FROM kconfig WHERE config_sha=?");
    Stmt ins_c(d.h, "INSERT OR IGNORE INTO kconfig(config_sha, key, value) VALUES(?,?,?)");
    for (size_t i = from; i < to; ++i) {
      Parsed& p = todo[i].second;
      forget(p.rel);  // another sync may have written it meanwhile
      ++(p.update ? stats_.updated : stats_.added);
      if (!p.error.empty()) ++stats_.unreadable;
      if (!p.note.empty()) ++stats_.notes;
      ins_b.bind(1, p.rel).bind(2, p.mtime).bind(3, p.host).bind(4, p.release).bind(5, p.sha)
          .bind(6, p.boot).bind(7, p.started).bind(8, p.status).bind(9, p.error)
          .bind(10, p.note).run();
      if (!p.error.empty()) continue;
      for (auto& t : p.tags) ins_t.bind(1, p.rel).bind(2, t).run();
      for (auto& [name, status] : p.probes)
        ins_p.bind(1, p.rel).bind(2, name).bind(3, status).run();
      if (p.cfg_from.empty()) continue;
      std::string now = stored(p.cfg_key);
      if (now == "kconfig.gz" || (!now.empty() && p.cfg_from == "meta")) continue;
      if (!now.empty()) del_c.bind(1, p.cfg_key).run();
      p.opts["__source"] = p.cfg_from;
      for (auto& [o, v] : p.opts) ins_c.bind(1, p.cfg_key).bind(2, o).bind(3, v).run();
      p.opts.clear();
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
  e.note = s.text(8);
  Stmt t(db, "SELECT tag FROM tags WHERE path=? ORDER BY tag");
  t.bind(1, e.path);
  while (t.row()) e.tags.push_back(t.text(0));
  return e;
}

const char* kColumns = "path, host, release, config_sha, boot_id, started, status, error, note";

}  // namespace

std::vector<Entry> Catalog::all() const {
  std::vector<Entry> out;
  Stmt s(db_->h, std::string("SELECT ") + kColumns + " FROM bundles ORDER BY started, path");
  while (s.row()) out.push_back(entry_of(db_->h, s));
  return out;
}

std::vector<Entry> Catalog::select(const std::string& selector) const {
  std::string where = "error = ''";
  std::vector<std::string> binds;
  struct Glob {
    std::string column, pattern;
  };
  std::vector<Glob> globs;
  for (auto& [key, val] : parse_selector(selector)) {
    if (key == "tag") {
      where += " AND path IN (SELECT path FROM tags WHERE tag = ?)";
      binds.push_back(val);
    } else if (key == "kernel") {
      globs.push_back({"release", val});
    } else if (key == "host") {
      globs.push_back({"host", val});
    } else if (key == "boot") {
      // A prefix, literally: '%' and '_' in it are not wildcards.
      std::string esc;
      for (char ch : val) {
        if (ch == '%' || ch == '_' || ch == '\\') esc += '\\';
        esc += ch;
      }
      where += " AND boot_id LIKE ? || '%' ESCAPE '\\'";
      binds.push_back(esc);
    } else if (key == "probe") {
      where += " AND path IN (SELECT path FROM probes WHERE probe = ? AND status IN "
               "('complete', 'partial'))";
      binds.push_back(val);
    } else if (key == "config") {
      auto eq = val.find('=');
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

}  // namespace kperflab::catalog
