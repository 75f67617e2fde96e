// SPDX-License-Identifier: GPL-2.0-only
#include <gtest/gtest.h>

#include <vector>

#include "host/counters.h"

// Software counters exist on every kernel with perf_event; hardware ones
// either count or say why not (CI has no PMU) — never a silent zero.
TEST(Counters, MeasureARegionOrSayWhyNot) {
  kperflab::Counters c;
  c.start();
  std::vector<char> touch(16 << 20);
  for (size_t i = 0; i < touch.size(); i += 4096) touch[i] = 1;
  volatile double x = 0;
  for (int i = 0; i < 5000000; ++i) x = x + i;
  auto r = c.stop();
  for (const char* k : {"cycles", "instructions", "task_clock_ns", "context_switches",
                        "cpu_migrations", "page_faults"}) {
    ASSERT_TRUE(r.contains(k)) << k;
    EXPECT_TRUE(r[k].contains("value") != r[k].contains("unavailable")) << r[k];
  }
  if (r["task_clock_ns"].contains("unavailable")) GTEST_SKIP() << r["task_clock_ns"].dump();
  EXPECT_GT(r["task_clock_ns"]["value"].get<double>(), 1e6);  // > 1 ms of work
  EXPECT_GE(r["page_faults"]["value"].get<double>(), 1000);   // 16 MiB touched
  if (r["instructions"].contains("value")) {
    EXPECT_GT(r["instructions"]["value"].get<double>(), 5e6);
  }
  auto a = kperflab::Counters::availability();
  EXPECT_TRUE(a["perf_event"]["task_clock_ns"] == true);
}
