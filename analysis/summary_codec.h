// SPDX-License-Identifier: GPL-2.0-only
// A BundleSummary (analysis/summary.h) as bytes, for the catalog's summary
// cache (analysis/summary_cache.h, issue #30): what a bundle reduced to
// once it passed every check of Bundle::load, so that the next command
// reads it back instead of parsing and validating the bundle again.
//
// Two blobs: the summary (meta.json, parameters, names, metric infos, every
// statistic, matrices) and the histograms' encoded text, which only the
// commands that plot read. The summary blob opens with a magic, the format
// (kSummaryFormat) and an XXH3 checksum of the rest; decode() checks every
// length, index and order the summary's readers rely on, and throws
// SummaryCodecError on anything else (the cache then checks the bundle in
// full again: a damaged cache costs time, never a wrong number).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "analysis/summary.h"

namespace kperflab::summary_codec {

// Bump when the blob's layout, BundleSummary's contents, or what
// Bundle::load checks changes: a summary cached by another format is
// checked again from the bundle (the ctest summary_format fails until it is
// bumped when results/bundle_validate*.cpp or analysis/summary*.cpp change).
inline constexpr uint32_t kSummaryFormat = 2;

struct SummaryCodecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Blobs {
  std::string summary;     // everything but the histograms' text
  std::string histograms;  // each probe's hist_text, in probe order
};

Blobs encode(const BundleSummary& s);

// The summary of dir from its blobs. histograms empty: the summary is
// loaded without them (BundleSummary::histograms false).
BundleSummary decode(std::string_view summary, std::string_view histograms,
                     const std::filesystem::path& dir, bool with_histograms);

}  // namespace kperflab::summary_codec
