// SPDX-License-Identifier: GPL-2.0-only
// BundleSummary <-> bytes (analysis/summary_codec.h). Little-endian fixed
// widths; strings and JSON (MessagePack) length-prefixed.
#define XXH_INLINE_ALL
#include "analysis/summary_codec.h"

#include <xxhash.h>

#include <cstring>
#include <limits>

namespace kperflab::summary_codec {

namespace {

using nlohmann::json;

constexpr char kMagic[4] = {'K', 'P', 'S', 'U'};
constexpr size_t kHeader = 4 + 4 + 8;  // magic, format, checksum of the rest

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  void js(const json& j) {
    std::vector<uint8_t> b = json::to_msgpack(j);
    u64(b.size());
    out_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  std::string& out() { return out_; }

 private:
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  double f64() { return get<double>(); }
  std::string str() { return std::string(take(len())); }
  json js() {
    std::string_view b = take(len());
    try {
      return json::from_msgpack(b.begin(), b.end());
    } catch (const json::exception& e) {
      throw SummaryCodecError(std::string("a JSON value: ") + e.what());
    }
  }
  // A count of items each at least min_size bytes long: never more than
  // what is left could hold.
  uint32_t count(size_t min_size) {
    uint32_t n = u32();
    if (min_size && n > (in_.size() - at_) / min_size) throw SummaryCodecError("a count past the end");
    return n;
  }
  bool done() const { return at_ == in_.size(); }

 private:
  template <class T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof v).data(), sizeof v);
    return v;
  }
  size_t len() {
    uint64_t n = u64();
    if (n > in_.size() - at_) throw SummaryCodecError("a length past the end");
    return static_cast<size_t>(n);
  }
  std::string_view take(size_t n) {
    if (n > in_.size() - at_) throw SummaryCodecError("truncated");
    std::string_view v = in_.substr(at_, n);
    at_ += n;
    return v;
  }
  std::string_view in_;
  size_t at_ = 0;
};

constexpr size_t kMetricBytes = 5 * 8 + 8 + 8 + 4 + 4 + 4 + 1;

void put_probe(Writer& w, const ProbeSummary& p) {
  w.js(p.parameters);
  w.u32(static_cast<uint32_t>(p.names.size()));
  for (auto& n : p.names) w.str(n);
  w.u32(static_cast<uint32_t>(p.infos.size()));
  for (auto& i : p.infos) {
    w.u8(i->histogram);
    w.str(i->unit);
    w.js(i->labels);
    w.str(i->better);
    w.str(i->comparable_with);
  }
  w.u64(p.hist_text.size());
  w.u32(static_cast<uint32_t>(p.reps.size()));
  for (auto& r : p.reps) {
    w.u32(static_cast<uint32_t>(r.metrics.size()));
    for (auto& m : r.metrics) {
      for (double x : m.stat) w.f64(x);
      w.u64(m.count);
      w.u64(m.hist_at);
      w.u32(m.hist_len);
      w.u32(m.name);
      w.u32(m.info);
      w.u8(m.overflow);
    }
    w.u32(static_cast<uint32_t>(r.matrices.size()));
    for (auto& x : r.matrices) {
      w.str(x.title);
      w.str(x.unit);
      w.js(x.rows);
      w.js(x.cols);
      w.u64(x.values.size());
      for (double v : x.values) w.f64(v);
    }
  }
}

ProbeSummary get_probe(Reader& r, uint64_t& hist_size) {
  ProbeSummary p;
  p.parameters = r.js();
  uint32_t names = r.count(8);
  p.names.reserve(names);
  for (uint32_t i = 0; i < names; ++i) {
    p.names.push_back(r.str());
    if (i && !(p.names[i - 1] < p.names[i])) throw SummaryCodecError("metric names out of order");
  }
  uint32_t infos = r.count(1 + 4 * 8);
  for (uint32_t i = 0; i < infos; ++i) {
    auto info = std::make_shared<MetricInfo>();
    info->histogram = r.u8() != 0;
    info->unit = r.str();
    info->labels = r.js();
    info->better = r.str();
    info->comparable_with = r.str();
    p.infos.push_back(std::move(info));
  }
  hist_size = r.u64();
  uint32_t reps = r.count(8);
  for (uint32_t k = 0; k < reps; ++k) {
    RepSummary rep;
    uint32_t n = r.count(kMetricBytes);
    rep.metrics.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      MetricValues& m = rep.metrics[i];
      for (double& x : m.stat) x = r.f64();
      m.count = r.u64();
      m.hist_at = r.u64();
      m.hist_len = r.u32();
      m.name = r.u32();
      m.info = r.u32();
      m.overflow = r.u8() != 0;
      if (m.name >= p.names.size() || m.info >= p.infos.size() ||
          (i && rep.metrics[i - 1].name >= m.name))
        throw SummaryCodecError("a metric's name or info out of range or order");
      if (m.hist_at > hist_size || m.hist_len > hist_size - m.hist_at)
        throw SummaryCodecError("a histogram past its probe's text");
    }
    uint32_t matrices = r.count(8 * 5);
    for (uint32_t i = 0; i < matrices; ++i) {
      MatrixSummary x;
      x.title = r.str();
      x.unit = r.str();
      x.rows = r.js();
      x.cols = r.js();
      uint64_t values = r.u64();
      if (!x.rows.is_array() || !x.cols.is_array() || values != x.rows.size() * x.cols.size())
        throw SummaryCodecError("a matrix's values do not fill its rows and columns");
      if (values > std::numeric_limits<uint32_t>::max()) throw SummaryCodecError("a matrix too large");
      x.values.resize(values);
      for (double& v : x.values) v = r.f64();
      rep.matrices.push_back(std::move(x));
    }
    p.reps.push_back(std::move(rep));
  }
  return p;
}

uint64_t checksum(std::string_view body) { return XXH3_64bits(body.data(), body.size()); }

}  // namespace

Blobs encode(const BundleSummary& s) {
  if (!s.histograms) throw std::logic_error("summary_codec::encode: a summary without histograms");
  Writer w;
  w.js(s.meta);
  w.u32(static_cast<uint32_t>(s.probes.size()));
  Blobs b;
  for (auto& [name, p] : s.probes) {
    w.str(name);
    put_probe(w, p);
    b.histograms += p.hist_text;
  }
  std::string body = std::move(w.out());
  b.summary.reserve(kHeader + body.size());
  b.summary.append(kMagic, 4);
  uint32_t f = kSummaryFormat;
  uint64_t sum = checksum(body);
  b.summary.append(reinterpret_cast<const char*>(&f), 4);
  b.summary.append(reinterpret_cast<const char*>(&sum), 8);
  b.summary += body;
  return b;
}

BundleSummary decode(std::string_view summary, std::string_view histograms,
                     const std::filesystem::path& dir, bool with_histograms) {
  if (summary.size() < kHeader || std::memcmp(summary.data(), kMagic, 4) != 0)
    throw SummaryCodecError("not a summary");
  uint32_t f;
  uint64_t sum;
  std::memcpy(&f, summary.data() + 4, 4);
  std::memcpy(&sum, summary.data() + 8, 8);
  if (f != kSummaryFormat) throw SummaryCodecError("format " + std::to_string(f));
  std::string_view body = summary.substr(kHeader);
  if (checksum(body) != sum) throw SummaryCodecError("checksum");
  Reader r(body);
  BundleSummary s;
  s.dir = dir;
  s.meta = r.js();
  if (!s.meta.is_object()) throw SummaryCodecError("meta is not an object");
  uint32_t probes = r.count(8);
  uint64_t hist_at = 0;
  for (uint32_t i = 0; i < probes; ++i) {
    std::string name = r.str();
    uint64_t size = 0;
    ProbeSummary p = get_probe(r, size);
    if (with_histograms) {
      if (hist_at > histograms.size() || size > histograms.size() - hist_at)
        throw SummaryCodecError("the histograms' text is shorter than the summary says");
      p.hist_text.assign(histograms.substr(hist_at, size));
    }
    hist_at += size;
    if (!s.probes.emplace(std::move(name), std::move(p)).second)
      throw SummaryCodecError("a probe twice");
  }
  if (!r.done()) throw SummaryCodecError("bytes after the end");
  if (with_histograms && hist_at != histograms.size())
    throw SummaryCodecError("the histograms' text is longer than the summary says");
  s.histograms = with_histograms;
  s.bytes = s.estimate_bytes();
  return s;
}

}  // namespace kperflab::summary_codec
