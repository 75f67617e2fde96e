// SPDX-License-Identifier: GPL-2.0-only
// One catalog, three processes at once (issue #30): two "runs" each write
// bundles and index them as `kperflab run` does when its bundle is final
// (catalog::index_bundle: the entry and its cached summary), while a
// "compare" syncs the catalog, selects and loads both halves through the
// summary cache, and compares them, over and over. Afterwards every bundle
// is in the catalog with its summary (no entry lost), and no statement of
// any process waited a second or more for a lock (the busy handler's
// longest wait, analysis/catalog_db.h). ctest runs it 5 times in a row.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "analysis/catalog.h"
#include "analysis/catalog_db.h"
#include "analysis/compare.h"
#include "synth.h"
#include "tests/common/tmpdir.h"

namespace fs = std::filesystem;
using kperflab::testing::SynthSpec;

namespace {

constexpr int kBefore = 12, kPerRun = 16;

fs::path write(const fs::path& runs, const std::string& name, uint64_t seed) {
  SynthSpec s;
  s.metrics = 4;
  s.repetitions = 3;
  s.samples = 100;
  s.seed = seed;
  s.boot_id = name;
  return kperflab::testing::write_synth_bundle(runs / "srv" / "6.12.0-synth" / name, s);
}

// A child's end: its exit code, and its longest lock wait (ns) in a file.
[[noreturn]] void leave(const fs::path& report, int rc) {
  std::ofstream(report) << kperflab::catalog::detail::longest_lock_wait_ns() << "\n";
  _exit(rc);
}

pid_t run_child(const fs::path& runs, const std::string& who, const fs::path& report) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int rc = 0;
  for (int i = 0; i < kPerRun; ++i) {
    fs::path dir = write(runs, who + "-" + std::to_string(i), 1000 * (who == "b") + i);
    std::string why = kperflab::catalog::index_bundle(runs, dir);
    if (!why.empty()) {
      std::fprintf(stderr, "%s: index_bundle: %s\n", who.c_str(), why.c_str());
      rc = 1;
    }
  }
  leave(report, rc);
}

pid_t compare_child(const fs::path& runs, const fs::path& done, const fs::path& report) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int rc = 0, rounds = 0;
  try {
    while (!fs::exists(done) || rounds < 2) {
      kperflab::catalog::Catalog c(runs);
      auto all = c.select("host:synth-host");
      if (all.size() < static_cast<size_t>(kBefore)) throw std::runtime_error("lost the first bundles");
      std::vector<fs::path> a, b;
      for (size_t i = 0; i < all.size(); ++i) (i % 2 ? b : a).push_back(runs / all[i].path);
      auto sa = kperflab::compare::Side::load_dirs(a, "a", {runs, false});
      auto sb = kperflab::compare::Side::load_dirs(b, "b", {runs, false});
      if (!sa.loaded.cache_problem.empty()) throw std::runtime_error(sa.loaded.cache_problem);
      kperflab::compare::compare(sa, sb, {});
      ++rounds;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compare: %s\n", e.what());
    rc = 1;
  }
  std::fprintf(stderr, "compare: %d rounds\n", rounds);
  leave(report, rc);
}

int64_t waited(const fs::path& report) {
  int64_t ns = -1;
  std::ifstream(report) >> ns;
  return ns;
}

int64_t count(const fs::path& db, const char* q) {
  sqlite3* h = nullptr;
  sqlite3_open(db.c_str(), &h);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(h, q, -1, &s, nullptr);
  int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(h);
  return n;
}

}  // namespace

TEST(CatalogConcurrency, TwoRunsAndACompareLoseNothingAndWaitUnderASecond) {
  kperflab::testing::TmpDir tmp;
  fs::path runs = tmp.path / "runs";
  for (int i = 0; i < kBefore; ++i) write(runs, "old-" + std::to_string(i), 500 + i);
  kperflab::catalog::Catalog first(runs);
  ASSERT_EQ(first.sync_stats().bundles, static_cast<size_t>(kBefore));
  fs::path done = tmp.path / "done";
  pid_t cmp = compare_child(runs, done, tmp.path / "cmp.report");
  pid_t ra = run_child(runs, "a", tmp.path / "a.report");
  pid_t rb = run_child(runs, "b", tmp.path / "b.report");
  int st = 0;
  for (pid_t p : {ra, rb}) {
    ASSERT_EQ(waitpid(p, &st, 0), p);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "a run's child failed";
  }
  std::ofstream(done) << "done\n";
  ASSERT_EQ(waitpid(cmp, &st, 0), cmp);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "the compare child failed";
  // Every bundle the runs indexed is there, with its summary, before any
  // further sync.
  fs::path db = runs / "catalog.sqlite";
  const int64_t total = kBefore + 2 * kPerRun;
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM bundles WHERE error = ''"), total);
  EXPECT_EQ(count(db, "SELECT COUNT(*) FROM summaries"), total);
  for (const char* who : {"a", "b", "cmp"}) {
    int64_t ns = waited(tmp.path / (std::string(who) + ".report"));
    std::printf("%s: longest lock wait %.1f ms\n", who, static_cast<double>(ns) / 1e6);
    EXPECT_GE(ns, 0) << who << " left no report";
    EXPECT_LT(ns, 1'000'000'000) << who << " waited a second or more for the catalog's lock";
  }
}
