/* SPDX-License-Identifier: GPL-2.0-only */
/* kperflab.ko internals shared between its feature files. */
#ifndef KPERFLAB_KMOD_H
#define KPERFLAB_KMOD_H

#include <linux/types.h>

#define KPERFLAB_MODULE_VERSION "0.1.0"

unsigned int kpl_handler_delay_ns(void);
/* Copies a versioned request in: size and version must match exactly. */
int kpl_copy_req(void *req, size_t size, const void __user *u);
bool kpl_reserved_zero(const __u32 *r, size_t n);

long kpl_ipi_ioctl(void __user *u);
long kpl_cpumask_ioctl(void __user *u);
long kpl_notifier_ioctl(void __user *u);

#endif
