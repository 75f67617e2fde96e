// SPDX-License-Identifier: GPL-2.0-only
#include "ipi_count.h"

#include <fstream>
#include <sstream>

namespace kperflab::membarrier {

std::optional<std::vector<uint64_t>> parse_function_call_ipis(const std::string& text,
                                                              std::string* why) {
  std::istringstream in(text);
  std::string header, line;
  if (!std::getline(in, header)) {
    if (why) *why = "/proc/interrupts is empty";
    return std::nullopt;
  }
  // The header names the columns: "CPU0 CPU1 ..." (online CPUs only).
  std::vector<int> cpus;
  std::istringstream h(header);
  for (std::string tok; h >> tok;)
    if (tok.size() > 3 && tok.rfind("CPU", 0) == 0 &&
        tok.find_first_not_of("0123456789", 3) == std::string::npos && tok.size() < 9)
      cpus.push_back(std::stoi(tok.substr(3)));
  while (std::getline(in, line)) {
    if (line.find("Function call interrupts") == std::string::npos) continue;
    std::istringstream l(line.substr(line.find(':') + 1));
    std::vector<uint64_t> out;
    for (int cpu : cpus) {
      uint64_t v;
      if (!(l >> v)) break;
      if (static_cast<size_t>(cpu) >= out.size()) out.resize(static_cast<size_t>(cpu) + 1, 0);
      out[static_cast<size_t>(cpu)] = v;
    }
    return out;
  }
  if (why) *why = "/proc/interrupts has no \"Function call interrupts\" line";
  return std::nullopt;
}

std::optional<std::vector<uint64_t>> function_call_ipis(std::string* why) {
  std::ifstream f("/proc/interrupts");
  if (!f) {
    if (why) *why = "cannot read /proc/interrupts";
    return std::nullopt;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_function_call_ipis(ss.str(), why);
}

}  // namespace kperflab::membarrier
