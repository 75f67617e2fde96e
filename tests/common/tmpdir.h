// SPDX-License-Identifier: GPL-2.0-only
// A temporary directory for a test, removed with everything in it.
#pragma once

#include <stdlib.h>

#include <filesystem>

namespace kperflab::testing {

struct TmpDir {
  std::filesystem::path path;
  TmpDir() {
    char tmpl[] = "/tmp/kperflab-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TmpDir() { std::filesystem::remove_all(path); }
  TmpDir(const TmpDir&) = delete;
  TmpDir& operator=(const TmpDir&) = delete;
};

}  // namespace kperflab::testing
