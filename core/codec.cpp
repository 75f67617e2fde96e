// SPDX-License-Identifier: GPL-2.0-only
// gzip (for kconfig.gz) and SHA-256 (for the config hash), on zlib alone.
#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "core/codec.h"
#include "core/zlib_inflate.h"

namespace kperflab {

std::string gzip_compress(const std::string& data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("gzip: deflateInit2 failed");
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate failed");
  out.resize(zs.total_out);
  return out;
}

namespace {

// One inflate stream per thread, reset per call: inflateInit2 and the first
// inflate allocate about 40 KiB (state and window), more than a histogram's
// whole decoding costs otherwise.
class InflateStream {
 public:
  ~InflateStream() {
    if (ready_) inflateEnd(&zs_);
  }
  z_stream& reset(int window_bits) {
    if (ready_ && inflateReset2(&zs_, window_bits) != Z_OK) {
      inflateEnd(&zs_);
      ready_ = false;
    }
    if (!ready_) {
      zs_ = z_stream{};
      if (inflateInit2(&zs_, window_bits) != Z_OK) throw std::runtime_error("zlib init failed");
      ready_ = true;
    }
    return zs_;
  }

 private:
  z_stream zs_{};
  bool ready_ = false;
};

}  // namespace

void inflate_all(std::string_view in, int window_bits, size_t limit, std::string& out) {
  static thread_local InflateStream stream;
  z_stream& zs = stream.reset(window_bits);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out.clear();
  // Chunks of 64 KiB, as ever: where a limit and corrupt data meet, which
  // one is reported depends on the chunk (the messages tests expect).
  char buf[65536];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END)
      throw std::runtime_error("corrupt data: " +
                               (zs.msg ? std::string(zs.msg) : "zlib error " + std::to_string(rc)));
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > limit)
      throw std::runtime_error("more than " + std::to_string(limit) + " bytes uncompressed");
  } while (rc != Z_STREAM_END && (zs.avail_in > 0 || zs.avail_out == 0));
  if (rc != Z_STREAM_END) throw std::runtime_error("truncated data");
}

std::string inflate_all(std::string_view in, int window_bits, size_t limit) {
  std::string out;
  inflate_all(in, window_bits, limit, out);
  return out;
}

// Kernel configs are about 300 KiB (allyesconfig under 1 MiB); 64 MiB
// leaves room for anything real and stops a gzip bomb before it costs
// seconds and gigabytes (#12).
constexpr size_t kMaxKconfig = size_t{64} << 20;

std::string gzip_decompress(const std::string& data) {
  try {
    return inflate_all(data, 15 + 32, kMaxKconfig);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("gzip: ") + e.what());
  }
}

namespace {

constexpr std::array<uint32_t, 64> kK = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void compress_block(std::array<uint32_t, 8>& h, const unsigned char* p) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 |
           uint32_t(p[4 * i + 2]) << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; ++i) {
    uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kK[i] +
                  w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

}  // namespace

std::string sha256_hex(const std::string& data) {
  std::array<uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::string msg = data;
  uint64_t bits = uint64_t(data.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>(bits >> (8 * i)));
  for (size_t off = 0; off < msg.size(); off += 64)
    compress_block(h, reinterpret_cast<const unsigned char*>(msg.data()) + off);
  char out[65];
  for (int i = 0; i < 8; ++i) std::snprintf(out + 8 * i, 9, "%08x", h[i]);
  return std::string(out, 64);
}

}  // namespace kperflab
