// SPDX-License-Identifier: GPL-2.0-only
#include "core/hlog.h"

#include <cstdio>
#include <ctime>

namespace kperflab {

HlogWriter::HlogWriter(std::ostream& out, double start_epoch_s, double ratio)
    : out_(out), ratio_(ratio) {
  std::time_t t = static_cast<std::time_t>(start_epoch_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &tm);
  char line[160];
  std::snprintf(line, sizeof line, "#[StartTime: %.3f (seconds since epoch), %s]\n",
                start_epoch_s, date);
  out_ << "#[Histogram log format version 1.3]\n" << line
       << "#[BaseTime: 0.000 (seconds since epoch)]\n"
       << "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
          "\"Interval_Compressed_Histogram\"\n";
}

void HlogWriter::comment(const std::string& text) {
  std::string t = text;
  for (char& c : t)
    if (c == '\n') c = ' ';
  out_ << "#" << t << "\n";
}

void HlogWriter::interval(const std::string& tag, double start_s, double length_s,
                          const Histogram& h) {
  std::string t = tag;
  for (char& c : t)
    if (c == ',' || c == ' ' || c == '\n') c = '_';
  char nums[96];
  std::snprintf(nums, sizeof nums, "%.3f,%.3f,%.3f,", start_s, length_s,
                static_cast<double>(h.max()) / ratio_);
  if (!t.empty()) out_ << "Tag=" << t << ",";
  out_ << nums << h.encode_base64() << "\n";
}

}  // namespace kperflab
