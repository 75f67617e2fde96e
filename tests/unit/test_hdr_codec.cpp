// SPDX-License-Identifier: GPL-2.0-only
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/hdr_codec.h"
#include "core/histogram.h"
#include "kperflab/hist.h"

using kperflab::Histogram;
using kperflab::HistogramError;
namespace hdr = kperflab::hdr;

TEST(HdrCodec, Base64) {
  EXPECT_EQ(hdr::base64_encode(""), "");
  EXPECT_EQ(hdr::base64_encode("f"), "Zg==");
  EXPECT_EQ(hdr::base64_encode("fo"), "Zm8=");
  EXPECT_EQ(hdr::base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(hdr::base64_decode("Zm9vYmE="), "fooba");
  EXPECT_THROW(hdr::base64_decode("Zm9"), HistogramError);
  EXPECT_THROW(hdr::base64_decode("Zm=v"), HistogramError);
  EXPECT_THROW(hdr::base64_decode("Z*9v"), HistogramError);
}

TEST(HdrCodec, ZigZagLeb128) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{63}, int64_t{-64},
                    int64_t{64}, int64_t{1} << 40, -(int64_t{1} << 55), INT64_MAX, INT64_MIN}) {
    std::string s;
    hdr::put_zigzag(s, v);
    EXPECT_LE(s.size(), 9u);
    size_t pos = 0;
    EXPECT_EQ(hdr::get_zigzag(s, pos), v);
    EXPECT_EQ(pos, s.size());
  }
  std::string s;
  hdr::put_zigzag(s, 1000000);
  size_t pos = 0;
  EXPECT_THROW(hdr::get_zigzag(std::string_view(s).substr(0, 1), pos), HistogramError);
}

TEST(HdrCodec, RoundTrip) {
  std::mt19937_64 rng(11);
  Histogram h;
  for (int i = 0; i < 20000; ++i) h.record(rng() >> (rng() % 40 + 24));  // <= 2^40
  h.record(0);
  h.record(uint64_t{1} << 40);
  Histogram back = Histogram::decode_base64(h.encode_base64());
  EXPECT_TRUE(back == h);
  EXPECT_EQ(back.quantile(0.99), h.quantile(0.99));
  Histogram empty;
  EXPECT_TRUE(Histogram::decode_base64(empty.encode_base64()) == empty);
  // Large counts survive (9-byte LEB128 path).
  Histogram big;
  big.record(7, uint64_t{1} << 62);
  EXPECT_EQ(Histogram::decode_base64(big.encode_base64()).count(), uint64_t{1} << 62);
}

// A V2 string written by hdr-histogram-js (see tests/fixtures/README.md).
TEST(HdrCodec, DecodesAnotherImplementation) {
  std::ifstream f(std::string(KPERFLAB_FIXTURES) + "/hdr-histogram-js-3.0.1.json");
  ASSERT_TRUE(f) << "fixture missing";
  auto j = nlohmann::json::parse(f);
  Histogram h = Histogram::decode_base64(j["encoded"].get<std::string>());
  EXPECT_EQ(h.count(), j["count"].get<uint64_t>());
  EXPECT_EQ(h.min(), j["min"].get<uint64_t>());
  // The JS library reports the raw max; we report its highest equivalent value.
  EXPECT_EQ(h.max(), kpl_hist_highest(kpl_hist_index(j["max"].get<uint64_t>())));
  EXPECT_EQ(h.quantile(0.50), j["p50"].get<uint64_t>());
  EXPECT_EQ(h.quantile(0.90), j["p90"].get<uint64_t>());
  EXPECT_EQ(h.quantile(0.99), j["p99"].get<uint64_t>());
  EXPECT_EQ(h.quantile(0.999), j["p999"].get<uint64_t>());
  // Same counts as recording the same values here.
  Histogram mine;
  for (uint64_t v = 1; v <= 1000; ++v) mine.record(v);
  mine.record(10000, 5);
  mine.record(123456, 3);
  mine.record(1000000000);
  mine.record(uint64_t{1} << 39);
  EXPECT_TRUE(mine == h);
}

TEST(HdrCodec, RefusesCorruptInput) {
  Histogram h;
  for (uint64_t v = 1; v < 100000; v += 13) h.record(v);
  std::string good = h.encode_base64();
  auto error = [](const std::string& s) {
    try {
      Histogram::decode_base64(s);
    } catch (const HistogramError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(error("HISTFAAA!!==").find("base64"), std::string::npos);
  EXPECT_NE(error(hdr::base64_encode("xxxxxxxxxxxx")).find("cookie"), std::string::npos);
  std::string bin = hdr::base64_decode(good);
  EXPECT_NE(error(hdr::base64_encode(bin.substr(0, bin.size() - 10))).find("truncated"),
            std::string::npos);
  std::string flipped = bin;
  flipped[20] ^= 0x5a;
  EXPECT_NE(error(hdr::base64_encode(flipped)), "accepted");
  EXPECT_NE(error(hdr::base64_encode(bin.substr(0, 5))).find("truncated"), std::string::npos);
  // Uncompressed V2 with 3 significant digits: refused, named.
  std::string raw = hdr::encode(h);
  raw[15] = 3;
  EXPECT_NE(error(hdr::base64_encode(raw)).find("significant digits"), std::string::npos);
  // Payload pointing past the counts array.
  raw = hdr::encode(h).substr(0, 40);
  std::string payload;
  hdr::put_zigzag(payload, -1000000);
  hdr::put_zigzag(payload, 5);
  raw[4] = 0, raw[5] = 0, raw[6] = 0, raw[7] = static_cast<char>(payload.size());
  EXPECT_NE(error(hdr::base64_encode(raw + payload)).find("passes the end"), std::string::npos);
  // Hostile payloads (issue #12): a zero run of 2^63 must not wrap the index
  // back into range; four counts of 2^62 must not wrap the total to 0.
  auto with = [&](const std::vector<int64_t>& vs) {
    std::string p;
    for (int64_t v : vs) hdr::put_zigzag(p, v);
    std::string r = hdr::encode(h).substr(0, 40);
    r[4] = 0, r[5] = 0, r[6] = static_cast<char>(p.size() >> 8), r[7] = static_cast<char>(p.size());
    return error(hdr::base64_encode(r + p));
  };
  EXPECT_NE(with({INT64_MIN, INT64_MIN, 5}).find("passes the end"), std::string::npos);
  const int64_t big = int64_t{1} << 62;
  EXPECT_NE(with({big, big, big, big}).find("total count overflows"), std::string::npos);
  EXPECT_EQ(with({big, 3}), "accepted");
}
