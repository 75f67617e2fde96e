// SPDX-License-Identifier: GPL-2.0-only
// Golden-file check for the report tests: got must equal tests/golden/NAME;
// KPERFLAB_UPDATE_GOLDEN=1 rewrites the file instead (review the diff).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kperflab::testing {

inline void golden(const std::string& name, const std::string& got) {
  std::filesystem::path f = std::filesystem::path(KPERFLAB_GOLDEN) / name;
  if (std::getenv("KPERFLAB_UPDATE_GOLDEN")) {
    std::ofstream(f) << got;
    return;
  }
  std::ifstream in(f);
  ASSERT_TRUE(in) << "golden file missing: " << f << " (KPERFLAB_UPDATE_GOLDEN=1 makes it)";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), got) << "output differs from " << f;
}

}  // namespace kperflab::testing
