// SPDX-License-Identifier: GPL-2.0-only
// Progress: a redrawn status line on a terminal (stderr), plain log lines
// otherwise, so CI logs and lab consoles stay readable.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "cli/progress.h"

namespace kperflab {

namespace {
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

ConsoleProgress::ConsoleProgress(bool tty) : tty_(tty) {}

void ConsoleProgress::begin_probe(std::string_view probe, unsigned total_steps, double estimate_s) {
  probe_ = probe;
  total_ = total_steps;
  done_ = 0;
  estimate_s_ = estimate_s;
  label_.clear();
  start_ = std::chrono::steady_clock::now();
  if (!tty_)
    std::fprintf(stderr, "[kperflab] %s: start, %u steps, ~%.0f s\n", probe_.c_str(), total_,
                 estimate_s_);
  else
    draw();
}

void ConsoleProgress::step(std::string_view label) {
  if (done_ < total_) ++done_;
  label_ = label;
  if (!tty_)
    std::fprintf(stderr, "[kperflab] %s: [%u/%u] %s (%.1f s)\n", probe_.c_str(), done_, total_,
                 label_.c_str(), since(start_));
  else
    draw();
}

void ConsoleProgress::note(std::string_view msg) {
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "[kperflab] %.*s\n", static_cast<int>(msg.size()), msg.data());
  if (tty_ && !probe_.empty()) draw();
}

void ConsoleProgress::end_probe(std::string_view status) {
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "[kperflab] %s: %.*s in %.1f s\n", probe_.c_str(),
               static_cast<int>(status.size()), status.data(), since(start_));
  probe_.clear();
}

// One line updated in place: probe, step, ETA of the probe and of the run.
// Cut to the terminal's width, since a line that wraps is no longer
// overwritten by the next \r.
void ConsoleProgress::draw() {
  double el = since(start_);
  // From the steps done so far once there are any, else the plan's estimate;
  // never below what the plan still expects of this probe.
  double eta = done_ ? el / done_ * (total_ - done_) : estimate_s_ - el;
  if (eta < 0) eta = 0;
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, "%s [%u/%u] %s  %.0fs elapsed, ~%.0fs left",
                        probe_.c_str(), done_, total_, label_.c_str(), el, eta);
  if (after_s_ > 0 && n > 0 && static_cast<size_t>(n) < sizeof buf)
    std::snprintf(buf + n, sizeof buf - n, " (run ~%.0fs)", eta + after_s_);
  size_t width = sizeof buf - 1;
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1) width = ws.ws_col - 1;
  std::string line(buf);
  if (line.size() > width) line.resize(width);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

}  // namespace kperflab
