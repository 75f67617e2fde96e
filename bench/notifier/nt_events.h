// SPDX-License-Identifier: GPL-2.0-only
// The slots of kpl_nt_req.invalidations (enum kpl_nt_event: the module maps
// the kernel's enum mmu_notifier_event onto them by name) by name: the
// probe's per-type metrics and the lab's guest test
// (tests/kmod/kmod_notifier_test.cpp) share this one list. Header only, no
// library: the guest test is a plain program.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "kperflab/uapi.h"

namespace kperflab::notifier {

inline constexpr std::array<std::string_view, 8> kEventNames = {
    "unmap",            // MMU_NOTIFY_UNMAP: munmap, mremap
    "clear",            // MMU_NOTIFY_CLEAR: MADV_DONTNEED, migration, COW, THP split
    "protection_vma",   // MMU_NOTIFY_PROTECTION_VMA: mprotect, NUMA balancing scan
    "protection_page",  // MMU_NOTIFY_PROTECTION_PAGE: fork write-protects
    "soft_dirty",       // MMU_NOTIFY_SOFT_DIRTY: clear_refs 4
    "release",          // MMU_NOTIFY_RELEASE: exit_mmap
    "migrate",          // MMU_NOTIFY_MIGRATE: migrate_vma (device memory)
    "exclusive",        // MMU_NOTIFY_EXCLUSIVE: make_device_exclusive
};
static_assert(KPL_NT_EV_UNMAP == 0 && KPL_NT_EV_CLEAR == 1 && KPL_NT_EV_PROTECTION_VMA == 2 &&
              KPL_NT_EV_PROTECTION_PAGE == 3 && KPL_NT_EV_SOFT_DIRTY == 4 &&
              KPL_NT_EV_RELEASE == 5 && KPL_NT_EV_MIGRATE == 6 && KPL_NT_EV_EXCLUSIVE == 7,
              "kEventNames follows enum kpl_nt_event");
// KPL_NT_EV_OTHER: an event this module does not know (a newer kernel).
inline constexpr std::string_view kOtherEventName = "other";

// "unmap 20 clear 3 (full 20, partial 3)": the non-zero counts of `counts`
// (kpl_nt_req.invalidations), then full/partial overlaps; "none" when all
// are zero.
template <class Counts>
std::string describe_events(const Counts& counts, uint64_t full, uint64_t partial) {
  std::string s;
  for (size_t i = 0; i < std::size(counts); ++i) {
    if (!counts[i]) continue;
    if (!s.empty()) s += ' ';
    s += i < kEventNames.size()   ? std::string(kEventNames[i])
         : i == KPL_NT_EV_OTHER ? std::string(kOtherEventName)
                                : "slot_" + std::to_string(i);
    s += ' ' + std::to_string(counts[i]);
  }
  if (s.empty()) return "none";
  return s + " (full " + std::to_string(full) + ", partial " + std::to_string(partial) + ")";
}

}  // namespace kperflab::notifier
