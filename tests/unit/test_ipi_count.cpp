// SPDX-License-Identifier: GPL-2.0-only
// /proc/interrupts parsing for the membarrier reproducer and order points
// (bench/membarrier/ipi_count.h): x86 "CAL", arm64 "IPI1", CPUs missing from
// the header (offline), and a file without the line.
#include <gtest/gtest.h>

#include "ipi_count.h"

using kperflab::membarrier::parse_function_call_ipis;

TEST(IpiCount, X86CalLine) {
  const char* t =
      "           CPU0       CPU1       \n"
      "  0:         44          0   IO-APIC   2-edge      timer\n"
      "NMI:          0          0   Non-maskable interrupts\n"
      "CAL:      26711      21609   Function call interrupts\n"
      "TLB:        100        200   TLB shootdowns\n";
  auto v = parse_function_call_ipis(t);
  ASSERT_TRUE(v);
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0], 26711u);
  EXPECT_EQ((*v)[1], 21609u);
}

TEST(IpiCount, Arm64Ipi1WithOfflineCpu) {
  const char* t =
      "           CPU0       CPU2       CPU3\n"
      "IPI0:        10         20         30       Rescheduling interrupts\n"
      "IPI1:         7          8          9       Function call interrupts\n";
  auto v = parse_function_call_ipis(t);
  ASSERT_TRUE(v);
  ASSERT_EQ(v->size(), 4u);
  EXPECT_EQ((*v)[0], 7u);
  EXPECT_EQ((*v)[1], 0u);  // offline: not listed
  EXPECT_EQ((*v)[2], 8u);
  EXPECT_EQ((*v)[3], 9u);
}

TEST(IpiCount, NoFunctionCallLine) {
  std::string why;
  EXPECT_FALSE(parse_function_call_ipis("           CPU0\n  0:  1  timer\n", &why));
  EXPECT_NE(why.find("Function call interrupts"), std::string::npos);
  EXPECT_FALSE(parse_function_call_ipis("", &why));
}
