/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * kperflab histogram bucket math, shared by the kernel module, BPF programs
 * and C++ user space.
 *
 * The layout is HdrHistogram's counts-index layout with a unit of 1 ns
 * (unit magnitude 0) and 2 significant decimal digits, which gives 256
 * sub-buckets per bucket (128 new ones per doubling). The index of a value
 * depends only on those two parameters, never on the array length, so the
 * kernel or a BPF map may keep a truncated array plus an explicit overflow
 * count, and user space merges it into the full histogram.
 *
 * Integer-only and loop-free: no float, no builtins the BPF backend lacks
 * (clang -target bpf has no count-leading-zeros instruction).
 *
 * Types: the kernel and plain user space get __u32/__u64 from
 * <linux/types.h>; BPF programs include vmlinux.h before this header.
 */
#ifndef KPERFLAB_HIST_H
#define KPERFLAB_HIST_H

#if !defined(__VMLINUX_H__)
#include <linux/types.h>
#endif

#define KPL_HIST_SIGNIFICANT_DIGITS 2
#define KPL_HIST_SUB_BUCKET_BITS 8 /* 2^8 = 256 >= 2 * 10^2 */
#define KPL_HIST_SUB_BUCKET_COUNT (1U << KPL_HIST_SUB_BUCKET_BITS)
#define KPL_HIST_SUB_BUCKET_HALF_BITS (KPL_HIST_SUB_BUCKET_BITS - 1)
#define KPL_HIST_SUB_BUCKET_HALF (1U << KPL_HIST_SUB_BUCKET_HALF_BITS)
#define KPL_HIST_SUB_BUCKET_MASK ((__u64)KPL_HIST_SUB_BUCKET_COUNT - 1)

/*
 * Array lengths for common highest trackable values, as HdrHistogram
 * computes them: (bucket_count + 1) * 128, bucket_count = fls64(H) - 7.
 * Checked against kpl_hist_len() by the unit tests.
 */
#define KPL_HIST_LEN_FOR_BITS(bits) ((((bits) - 7) + 1) * KPL_HIST_SUB_BUCKET_HALF)
#define KPL_HIST_LEN_1MS KPL_HIST_LEN_FOR_BITS(20)  /* values < 2^20 ns ~ 1.05 ms */
#define KPL_HIST_LEN_1S KPL_HIST_LEN_FOR_BITS(30)   /* values < 2^30 ns ~ 1.07 s */
#define KPL_HIST_LEN_4S KPL_HIST_LEN_FOR_BITS(32)   /* values < 2^32 ns ~ 4.3 s */
#define KPL_HIST_LEN_FULL KPL_HIST_LEN_FOR_BITS(40) /* values < 2^40 ns ~ 18 min */

/* 1-based position of the most significant set bit; 0 for 0. */
static inline __u32 kpl_hist_fls64(__u64 v)
{
	__u32 n = 0;

	if (v >> 32) {
		n += 32;
		v >>= 32;
	}
	if (v >> 16) {
		n += 16;
		v >>= 16;
	}
	if (v >> 8) {
		n += 8;
		v >>= 8;
	}
	if (v >> 4) {
		n += 4;
		v >>= 4;
	}
	if (v >> 2) {
		n += 2;
		v >>= 2;
	}
	if (v >> 1) {
		n += 1;
		v >>= 1;
	}
	return n + (__u32)v;
}

/* Bucket (power-of-two range) of a value: 0 for values < 256. */
static inline __u32 kpl_hist_bucket(__u64 v)
{
	return kpl_hist_fls64(v | KPL_HIST_SUB_BUCKET_MASK) -
	       (KPL_HIST_SUB_BUCKET_HALF_BITS + 1);
}

/* Counts index of a value (HdrHistogram counts_index_for, unit 1 ns). */
static inline __u32 kpl_hist_index(__u64 v)
{
	__u32 bucket = kpl_hist_bucket(v);
	__u64 sub = v >> bucket;

	return (bucket << KPL_HIST_SUB_BUCKET_HALF_BITS) + (__u32)sub;
}

/* Lowest value that maps to counts index idx. */
static inline __u64 kpl_hist_lowest(__u32 idx)
{
	__u32 bucket = idx >> KPL_HIST_SUB_BUCKET_HALF_BITS;
	__u64 sub = idx & (KPL_HIST_SUB_BUCKET_HALF - 1);

	if (bucket == 0)
		return idx; /* first 256 entries are exact */
	return (sub + KPL_HIST_SUB_BUCKET_HALF) << (bucket - 1);
}

/* Width of the value range that maps to counts index idx. */
static inline __u64 kpl_hist_width(__u32 idx)
{
	__u32 bucket = idx >> KPL_HIST_SUB_BUCKET_HALF_BITS;

	return bucket == 0 ? 1 : (__u64)1 << (bucket - 1);
}

/* Highest value that maps to counts index idx. */
static inline __u64 kpl_hist_highest(__u32 idx)
{
	return kpl_hist_lowest(idx) + kpl_hist_width(idx) - 1;
}

/*
 * Counts array length HdrHistogram allocates for a highest trackable
 * value (lowest discernible value 1): every value <= highest has an index
 * below this length.
 */
static inline __u32 kpl_hist_len(__u64 highest)
{
	__u32 fls = kpl_hist_fls64(highest);
	__u32 buckets = (fls > KPL_HIST_SUB_BUCKET_BITS ?
			 fls - KPL_HIST_SUB_BUCKET_BITS : 0) + 1;

	return (buckets + 1) << KPL_HIST_SUB_BUCKET_HALF_BITS;
}

/*
 * BPF: keep the compiler from computing &counts[idx] before the bounds
 * check (the verifier then sees an unbounded pointer and refuses the
 * program). An empty asm that "changes" idx after the check pins the order.
 */
#ifdef __bpf__
#define KPL_HIST_BARRIER_VAR(v) asm volatile("" : "+r"(v))
#else
#define KPL_HIST_BARRIER_VAR(v) ((void)0)
#endif

/*
 * Record one value into a truncated array of len counts plus an overflow
 * count. Never clamps into the last bucket: a value whose index is past
 * the array end is counted in *overflow, and user space reports it.
 * Not atomic: callers own the array (per-CPU, or under their own lock).
 */
static inline void kpl_hist_record(__u64 *counts, __u32 len, __u64 *overflow,
				   __u64 v)
{
	/* 64-bit on purpose: with a u32 index clang checks one zero-extended
	 * copy and indexes with another, which the BPF verifier cannot follow. */
	__u64 idx = kpl_hist_index(v);

	if (idx < (__u64)len) {
		KPL_HIST_BARRIER_VAR(idx);
		counts[idx]++;
	} else {
		(*overflow)++;
	}
}

#endif /* KPERFLAB_HIST_H */
