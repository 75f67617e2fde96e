// SPDX-License-Identifier: GPL-2.0-only
/*
 * kperflab.ko: /dev/kperflab, ioctl dispatch, module parameters.
 * One fd keeps the module pinned (fops.owner), so rmmod during a
 * measurement is refused with EBUSY instead of racing it.
 */
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "kperflab/uapi.h"
#include "kperflab.h"

static unsigned int handler_delay_ns;
module_param(handler_delay_ns, uint, 0644);
MODULE_PARM_DESC(handler_delay_ns,
		 "busy delay (ns) added inside kperflab's own IPI handler, to test regression detection");

unsigned int kpl_handler_delay_ns(void)
{
	return min_t(unsigned int, READ_ONCE(handler_delay_ns), KPL_MAX_HANDLER_DELAY_NS);
}

int kpl_copy_req(void *req, size_t size, const void __user *u)
{
	__u32 hdr[2];

	if (copy_from_user(hdr, u, sizeof(hdr)))
		return -EFAULT;
	if (hdr[0] != size || hdr[1] != KPL_UAPI_VERSION)
		return -EINVAL;
	if (copy_from_user(req, u, size))
		return -EFAULT;
	return 0;
}

bool kpl_reserved_zero(const __u32 *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i])
			return false;
	return true;
}

static long kperflab_info(void __user *u)
{
	struct kpl_info info;
	int ret = kpl_copy_req(&info, sizeof(info), u);

	if (ret)
		return ret;
	if (!kpl_reserved_zero(info.reserved, ARRAY_SIZE(info.reserved)))
		return -EINVAL;
	info.uapi_version = KPL_UAPI_VERSION;
	info.features = KPL_FEAT_IPI | KPL_FEAT_CPUMASK | KPL_FEAT_NOTIFIER |
			 (IS_ENABLED(CONFIG_HMM_MIRROR) ? KPL_FEAT_NOTIFIER_HMM : 0);
	info.nr_cpu_ids = nr_cpu_ids;
	info.handler_delay_ns = kpl_handler_delay_ns();
	strscpy(info.module_version, KPERFLAB_MODULE_VERSION, sizeof(info.module_version));
	return copy_to_user(u, &info, sizeof(info)) ? -EFAULT : 0;
}

static long kperflab_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *u = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN) && !capable(CAP_PERFMON))
		return -EPERM;
	switch (cmd) {
	case KPL_IOC_INFO:
		return kperflab_info(u);
	case KPL_IOC_IPI:
		return kpl_ipi_ioctl(u);
	case KPL_IOC_CPUMASK:
		return kpl_cpumask_ioctl(u);
	case KPL_IOC_NOTIFIER:
		return kpl_notifier_ioctl(u);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kperflab_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = kperflab_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice kperflab_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kperflab",
	.fops = &kperflab_fops,
	.mode = 0600,
};

static int __init kperflab_init(void)
{
	return misc_register(&kperflab_misc);
}

static void __exit kperflab_exit(void)
{
	misc_deregister(&kperflab_misc);
}

module_init(kperflab_init);
module_exit(kperflab_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kperflab: kernel synchronization path benchmarks");
MODULE_VERSION(KPERFLAB_MODULE_VERSION);
