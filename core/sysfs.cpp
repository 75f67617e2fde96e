// SPDX-License-Identifier: GPL-2.0-only
#include "core/sysfs.h"

#include "core/read_file.h"

#include <sstream>
#include <stdexcept>

namespace kperflab::sysfs {

std::optional<std::string> read(const std::string& path) {
  // Through the one reader: preflight and the tests point this at fixture
  // trees, where a FIFO must not hang and /dev/zero must not grow forever.
  try {
    return read_file(path, kMaxBytes, "a /proc or /sys file");
  } catch (const FileError&) {
    return std::nullopt;
  }
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::optional<std::string> line(const std::string& path) {
  auto s = read(path);
  if (!s) return std::nullopt;
  return trim(s->substr(0, s->find('\n')));
}

std::optional<long long> integer(const std::string& path) {
  auto s = line(path);
  if (!s || s->empty()) return std::nullopt;
  try {
    size_t pos = 0;
    long long v = std::stoll(*s, &pos, 0);
    if (pos != s->size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> out;
  std::string s = trim(text);
  if (s.empty()) return out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    auto dash = part.find('-');
    try {
      size_t p1 = 0, p2 = 0;
      int a = std::stoi(part, &p1);
      int b = a;
      if (dash != std::string::npos) b = std::stoi(part.substr(dash + 1), &p2);
      bool ok = dash == std::string::npos ? p1 == part.size()
                                          : p1 == dash && dash + 1 + p2 == part.size();
      if (!ok || a < 0 || b < a || b - a > 1 << 20) throw std::invalid_argument("");
      for (int c = a; c <= b; ++c) out.push_back(c);
    } catch (const std::exception&) {
      throw std::invalid_argument("bad CPU list '" + text + "' at '" + part + "'");
    }
  }
  return out;
}

}  // namespace kperflab::sysfs
