// SPDX-License-Identifier: GPL-2.0-only
// A bundle reduced to what analysis reads (analysis/summary.h).
#include "analysis/summary.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace kperflab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

// A std::map / std::vector node's overhead beside its payload, as glibc's
// malloc rounds it (a red-black node: 4 words + the chunk header).
constexpr size_t kNode = 48;

size_t str_bytes(const std::string& s) {
  // Short strings live inside the object (SSO); longer ones in a chunk.
  return sizeof(std::string) + (s.capacity() > 15 ? s.capacity() + 16 : 0);
}

double number_or_none(const JsonView& m, const char* key) {
  auto x = m.find(key);
  return x && x->is_number() ? x->num() : kNone;
}

// The kind, unit and labels of a metric, shared within the probe.
class Infos {
 public:
  explicit Infos(ProbeSummary& p) : p_(p) {}
  uint32_t of(const JsonView& m) {
    bool histogram = m.at("kind").str() == "histogram";
    std::string unit = m.at("unit").str();
    std::string key = (histogram ? "h\x1f" : "s\x1f") + unit + '\x1f';
    std::optional<JsonView> labels = m.find("labels");
    if (labels) key += labels->raw().dump();
    if (auto it = index_.find(key); it != index_.end()) return it->second;
    auto info = std::make_shared<MetricInfo>();
    info->histogram = histogram;
    info->unit = std::move(unit);
    if (labels) {
      info->labels = labels->raw();
      if (auto b = labels->find("better")) info->better = b->str() == "none" ? "" : b->str();
      if (auto c = labels->find("comparable_with")) info->comparable_with = c->str();
    }
    auto i = static_cast<uint32_t>(p_.infos.size());
    p_.infos.push_back(std::move(info));
    index_.emplace(std::move(key), i);
    return i;
  }

 private:
  ProbeSummary& p_;
  std::unordered_map<std::string, uint32_t> index_;
};

MetricValues values_of(const JsonView& m, ProbeSummary& p, Infos& infos, uint32_t name) {
  MetricValues v;
  v.name = name;
  v.info = infos.of(m);
  v.stat.fill(kNone);
  if (!p.infos[v.info]->histogram) {
    v.stat[0] = number_or_none(m, "value");
    return v;
  }
  v.count = m.at("count").u64();
  if (auto ov = m.find("overflow"); ov && ov->is_number() && ov->num() > 0) v.overflow = true;
  for (size_t i = 0; i < v.stat.size(); ++i) v.stat[i] = number_or_none(m, MetricValues::kStats[i]);
  const std::string& hist = m.at("hist").raw().get_ref<const std::string&>();
  v.hist_at = p.hist_text.size();
  v.hist_len = static_cast<uint32_t>(hist.size());  // at most limits::kHistText
  p.hist_text += hist;
  return v;
}

MatrixSummary matrix_of(const JsonView& m) {
  MatrixSummary x;
  x.title = m.text("title", "");
  x.unit = m.text("unit", "");
  JsonView rows = m.at("rows"), cols = m.at("cols"), values = m.at("values");
  x.rows = rows.raw();
  x.cols = cols.raw();
  x.values.reserve(rows.size() * cols.size());
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t c = 0; c < cols.size(); ++c) {
      JsonView v = values.at(r).at(c);
      x.values.push_back(v.is_number() ? v.num() : kNone);
    }
  return x;
}

ProbeSummary probe_of(const JsonView& doc) {
  ProbeSummary p;
  p.parameters = doc.at("parameters").raw();
  std::vector<JsonView> reps = doc.at("repetitions").elements();
  std::set<std::string> names;
  for (auto& rep : reps)
    for (auto& [name, m] : rep.at("metrics").members()) names.insert(name);
  p.names.assign(names.begin(), names.end());
  Infos infos(p);
  for (auto& rep : reps) {
    RepSummary r;
    // The metrics are in name order (a JSON object's), as are the names.
    auto next = p.names.begin();
    for (auto& [name, m] : rep.at("metrics").members()) {
      next = std::lower_bound(next, p.names.end(), name);
      r.metrics.push_back(
          values_of(m, p, infos, static_cast<uint32_t>(next - p.names.begin())));
    }
    r.metrics.shrink_to_fit();
    if (auto extra = rep.find("extra"))
      if (auto ms = extra->find("matrices"))
        for (auto& m : ms->elements()) r.matrices.push_back(matrix_of(m));
    p.reps.push_back(std::move(r));
  }
  p.hist_text.shrink_to_fit();
  return p;
}

size_t probe_bytes(const ProbeSummary& p) {
  size_t n = kNode + json_bytes(p.parameters) + str_bytes(p.hist_text);
  for (auto& s : p.names) n += str_bytes(s);
  for (auto& i : p.infos) n += 2 * kNode + str_bytes(i->unit) + json_bytes(i->labels) +
                               str_bytes(i->better) + str_bytes(i->comparable_with);
  for (auto& r : p.reps) {
    n += sizeof(RepSummary) + r.metrics.capacity() * sizeof(MetricValues);
    for (auto& m : r.matrices)
      n += sizeof(MatrixSummary) + str_bytes(m.title) + str_bytes(m.unit) + json_bytes(m.rows) +
           json_bytes(m.cols) + m.values.capacity() * sizeof(double);
  }
  return n;
}

}  // namespace

size_t json_bytes(const json& j) {
  size_t n = sizeof(json);
  switch (j.type()) {
    case json::value_t::object:
      n += kNode;
      for (auto& [k, v] : j.items()) n += kNode + str_bytes(k) + json_bytes(v);
      break;
    case json::value_t::array:
      n += kNode;
      for (auto& v : j) n += json_bytes(v);
      break;
    case json::value_t::string:
      n += 16 + str_bytes(j.get_ref<const std::string&>());
      break;
    default:
      break;
  }
  return n;
}

std::string_view ProbeSummary::hist(const MetricValues& m) const {
  if (m.hist_at + m.hist_len > hist_text.size())
    throw std::logic_error("a histogram of a summary loaded without its histograms' text");
  return std::string_view(hist_text).substr(m.hist_at, m.hist_len);
}

const MetricValues* ProbeSummary::find(const RepSummary& rep, std::string_view metric) const {
  auto it = std::lower_bound(names.begin(), names.end(), metric);
  if (it == names.end() || *it != metric) return nullptr;
  auto index = static_cast<uint32_t>(it - names.begin());
  auto m = std::lower_bound(rep.metrics.begin(), rep.metrics.end(), index,
                            [](const MetricValues& x, uint32_t i) { return x.name < i; });
  return m != rep.metrics.end() && m->name == index ? &*m : nullptr;
}

BundleSummary BundleSummary::of(const Bundle& b) {
  BundleSummary s;
  s.dir = b.dir;
  s.meta = b.meta;
  for (auto& [name, doc] : b.probes) s.probes[name] = probe_of(b.probe_view(name));
  s.bytes = s.estimate_bytes();
  return s;
}

size_t BundleSummary::estimate_bytes() const {
  size_t n = sizeof(BundleSummary) + str_bytes(dir.native()) + json_bytes(meta);
  for (auto& [name, p] : probes) n += str_bytes(name) + probe_bytes(p);
  return n;
}

void BundleSummary::drop_histograms() {
  for (auto& [name, p] : probes) std::string().swap(p.hist_text);
  histograms = false;
  bytes = estimate_bytes();
}

BundleSummary BundleSummary::load(const fs::path& dir) { return of(Bundle::load(dir)); }

JsonView BundleSummary::meta_view() const {
  return JsonView(meta, std::make_shared<const fs::path>(dir / "meta.json"));
}

JsonView BundleSummary::parameters_view(const std::string& probe) const {
  auto file = std::make_shared<const fs::path>(dir / (probe + ".json"));
  auto it = probes.find(probe);
  if (it == probes.end()) throw BundleError(*file, "", "not in this bundle");
  return JsonView(it->second.parameters, file, "parameters");
}

}  // namespace kperflab
