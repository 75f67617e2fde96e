// SPDX-License-Identifier: GPL-2.0-only
// The results catalog (analysis/catalog.h): selectors over synthetic
// bundles, sync with the files (added, changed, removed, unreadable), a
// rebuild from a missing or corrupt database, and compare sides by selector.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <zlib.h>

#include <chrono>
#include <fstream>

#include "analysis/catalog.h"
#include "analysis/compare.h"
#include "synth.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
using kperflab::catalog::Catalog;
using kperflab::testing::SynthSpec;
using nlohmann::json;

namespace {

void write_gz(const fs::path& p, const std::string& text) {
  gzFile f = gzopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
}

// runs/<host>/<release>/<name>: a small synthetic bundle with tags and a
// config hash; kconfig text (optional) goes to kconfig.gz.
fs::path bundle(const fs::path& runs, const std::string& name, const std::string& host,
                const std::string& release, std::vector<std::string> tags, const std::string& sha,
                const std::string& kconfig = "", const std::string& boot = "b00t") {
  SynthSpec s;
  s.host = host;
  s.release = release;
  s.metrics = 1;
  s.repetitions = 2;
  s.samples = 50;
  s.boot_id = boot;
  s.meta_patch = {{"kernel", {{"config", {{"sha256", sha}, {"source", "/proc/config.gz"},
                                           {"options", {{"CONFIG_HZ", "250"}, {"CONFIG_PREEMPT_RT", nullptr}}}}}}}};
  if (!tags.empty()) s.meta_patch["tags"] = tags;
  fs::path dir = runs / host / release / name;
  kperflab::testing::write_synth_bundle(dir, s);
  if (!kconfig.empty()) write_gz(dir / "kconfig.gz", kconfig);
  return dir;
}

std::vector<std::string> names(const std::vector<kperflab::catalog::Entry>& v) {
  std::vector<std::string> out;
  for (auto& e : v) out.push_back(fs::path(e.path).filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runs = tmp.path / "runs";
    bundle(runs, "a1", "srv1", "6.1.0-9-amd64", {"base"}, "aaaa",
           "CONFIG_HZ=250\n# CONFIG_NO_HZ_FULL is not set\nCONFIG_LOCALVERSION=\"x\"\n", "boot1");
    bundle(runs, "a2", "srv1", "6.1.0-9-amd64", {"base"}, "aaaa", "", "boot2");
    bundle(runs, "b1", "srv1", "6.12.3-amd64", {"nohz", "try2"}, "bbbb",
           "CONFIG_HZ=1000\nCONFIG_NO_HZ_FULL=y\n", "boot3");
    bundle(runs, "c1", "srv2", "6.12.3-amd64", {}, "");
  }
  kperflab::testing::TmpDir tmp;
  fs::path runs;
};

TEST_F(CatalogTest, SelectsByEachKindOfTerm) {
  Catalog c(runs);
  EXPECT_EQ(c.sync_stats().bundles, 4u);
  EXPECT_EQ(c.sync_stats().added, 4u);
  EXPECT_EQ(names(c.select("tag:base")), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(names(c.select("tag:nohz")), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(names(c.select("kernel:6.12.*")), (std::vector<std::string>{"b1", "c1"}));
  EXPECT_EQ(names(c.select("host:srv2")), (std::vector<std::string>{"c1"}));
  EXPECT_EQ(names(c.select("kernel:6.12.*+host:srv1")), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(names(c.select("boot:boot2")), (std::vector<std::string>{"a2"}));
  EXPECT_EQ(names(c.select("probe:synth")).size(), 4u);
  EXPECT_TRUE(c.select("probe:membarrier").empty());
  // Full kconfig where the bundle has one (shared by config hash: a2 has
  // none of its own but the same hash as a1), else meta's options.
  EXPECT_EQ(names(c.select("config:NO_HZ_FULL=y")), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(names(c.select("config:CONFIG_HZ=250")), (std::vector<std::string>{"a1", "a2", "c1"}));
  EXPECT_EQ(names(c.select("config:NO_HZ_FULL=n")), (std::vector<std::string>{"a1", "a2", "c1"}));
  EXPECT_EQ(names(c.select("config:LOCALVERSION=x")), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(names(c.select("config:PREEMPT_RT=n")).size(), 4u);
}

TEST_F(CatalogTest, RefusesMalformedSelectorsByName) {
  Catalog c(runs);
  EXPECT_FALSE(kperflab::catalog::is_selector("results/runs/x"));
  EXPECT_FALSE(kperflab::catalog::is_selector("colour:red"));
  EXPECT_TRUE(kperflab::catalog::is_selector("tag:a+kernel:6.1*"));
  try {
    c.select("config:HZ");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("config:OPTION=VALUE"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.select("tag:"), std::invalid_argument);
  EXPECT_THROW(Catalog(tmp.path / "nope"), std::invalid_argument);
}

TEST_F(CatalogTest, FollowsTheFiles) {
  { Catalog c(runs); }
  // New bundle, a changed tag, a removed bundle, an unreadable meta.json.
  bundle(runs, "d1", "srv1", "6.12.3-amd64", {"base"}, "bbbb");
  fs::path b1 = runs / "srv1" / "6.12.3-amd64" / "b1" / "meta.json";
  json m = json::parse(std::ifstream(b1));
  m["tags"] = {"base"};
  fs::last_write_time(b1, fs::last_write_time(b1) + std::chrono::seconds(2));
  std::ofstream(b1) << m.dump();
  fs::last_write_time(b1, fs::file_time_type::clock::now() + std::chrono::seconds(5));
  fs::remove_all(runs / "srv2");
  fs::create_directories(runs / "srv3" / "x" / "bad");
  std::ofstream(runs / "srv3" / "x" / "bad" / "meta.json") << "{ not json";
  Catalog c(runs);
  const auto& st = c.sync_stats();
  EXPECT_FALSE(st.rebuilt);
  EXPECT_EQ(st.added, 2u);
  EXPECT_EQ(st.updated, 1u);
  EXPECT_EQ(st.removed, 1u);
  EXPECT_EQ(st.unreadable, 1u);
  EXPECT_EQ(names(c.select("tag:base")), (std::vector<std::string>{"a1", "a2", "b1", "d1"}));
  EXPECT_TRUE(c.select("tag:nohz").empty());
  EXPECT_TRUE(c.select("host:srv2").empty());
  EXPECT_TRUE(c.select("host:srv3").empty());  // unreadable: listed, never selected
  bool listed = false;
  for (auto& e : c.all())
    if (!e.error.empty()) listed = true;
  EXPECT_TRUE(listed);
}

TEST_F(CatalogTest, RebuiltWhenMissingOrCorrupt) {
  { Catalog c(runs); }
  fs::path db = runs / "catalog.sqlite";
  ASSERT_TRUE(fs::exists(db));
  std::ofstream(db, std::ios::trunc) << "this is not an SQLite database, just bytes";
  {
    Catalog c(runs);
    EXPECT_TRUE(c.sync_stats().rebuilt);
    EXPECT_EQ(names(c.select("tag:base")), (std::vector<std::string>{"a1", "a2"}));
  }
  fs::remove(db);
  Catalog c(runs);
  EXPECT_TRUE(c.sync_stats().rebuilt);
  EXPECT_EQ(c.sync_stats().bundles, 4u);
}

TEST_F(CatalogTest, CompareSidesBySelector) {
  auto base = kperflab::compare::Side::select("tag:base", runs);
  EXPECT_EQ(base.bundles.size(), 2u);
  EXPECT_NE(base.label.find("tag:base"), std::string::npos) << base.label;
  try {
    kperflab::compare::Side::select("tag:nothing", runs);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("matched no bundle"), std::string::npos) << e.what();
  }
}

// Issue #27 item 3: the catalog's file. A raw SQLite connection stands for
// another process (SQLite locks between connections of one process too).
struct RawDb {
  sqlite3* h = nullptr;
  explicit RawDb(const fs::path& f) { EXPECT_EQ(sqlite3_open(f.c_str(), &h), SQLITE_OK); }
  ~RawDb() { sqlite3_close(h); }
  int exec(const char* sql) { return sqlite3_exec(h, sql, nullptr, nullptr, nullptr); }
};

ino_t inode(const fs::path& f) {
  struct stat st {};
  EXPECT_EQ(stat(f.c_str(), &st), 0);
  return st.st_ino;
}

// (a) Another process holds the write lock: kperflab waits, then says so;
// the file is never deleted (it took "database is locked" for corruption).
TEST_F(CatalogTest, ALockedDatabaseIsWaitedForAndNeverDeleted) {
  { Catalog c(runs); }
  fs::path db = runs / "catalog.sqlite";
  ino_t before = inode(db);
  RawDb other(db);
  ASSERT_EQ(other.exec("BEGIN EXCLUSIVE; INSERT INTO info VALUES('held', 'by a test')"), SQLITE_OK);
  bundle(runs, "n1", "srv1", "6.1.0-9-amd64", {"new"}, "aaaa");  // a sync must write
  auto t0 = std::chrono::steady_clock::now();
  try {
    Catalog c(runs);
    FAIL() << "a catalog held by another process was synced";
  } catch (const std::runtime_error& e) {
    std::string w = e.what();
    EXPECT_NE(w.find("held by another process"), std::string::npos) << w;
    EXPECT_NE(w.find(db.string()), std::string::npos) << w;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_EQ(inode(db), before);
  ASSERT_EQ(other.exec("ROLLBACK"), SQLITE_OK);
  Catalog c(runs);  // the lock gone, the same file is synced
  EXPECT_EQ(names(c.select("tag:new")), (std::vector<std::string>{"n1"}));
  EXPECT_EQ(inode(db), before);
}

// (c) A sync holds the write lock in short transactions on a WAL journal:
// a selector verb reads meanwhile (it waited 10 s and failed).
TEST_F(CatalogTest, ReadersAreNotBlockedByAWriter) {
  { Catalog c(runs); }
  fs::path db = runs / "catalog.sqlite";
  RawDb writer(db);
  ASSERT_EQ(writer.exec("BEGIN IMMEDIATE; DELETE FROM tags WHERE tag = 'nohz'"), SQLITE_OK);
  auto t0 = std::chrono::steady_clock::now();
  Catalog c(runs);  // nothing changed in the files: nothing to write
  EXPECT_EQ(names(c.select("tag:nohz")), (std::vector<std::string>{"b1"}));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  writer.exec("ROLLBACK");
}

// (d) Another program's database: named with the fix, never touched, not
// even by --rebuild (it failed forever, or was filled with our tables).
TEST_F(CatalogTest, AForeignDatabaseIsNamedAndNeverTouched) {
  fs::path db = runs / "catalog.sqlite";
  {
    RawDb other(db);
    ASSERT_EQ(other.exec("CREATE TABLE people(name TEXT); INSERT INTO people VALUES('ada'); "
                         "PRAGMA user_version = 7"),
              SQLITE_OK);
  }
  ino_t before = inode(db);
  auto size = fs::file_size(db);
  for (bool rebuild : {false, true}) {
    try {
      Catalog c(runs, rebuild);
      FAIL() << "a foreign database was used (rebuild " << rebuild << ")";
    } catch (const std::invalid_argument& e) {
      std::string w = e.what();
      EXPECT_NE(w.find("not a kperflab catalog: " + db.string()), std::string::npos) << w;
      EXPECT_NE(w.find("people"), std::string::npos) << w;
      EXPECT_NE(w.find("move it away"), std::string::npos) << w;
    }
  }
  EXPECT_EQ(inode(db), before);
  EXPECT_EQ(fs::file_size(db), size);
  RawDb check(db);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(check.h, "SELECT COUNT(*) FROM sqlite_master", -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 1);  // people only: none of ours added
  sqlite3_finalize(s);
}

// Ours by its application_id but missing a column this schema reads (a
// damaged or hand-edited file): rebuilt in place, not failing every use.
TEST_F(CatalogTest, OursWithAMissingColumnIsRebuilt) {
  { Catalog c(runs); }
  {
    RawDb other(runs / "catalog.sqlite");
    ASSERT_EQ(other.exec("ALTER TABLE bundles DROP COLUMN note"), SQLITE_OK);
  }
  Catalog c(runs);
  EXPECT_TRUE(c.sync_stats().rebuilt);
  EXPECT_EQ(names(c.select("tag:base")), (std::vector<std::string>{"a1", "a2"}));
}

// (b) A kconfig.gz of millions of lines made a 586 MB catalog: options are
// kept per config hash up to a bound; past it meta.json's selection serves.
TEST_F(CatalogTest, AHugeKconfigKeepsTheCatalogSmall) {
  std::string big;
  big.reserve(3'100'000 * 17);
  for (int i = 0; i < 3'000'000; ++i) big += "CONFIG_X" + std::to_string(i) + "=y\n";
  std::string mid;  // under the inflate cap, over the option cap
  for (int i = 0; i < 100'000; ++i) mid += "CONFIG_Y" + std::to_string(i) + "=m\n";
  bundle(runs, "h1", "srv1", "6.1.0-9-amd64", {"huge"}, "hhhh", big);
  bundle(runs, "h2", "srv1", "6.1.0-9-amd64", {"mid"}, "mmmm", mid);
  big.clear();
  big.shrink_to_fit();
  { Catalog first(runs); }  // closed: its WAL is checkpointed into the file
  Catalog c(runs);
  auto bytes = fs::file_size(runs / "catalog.sqlite");
  EXPECT_LT(bytes, 1u << 20) << "catalog of " << bytes << " bytes";
  // meta.json's options still select them.
  auto hz = names(c.select("config:HZ=250"));
  EXPECT_NE(std::find(hz.begin(), hz.end(), "h1"), hz.end());
  EXPECT_NE(std::find(hz.begin(), hz.end(), "h2"), hz.end());
  EXPECT_TRUE(c.select("config:Y7=m").empty());
}

// Item 4: a tag `run --tag` refuses is not indexed from a hand-edited
// bundle; item 7: a trailing '+' is an error, '%' and '_' are literal.
TEST_F(CatalogTest, RefusedTagsAndLiteralBootPrefixes) {
  fs::path b = runs / "srv1" / "6.1.0-9-amd64" / "a1" / "meta.json";
  json m = json::parse(std::ifstream(b));
  m["tags"] = {"base", "red\u001b[31m", "a+b", "", std::string(80, 'x')};
  std::ofstream(b) << m.dump();
  fs::last_write_time(b, fs::file_time_type::clock::now() + std::chrono::seconds(5));
  Catalog c(runs);
  for (auto& e : c.all()) {
    if (fs::path(e.path).filename() == "a1") {
      EXPECT_EQ(e.tags, (std::vector<std::string>{"base"}));
    }
  }
  EXPECT_TRUE(c.select("tag:a").empty());
  EXPECT_THROW(c.select("tag:base+"), std::invalid_argument);
  EXPECT_THROW(c.select("tag:base++host:srv1"), std::invalid_argument);
  EXPECT_THROW(c.select("+tag:base"), std::invalid_argument);
  EXPECT_TRUE(kperflab::catalog::is_selector("tag:base+"));
  EXPECT_TRUE(c.select("boot:%").empty());
  EXPECT_TRUE(c.select("boot:_").empty());
  EXPECT_TRUE(c.select("boot:b%t").empty());
  EXPECT_EQ(names(c.select("boot:boot")), (std::vector<std::string>{"a1", "a2", "b1"}));
}

}  // namespace
