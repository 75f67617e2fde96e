// SPDX-License-Identifier: GPL-2.0-only
// The catalog's summary blobs (analysis/summary_codec.h) as a hostile
// catalog file could hold them: a bundle in fuzz_bundle.h's format is
// loaded and its summary encoded (and must decode to itself), then, after
// "\n=== flip\n", each 5 bytes (a 4-byte offset, a byte to xor) damage the
// summary's body; its checksum is made to match, so that the checks behind
// it are what is fuzzed. decode must return a summary or throw
// SummaryCodecError; the histograms' text is also cut short. A crash, a
// sanitizer report, a hang or runaway memory is a finding.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "analysis/summary.h"
#include "analysis/summary_codec.h"
#include "fuzz_bundle.h"

using namespace kperflab;
namespace fs = std::filesystem;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_stdout();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto parts = fuzz::split(in, "\n=== flip\n");
  auto dirs = fuzz::write_bundles(reinterpret_cast<const uint8_t*>(parts[0].data()),
                                  parts[0].size(), 1);
  BundleSummary s;
  try {
    s = BundleSummary::load(dirs[0]);
  } catch (const std::exception&) {
    return 0;  // not a bundle: the loader's harness covers that
  }
  auto blobs = summary_codec::encode(s);
  BundleSummary back = summary_codec::decode(blobs.summary, blobs.histograms, dirs[0], true);
  if (back.meta != s.meta || back.probes.size() != s.probes.size()) std::abort();
  if (parts.size() < 2) return 0;
  std::string bad = blobs.summary;
  const size_t header = 16;
  std::string_view flips = parts[1];
  for (size_t i = 0; i + 5 <= flips.size() && bad.size() > header; i += 5) {
    uint32_t at;
    std::memcpy(&at, flips.data() + i, 4);
    bad[header + at % (bad.size() - header)] ^= flips[i + 4];
  }
  uint64_t sum = XXH3_64bits(bad.data() + header, bad.size() - header);
  std::memcpy(bad.data() + 8, &sum, 8);
  for (bool hist : {false, true}) try {
      std::string_view h = blobs.histograms;
      (void)summary_codec::decode(bad, hist ? h.substr(0, h.size() / 2) : "", dirs[0], hist);
    } catch (const summary_codec::SummaryCodecError&) {
    }
  return 0;
}
