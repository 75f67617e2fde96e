// SPDX-License-Identifier: GPL-2.0-only
/* Compile check of include/kperflab/hist.h as BPF C and as C89 kernel-style C. */
#ifdef KPL_TEST_BPF
typedef unsigned int __u32;
typedef unsigned long long __u64;
#endif
#include "kperflab/hist.h"

__u64 kpl_counts[KPL_HIST_LEN_1S];
__u64 kpl_overflow;

int kpl_hist_use(__u64 v)
{
	kpl_hist_record(kpl_counts, KPL_HIST_LEN_1S, &kpl_overflow, v);
	return (int)(kpl_hist_lowest(kpl_hist_index(v)) + kpl_hist_highest(3) +
		     kpl_hist_len(v));
}
