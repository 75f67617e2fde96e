// SPDX-License-Identifier: GPL-2.0-only
// parse_json's fast path (core/json_fast.h) against nlohmann's parser: it
// may refuse what nlohmann takes (parse_json then asks nlohmann), but what
// it takes nlohmann takes too, as the very same tree (value types
// included), within the same depth and value budget.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json_fast.h"
#include "core/read_file.h"

using nlohmann::json;

namespace {

// operator== says 1 == 1u == 1.0; this does not.
bool same(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
        if (ia.key() != ib.key() || !same(*ia, *ib)) return false;
      return true;
    }
    case json::value_t::array:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i])) return false;
      return true;
    case json::value_t::number_float: {
      double x = a.get<double>(), y = b.get<double>();
      return std::memcmp(&x, &y, sizeof x) == 0;  // -0.0 is not 0.0
    }
    default: return a == b;
  }
}

// What nlohmann makes of text: the tree, or nothing.
std::optional<json> reference(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

constexpr size_t kAny = size_t{1} << 40;

// Fast takes text only where nlohmann takes it, as the same tree.
void check(const std::string& text, bool must_take = false) {
  json fast;
  bool took = kperflab::parse_json_fast(text, kAny, kAny, fast);
  auto ref = reference(text);
  if (took) {
    ASSERT_TRUE(ref.has_value()) << "taken, nlohmann refuses: " << text;
    EXPECT_TRUE(same(fast, *ref)) << text << "\n fast: " << fast.dump() << "\n nlohmann: "
                                  << ref->dump();
  } else {
    EXPECT_TRUE(fast.is_null());
    EXPECT_FALSE(must_take) << "refused: " << text;
  }
}

}  // namespace

TEST(JsonFast, TakesWhatNlohmannTakesAsTheSameTree) {
  for (const char* t : {
           "0", "-0", "1", "-1", "0.0", "-0.0", "1e5", "1E+5", "1e-5", "-1.5e-300", "0.1",
           "18446744073709551615", "-9223372036854775808", "9223372036854775807",
           "9223372036854775808", "123456789012345678", "2.2250738585072014e-308",
           "1.7976931348623157e308", "5e-324", "4.9406564584124654e-324", "true", "false",
           "null", "\"\"", "\"a\"", "[]", "{}", " [ 1 , 2 ] ", "\t\r\n{\"a\" : [ ] }\n",
           "{\"a\":1,\"a\":2}", "{\"b\":1,\"a\":{\"c\":[1,{\"d\":null}]}}", "[[[[[]]]]]",
           "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0000\"", "\"\\u00e9\\u20ac\"",
           "\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\"", "\"caf\xc3\xa9\"",
           "\"\xe2\x82\xac \xf0\x9f\x98\x80 \xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf\"",
           "\"\x7f\"", "\"0123456789abcdef0123456789abcdef\\n0123456789abcdef\"",
           "{\"x\":[1,2.5,-3,\"s\",true,false,null,{},[]]}"})
    check(t, true);
}

TEST(JsonFast, RefusesWhatNlohmannRefuses) {
  for (const char* t : {
           "", " ", "01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "1 2", "[1,]",
           "[,1]", "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\" 1}", "{1:2}", "[1 2]", "tru", "nul",
           "falsey", "truex", "[", "]", "{", "}", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"",
           "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\tb\"", "\"a\nb\"",
           "\"\x01\"", "\"\x80\"", "\"\xc0\xaf\"", "\"\xc1\xbf\"", "\"\xe0\x80\x80\"",
           "\"\xed\xa0\x80\"", "\"\xf0\x80\x80\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"",
           "\"\xc3\"", "\"\xe2\x82\"", "[1]x", "{}{}", "1e400", "-1e400", "[1]\n\n]", "// c\n1",
           "[1, /* c */ 2]", "NaN", "Infinity", "[1,2", "{\"a\":"})
    check(t);
}

TEST(JsonFast, NumbersAsStrtodReadsThem) {
  std::mt19937_64 rng(29);
  char buf[64];
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const char* fmt = i % 3 == 0 ? "%.17g" : i % 3 == 1 ? "%.3e" : "%.9g";
    std::snprintf(buf, sizeof buf, fmt, d);
    check(buf);
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(rng() >> (rng() % 63)));
    check(buf, true);
    std::snprintf(buf, sizeof buf, "-%llu", static_cast<unsigned long long>(rng() >> (rng() % 63 + 1)));
    check(buf, true);
    std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(rng() % 100000) / 7.0);
    check(buf, true);
  }
}

// Damaged documents: whatever the fast parser still takes, nlohmann takes
// as the same tree.
TEST(JsonFast, DamagedDocumentsTakenOnlyAsNlohmannTakesThem) {
  const std::string seed =
      R"({"schema":"kperflab.probe/1","probe":"p","reason":null,"repetitions":[{"metrics":)"
      R"({"a/latency":{"count":200,"hist":"HISTFAAAACx4nJNpmSzMwMDAwQABzFCaEUzOmgESYF0BAELgAx8=",)"
      R"("mean":1024.5,"stddev":-0.0,"labels":{"op":1,"better":"lower"},"p50":1023}},)"
      R"("skipped":{"b":"EINVAL: caf\u00e9 \ud83d\ude00 \"q\"\n"},"extra":{"t":[[1,-2,3.5e-3,true,false]]}}]})";
  check(seed, true);
  const std::string alphabet = "{}[],:\"\\ntfrue0123456789-+.eEu \t\x01\x7f\xc3\xa9\xe2\x82\xac\xf0";
  std::mt19937_64 rng(31);
  int taken = 0;
  for (int round = 0; round < 30000; ++round) {
    std::string t = seed;
    for (int f = 0, n = 1 + static_cast<int>(rng() % 3); f < n; ++f) {
      size_t at = rng() % t.size();
      switch (rng() % 4) {
        case 0: t[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: t.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        case 2: t.erase(at, 1 + rng() % 3); break;
        default: t[at] = static_cast<char>(rng()); break;
      }
    }
    json fast;
    if (kperflab::parse_json_fast(t, kAny, kAny, fast)) ++taken;
    check(t);
    if (HasFailure()) break;
  }
  EXPECT_GT(taken, 1000);  // the damage is not all fatal: the comparison saw trees
}

// The budget: depth = containers open at once, values = every value and
// every key; at the limit taken, one past it refused.
TEST(JsonFast, DepthAndValueBudgetsAsTheBoundedBuilder) {
  json out;
  // [[["x"]]]: depth 3; values 4.
  EXPECT_TRUE(kperflab::parse_json_fast("[[[\"x\"]]]", 3, 4, out));
  EXPECT_FALSE(kperflab::parse_json_fast("[[[\"x\"]]]", 2, 4, out));
  EXPECT_FALSE(kperflab::parse_json_fast("[[[\"x\"]]]", 3, 3, out));
  // {"a":1,"b":{"c":[]}}: depth 3; values 1 + 2 + 2 + 2 = 7.
  const char* o = R"({"a":1,"b":{"c":[]}})";
  EXPECT_TRUE(kperflab::parse_json_fast(o, 3, 7, out));
  EXPECT_FALSE(kperflab::parse_json_fast(o, 2, 7, out));
  EXPECT_FALSE(kperflab::parse_json_fast(o, 3, 6, out));
  // A repeated key costs twice as in the builder, its last value kept.
  EXPECT_FALSE(kperflab::parse_json_fast(R"({"a":1,"a":2})", 1, 4, out));
  EXPECT_TRUE(kperflab::parse_json_fast(R"({"a":1,"a":2})", 1, 5, out));
  EXPECT_EQ(out.dump(), R"({"a":2})");
  // Through parse_json, the refusal is nlohmann's message, as before.
  kperflab::ReadLimits l{1000, 2, 100, "a test file"};
  try {
    kperflab::parse_json("[[[1]]]", l, "f.json");
    FAIL() << "taken";
  } catch (const kperflab::FileError& e) {
    EXPECT_EQ(e.problem(), "refused: nested deeper than 2 levels (the limit for a test file)");
  }
  try {
    kperflab::parse_json("[1, 2", l, "f.json");
    FAIL() << "taken";
  } catch (const kperflab::FileError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("f.json: not valid JSON: parse error at line 1, column 6", 0), 0u)
        << e.what();
  }
  // A bomb stops at the budget: 10^6 values against a budget of 1000.
  std::string bomb = "[" + std::string(2000000, '0') + "]";
  for (size_t i = 2; i < bomb.size() - 1; i += 2) bomb[i] = ',';
  EXPECT_FALSE(kperflab::parse_json_fast(bomb, 64, 1000, out));
}
