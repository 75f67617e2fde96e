// SPDX-License-Identifier: GPL-2.0-only
// One zlib inflate loop for every decoder (gzip'ed kconfig, HDR V2).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kperflab {

// window_bits as for inflateInit2 (15: zlib, 15 + 32: zlib or gzip).
// Throws std::runtime_error: "corrupt data: <zlib message>", "truncated
// data", "more than <limit> bytes uncompressed".
std::string inflate_all(std::string_view in, int window_bits, size_t limit);
// The same into out (cleared first, its storage reused), with a zlib stream
// kept per thread (reset, not reallocated, per call).
void inflate_all(std::string_view in, int window_bits, size_t limit, std::string& out);

}  // namespace kperflab
