// SPDX-License-Identifier: GPL-2.0-only
// The fast path of parse_json (read_file.h, #30: loading a bundle was 40 %
// nlohmann's lexer, which reads one character at a time through an input
// adapter and grows every string by push_back). A parser over the whole
// text in memory that builds the very tree nlohmann's parser builds through
// parse_json's bounded builder (same value types, a repeated key's last
// value, the same depth and value counts), and that never explains a
// refusal: parse_json then parses the text again with nlohmann, whose
// message (the line and column of a syntax error, the limit reached) is the
// one given. So it may refuse text nlohmann takes (a byte-order mark, a
// number past 64 bits or one strtod reads as a subnormal, a NUL after the
// value), costing that text a second parse, but never takes text nlohmann
// refuses, and never goes past the depth or value budget: it stops there.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kperflab {

// True: out holds the document. False: out is null, and nothing was said.
bool parse_json_fast(std::string_view text, size_t max_depth, size_t max_elements,
                     nlohmann::json& out);

}  // namespace kperflab
