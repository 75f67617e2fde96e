/* SPDX-License-Identifier: GPL-2.0-only */
/* kperflab.ko internals shared between its feature files. */
#ifndef KPERFLAB_KMOD_H
#define KPERFLAB_KMOD_H

#include <linux/kconfig.h>
#include <linux/types.h>

#define KPERFLAB_MODULE_VERSION "0.1.0"

unsigned int kpl_handler_delay_ns(void);
/* Busy wait of ns, timed by ktime_get_mono_fast_ns (hard IRQ safe). */
void kpl_busy_ns(u32 ns);
/*
 * Versioned request in (copy_struct_from_user) and back out, at the
 * caller's size; see the rules in include/kperflab/uapi.h.
 */
int kpl_copy_req(void *req, size_t ksize, const void __user *u, u32 *usize);
int kpl_copy_resp(void __user *u, const void *req, size_t ksize, u32 usize);
bool kpl_reserved_zero(const __u32 *r, size_t n);

long kpl_ipi_ioctl(void __user *u);
long kpl_cpumask_ioctl(void __user *u);
#if IS_ENABLED(CONFIG_MMU_NOTIFIER)
long kpl_notifier_ioctl(void __user *u);
u64 kpl_live_notifiers(void);
#else
static inline long kpl_notifier_ioctl(void __user *u) { return -EOPNOTSUPP; }
static inline u64 kpl_live_notifiers(void) { return 0; }
#endif

#endif
