// SPDX-License-Identifier: GPL-2.0-only
// Function-call IPIs per CPU from /proc/interrupts (x86 "CAL", arm64
// "IPI1": the line described "Function call interrupts"): the count every
// membarrier IPI increments on its target, whatever the tracing the kernel
// allows. Other smp_call_function users add to it too: a cross-check and
// the stand-alone reproducer's counter, not the probe's attribution.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kperflab::membarrier {

// Count per CPU number (index = CPU; CPUs /proc/interrupts does not list
// are 0), or nullopt with why in *why.
std::optional<std::vector<uint64_t>> function_call_ipis(std::string* why = nullptr);

// Parses /proc/interrupts text (tests).
std::optional<std::vector<uint64_t>> parse_function_call_ipis(const std::string& text,
                                                              std::string* why = nullptr);

}  // namespace kperflab::membarrier
