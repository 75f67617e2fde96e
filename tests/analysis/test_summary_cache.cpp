// SPDX-License-Identifier: GPL-2.0-only
// The catalog's summary cache (analysis/summary_cache.h, issue #30): a
// summary read back is the one Bundle::load made, a changed bundle is
// checked again, a copy or a touch is recognised by content, and a damaged
// cache costs time, never a wrong number.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "analysis/catalog.h"
#include "analysis/compare.h"
#include "analysis/summary_cache.h"
#include "analysis/summary_codec.h"
#include "synth.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
using kperflab::BundleSummary;
using kperflab::catalog::BundleIdentity;
using kperflab::catalog::SummaryCache;
using kperflab::compare::Side;
using kperflab::testing::SynthSpec;

namespace {

fs::path write(const fs::path& dir, uint64_t seed, double scale = 1.0) {
  SynthSpec s;
  s.metrics = 3;
  s.repetitions = 4;
  s.samples = 200;
  s.seed = seed;
  s.scale = scale;
  s.boot_id = "boot" + std::to_string(seed);
  s.matrix = 5.0;
  s.overflow_samples = seed % 2;
  return kperflab::testing::write_synth_bundle(dir, s);
}

// The bundle's files replaced in place by another bundle's (same directory).
void rewrite(const fs::path& dir, uint64_t seed, double scale) {
  fs::path other = dir.parent_path() / ("new-" + std::to_string(seed));
  write(other, seed, scale);
  for (auto& e : fs::directory_iterator(other))
    fs::copy_file(e.path(), dir / e.path().filename(), fs::copy_options::overwrite_existing);
  fs::remove_all(other);
}

bool same_number(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void expect_same(const BundleSummary& a, const BundleSummary& b, bool histograms) {
  EXPECT_EQ(a.meta, b.meta);
  ASSERT_EQ(a.probes.size(), b.probes.size());
  for (auto& [name, p] : a.probes) {
    const auto& q = b.probes.at(name);
    EXPECT_EQ(p.parameters, q.parameters);
    EXPECT_EQ(p.names, q.names);
    ASSERT_EQ(p.infos.size(), q.infos.size());
    for (size_t i = 0; i < p.infos.size(); ++i) {
      EXPECT_EQ(p.infos[i]->histogram, q.infos[i]->histogram);
      EXPECT_EQ(p.infos[i]->unit, q.infos[i]->unit);
      EXPECT_EQ(p.infos[i]->labels, q.infos[i]->labels);
      EXPECT_EQ(p.infos[i]->better, q.infos[i]->better);
    }
    if (histograms) {
      EXPECT_EQ(p.hist_text, q.hist_text);
    }
    ASSERT_EQ(p.reps.size(), q.reps.size());
    for (size_t r = 0; r < p.reps.size(); ++r) {
      ASSERT_EQ(p.reps[r].metrics.size(), q.reps[r].metrics.size());
      for (size_t m = 0; m < p.reps[r].metrics.size(); ++m) {
        auto &x = p.reps[r].metrics[m], &y = q.reps[r].metrics[m];
        for (size_t k = 0; k < x.stat.size(); ++k) EXPECT_TRUE(same_number(x.stat[k], y.stat[k]));
        EXPECT_EQ(x.count, y.count);
        EXPECT_EQ(x.name, y.name);
        EXPECT_EQ(x.info, y.info);
        EXPECT_EQ(x.overflow, y.overflow);
        if (histograms) {
          EXPECT_EQ(p.hist(x), q.hist(y));
        }
      }
      ASSERT_EQ(p.reps[r].matrices.size(), q.reps[r].matrices.size());
      for (size_t m = 0; m < p.reps[r].matrices.size(); ++m) {
        EXPECT_EQ(p.reps[r].matrices[m].rows, q.reps[r].matrices[m].rows);
        auto &x = p.reps[r].matrices[m].values, &y = q.reps[r].matrices[m].values;
        ASSERT_EQ(x.size(), y.size());
        for (size_t k = 0; k < x.size(); ++k) EXPECT_TRUE(same_number(x[k], y[k]));
      }
    }
  }
}

void sql(const fs::path& db, const std::string& q) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(h, q.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(h);
}

// Makes every stored entry old enough not to be racy (the files are older
// than when they were checked by more than kRacyNs).
void age(const fs::path& db) { sql(db, "UPDATE summaries SET checked_ns = 9000000000000000000"); }

kperflab::compare::LoadOptions cached(const fs::path& runs, bool hist = false) {
  return {runs, hist};
}

}  // namespace

TEST(SummaryCodec, RoundTripsEveryFieldWithAndWithoutHistograms) {
  kperflab::testing::TmpDir tmp;
  for (uint64_t seed : {1, 2}) {
    fs::path dir = write(tmp.path / std::to_string(seed), seed);
    BundleSummary s = BundleSummary::load(dir);
    auto blobs = kperflab::summary_codec::encode(s);
    EXPECT_GT(blobs.histograms.size(), 0u);
    expect_same(s, kperflab::summary_codec::decode(blobs.summary, blobs.histograms, dir, true), true);
    BundleSummary bare = kperflab::summary_codec::decode(blobs.summary, "", dir, false);
    expect_same(s, bare, false);
    EXPECT_FALSE(bare.histograms);
    EXPECT_LT(bare.bytes, s.bytes);
    const auto& p = bare.probes.begin()->second;
    const kperflab::MetricValues* hist = nullptr;
    for (auto& m : p.reps[0].metrics)
      if (p.info(m).histogram) hist = &m;
    ASSERT_NE(hist, nullptr);
    EXPECT_THROW(p.hist(*hist), std::logic_error);
  }
}

TEST(SummaryCodec, RefusesDamagedBlobs) {
  kperflab::testing::TmpDir tmp;
  fs::path dir = write(tmp.path / "b", 3);
  auto blobs = kperflab::summary_codec::encode(BundleSummary::load(dir));
  using kperflab::summary_codec::SummaryCodecError;
  using kperflab::summary_codec::decode;
  const std::string& s = blobs.summary;
  EXPECT_THROW(decode("", "", dir, false), SummaryCodecError);
  EXPECT_THROW(decode(s.substr(0, s.size() - 1), "", dir, false), SummaryCodecError);
  for (size_t at : {size_t{5}, size_t{20}, s.size() / 2, s.size() - 1}) {
    std::string bad = s;
    bad[at] = static_cast<char>(bad[at] ^ 0x40);
    EXPECT_THROW(decode(bad, "", dir, false), SummaryCodecError) << "byte " << at;
  }
  EXPECT_THROW(decode(s, blobs.histograms.substr(1), dir, true), SummaryCodecError);
  EXPECT_THROW(decode(s, blobs.histograms + "x", dir, true), SummaryCodecError);
}

TEST(SummaryCache, ASecondLoadReadsTheCacheAndComparesTheSame) {
  kperflab::testing::TmpDir tmp;
  fs::path runs = tmp.path / "runs";
  for (int i = 0; i < 4; ++i) write(runs / "a" / std::to_string(i), 10 + i);
  for (int i = 0; i < 4; ++i) write(runs / "b" / std::to_string(i), 20 + i, 1.2);
  Side a0 = Side::load_dirs({runs / "a" / "0", runs / "a" / "1", runs / "a" / "2", runs / "a" / "3"},
                            "a", cached(runs));
  EXPECT_EQ(a0.loaded.checked, 4u);
  EXPECT_EQ(a0.loaded.cached, 0u);
  EXPECT_EQ(a0.loaded.cache_problem, "");
  age(runs / "catalog.sqlite");
  auto a1 = kperflab::compare::SideSource::find((runs / "a").string(), runs).load(false);
  EXPECT_EQ(a1.loaded.cached, 4u);
  EXPECT_EQ(a1.loaded.checked, 0u);
  for (size_t i = 0; i < 4; ++i) expect_same(a0.bundles[i], a1.bundles[i], false);
  // The same verdicts from summaries read back as from the bundles.
  Side b = Side::load(runs / "b"), a = Side::load(runs / "a");
  auto direct = kperflab::compare::compare(a, b, {});
  auto back = kperflab::compare::compare(a1, b, {});
  ASSERT_EQ(direct.rows.size(), back.rows.size());
  for (size_t i = 0; i < direct.rows.size(); ++i) {
    EXPECT_EQ(direct.rows[i].metric, back.rows[i].metric);
    EXPECT_EQ(direct.rows[i].verdict, back.rows[i].verdict);
    EXPECT_DOUBLE_EQ(direct.rows[i].change, back.rows[i].change);
    EXPECT_DOUBLE_EQ(direct.rows[i].p, back.rows[i].p);
  }
  // Histograms when a plot needs them: from the cache too.
  Side h = Side::load_dirs({runs / "a" / "0"}, "a0", cached(runs, true));
  EXPECT_EQ(h.loaded.cached, 1u);
  EXPECT_TRUE(h.bundles[0].histograms);
  expect_same(a.bundles[0], h.bundles[0], true);
}

TEST(SummaryCache, AChangedBundleIsCheckedAgainAndATouchIsNot) {
  kperflab::testing::TmpDir tmp;
  fs::path runs = tmp.path / "runs", dir = runs / "x";
  write(dir, 5);
  fs::path db = runs / "catalog.sqlite";
  auto load = [&] { return Side::load_dirs({dir}, "x", cached(runs)); };
  EXPECT_EQ(load().loaded.checked, 1u);
  age(db);
  EXPECT_EQ(load().loaded.cached, 1u);
  // A touch: new times, same bytes: recognised by content, not checked.
  ASSERT_EQ(utimensat(AT_FDCWD, (dir / "meta.json").c_str(), nullptr, 0), 0);
  Side t = load();
  EXPECT_EQ(t.loaded.cached, 1u);
  // Rewritten with other numbers: checked again, the new numbers seen.
  rewrite(dir, 6, 3.0);
  Side c = load();
  EXPECT_EQ(c.loaded.checked, 1u);
  expect_same(BundleSummary::load(dir), c.bundles[0], false);
  // A damaged blob: checked again, stored over.
  age(db);
  sql(db, "UPDATE summaries SET summary = substr(summary, 1, 40)");
  EXPECT_EQ(load().loaded.checked, 1u);
  age(db);
  EXPECT_EQ(load().loaded.cached, 1u);
  // Another format: checked again.
  sql(db, "UPDATE summaries SET format = format + 1");
  EXPECT_EQ(load().loaded.checked, 1u);
}

// Files changed within kRacyNs of their check can look the same by size and
// times: such an entry is used only when its content hash still matches.
TEST(SummaryCache, ARacyEntryIsVerifiedByContent) {
  kperflab::testing::TmpDir tmp;
  fs::path runs = tmp.path / "runs", dir = runs / "x";
  write(dir, 7);
  fs::path db = runs / "catalog.sqlite";
  EXPECT_EQ(Side::load_dirs({dir}, "x", cached(runs)).loaded.checked, 1u);
  rewrite(dir, 8, 2.0);  // new bytes; then make the stored identity the new files'
  std::string now = BundleIdentity::of(dir).files;
  std::string q = "UPDATE summaries SET identity = '" + now + "', checked_ns = " +
                  std::to_string(kperflab::catalog::realtime_ns());
  sql(db, q);
  Side s = Side::load_dirs({dir}, "x", cached(runs));
  EXPECT_EQ(s.loaded.checked, 1u) << "a racy entry was trusted by its times alone";
  expect_same(BundleSummary::load(dir), s.bundles[0], false);
}

TEST(SummaryCache, WithoutAWritableRootEverythingIsChecked) {
  kperflab::testing::TmpDir tmp;
  fs::path dir = write(tmp.path / "b", 9);
  Side s = Side::load_dirs({dir}, "b", cached(tmp.path / "no-such-runs"));
  EXPECT_EQ(s.loaded.checked, 1u);
  EXPECT_EQ(s.loaded.cache_problem, "");  // no runs root: nothing to say
  if (geteuid() != 0) {
    fs::path ro = tmp.path / "ro";
    fs::create_directories(ro);
    chmod(ro.c_str(), 0555);
    Side r = Side::load_dirs({dir}, "b", cached(ro));
    EXPECT_EQ(r.loaded.checked, 1u);
    EXPECT_NE(r.loaded.cache_problem, "");
  }
  // Another program's file where the catalog would be: named, untouched.
  fs::path other = tmp.path / "other";
  fs::create_directories(other);
  sql(other / "catalog.sqlite", "CREATE TABLE people(name TEXT)");
  Side f = Side::load_dirs({dir}, "b", cached(other));
  EXPECT_EQ(f.loaded.checked, 1u);
  EXPECT_NE(f.loaded.cache_problem.find("not a kperflab catalog"), std::string::npos);
}

TEST(SummaryCache, SyncDropsTheSummariesOfRemovedBundles) {
  kperflab::testing::TmpDir tmp;
  fs::path runs = tmp.path / "runs";
  write(runs / "h" / "k" / "1", 11);
  write(runs / "h" / "k" / "2", 12);
  Side::load_dirs({runs / "h" / "k" / "1", runs / "h" / "k" / "2"}, "k", cached(runs));
  fs::remove_all(runs / "h" / "k" / "2");
  kperflab::catalog::Catalog c(runs);
  EXPECT_EQ(c.sync_stats().summaries_removed, 1u);
  EXPECT_EQ(c.sync_stats().bundles, 1u);
}

TEST(SummaryCache, TheBundleLimitCanBeLoweredNeverRaised) {
  EXPECT_EQ(kperflab::compare::max_bundles(), kperflab::compare::kMaxBundles);
  setenv("KPERFLAB_MAX_BUNDLES", "12", 1);
  EXPECT_EQ(kperflab::compare::max_bundles(), 12u);
  setenv("KPERFLAB_MAX_BUNDLES", "99999999", 1);
  EXPECT_EQ(kperflab::compare::max_bundles(), kperflab::compare::kMaxBundles);
  unsetenv("KPERFLAB_MAX_BUNDLES");
}

// A damaged catalog file (pages overwritten): loading still gives the
// bundles' own numbers, from the cache where it reads, checked otherwise.
TEST(SummaryCache, ADamagedCatalogFileNeverGivesAWrongNumber) {
  kperflab::testing::TmpDir tmp;
  fs::path runs = tmp.path / "runs";
  std::vector<fs::path> dirs;
  for (int i = 0; i < 6; ++i) dirs.push_back(write(runs / std::to_string(i), 40 + i));
  Side::load_dirs(dirs, "all", cached(runs));
  fs::path db = runs / "catalog.sqlite";
  sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  age(db);
  sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  const auto size = fs::file_size(db);
  {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    std::string junk(4096, '\x5a');
    for (size_t at = 8192; at + junk.size() < size; at += 3 * 4096) {
      f.seekp(static_cast<std::streamoff>(at));
      f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
  }
  Side s = Side::load_dirs(dirs, "all", cached(runs));
  ASSERT_EQ(s.bundles.size(), dirs.size());
  for (size_t i = 0; i < dirs.size(); ++i)
    expect_same(BundleSummary::load(dirs[i]), s.bundles[i], false);
  std::printf("damaged catalog: %zu cached, %zu checked, problem: %s\n", s.loaded.cached,
              s.loaded.checked, s.loaded.cache_problem.c_str());
}
