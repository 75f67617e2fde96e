// SPDX-License-Identifier: GPL-2.0-only
// C++ histogram over the shared bucket math of include/kperflab/hist.h.
// Values are nanoseconds (or any integer unit: the bundle stores the unit).
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kperflab {

struct HistogramError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The rank of quantile q among total values, as HdrHistogram's
// value_at_percentile takes it: q (clamped to [0, 1]) times total, rounded to
// nearest, at least 1. The quantile is the highest equivalent value of the
// first non-empty counts index whose running count reaches the rank.
uint64_t quantile_rank(double q, uint64_t total);

// One non-empty counts index (hdr::decode_counts lists a histogram so).
struct IndexCount {
  uint32_t index;
  uint64_t count;
};

// Histogram::quantiles over a histogram given as its non-empty counts in
// ascending index order, total their sum: no counts array needed.
void quantiles_of(std::span<const IndexCount> nonzero, uint64_t total, std::span<const double> qs,
                  std::span<uint64_t> out);

class Histogram {
 public:
  // Highest trackable value; larger values go to the explicit overflow
  // count (never clamped into the last bucket). 2^40 ns is about 18 min.
  static constexpr uint64_t kDefaultHighest = uint64_t{1} << 40;

  explicit Histogram(uint64_t highest_trackable = kDefaultHighest);

  void record(uint64_t value, uint64_t count = 1);
  // Merge another histogram (any highest trackable value).
  void merge(const Histogram& other);
  // Merge a truncated array from the kernel module or a BPF map: counts[i]
  // is the count of counts-index i; overflow counts values past the array.
  void merge_truncated(std::span<const uint64_t> counts, uint64_t overflow);
  // The same for __u64 arrays (unsigned long long, a distinct type from
  // uint64_t on LP64) as they come from the kmod UAPI and BPF skeletons.
  void merge_truncated(std::span<const unsigned long long> counts, uint64_t overflow);

  // Count of recorded values, overflow included.
  uint64_t count() const { return total_ + overflow_; }
  // Values that did not fit (past highest_trackable, or past a truncated
  // kernel array); their exact values are unknown, only that they are
  // >= overflow_floor().
  uint64_t overflow() const { return overflow_; }
  uint64_t overflow_floor() const { return overflow_floor_; }
  uint64_t highest_trackable() const { return highest_; }
  bool empty() const { return count() == 0; }

  // Statistics over the values inside the tracked range (equivalent-value
  // resolution, as HdrHistogram reports them). 0 when empty.
  uint64_t min() const;
  uint64_t max() const;
  double mean() const;
  double stddev() const;
  // q in [0, 1]; the highest equivalent value of the bucket holding it.
  uint64_t quantile(double q) const;
  // out[k] = quantile(qs[k]) for every k (qs in any order, out as long), in
  // one pass over the counts instead of one per quantile.
  void quantiles(std::span<const double> qs, std::span<uint64_t> out) const;

  const std::vector<uint64_t>& counts() const { return counts_; }

  // HdrHistogram V2 compressed encoding (hdr_codec.h), base64 text.
  std::string encode_base64() const;
  // Throws HistogramError on anything malformed.
  static Histogram decode_base64(std::string_view text);
  // Raw counts access for the codec (index past the array: HistogramError).
  void add_at_index(uint32_t index, uint64_t count);

  friend bool operator==(const Histogram& a, const Histogram& b);

 private:
  uint64_t highest_;
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t overflow_ = 0;
  uint64_t overflow_floor_ = 0;  // 0: no overflow yet

  void add_overflow(uint64_t n, uint64_t floor);
  template <class T>
  void merge_counts(std::span<const T> counts, uint64_t overflow);
};

}  // namespace kperflab
