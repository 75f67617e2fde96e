// SPDX-License-Identifier: GPL-2.0-only
// `kperflab run`: runs probes into one bundle.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "probe.h"

namespace kperflab {

struct RunOptions {
  std::vector<std::string> probes;  // empty: every probe this host can run
  Profile profile = Profile::quick;
  unsigned repeat = 1;
  std::optional<std::filesystem::path> out;  // exact bundle dir (--out)
  std::filesystem::path runs_root = "results/runs";
  std::vector<std::pair<std::string, std::string>> sets;  // --set probe.key=value
};

// True once SIGINT/SIGTERM arrived (or request_stop was called).
bool stop_requested();
void request_stop();

// Returns the process exit status; prints a summary on stdout.
int run_main(const std::vector<std::string>& args);
int list_main(const std::vector<std::string>& args);
int show_main(const std::vector<std::string>& args);

// Parses `run` arguments; throws std::invalid_argument naming the flag.
RunOptions parse_run_args(const std::vector<std::string>& args);

// The bundle's meta.json skeleton for this host.
nlohmann::json make_meta(const HostInfo& host, const RunOptions& opt);

}  // namespace kperflab
