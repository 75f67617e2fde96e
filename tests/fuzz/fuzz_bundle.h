// SPDX-License-Identifier: GPL-2.0-only
// Fuzz inputs as bundles on disk, so the harnesses go through the same
// loader (file checks included) that `show`, `compare` and `export` use.
//
// Input format (tests/fuzz/make_seeds.py writes it from real bundles):
//   meta.json text
//   "\n--- NAME\n" then that file's bytes, for each further file
//   "\n=== bundle\n" starts the next bundle (compare: base, then candidate)
// A NAME other than [a-z0-9_.]{1,64} is dropped: the harness must not write
// outside its directory; the loader's own name checks are fuzzed through
// meta.json's probe names, which the loader turns into paths.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace kperflab::fuzz {

namespace fs = std::filesystem;

inline std::vector<std::string_view> split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> out;
  for (size_t at; (at = s.find(sep)) != std::string_view::npos;) {
    out.push_back(s.substr(0, at));
    s.remove_prefix(at + sep.size());
  }
  out.push_back(s);
  return out;
}

inline bool plain_name(std::string_view n) {
  if (n.empty() || n.size() > 64 || n == "." || n == "..") return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) return false;
  return true;
}

inline void put(const fs::path& p, std::string_view bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// Writes the bundles of one input under a per-process scratch directory
// (memory-backed when /dev/shm exists), emptied first; returns their paths.
inline std::vector<fs::path> write_bundles(const uint8_t* data, size_t size, size_t max_bundles) {
  static const fs::path root =
      (fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path()) /
      ("kperflab-fuzz-" + std::to_string(getpid()));
  std::error_code ec;
  fs::remove_all(root, ec);
  std::vector<fs::path> dirs;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (auto b : split(in, "\n=== bundle\n")) {
    if (dirs.size() == max_bundles) break;
    fs::path dir = root / ("b" + std::to_string(dirs.size()));
    fs::create_directories(dir);
    auto files = split(b, "\n--- ");
    put(dir / "meta.json", files[0]);
    for (size_t i = 1; i < files.size(); ++i) {
      auto nl = files[i].find('\n');
      if (nl == std::string_view::npos) continue;
      auto name = files[i].substr(0, nl);
      if (plain_name(name)) put(dir / std::string(name), files[i].substr(nl + 1));
    }
    dirs.push_back(dir);
  }
  return dirs;
}

// Readers print to stdout; a fuzzer's log must stay readable.
inline void silence_stdout() {
  if (!std::freopen("/dev/null", "w", stdout)) std::abort();
}

}  // namespace kperflab::fuzz
