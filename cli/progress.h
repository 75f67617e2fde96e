// SPDX-License-Identifier: GPL-2.0-only
// Progress on a terminal (probe, sweep point, elapsed, ETA), one plain line
// per step otherwise.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/probe.h"

namespace kperflab {

class ConsoleProgress final : public Progress {
 public:
  explicit ConsoleProgress(bool tty);
  void begin_probe(std::string_view probe, unsigned total_steps, double estimate_s) override;
  void step(std::string_view label) override;
  void add_steps(unsigned n) override { total_ += n; }
  void set_after_s(double s) override { after_s_ = s; }
  void note(std::string_view msg) override;
  void end_probe(std::string_view status) override;

 private:
  void draw();
  bool tty_;
  std::string probe_, label_;
  unsigned total_ = 0, done_ = 0;
  double estimate_s_ = 0, after_s_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace kperflab
