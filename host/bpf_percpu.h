// SPDX-License-Identifier: GPL-2.0-only
// Per-CPU BPF array maps from user space: zero them between measurements,
// read one key's value on every possible CPU, sum counter structs, merge
// truncated histograms (include/kperflab/hist.h layout: u64 overflow and a
// counts[] array). Values must be multiples of 8 bytes (libbpf copies each
// CPU's value at an 8-byte stride).
#pragma once

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/histogram.h"

namespace kperflab::bpf {

// libbpf_num_possible_cpus(), or a runtime_error naming the failure.
inline int possible_cpus() {
  int n = libbpf_num_possible_cpus();
  if (n <= 0) throw std::runtime_error(std::string("libbpf_num_possible_cpus: ") + std::strerror(-n));
  return n;
}

// Keys [0, nkeys) of a per-CPU array set to zero on every CPU.
inline void zero_percpu(const bpf_map* m, uint32_t nkeys, size_t value_size, int ncpus) {
  std::vector<uint8_t> zero(static_cast<size_t>(ncpus) * value_size, 0);
  for (uint32_t k = 0; k < nkeys; ++k)
    if (bpf_map__update_elem(m, &k, sizeof k, zero.data(), zero.size(), 0))
      throw std::runtime_error(std::string("zero ") + bpf_map__name(m) + ": " + std::strerror(errno));
}

// Every CPU's value of key k.
template <class T>
std::vector<T> read_percpu(const bpf_map* m, uint32_t k, int ncpus) {
  static_assert(sizeof(T) % 8 == 0, "per-CPU values are copied at an 8-byte stride");
  std::vector<T> v(static_cast<size_t>(ncpus));
  if (bpf_map__lookup_elem(m, &k, sizeof k, v.data(), v.size() * sizeof(T), 0))
    throw std::runtime_error(std::string("read ") + bpf_map__name(m) + ": " + std::strerror(errno));
  return v;
}

// A struct of u64 counts summed over CPUs field by field.
template <class T>
T sum_percpu(const bpf_map* m, uint32_t k, int ncpus) {
  T s{};
  auto* out = reinterpret_cast<uint64_t*>(&s);
  for (const T& c : read_percpu<T>(m, k, ncpus)) {
    auto* in = reinterpret_cast<const uint64_t*>(&c);
    for (size_t i = 0; i < sizeof(T) / sizeof(uint64_t); ++i) out[i] += in[i];
  }
  return s;
}

// The histogram of key k merged over CPUs (T: {u64 overflow; u64 counts[N]}).
template <class T>
Histogram merge_percpu_hist(const bpf_map* m, uint32_t k, int ncpus) {
  Histogram h;
  for (const T& c : read_percpu<T>(m, k, ncpus))
    h.merge_truncated(std::span<const unsigned long long>(c.counts, std::size(c.counts)),
                      c.overflow);
  return h;
}

}  // namespace kperflab::bpf
