// SPDX-License-Identifier: GPL-2.0-only
// Command-line parsing shared by every verb (CLI11): one CLI::App per verb,
// parsed from the verb's arguments, so `kperflab VERB --help` is that verb's
// own help and every value is typed and ranged by CLI11 before a verb runs.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace kperflab::cli {

// A verb printed its --help: main() exits 0 without running it.
struct HelpShown : std::exception {
  const char* what() const noexcept override { return "help shown"; }
};

// Parses args (in command-line order) with app. --help prints app's help on
// stdout and throws HelpShown; any parse error throws std::invalid_argument
// with CLI11's message, which names the option and the value.
void parse(CLI::App& app, const std::vector<std::string>& args);

// A verb's App: its name, one-line description, help footer; help flag -h,--help.
void setup(CLI::App& app, const std::string& footer);

// A finite number in [lo, hi] (open at an end when *_open): CLI11's own
// Range lets nan through (every comparison with nan is false).
CLI::Validator finite_number(double lo, double hi, bool lo_open = false, bool hi_open = false);

// Digits only, at most 2^64-1: CLI11 would wrap "-1" into 2^64-1.
CLI::Validator unsigned_integer();

}  // namespace kperflab::cli
