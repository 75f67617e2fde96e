// SPDX-License-Identifier: GPL-2.0-only
#include "core/json_fast.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace kperflab {

namespace {

using nlohmann::json;

constexpr uint64_t kOnes = ~uint64_t{0} / 255;  // 0x0101...01
constexpr uint64_t kHighs = kOnes * 0x80;       // 0x8080...80

// Any byte of x zero / below n (n <= 128): exact as to "any", not "which".
constexpr uint64_t has_zero(uint64_t x) { return (x - kOnes) & ~x & kHighs; }
constexpr uint64_t has_less(uint64_t x, uint64_t n) { return (x - kOnes * n) & ~x & kHighs; }

bool digit(char c) { return c >= '0' && c <= '9'; }

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class FastParser {
 public:
  FastParser(std::string_view text, size_t max_depth, size_t max_elements)
      : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth),
        max_elements_(max_elements) {}

  bool parse(json& root) {
    ws();
    if (!value(root)) return false;
    while (!stack_.empty()) {
      json& top = *stack_.back();
      ws();
      if (p_ == end_) return false;
      bool ok = top.is_array() ? in_array(top.get_ref<json::array_t&>())
                               : in_object(top.get_ref<json::object_t&>());
      if (!ok) return false;
    }
    ws();
    return p_ == end_;
  }

 private:
  // At a container's next token: its end, or (after a comma when it holds
  // something already) its next element. The container on top of the stack
  // is the only one that grows, so the pointers on the stack hold.
  bool in_array(json::array_t& a) {
    if (*p_ == ']') return close();
    if (!a.empty()) {
      if (*p_ != ',') return false;
      ++p_;
      ws();
    }
    a.emplace_back();
    return value(a.back());
  }

  bool in_object(json::object_t& o) {
    if (*p_ == '}') return close();
    if (!o.empty()) {
      if (*p_ != ',') return false;
      ++p_;
      ws();
    }
    // A member counts twice (its key, then its value), as in the builder.
    if (p_ == end_ || *p_ != '"' || !count() || !string(key_)) return false;
    ws();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    ws();
    // Keys come sorted from every writer of ours: the hint makes that
    // insertion constant time. A repeated key: the last value wins.
    return value(o.try_emplace(o.end(), key_)->second);
  }

  bool close() {
    ++p_;
    stack_.pop_back();
    return true;
  }

  bool count() { return ++elements_ <= max_elements_; }

  void ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool literal(const char* word, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  // One value into slot; a container is left open on the stack.
  bool value(json& slot) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
      case '[':
        if (stack_.size() >= max_depth_ || !count()) return false;
        slot = *p_++ == '{' ? json(json::value_t::object) : json(json::value_t::array);
        stack_.push_back(&slot);
        return true;
      case '"': {
        std::string s;
        if (!count() || !string(s)) return false;
        slot = std::move(s);
        return true;
      }
      case 't':
        if (!count() || !literal("true", 4)) return false;
        slot = true;
        return true;
      case 'f':
        if (!count() || !literal("false", 5)) return false;
        slot = false;
        return true;
      case 'n':
        if (!count() || !literal("null", 4)) return false;
        slot = nullptr;
        return true;
      default: return count() && number(slot);
    }
  }

  // nlohmann's number grammar and types: an integer without '-' is
  // unsigned, with '-' signed, anything with a fraction or an exponent a
  // double. What nlohmann would take through strtod instead (an integer
  // past 64 bits) and anything from_chars does not read cleanly is left
  // to it.
  bool number(json& slot) {
    const char* start = p_;
    bool neg = *p_ == '-';
    if (neg) ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && digit(*p_)) ++p_;
    } else {
      return false;
    }
    const char* int_end = p_;
    bool real = false;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
      real = true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
      real = true;
    }
    if (real) {
      double d = 0;
      auto r = std::from_chars(start, p_, d);
      if (r.ec != std::errc() || r.ptr != p_ || !std::isfinite(d)) return false;
      slot = d;
      return true;
    }
    uint64_t v = 0;
    for (const char* q = start + neg; q != int_end; ++q) {
      unsigned d = static_cast<unsigned>(*q - '0');
      if (v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
    }
    if (!neg) {
      slot = v;
    } else {
      if (v > uint64_t{1} << 63) return false;
      slot = v == uint64_t{1} << 63 ? INT64_MIN : -static_cast<int64_t>(v);
    }
    return true;
  }

  // First byte from q on that a string cannot copy as it is: '"', '\\', a
  // control character or a byte of a multi-byte sequence. Eight at a time.
  const char* plain_run(const char* q) const {
    while (end_ - q >= 8) {
      uint64_t x;
      std::memcpy(&x, q, 8);
      if (has_zero(x ^ (kOnes * '"')) | has_zero(x ^ (kOnes * '\\')) | has_less(x, 0x20) |
          (x & kHighs))
        break;
      q += 8;
    }
    while (q != end_) {
      auto c = static_cast<unsigned char>(*q);
      if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
      ++q;
    }
    return q;
  }

  // A string at its opening quote, into out: escapes decoded, UTF-8 checked
  // byte by byte as nlohmann checks it (RFC 3629), control characters
  // refused.
  bool string(std::string& out) {
    ++p_;
    const char* run = plain_run(p_);
    out.assign(p_, run);
    p_ = run;
    for (;;) {
      if (p_ == end_) return false;
      auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (!escape(out)) return false;
      } else if (c >= 0x80) {
        if (!utf8(out)) return false;
      } else if (c < 0x20) {
        return false;
      }
      run = plain_run(p_);
      out.append(p_, run);
      p_ = run;
    }
  }

  bool in_range(const char* q, unsigned lo, unsigned hi) const {
    return q < end_ && static_cast<unsigned char>(*q) >= lo && static_cast<unsigned char>(*q) <= hi;
  }

  bool utf8(std::string& out) {
    auto c = static_cast<unsigned char>(*p_);
    const char* q = p_ + 1;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
      if (!in_range(q, 0x80, 0xbf)) return false;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
      if (!in_range(q, lo, hi) || !in_range(q + 1, 0x80, 0xbf)) return false;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
      if (!in_range(q, lo, hi) || !in_range(q + 1, 0x80, 0xbf) || !in_range(q + 2, 0x80, 0xbf))
        return false;
    } else {
      return false;
    }
    out.append(p_, n);
    p_ += n;
    return true;
  }

  bool hex4(unsigned& v) {
    if (end_ - p_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(*p_++);
      if (h < 0) return false;
      v = v << 4 | static_cast<unsigned>(h);
    }
    return true;
  }

  bool escape(std::string& out) {
    ++p_;
    if (p_ == end_) return false;
    char e = *p_++;
    switch (e) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': break;
      default: return false;
    }
    unsigned cp;
    if (!hex4(cp)) return false;
    if (cp >= 0xdc00 && cp <= 0xdfff) return false;  // a low surrogate alone
    if (cp >= 0xd800 && cp <= 0xdbff) {              // needs its low half
      unsigned lo;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
      p_ += 2;
      if (!hex4(lo) || lo < 0xdc00 || lo > 0xdfff) return false;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
    return true;
  }

  const char* p_;
  const char* const end_;
  const size_t max_depth_, max_elements_;
  size_t elements_ = 0;
  std::vector<json*> stack_;
  std::string key_;
};

}  // namespace

bool parse_json_fast(std::string_view text, size_t max_depth, size_t max_elements, json& out) {
  json root;
  if (!FastParser(text, max_depth, max_elements).parse(root)) {
    out = nullptr;
    return false;
  }
  out = std::move(root);
  return true;
}

}  // namespace kperflab
