// SPDX-License-Identifier: GPL-2.0-only
// The results catalog (analysis/catalog.h): selectors over synthetic
// bundles, sync with the files (added, changed, removed, unreadable), a
// rebuild from a missing or corrupt database, and compare sides by selector.
#include <gtest/gtest.h>
#include <zlib.h>

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

}  // namespace
