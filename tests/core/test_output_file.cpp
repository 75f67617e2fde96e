// SPDX-License-Identifier: GPL-2.0-only
// compare/export -o (#12, item 5): no silent overwrite, never into a bundle,
// every write checked, no temporary file left behind.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <fstream>

#include "results/output_file.h"

namespace fs = std::filesystem;
using kperflab::write_output_file;

namespace {

struct TmpDir {
  fs::path dir;
  TmpDir() {
    std::string t = (fs::temp_directory_path() / "kpl-out-XXXXXX").string();
    dir = mkdtemp(t.data());
  }
  ~TmpDir() { fs::remove_all(dir); }
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  return {std::istreambuf_iterator<char>(f), {}};
}

void spit(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }

size_t entries(const fs::path& d) {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(d)) ++n;
  return n;
}

// A directory meta.json makes a bundle.
fs::path make_bundle(const fs::path& root) {
  fs::create_directories(root / "b");
  spit(root / "b" / "meta.json", R"({"schema": "kperflab.meta/1", "status": "complete"})");
  spit(root / "b" / "gbench.json", "probe output");
  return root / "b";
}

}  // namespace

TEST(OutputFile, WritesNewFile) {
  TmpDir t;
  write_output_file(t.dir / "r.txt", "hello\n", false, {});
  EXPECT_EQ(slurp(t.dir / "r.txt"), "hello\n");
  EXPECT_EQ(entries(t.dir), 1u);  // no temporary file left
}

TEST(OutputFile, RefusesExistingWithoutForce) {
  TmpDir t;
  spit(t.dir / "r.txt", "old");
  EXPECT_THROW(write_output_file(t.dir / "r.txt", "new", false, {}), std::invalid_argument);
  EXPECT_EQ(slurp(t.dir / "r.txt"), "old");
  write_output_file(t.dir / "r.txt", "new", true, {});
  EXPECT_EQ(slurp(t.dir / "r.txt"), "new");
  EXPECT_EQ(entries(t.dir), 1u);
}

TEST(OutputFile, NeverWritesIntoABundle) {
  TmpDir t;
  fs::path b = make_bundle(t.dir);
  for (bool force : {false, true}) {
    for (const char* f : {"gbench.json", "meta.json", "new.csv"}) {
      try {
        write_output_file(b / f, "x", force, {});
        ADD_FAILURE() << f << " written";
      } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("inside the bundle"), std::string::npos);
      }
    }
    fs::create_directories(b / "sub");
    EXPECT_THROW(write_output_file(b / "sub" / "x", "x", force, {}), std::invalid_argument);
  }
  EXPECT_EQ(slurp(b / "gbench.json"), "probe output");
  // A symbolic link into the bundle is inside it too.
  fs::create_symlink(b / "gbench.json", t.dir / "link.json");
  EXPECT_THROW(write_output_file(t.dir / "link.json", "x", true, {}), std::invalid_argument);
  EXPECT_EQ(slurp(b / "gbench.json"), "probe output");
}

TEST(OutputFile, NeverWritesIntoAnInputEvenWithoutMeta) {
  TmpDir t;
  fs::create_directories(t.dir / "in");
  EXPECT_THROW(write_output_file(t.dir / "in" / "x", "x", true, {t.dir / "in"}),
               std::invalid_argument);
  write_output_file(t.dir / "x", "x", false, {t.dir / "in"});  // beside it is fine
}

TEST(OutputFile, WriteFailureLeavesNothingAndNamesThePath) {
  TmpDir t;
  // A file size limit stands in for a full disk: write() fails with EFBIG
  // once SIGXFSZ is ignored.
  struct sigaction ign {}, old {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGXFSZ, &ign, &old);
  rlimit saved{};
  getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small{4096, saved.rlim_max};
  setrlimit(RLIMIT_FSIZE, &small);
  std::string msg;
  try {
    write_output_file(t.dir / "big.txt", std::string(1 << 20, 'x'), false, {});
  } catch (const std::runtime_error& e) {
    msg = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  sigaction(SIGXFSZ, &old, nullptr);
  EXPECT_NE(msg.find("big.txt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("File too large"), std::string::npos) << msg;
  EXPECT_EQ(entries(t.dir), 0u);  // neither the target nor the temporary file
}

TEST(OutputFile, RefusesNonRegularTargets) {
  TmpDir t;
  fs::create_directories(t.dir / "d");
  EXPECT_THROW(write_output_file(t.dir / "d", "x", true, {}), std::invalid_argument);
}
