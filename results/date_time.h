// SPDX-License-Identifier: GPL-2.0-only
// Timestamps in a bundle (meta.json "started", "finished") are RFC 3339
// date-times, as KCIDB's "format": "date-time" (kcidb-io, jsonschema's
// rfc3339-validator) and every other consumer reads them. The loader
// refuses anything else, so an export never carries an impossible time.
#pragma once

#include <string>
#include <string_view>

namespace kperflab {

// RFC 3339 section 5.6 date-time ("2026-02-28T23:59:59Z",
// "2026-02-28T23:59:59.25+01:00"): a real calendar date (leap years
// included), hours 00-23, minutes 00-59, seconds 00-59, or 60 for a leap
// second only (23:59:60 in UTC, whatever the offset), offsets up to
// +-23:59. Returns "" when valid, else why not ("day 30 of month 2 of
// 2026"), for a loader error.
std::string date_time_error(std::string_view s);

inline bool is_date_time(std::string_view s) { return date_time_error(s).empty(); }

}  // namespace kperflab
