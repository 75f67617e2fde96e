// SPDX-License-Identifier: GPL-2.0-only
#include <gtest/gtest.h>

#include <cstring>
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

namespace {

// base64_decode as it was before the fast loop (one strchr per character):
// the reference for its output and its messages.
std::string base64_decode_reference(std::string_view in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (in.size() % 4 != 0)
    throw HistogramError("bad base64: length " + std::to_string(in.size()) +
                         " is not a multiple of 4");
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '=') {
      if (i + 2 < in.size() || (pad == 0 && i + 1 < in.size() && in[i + 1] != '='))
        throw HistogramError("bad base64: '=' inside the text at offset " + std::to_string(i));
      ++pad;
      continue;
    }
    const char* p = c ? std::strchr(kAlphabet, c) : nullptr;
    if (!p || pad) throw HistogramError("bad base64 character at offset " + std::to_string(i));
    acc = acc << 6 | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits & 0xff));
    }
  }
  return out;
}

template <class F>
std::string outcome(F f) {
  try {
    return "ok: " + f();
  } catch (const HistogramError& e) {
    return std::string("error: ") + e.what();
  }
}

// A histogram as text: its highest trackable value, total and counts.
std::string describe(const Histogram& h) {
  std::string s = std::to_string(h.highest_trackable()) + " " + std::to_string(h.count());
  for (uint32_t i = 0; i < h.counts().size(); ++i)
    if (h.counts()[i]) s += " " + std::to_string(i) + ":" + std::to_string(h.counts()[i]);
  return s;
}

std::string describe(const hdr::Counts& c) {
  std::string s = std::to_string(c.highest) + " " + std::to_string(c.total);
  for (auto& [i, n] : c.nonzero) s += " " + std::to_string(i) + ":" + std::to_string(n);
  return s;
}

}  // namespace

// The fast loop decodes what the character-at-a-time rules decode, and
// names the same offset for the same fault.
TEST(HdrCodec, Base64FastLoopIsTheReference) {
  std::mt19937_64 rng(17);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=*\n -_";
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(rng() % 40, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng());
    std::string text = hdr::base64_encode(bytes);
    int faults = round % 4 == 0 ? 0 : static_cast<int>(rng() % 3) + 1;
    for (int f = 0; f < faults && !text.empty(); ++f) {
      size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: text[at] = static_cast<char>(rng()); break;
        default: text.erase(at, 1 + rng() % 4); break;
      }
    }
    std::string reused = "left over";
    EXPECT_EQ(outcome([&] { return hdr::base64_decode(text); }),
              outcome([&] { return base64_decode_reference(text); }))
        << text;
    EXPECT_EQ(outcome([&] { return hdr::base64_decode(text, reused), reused; }),
              outcome([&] { return base64_decode_reference(text); }));
  }
}

// decode_counts (what the loader checks every histogram with) says what
// decode says: the same counts, or the same error, for good and for
// damaged histograms.
TEST(HdrCodec, CountsDecodeAsTheHistogramDoes) {
  std::mt19937_64 rng(23);
  hdr::Counts counts;
  hdr::DecodeScratch scratch;
  for (int round = 0; round < 3000; ++round) {
    Histogram h(round % 5 ? Histogram::kDefaultHighest : uint64_t{1} << (20 + rng() % 42));
    for (int i = 0, n = static_cast<int>(rng() % 500); i < n; ++i)
      h.record(rng() >> (rng() % 64), 1 + rng() % 1000);
    std::string bin = round % 2 ? hdr::encode(h) : hdr::base64_decode(h.encode_base64());
    for (int f = 0, faults = round % 3 ? static_cast<int>(rng() % 3) + 1 : 0; f < faults; ++f)
      if (!bin.empty()) bin[rng() % bin.size()] ^= static_cast<char>(1u << (rng() % 8));
    std::string text = hdr::base64_encode(bin);
    size_t inflated_h = 0, inflated_c = 0;
    std::string want = outcome([&] { return describe(hdr::decode_compressed_base64(text, &inflated_h)); });
    std::string got = outcome([&] {
      hdr::decode_compressed_base64(text, counts, scratch, &inflated_c);
      return describe(counts);
    });
    EXPECT_EQ(got, want) << "round " << round;
    if (want.starts_with("ok")) {
      EXPECT_EQ(inflated_c, inflated_h);
    }
    if (round % 2) {  // the raw V2 buffer itself
      EXPECT_EQ(outcome([&] { return hdr::decode_counts(bin, counts), describe(counts); }),
                outcome([&] { return describe(hdr::decode(bin)); }));
    }
  }
}
