// SPDX-License-Identifier: GPL-2.0-only
// HdrHistogram V2 log encoding, separate from the histogram itself:
//   payload    = zig-zag LEB128 counts, a negative value n meaning -n empty
//                counts indexes (run-length of zeros)
//   V2 buffer  = big-endian header {cookie 0x1c849313, payload length,
//                normalizing index offset, significant digits, lowest
//                discernible value, highest trackable value, integer to
//                double ratio (IEEE double)} + payload
//   compressed = {cookie 0x1c849314, length} + zlib deflate of the V2 buffer
//   text       = base64 (RFC 4648, padded) of the compressed form
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/histogram.h"

namespace kperflab::hdr {

inline constexpr uint32_t kEncodingCookie = 0x1c849303 | 0x10;
inline constexpr uint32_t kCompressedCookie = 0x1c849304 | 0x10;

std::string base64_encode(std::string_view bytes);
// Throws HistogramError naming the offset of the first bad character.
std::string base64_decode(std::string_view text);
// The same into out (its storage reused; cleared first).
void base64_decode(std::string_view text, std::string& out);

// Zig-zag LEB128 as HdrHistogram writes it (at most 9 bytes, the 9th
// carrying 8 bits).
void put_zigzag(std::string& out, int64_t v);
int64_t get_zigzag(std::string_view in, size_t& pos);  // throws when truncated

std::string encode(const Histogram& h);             // uncompressed V2 buffer
Histogram decode(std::string_view buffer);          // uncompressed V2 buffer
std::string encode_compressed_base64(const Histogram& h);
// inflated, when given, receives the decoded buffer's size (the work done,
// for per-bundle budgets); inflating stops past what the bucket layout of the
// largest supported histogram can need.
Histogram decode_compressed_base64(std::string_view text, size_t* inflated = nullptr);

// A decoded histogram as its non-empty counts: what a reader that needs
// its total and quantiles (quantiles_of) but no counts array gets, without
// allocating and clearing the ~34 KiB array of a Histogram. The bundle
// loader checks every histogram of a bundle so.
struct Counts {
  uint64_t highest = 0;             // the highest trackable value decode() gives its Histogram
  uint64_t total = 0;               // the sum of the counts
  std::vector<IndexCount> nonzero;  // ascending counts index, each once
};

// decode() into out (its storage reused): the same checks, in the same
// order, with the same messages; decode() is built on it.
void decode_counts(std::string_view buffer, Counts& out);

// Buffers kept across many decodes (one per thread; nothing shared).
struct DecodeScratch {
  std::string bin, raw;
};
// decode_compressed_base64() into out.
void decode_compressed_base64(std::string_view text, Counts& out, DecodeScratch& scratch,
                              size_t* inflated = nullptr);

}  // namespace kperflab::hdr
