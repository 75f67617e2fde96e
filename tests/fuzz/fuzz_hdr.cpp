// SPDX-License-Identifier: GPL-2.0-only
// The HdrHistogram V2 decoder: base64 text (what bundles store) and the raw
// V2 buffer. Oracle beyond "no crash": whatever decodes re-encodes to a
// histogram with the same counts.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/hdr_codec.h"

using namespace kperflab;

namespace {

void round_trip(const Histogram& h) {
  Histogram again = hdr::decode_compressed_base64(hdr::encode_compressed_base64(h));
  if (again.count() - again.overflow() != h.count() - h.overflow() || again.max() != h.max() || again.min() != h.min())
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  try {
    round_trip(hdr::decode_compressed_base64(in));
  } catch (const std::exception&) {
  }
  try {
    round_trip(hdr::decode(in));
  } catch (const std::exception&) {
  }
  return 0;
}
