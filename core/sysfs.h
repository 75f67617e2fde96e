// SPDX-License-Identifier: GPL-2.0-only
// Small readers for /proc and /sys, shared by provenance and probes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace kperflab::sysfs {

// /proc/cpuinfo of 8192 CPUs and a kernel config fit.
inline constexpr size_t kMaxBytes = size_t{64} << 20;
// Whole file (a regular file of at most kMaxBytes, read through
// read_file.h), or nullopt when it cannot be read.
std::optional<std::string> read(const std::string& path);
// First line, trimmed.
std::optional<std::string> line(const std::string& path);
std::optional<long long> integer(const std::string& path);
// Parses a CPU list such as "0-3,8,10-11"; throws std::invalid_argument.
std::vector<int> parse_cpu_list(const std::string& s);
std::string trim(std::string s);

}  // namespace kperflab::sysfs
