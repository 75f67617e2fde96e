// SPDX-License-Identifier: GPL-2.0-only
// The catalog's summary cache (analysis/summary_cache.h).
#define XXH_INLINE_ALL
#include "analysis/summary_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include "analysis/catalog.h"
#include "analysis/catalog_db.h"
#include "analysis/summary_codec.h"

namespace kperflab::catalog {

namespace fs = std::filesystem;
using namespace detail;

namespace {

std::mutex problem_mutex;

int64_t ns_of(const struct timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

// The key: the directory's canonical path (a bundle named two ways is one).
std::string key_of(const fs::path& dir) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  return (ec ? fs::absolute(dir) : c).string();
}

bool wanted(const char* name) {
  size_t n = std::strlen(name);
  return name[0] != '.' && n > 5 && std::strcmp(name + n - 5, ".json") == 0;
}

}  // namespace

int64_t realtime_ns() {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return ns_of(t);
}

BundleIdentity BundleIdentity::of(const fs::path& dir) {
  BundleIdentity id;
  std::vector<std::string> lines;
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return id;
  DIR* d = fdopendir(fd);
  if (!d) {
    close(fd);
    return id;
  }
  while (struct dirent* e = readdir(d)) {
    if (!wanted(e->d_name)) continue;
    struct stat st;
    if (fstatat(fd, e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
    char b[160];
    std::snprintf(b, sizeof b, " %lld %lld %lld %llu %llu\n", static_cast<long long>(st.st_size),
                  static_cast<long long>(ns_of(st.st_mtim)),
                  static_cast<long long>(ns_of(st.st_ctim)),
                  static_cast<unsigned long long>(st.st_ino),
                  static_cast<unsigned long long>(st.st_dev));
    lines.push_back(std::string(e->d_name) + b);
    id.newest_ns = std::max({id.newest_ns, ns_of(st.st_mtim), ns_of(st.st_ctim)});
  }
  closedir(d);
  std::sort(lines.begin(), lines.end());
  for (auto& l : lines) id.files += l;
  return id;
}

std::string BundleIdentity::content(const fs::path& dir) const {
  XXH3_state_t* st = XXH3_createState();
  XXH3_128bits_reset(st);
  std::vector<char> buf(1 << 16);
  bool ok = !files.empty();
  size_t at = 0;
  while (ok && at < files.size()) {
    size_t sp = files.find(' ', at), nl = files.find('\n', at);
    std::string name = files.substr(at, sp - at);
    at = nl + 1;
    int fd = open((dir / name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      ok = false;
      break;
    }
    XXH3_128bits_update(st, name.c_str(), name.size() + 1);
    uint64_t size = 0;
    for (ssize_t n; (n = read(fd, buf.data(), buf.size())) != 0;) {
      if (n < 0) {
        ok = false;
        break;
      }
      XXH3_128bits_update(st, buf.data(), static_cast<size_t>(n));
      size += static_cast<uint64_t>(n);
    }
    close(fd);
    XXH3_128bits_update(st, &size, sizeof size);
  }
  XXH128_hash_t h = XXH3_128bits_digest(st);
  XXH3_freeState(st);
  if (!ok) return "";
  char hex[40];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return hex;
}

struct SummaryCache::Pending {
  std::string dir, identity, content;
  int64_t checked_ns;
  std::string summary, histograms;  // empty summary: only the identity changed
};

struct SummaryCache::Session::Impl {
  SummaryCache& cache;
  Db db;
  std::unique_ptr<Stmt> get, get_hist;
  explicit Impl(SummaryCache& c) : cache(c) {
    open_db(db, c.file_.string());
    get = std::make_unique<Stmt>(db.h, "SELECT identity, content, checked_ns, format, summary "
                                       "FROM summaries WHERE dir=?");
    get_hist = std::make_unique<Stmt>(db.h, "SELECT histograms FROM summaries WHERE dir=?");
  }
  void note(const std::string& what) {
    std::lock_guard<std::mutex> g(problem_mutex);
    if (!cache.has_problem_.exchange(true)) cache.problem_ = what;
  }
};

SummaryCache::Session::Session(SummaryCache& c) : impl_(new Impl(c)) {}

SummaryCache::Session::~Session() {
  try {
    flush();
  } catch (...) {
  }
}

std::optional<BundleSummary> SummaryCache::Session::find(const fs::path& dir, bool histograms) {
  Impl& m = *impl_;
  const std::string key = key_of(dir);
  std::string identity, content, blob;
  int64_t checked = 0, format = 0;
  try {
    m.get->bind(1, key);
    bool found = m.get->row();
    if (found) {
      identity = m.get->text(0);
      content = m.get->text(1);
      checked = m.get->integer(2);
      format = m.get->integer(3);
      blob = m.get->blob(4);
    }
    m.get->reset();
    if (!found || format != summary_codec::kSummaryFormat) return std::nullopt;
  } catch (const SqlError& e) {
    m.get->reset();
    m.note(e.what());
    return std::nullopt;
  }
  BundleIdentity now = BundleIdentity::of(dir);
  if (now.files.empty()) return std::nullopt;
  const int64_t at = realtime_ns();
  bool same = now.files == identity && now.newest_ns < checked - kRacyNs;
  bool rehashed = false;
  if (!same) {
    if (content.empty() || now.content(dir) != content) return std::nullopt;
    rehashed = now.files != identity;
    same = true;
  }
  std::string hists;
  if (histograms) try {
      m.get_hist->bind(1, key);
      if (m.get_hist->row()) hists = m.get_hist->blob(0);
      m.get_hist->reset();
    } catch (const SqlError& e) {
      m.get_hist->reset();
      m.note(e.what());
      return std::nullopt;
    }
  try {
    BundleSummary s = summary_codec::decode(blob, hists, dir, histograms);
    if (now.files != identity || checked < now.newest_ns + kRacyNs)
      m.cache.enqueue({key, now.files, content, at, "", ""}, *this);  // verified by content now
    ++m.cache.stats_.hits;
    if (rehashed) ++m.cache.stats_.rehashed;
    return s;
  } catch (const summary_codec::SummaryCodecError&) {
    return std::nullopt;  // checked again, and stored over
  }
}

void SummaryCache::Session::put(const fs::path& dir, const BundleIdentity& before,
                                int64_t checked_ns, const BundleSummary& s) {
  Impl& m = *impl_;
  std::string content = before.content(dir);
  // The files read must be the ones identified: a bundle rewritten while it
  // was loaded is not stored (the next command checks it again).
  if (content.empty() || before.files.empty() || BundleIdentity::of(dir).files != before.files) {
    ++m.cache.stats_.not_stored;
    return;
  }
  summary_codec::Blobs b = summary_codec::encode(s);
  m.cache.enqueue({key_of(dir), before.files, content, checked_ns, std::move(b.summary),
                   std::move(b.histograms)},
                  *this);
}

// The summaries to write, from every session of this cache: one thread
// writes a batch while the others go on loading (a second writer would only
// wait for SQLite's lock).
void SummaryCache::enqueue(Pending p, Session& s) {
  size_t queued;
  {
    std::lock_guard<std::mutex> g(queue_m_);
    queue_.push_back(std::move(p));
    queued = queue_.size();
  }
  if (queued >= kPutBatch) write_queued(s, false);
}

void SummaryCache::write_queued(Session& s, bool all) {
  std::unique_lock<std::mutex> w(write_m_, std::defer_lock);
  if (all) {
    w.lock();
  } else if (!w.try_lock()) {
    return;  // another session is writing: it takes these too
  }
  for (;;) {
    std::vector<Pending> todo;
    {
      std::lock_guard<std::mutex> g(queue_m_);
      if (queue_.empty() || (!all && queue_.size() < kPutBatch)) return;
      size_t n = std::min(queue_.size(), kPutBatch);
      todo.assign(std::make_move_iterator(queue_.begin()),
                  std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    s.write(todo);
  }
}

void SummaryCache::Session::flush() { impl_->cache.write_queued(*this, true); }

void SummaryCache::Session::write(std::vector<Pending>& todo) {
  Impl& m = *impl_;
  try {
    m.db.exec("BEGIN IMMEDIATE");
    try {
      Stmt full(m.db.h,
                "INSERT OR REPLACE INTO summaries(dir, identity, content, checked_ns, format, "
                "summary, histograms) VALUES(?,?,?,?,?,?,?)");
      Stmt ident(m.db.h, "UPDATE summaries SET identity=?, checked_ns=? WHERE dir=? AND content=?");
      for (auto& p : todo) {
        if (p.summary.empty()) {
          ident.bind(1, p.identity).bind(2, p.checked_ns).bind(3, p.dir).bind(4, p.content).run();
          continue;
        }
        full.bind(1, p.dir).bind(2, p.identity).bind(3, p.content).bind(4, p.checked_ns)
            .bind(5, int64_t{summary_codec::kSummaryFormat}).blob(6, p.summary)
            .blob(7, p.histograms).run();
        ++m.cache.stats_.stored;
      }
      m.db.exec("COMMIT");
    } catch (...) {
      sqlite3_exec(m.db.h, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  } catch (const SqlError& e) {
    m.cache.stats_.not_stored += todo.size();
    m.note(e.what());
  }
}

std::unique_ptr<SummaryCache::Session> SummaryCache::session() {
  return std::unique_ptr<Session>(new Session(*this));
}

BundleSummary SummaryCache::load(Session& s, const fs::path& dir, bool histograms) {
  if (auto hit = s.find(dir, histograms)) return std::move(*hit);
  const int64_t at = realtime_ns();
  BundleIdentity before = BundleIdentity::of(dir);
  ++stats_.checked;  // whether it passes or not
  BundleSummary b = BundleSummary::load(dir);
  s.put(dir, before, at, b);
  if (!histograms) b.drop_histograms();
  return b;
}

SummaryCache::Checked SummaryCache::check(const std::vector<fs::path>& dirs) {
  Checked out;
  std::mutex m;
  std::atomic<size_t> next{0};
  const size_t hits0 = stats_.hits, checked0 = stats_.checked;
  auto work = [&] {
    auto s = session();
    for (size_t i; (i = next.fetch_add(1)) < dirs.size();) try {
        load(*s, dirs[i], false);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> g(m);
        out.failed.emplace_back(dirs[i], printable(e.what()));
      }
  };
  unsigned n = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), dirs.size());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
  if (!dirs.empty()) work();
  for (auto& t : pool) t.join();
  std::sort(out.failed.begin(), out.failed.end());
  out.cached = stats_.hits - hits0;
  out.checked = stats_.checked - checked0;
  return out;
}

std::string SummaryCache::write_problem() const {
  std::lock_guard<std::mutex> g(problem_mutex);
  return has_problem_ ? problem_ : "";
}

SummaryCache::~SummaryCache() = default;

std::shared_ptr<SummaryCache> SummaryCache::open(const fs::path& runs_root, std::string* why) {
  auto say = [&](const std::string& w) -> std::shared_ptr<SummaryCache> {
    if (why) *why = w;
    return nullptr;
  };
  std::error_code ec;
  if (runs_root.empty() || !fs::is_directory(runs_root, ec)) return say("no runs directory");
  fs::path file = runs_root / "catalog.sqlite";
  if (access(runs_root.c_str(), W_OK) != 0 || (fs::exists(file, ec) && access(file.c_str(), W_OK) != 0))
    return say(printable(runs_root.string()) + " is not writable");
  try {
    Verdict v = Verdict::empty;
    {
      Db d;
      open_db(d, file.string());
      std::string foreign;
      v = judge(d, foreign, false);
      if (v == Verdict::foreign) return say(printable(file.string()) + " is not a kperflab catalog");
      // A new file: the tables and the WAL journal, no walk of the runs root
      // (the catalog's next use indexes the bundles).
      if (v == Verdict::empty) {
        create_schema(d);
        d.exec("PRAGMA journal_mode=WAL");
      }
    }
    // An older schema of ours: the catalog rebuilds it (and syncs).
    if (v == Verdict::older) Catalog make(runs_root);
    std::shared_ptr<SummaryCache> c(new SummaryCache);
    c->file_ = file;
    return c;
  } catch (const std::exception& e) {
    return say(printable(e.what()));
  }
}

}  // namespace kperflab::catalog
