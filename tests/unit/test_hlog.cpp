// SPDX-License-Identifier: GPL-2.0-only
#include <gtest/gtest.h>

#include <sstream>

#include "core/hlog.h"

TEST(Hlog, GoldenOutput) {
  std::ostringstream out;
  kperflab::HlogWriter w(out, 1700000000.0);
  w.comment("kperflab test");
  kperflab::Histogram h;
  for (uint64_t v = 1000; v <= 5000; v += 1000) h.record(v);
  w.interval("membarrier/private expedited,x", 0.0, 1.5, h);
  const std::string expect =
      "#[Histogram log format version 1.3]\n"
      "#[StartTime: 1700000000.000 (seconds since epoch), Tue Nov 14 22:13:20 UTC 2023]\n"
      "#[BaseTime: 0.000 (seconds since epoch)]\n"
      "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"
      "#kperflab test\n"
      "Tag=membarrier/private_expedited_x,0.000,1.500,0.005," +
      h.encode_base64() + "\n";
  EXPECT_EQ(out.str(), expect);
}
