// SPDX-License-Identifier: GPL-2.0-only
// `kperflab run --likwid GROUP`: the run re-executes itself under
// `likwid-perfctr -C <online CPUs> -g GROUP -m`, and every repetition is the
// marker region kperflab/<probe>/rep<N>, whose counts Counters reads back
// into the repetition (extra.counters.likwid). Re-executing rather than
// calling liblikwid's perfmon API in-process: likwid exits the process on
// some failures (the access daemon's timeout), and likwid-perfctr is what
// users run by hand, so its checks and its end-of-run tables stay the same.
// Whether likwid can measure here is tried first with a trivial program;
// when it cannot (no PMU, a CPU likwid does not know, no MSR access, not
// installed), the run goes on without it and meta.json says why.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kperflab {

// A group name as likwid spells them (letters, digits, '_'), or "" if fine;
// for the argument parser.
std::string check_likwid_group(const std::string& group);

// Before anything runs. In the re-executed child: its record, {"group",
// "cpus", "events", "regions"}. Otherwise, when likwid can measure GROUP
// here: execs likwid-perfctr (does not return); when it cannot:
// {"group", "unavailable": "<likwid's own message or the reason>"}.
// Throws std::invalid_argument when likwid lists its groups and GROUP is
// not one of them. run_args: the arguments of `kperflab run`.
nlohmann::json likwid_setup(const std::string& group, const std::vector<std::string>& run_args);

// The groups in `likwid-perfctr -a` output (empty: "No groups defined").
std::vector<std::string> parse_likwid_groups(const std::string& output);

// likwid's ERROR lines, without the source locations, joined by "; ".
std::string likwid_errors(const std::string& output);

}  // namespace kperflab
