// SPDX-License-Identifier: GPL-2.0-only
#include "results/date_time.h"

#include <cctype>

namespace kperflab {

namespace {

// n digits at s[at], or -1.
int digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

}  // namespace

std::string date_time_error(std::string_view s) {
  const std::string shape = "is not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM))";
  // full-date "T" partial-time: 19 characters with fixed punctuation.
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return shape;
  int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return shape;
  size_t at = 19;
  if (s[at] == '.') {  // time-secfrac: "." 1*DIGIT
    size_t end = ++at;
    while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
    if (end == at) return shape;
    at = end;
  }
  int offset = 0;  // minutes east of UTC
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int oh = digits(s, at + 1, 2), om = digits(s, at + 4, 2);
    if (oh < 0 || om < 0 || at + 3 >= s.size() || s[at + 3] != ':') return shape;
    if (oh > 23 || om > 59) return "has an offset beyond +-23:59";
    offset = (s[at] == '-' ? -1 : 1) * (oh * 60 + om);
    at += 6;
  } else {
    return shape;
  }
  if (at != s.size()) return shape;
  if (month < 1 || month > 12) return "has month " + std::to_string(month);
  if (day < 1 || day > days_in_month(year, month))
    return "has day " + std::to_string(day) + " in month " + std::to_string(month) + " of " +
           std::to_string(year);
  if (hour > 23) return "has hour " + std::to_string(hour);
  if (minute > 59) return "has minute " + std::to_string(minute);
  if (second > 60) return "has second " + std::to_string(second);
  if (second == 60) {
    // A leap second is inserted at 23:59:60 UTC; in local time that is
    // 23:59 shifted by the offset.
    int utc = ((hour * 60 + minute - offset) % 1440 + 1440) % 1440;
    if (utc != 23 * 60 + 59) return "has second 60 outside a leap second (23:59:60 UTC)";
  }
  return "";
}

}  // namespace kperflab
