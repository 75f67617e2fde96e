// SPDX-License-Identifier: GPL-2.0-only
#include "core/histogram.h"

#include <algorithm>
#include <cmath>

#include "core/hdr_codec.h"
#include "kperflab/hist.h"

namespace kperflab {

Histogram::Histogram(uint64_t highest_trackable) : highest_(highest_trackable) {
  if (highest_ < 2 * KPL_HIST_SUB_BUCKET_COUNT)
    throw HistogramError("highest trackable value must be at least 512");
  if (highest_ > (uint64_t{1} << 62))
    throw HistogramError("highest trackable value must be at most 2^62");
  counts_.assign(kpl_hist_len(highest_), 0);
}

void Histogram::add_overflow(uint64_t n, uint64_t floor) {
  if (!n) return;
  overflow_ += n;
  overflow_floor_ = overflow_floor_ ? std::min(overflow_floor_, floor) : floor;
}

void Histogram::record(uint64_t value, uint64_t count) {
  if (value > highest_) {
    add_overflow(count, value);
    return;
  }
  counts_[kpl_hist_index(value)] += count;
  total_ += count;
}

void Histogram::add_at_index(uint32_t index, uint64_t count) {
  if (index >= counts_.size() || kpl_hist_lowest(index) > highest_)
    throw HistogramError("counts index " + std::to_string(index) +
                         " is past the highest trackable value " + std::to_string(highest_));
  counts_[index] += count;
  total_ += count;
}

void Histogram::merge(const Histogram& other) {
  for (uint32_t i = 0; i < other.counts_.size(); ++i) {
    uint64_t c = other.counts_[i];
    if (!c) continue;
    if (i < counts_.size() && kpl_hist_lowest(i) <= highest_)
      add_at_index(i, c);
    else
      add_overflow(c, kpl_hist_lowest(i));
  }
  add_overflow(other.overflow_, other.overflow_floor_);
}

void Histogram::merge_truncated(std::span<const uint64_t> counts, uint64_t overflow) {
  merge_counts(counts, overflow);
}

void Histogram::merge_truncated(std::span<const unsigned long long> counts, uint64_t overflow) {
  merge_counts(counts, overflow);
}

template <class T>
void Histogram::merge_counts(std::span<const T> counts, uint64_t overflow) {
  for (uint32_t i = 0; i < counts.size(); ++i) {
    if (!counts[i]) continue;
    if (i < counts_.size() && kpl_hist_lowest(i) <= highest_)
      add_at_index(i, counts[i]);
    else
      add_overflow(counts[i], kpl_hist_lowest(i));
  }
  // Values past the kernel array: all we know is that they were at least
  // the lowest value of the first index the array did not have.
  add_overflow(overflow, kpl_hist_lowest(static_cast<uint32_t>(counts.size())));
}

uint64_t Histogram::min() const {
  for (uint32_t i = 0; i < counts_.size(); ++i)
    if (counts_[i]) return kpl_hist_lowest(i);
  return 0;
}

uint64_t Histogram::max() const {
  for (uint32_t i = static_cast<uint32_t>(counts_.size()); i-- > 0;)
    if (counts_[i]) return kpl_hist_highest(i);
  return 0;
}

namespace {
// HdrHistogram's median equivalent value: the middle of the bucket.
double median_equivalent(uint32_t i) {
  return static_cast<double>(kpl_hist_lowest(i)) + static_cast<double>(kpl_hist_width(i) / 2);
}
}  // namespace

double Histogram::mean() const {
  if (!total_) return 0;
  double sum = 0;
  for (uint32_t i = 0; i < counts_.size(); ++i)
    if (counts_[i]) sum += median_equivalent(i) * static_cast<double>(counts_[i]);
  return sum / static_cast<double>(total_);
}

double Histogram::stddev() const {
  if (!total_) return 0;
  double m = mean(), sum = 0;
  for (uint32_t i = 0; i < counts_.size(); ++i) {
    if (!counts_[i]) continue;
    double d = median_equivalent(i) - m;
    sum += d * d * static_cast<double>(counts_[i]);
  }
  return std::sqrt(sum / static_cast<double>(total_));
}

uint64_t quantile_rank(double q, uint64_t total) {
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total) + 0.5);
  return std::max<uint64_t>(rank, 1);
}

uint64_t Histogram::quantile(double q) const {
  if (!total_) return 0;
  uint64_t rank = quantile_rank(q, total_), seen = 0;
  for (uint32_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (counts_[i] && seen >= rank) return kpl_hist_highest(i);
  }
  return max();
}

namespace {

// The walk behind both quantiles(): next(i, c) yields the non-empty counts
// in ascending index order (false at the end). The ranks are visited in
// ascending order, each answered by the first index whose running count
// reaches it; a rank past the end (a total near 2^63 rounds up in a double)
// gets the last non-empty index (max()), as quantile() always did.
template <class Next>
void walk_quantiles(uint64_t total, std::span<const double> qs, std::span<uint64_t> out,
                    Next next) {
  if (out.size() != qs.size()) throw std::invalid_argument("quantiles: qs and out differ in size");
  if (!total) {
    std::fill(out.begin(), out.end(), 0);
    return;
  }
  constexpr size_t kInline = 16;
  uint64_t rank_in[kInline];
  uint32_t order_in[kInline];
  std::vector<uint64_t> rank_heap;
  std::vector<uint32_t> order_heap;
  uint64_t* rank = rank_in;
  uint32_t* order = order_in;
  if (qs.size() > kInline) {
    rank_heap.resize(qs.size());
    order_heap.resize(qs.size());
    rank = rank_heap.data();
    order = order_heap.data();
  }
  for (size_t k = 0; k < qs.size(); ++k) {
    rank[k] = quantile_rank(qs[k], total);
    order[k] = static_cast<uint32_t>(k);
  }
  auto by_rank = [&](uint32_t a, uint32_t b) { return rank[a] < rank[b]; };
  if (!std::is_sorted(order, order + qs.size(), by_rank))  // callers ask in order
    std::sort(order, order + qs.size(), by_rank);
  size_t k = 0;
  uint64_t seen = 0, last = 0;
  uint32_t i;
  uint64_t c;
  while (k < qs.size() && next(i, c)) {
    seen += c;
    last = kpl_hist_highest(i);
    while (k < qs.size() && seen >= rank[order[k]]) out[order[k++]] = last;
  }
  for (; k < qs.size(); ++k) out[order[k]] = last;  // past the end: max()
}

}  // namespace

void Histogram::quantiles(std::span<const double> qs, std::span<uint64_t> out) const {
  const uint64_t* c = counts_.data();
  const uint32_t n = static_cast<uint32_t>(counts_.size());
  uint32_t at = 0;
  walk_quantiles(total_, qs, out, [&](uint32_t& i, uint64_t& count) {
    while (at < n && !c[at]) ++at;
    if (at == n) return false;
    i = at;
    count = c[at++];
    return true;
  });
}

void quantiles_of(std::span<const IndexCount> nonzero, uint64_t total, std::span<const double> qs,
                  std::span<uint64_t> out) {
  size_t at = 0;
  walk_quantiles(total, qs, out, [&](uint32_t& i, uint64_t& count) {
    if (at == nonzero.size()) return false;
    i = nonzero[at].index;
    count = nonzero[at++].count;
    return true;
  });
}

bool operator==(const Histogram& a, const Histogram& b) {
  if (a.total_ != b.total_ || a.overflow_ != b.overflow_) return false;
  size_t n = std::max(a.counts_.size(), b.counts_.size());
  for (size_t i = 0; i < n; ++i) {
    uint64_t x = i < a.counts_.size() ? a.counts_[i] : 0;
    uint64_t y = i < b.counts_.size() ? b.counts_[i] : 0;
    if (x != y) return false;
  }
  return true;
}

std::string Histogram::encode_base64() const { return hdr::encode_compressed_base64(*this); }

Histogram Histogram::decode_base64(std::string_view text) {
  return hdr::decode_compressed_base64(text);
}

}  // namespace kperflab
