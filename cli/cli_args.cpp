// SPDX-License-Identifier: GPL-2.0-only
#include "cli/cli_args.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace kperflab::cli {

void parse(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> rev(args.rbegin(), args.rend());  // CLI11 takes them reversed
  try {
    app.parse(rev);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    throw HelpShown();
  } catch (const CLI::ParseError& e) {
    throw std::invalid_argument(e.what());
  }
  // An empty path is a mistake, never "the default" (issue #27: `export -o ''`
  // wrote to standard output, `noise -o ''` to the default path). CLI11 takes
  // "" for a separator and skips validators on it: checked here for every
  // option whose value names a FILE, DIR or PATH.
  for (const CLI::Option* o : app.get_options()) {
    const std::string& t = o->get_type_name();
    if (!o->count() || (t.find("FILE") == std::string::npos && t.find("DIR") == std::string::npos &&
                        t.find("PATH") == std::string::npos))
      continue;
    for (const auto& r : o->results())
      if (r.empty())
        throw std::invalid_argument(o->get_name() + ": an empty path (name a " + t + ")");
  }
}

void setup(CLI::App& app, const std::string& footer) {
  app.footer(footer);
  app.get_formatter()->column_width(30);
}

CLI::Validator finite_number(double lo, double hi, bool lo_open, bool hi_open) {
  std::ostringstream range;
  range << (lo_open ? "(" : "[") << lo << ", " << hi << (hi_open ? ")" : "]");
  std::string want = "a finite number in " + range.str();
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        char* end = nullptr;
        errno = 0;
        double d = std::strtod(s.c_str(), &end);
        bool ok = !s.empty() && end == s.c_str() + s.size() && errno == 0 && std::isfinite(d) &&
                  (lo_open ? d > lo : d >= lo) && (hi_open ? d < hi : d <= hi);
        return ok ? "" : "wants " + want + ", got '" + s.substr(0, 40) + "'";
      },
      "NUMBER in " + range.str());
}

CLI::Validator unsigned_integer() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        bool ok = !s.empty() && s.size() <= 20 &&
                  std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (ok) {
          errno = 0;
          std::strtoull(s.c_str(), nullptr, 10);
          ok = errno == 0;
        }
        return ok ? "" : "wants an unsigned 64-bit integer, got '" + s.substr(0, 40) + "'";
      },
      "UINT64");
}

}  // namespace kperflab::cli
