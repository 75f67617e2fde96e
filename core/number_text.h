// SPDX-License-Identifier: GPL-2.0-only
// Numbers in text from a file or an argument (a metric name's "cpu=N", a
// record's pid, "--min-effect-for M=X"): the whole text, in range, or
// nothing. std::stoi and friends throw a bare "stoi" on 99999999999 and
// accept "12abc"; std::from_chars does neither (#27, item 8).
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace kperflab {

// `text` as a T, all of it; nullopt when it is not one or out of T's range.
template <class T>
std::optional<T> number_from(std::string_view text) {
  T v{};
  auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (err != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace kperflab
