// SPDX-License-Identifier: GPL-2.0-only
// cpu_relax() for busy loops in user space.
#pragma once

static inline void kpl_cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}
