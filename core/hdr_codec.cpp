// SPDX-License-Identifier: GPL-2.0-only
#include "core/hdr_codec.h"

#include <zlib.h>

#include <bit>
#include <cstring>

#include "kperflab/hist.h"
#include "core/zlib_inflate.h"

namespace kperflab::hdr {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr size_t kHeaderSize = 40;
// A V2 payload writes each counts index as one zig-zag LEB128 value of at
// most 9 bytes (zero runs take fewer), so a histogram cannot need more than
// 9 bytes per index of the largest layout decode() accepts (highest
// trackable 2^62: about 63 KiB). Inflating stops there: a zlib bomb, a valid
// histogram followed by 60 MiB of zeros, cost 0.3 s per metric (#12).
constexpr size_t kMaxLebBytes = 9;
size_t max_payload(uint64_t highest) { return kMaxLebBytes * kpl_hist_len(highest); }
size_t max_decoded() { return kHeaderSize + max_payload(uint64_t{1} << 62); }

void put_be32(std::string& o, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) o.push_back(static_cast<char>(v >> s));
}
void put_be64(std::string& o, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) o.push_back(static_cast<char>(v >> s));
}
uint64_t get_be(std::string_view in, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<unsigned char>(in[pos + i]);
  return v;
}

}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out.push_back(kB64[n >> 18 & 63]);
    out.push_back(kB64[n >> 12 & 63]);
    out.push_back(i + 1 < in.size() ? kB64[n >> 6 & 63] : '=');
    out.push_back(i + 2 < in.size() ? kB64[n & 63] : '=');
  }
  return out;
}

std::string base64_decode(std::string_view in) {
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
    const char* p = c ? std::strchr(kB64, c) : nullptr;
    if (!p || pad) throw HistogramError("bad base64 character at offset " + std::to_string(i));
    acc = acc << 6 | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits & 0xff));
    }
  }
  return out;
}

void put_zigzag(std::string& out, int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  for (int i = 0; i < 8; ++i) {
    if (z < 0x80) {
      out.push_back(static_cast<char>(z));
      return;
    }
    out.push_back(static_cast<char>((z & 0x7f) | 0x80));
    z >>= 7;
  }
  out.push_back(static_cast<char>(z));  // 9th byte: the remaining 8 bits
}

int64_t get_zigzag(std::string_view in, size_t& pos) {
  uint64_t z = 0;
  for (int i = 0; i < 9; ++i) {
    if (pos >= in.size()) throw HistogramError("truncated payload: LEB128 value cut off");
    uint64_t b = static_cast<unsigned char>(in[pos++]);
    if (i == 8) {
      z |= b << 56;
      break;
    }
    z |= (b & 0x7f) << (7 * i);
    if (!(b & 0x80)) break;
  }
  return static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
}

std::string encode(const Histogram& h) {
  const auto& c = h.counts();
  size_t last = c.size();
  while (last > 0 && c[last - 1] == 0) --last;
  std::string payload;
  for (size_t i = 0; i < last;) {
    if (c[i] == 0) {
      size_t run = 0;
      while (i < last && c[i] == 0) ++run, ++i;
      put_zigzag(payload, -static_cast<int64_t>(run));
    } else {
      put_zigzag(payload, static_cast<int64_t>(c[i++]));
    }
  }
  std::string out;
  put_be32(out, kEncodingCookie);
  put_be32(out, static_cast<uint32_t>(payload.size()));
  put_be32(out, 0);                           // normalizing index offset
  put_be32(out, KPL_HIST_SIGNIFICANT_DIGITS);  // significant digits
  put_be64(out, 1);                           // lowest discernible value
  put_be64(out, h.highest_trackable());
  put_be64(out, std::bit_cast<uint64_t>(1.0));  // integer to double ratio
  return out + payload;
}

Histogram decode(std::string_view in) {
  if (in.size() < kHeaderSize) throw HistogramError("truncated V2 header");
  uint32_t cookie = static_cast<uint32_t>(get_be(in, 0, 4));
  if ((cookie & ~0xf0u) != 0x1c849303)
    throw HistogramError("not a V2 histogram encoding (cookie 0x" + [&] {
      char b[16];
      std::snprintf(b, sizeof b, "%08x", cookie);
      return std::string(b);
    }() + ")");
  uint32_t len = static_cast<uint32_t>(get_be(in, 4, 4));
  // Bytes 8..11 (normalizing index offset) and 32..39 (integer to double
  // ratio) are ignored, as HdrHistogram_c and hdr-histogram-js do: the JS
  // encoder writes an offset of 1 and the ratio as an integer.
  uint32_t digits = static_cast<uint32_t>(get_be(in, 12, 4));
  uint64_t lowest = get_be(in, 16, 8);
  uint64_t highest = get_be(in, 24, 8);
  if (digits != KPL_HIST_SIGNIFICANT_DIGITS)
    throw HistogramError("histogram has " + std::to_string(digits) +
                         " significant digits; kperflab reads 2");
  if (lowest != 1)
    throw HistogramError("lowest discernible value " + std::to_string(lowest) +
                         " is not supported (kperflab uses 1)");
  if (len > in.size() - kHeaderSize)
    throw HistogramError("truncated payload: header says " + std::to_string(len) +
                         " bytes, " + std::to_string(in.size() - kHeaderSize) + " present");
  highest = std::max<uint64_t>(highest, 2 * KPL_HIST_SUB_BUCKET_COUNT);
  if (highest > (uint64_t{1} << 62))
    throw HistogramError("highest trackable value " + std::to_string(highest) + " too large");
  if (len > max_payload(std::max(highest, Histogram::kDefaultHighest)))
    throw HistogramError("payload of " + std::to_string(len) +
                         " bytes is more than the header's bucket layout can hold");
  Histogram h(std::max(highest, Histogram::kDefaultHighest));
  std::string_view payload = in.substr(kHeaderSize, len);
  size_t pos = 0;
  uint64_t index = 0, total = 0;
  const uint64_t size = h.counts().size();
  while (pos < payload.size()) {
    int64_t v = get_zigzag(payload, pos);
    if (v < 0) {
      // A run of -v zeros; a hostile run must not wrap the index.
      uint64_t run = static_cast<uint64_t>(-(v + 1)) + 1;
      if (index > size || run > size - index)
        throw HistogramError("a run of " + std::to_string(run) + " zeros passes the end");
      index += run;
      continue;
    }
    if (index >= size)
      throw HistogramError("counts index " + std::to_string(index) + " out of range");
    // Counts are u64 in the kernel; a total past 2^63 is no measurement.
    if (__builtin_add_overflow(total, static_cast<uint64_t>(v), &total) ||
        total > (uint64_t{1} << 63))
      throw HistogramError("total count overflows");
    if (v) h.add_at_index(static_cast<uint32_t>(index), static_cast<uint64_t>(v));
    ++index;
  }
  return h;
}

std::string encode_compressed_base64(const Histogram& h) {
  std::string raw = encode(h);
  uLongf n = compressBound(raw.size());
  std::string z(n, '\0');
  if (compress2(reinterpret_cast<Bytef*>(z.data()), &n,
                reinterpret_cast<const Bytef*>(raw.data()), raw.size(), Z_BEST_COMPRESSION) != Z_OK)
    throw HistogramError("zlib compress failed");
  z.resize(n);
  std::string out;
  put_be32(out, kCompressedCookie);
  put_be32(out, static_cast<uint32_t>(z.size()));
  return base64_encode(out + z);
}

Histogram decode_compressed_base64(std::string_view text, size_t* inflated) {
  std::string bin = base64_decode(text);
  if (bin.size() < 8) throw HistogramError("truncated compressed header");
  uint32_t cookie = static_cast<uint32_t>(get_be(bin, 0, 4));
  if ((cookie & ~0xf0u) != 0x1c849304) {
    if ((cookie & ~0xf0u) == 0x1c849303) {  // uncompressed V2
      if (inflated) *inflated = bin.size();
      return decode(bin);
    }
    throw HistogramError("not a compressed V2 histogram (bad cookie)");
  }
  uint32_t len = static_cast<uint32_t>(get_be(bin, 4, 4));
  if (len > bin.size() - 8) throw HistogramError("truncated compressed payload");
  std::string raw;
  try {
    raw = inflate_all(std::string_view(bin).substr(8, len), 15, max_decoded());
  } catch (const std::runtime_error& e) {
    throw HistogramError(std::string("zlib: ") + e.what());
  }
  if (inflated) *inflated = raw.size();
  return decode(raw);
}

}  // namespace kperflab::hdr
