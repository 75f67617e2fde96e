// SPDX-License-Identifier: GPL-2.0-only
// kperflab ab (#32): the words of --a/--b and the ABBA order of the runs.
#include <gtest/gtest.h>

#include <stdexcept>

#include "cli/ab.h"

using namespace kperflab;
using Words = std::vector<std::string>;

namespace {

TEST(AbSplit, BlanksSeparateWords) {
  EXPECT_EQ(split_words("", "--a"), Words{});
  EXPECT_EQ(split_words("  \t\n", "--a"), Words{});
  EXPECT_EQ(split_words(" --set  membarrier.states=spin,sleep\t--repeat 3\n", "--a"),
            (Words{"--set", "membarrier.states=spin,sleep", "--repeat", "3"}));
  // List values: '[' and ']' stay literal, as no shell globs them.
  EXPECT_EQ(split_words("--set membarrier.register_threads=[]", "--b"),
            (Words{"--set", "membarrier.register_threads=[]"}));
}

TEST(AbSplit, ShellSyntaxIsRefusedNamingIt) {
  for (const char* bad : {"--tag 'x'", "--tag \"x\"", "--tag x\\ y", "--tag $X", "--tag `x`",
                          "--tag a;b", "--tag a&", "--tag a|b", "--tag <x", "--tag >x",
                          "--tag $(x)", "--set a.b=*", "--set a.b=?", "--tag {a,b}", "--tag ~",
                          "--tag #x", "--tag !x", "--tag a\rb"}) {
    try {
      split_words(bad, "--b");
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("--b"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("not allowed"), std::string::npos) << e.what();
    }
  }
}

TEST(AbOrder, Abba) {
  std::string seq;
  for (unsigned i = 0; i < 10; ++i) seq += abba_side(i);
  EXPECT_EQ(seq, "abbaabbaab");
}

}  // namespace
