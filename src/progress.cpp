// SPDX-License-Identifier: GPL-2.0-only
// Progress: a redrawn status line on a terminal (stderr), plain log lines
// otherwise, so CI logs and lab consoles stay readable.
#include <cstdio>

#include "probe.h"

namespace kperflab {

namespace {
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

Progress::Progress(bool tty) : tty_(tty) {}

void Progress::begin_probe(std::string_view probe, unsigned total_steps, double estimate_s) {
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

void Progress::step(std::string_view label) {
  if (done_ < total_) ++done_;
  label_ = label;
  if (!tty_)
    std::fprintf(stderr, "[kperflab] %s: [%u/%u] %s (%.1f s)\n", probe_.c_str(), done_, total_,
                 label_.c_str(), since(start_));
  else
    draw();
}

void Progress::note(std::string_view msg) {
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "[kperflab] %.*s\n", static_cast<int>(msg.size()), msg.data());
  if (tty_ && !probe_.empty()) draw();
}

void Progress::end_probe(std::string_view status) {
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "[kperflab] %s: %.*s in %.1f s\n", probe_.c_str(),
               static_cast<int>(status.size()), status.data(), since(start_));
  probe_.clear();
}

void Progress::draw() {
  double el = since(start_);
  // Estimate from the steps done so far once there are any, else the probe's own.
  double eta = done_ ? el / done_ * (total_ - done_) : estimate_s_ - el;
  if (eta < 0) eta = 0;
  std::fprintf(stderr, "\r\033[K%s [%u/%u] %s  %.0fs elapsed, ~%.0fs left", probe_.c_str(),
               done_, total_, label_.c_str(), el, eta);
  std::fflush(stderr);
}

}  // namespace kperflab
