// SPDX-License-Identifier: GPL-2.0-only
// gzip (kconfig.gz) and SHA-256 (the config hash), on zlib alone: the host
// compresses what it collects and results/ checks what it reads back.
#pragma once

#include <string>

namespace kperflab {

std::string gzip_compress(const std::string& data);
std::string gzip_decompress(const std::string& data);
std::string sha256_hex(const std::string& data);

}  // namespace kperflab
