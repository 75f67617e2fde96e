// SPDX-License-Identifier: GPL-2.0-only
// HdrHistogram interval log (.hlog) writer, log format 1.3, as written by
// HdrHistogram's HistogramLogWriter and read by HistogramLogReader,
// HistogramLogProcessor and hdr-plot tools:
//   #[Histogram log format version 1.3]
//   #[StartTime: <epoch s> (seconds since epoch), <date>]
//   #[BaseTime: 0.000 (seconds since epoch)]
//   "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//   Tag=<tag>,<start s>,<length s>,<max / ratio>,<V2 compressed base64>
// Interval_Max is the max value divided by the max-value unit ratio, 1e6 by
// default as in HistogramLogWriter (ns values -> ms).
#pragma once

#include <ostream>
#include <string>

#include "core/histogram.h"

namespace kperflab {

class HlogWriter {
 public:
  HlogWriter(std::ostream& out, double start_epoch_s, double max_value_unit_ratio = 1e6);
  void comment(const std::string& text);
  // Tags may not hold ',', ' ' or newline (the log format's separators):
  // they are replaced by '_'.
  void interval(const std::string& tag, double start_s, double length_s, const Histogram& h);

 private:
  std::ostream& out_;
  double ratio_;
};

}  // namespace kperflab
