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

namespace {

// kB64's inverse: 0..63, or 64 for a byte that is not in the alphabet.
struct Base64Table {
  unsigned char v[256];
  constexpr Base64Table() : v() {
    for (auto& x : v) x = 64;
    for (unsigned i = 0; i < 64; ++i) v[static_cast<unsigned char>(kB64[i])] = static_cast<unsigned char>(i);
  }
};
constexpr Base64Table kB64Value;

// The decoder as the rules say it, one character at a time: what names the
// first bad character when the fast loop below meets one. `in` starts at
// offset `base` of the text (messages give the offset in the text).
void base64_decode_checked(std::string_view in, size_t base, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '=') {
      if (i + 2 < in.size() || (pad == 0 && i + 1 < in.size() && in[i + 1] != '='))
        throw HistogramError("bad base64: '=' inside the text at offset " +
                             std::to_string(base + i));
      ++pad;
      continue;
    }
    unsigned v = kB64Value.v[static_cast<unsigned char>(c)];
    if (v == 64 || pad)
      throw HistogramError("bad base64 character at offset " + std::to_string(base + i));
    acc = acc << 6 | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits & 0xff));
    }
  }
}

}  // namespace

void base64_decode(std::string_view in, std::string& out) {
  if (in.size() % 4 != 0)
    throw HistogramError("bad base64: length " + std::to_string(in.size()) +
                         " is not a multiple of 4");
  // Whole groups of four alphabet characters, the last group (which may
  // hold padding) by the checked loop; any character outside the alphabet
  // sends the whole text there, to be named.
  size_t body = in.empty() ? 0 : in.size() - 4;
  out.resize(body / 4 * 3);
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  unsigned bad = 0;
  for (size_t i = 0; i < body; i += 4, o += 3) {
    unsigned a = kB64Value.v[p[i]], b = kB64Value.v[p[i + 1]], c = kB64Value.v[p[i + 2]],
             d = kB64Value.v[p[i + 3]];
    bad |= a | b | c | d;
    uint32_t n = a << 18 | b << 12 | c << 6 | d;
    o[0] = static_cast<unsigned char>(n >> 16);
    o[1] = static_cast<unsigned char>(n >> 8);
    o[2] = static_cast<unsigned char>(n);
  }
  if (bad & 64) return base64_decode_checked(in, 0, out);
  // Groups end on a byte boundary: the last one decodes on its own (into
  // at most 3 bytes, no allocation).
  std::string tail;
  base64_decode_checked(in.substr(body), body, tail);
  out += tail;
}

std::string base64_decode(std::string_view in) {
  std::string out;
  base64_decode(in, out);
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

namespace {

// get_zigzag with its commonest case inline: a one-byte value (a count or
// a run of zeros below 64).
inline int64_t next_zigzag(std::string_view in, size_t& pos) {
  if (pos < in.size()) {
    auto b = static_cast<unsigned char>(in[pos]);
    if (!(b & 0x80)) {
      ++pos;
      return static_cast<int64_t>(b >> 1) ^ -static_cast<int64_t>(b & 1);
    }
  }
  return get_zigzag(in, pos);
}

}  // namespace

void decode_counts(std::string_view in, Counts& out) {
  out.nonzero.clear();
  out.total = 0;
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
  // The histogram decode() builds: its counts array and what
  // Histogram::add_at_index accepts into it.
  out.highest = std::max(highest, Histogram::kDefaultHighest);
  const uint64_t size = kpl_hist_len(out.highest);
  std::string_view payload = in.substr(kHeaderSize, len);
  size_t pos = 0;
  uint64_t index = 0, total = 0;
  while (pos < payload.size()) {
    int64_t v = next_zigzag(payload, pos);
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
    if (v) {
      if (kpl_hist_lowest(static_cast<uint32_t>(index)) > out.highest)  // as add_at_index says it
        throw HistogramError("counts index " + std::to_string(index) +
                             " is past the highest trackable value " +
                             std::to_string(out.highest));
      out.nonzero.push_back({static_cast<uint32_t>(index), static_cast<uint64_t>(v)});
    }
    ++index;
  }
  out.total = total;
}

Histogram decode(std::string_view in) {
  Counts c;
  decode_counts(in, c);
  Histogram h(c.highest);
  for (const auto& [i, n] : c.nonzero) h.add_at_index(i, n);
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

namespace {

// The compressed form's envelope: base64 into scratch.bin, then the V2
// buffer: uncompressed V2 left in scratch.bin (returned), compressed
// inflated into scratch.raw (returned).
std::string_view unwrap(std::string_view text, DecodeScratch& scratch, size_t* inflated) {
  std::string& bin = scratch.bin;
  base64_decode(text, bin);
  if (bin.size() < 8) throw HistogramError("truncated compressed header");
  uint32_t cookie = static_cast<uint32_t>(get_be(bin, 0, 4));
  if ((cookie & ~0xf0u) != 0x1c849304) {
    if ((cookie & ~0xf0u) == 0x1c849303) {  // uncompressed V2
      if (inflated) *inflated = bin.size();
      return bin;
    }
    throw HistogramError("not a compressed V2 histogram (bad cookie)");
  }
  uint32_t len = static_cast<uint32_t>(get_be(bin, 4, 4));
  if (len > bin.size() - 8) throw HistogramError("truncated compressed payload");
  try {
    inflate_all(std::string_view(bin).substr(8, len), 15, max_decoded(), scratch.raw);
  } catch (const std::runtime_error& e) {
    throw HistogramError(std::string("zlib: ") + e.what());
  }
  if (inflated) *inflated = scratch.raw.size();
  return scratch.raw;
}

}  // namespace

Histogram decode_compressed_base64(std::string_view text, size_t* inflated) {
  DecodeScratch scratch;
  return decode(unwrap(text, scratch, inflated));
}

void decode_compressed_base64(std::string_view text, Counts& out, DecodeScratch& scratch,
                              size_t* inflated) {
  decode_counts(unwrap(text, scratch, inflated), out);
}

}  // namespace kperflab::hdr
