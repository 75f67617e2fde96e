// SPDX-License-Identifier: GPL-2.0-only
/*
 * kperflab.ko: /dev/kperflab, ioctl dispatch, module parameters.
 * One fd keeps the module pinned (fops.owner), so rmmod during a
 * measurement is refused with EBUSY instead of racing it. What the module
 * guarantees (who may call, what it can do to the machine, for how long):
 * include/kperflab/uapi.h and kmod/README.md.
 */
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/perf_event.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
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

/*
 * Copies a versioned request in (see the rules in uapi.h): the caller's size
 * is returned in *usize for kpl_copy_resp.
 */
/*
 * Busy for ns by the clock itself: ndelay() trusts a calibration that can
 * be far off (seen under QEMU TCG on 6.1), and the IPI handler delay must be
 * what it says. Usable in hard IRQ context.
 */
void kpl_busy_ns(u32 ns)
{
	u64 end;

	if (!ns)
		return;
	end = ktime_get_mono_fast_ns() + ns;
	while (ktime_get_mono_fast_ns() < end)
		cpu_relax();
}

int kpl_copy_req(void *req, size_t ksize, const void __user *u, u32 *usize)
{
	__u32 hdr[2];
	int ret;

	if (copy_from_user(hdr, u, sizeof(hdr)))
		return -EFAULT;
	if (hdr[0] < sizeof(hdr) || hdr[0] > PAGE_SIZE || hdr[1] != KPL_UAPI_VERSION)
		return -EINVAL;
	ret = copy_struct_from_user(req, ksize, u, hdr[0]);
	if (ret)
		return ret;
	/* size is the caller's: kept as given, checked above */
	*usize = hdr[0];
	return 0;
}

/* Copies a request back, as much of it as the caller's struct holds. */
int kpl_copy_resp(void __user *u, const void *req, size_t ksize, u32 usize)
{
	return copy_to_user(u, req, min_t(size_t, ksize, usize)) ? -EFAULT : 0;
}

bool kpl_reserved_zero(const __u32 *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i])
			return false;
	return true;
}

/*
 * Smallest non-zero step between two reads of the timestamp clock: up to
 * 10000 reads, with preemption off for at most 100 us at a time (a TCG
 * guest's clock read can take microseconds), 2 ms in all.
 */
static u32 kperflab_clock_granularity(void)
{
	u64 prev, now, best = U32_MAX, start, slice;
	int i = 0;

	start = ktime_get_mono_fast_ns();
	while (i < 10000) {
		preempt_disable();
		prev = slice = ktime_get_mono_fast_ns();
		for (; i < 10000; i++) {
			now = ktime_get_mono_fast_ns();
			if (now > prev && now - prev < best)
				best = now - prev;
			prev = now;
			if (now - slice > 100 * NSEC_PER_USEC)
				break;
		}
		preempt_enable();
		if (prev - start > 2 * NSEC_PER_MSEC)
			break;
		cond_resched();
	}
	return best;
}

static u32 kperflab_features(void)
{
	u32 f = KPL_FEAT_IPI | KPL_FEAT_CPUMASK;

	if (IS_ENABLED(CONFIG_MMU_NOTIFIER))
		f |= KPL_FEAT_NOTIFIER;
	if (IS_ENABLED(CONFIG_MMU_NOTIFIER) && IS_ENABLED(CONFIG_HMM_MIRROR))
		f |= KPL_FEAT_NOTIFIER_HMM;
	if (IS_ENABLED(CONFIG_CPUMASK_OFFSTACK))
		f |= KPL_FEAT_CPUMASK_OFFSTACK;
	return f;
}

static long kperflab_info(void __user *u)
{
	struct kpl_info info;
	u32 usize;
	int ret = kpl_copy_req(&info, sizeof(info), u, &usize);

	if (ret)
		return ret;
	if (info.reserved0 || !kpl_reserved_zero(info.reserved, ARRAY_SIZE(info.reserved)))
		return -EINVAL;
	info.uapi_version = KPL_UAPI_VERSION;
	info.features = kperflab_features();
	info.nr_cpu_ids = nr_cpu_ids;
	info.handler_delay_ns = kpl_handler_delay_ns();
	info.clock_granularity_ns = kperflab_clock_granularity();
	info.live_notifiers = kpl_live_notifiers();
	strscpy(info.module_version, KPERFLAB_MODULE_VERSION, sizeof(info.module_version));
	return kpl_copy_resp(u, &info, sizeof(info), usize);
}

/*
 * One measurement at a time, machine-wide: concurrent runs would perturb
 * each other's numbers and share the CPUs they pin kthreads to.
 */
static DEFINE_MUTEX(kperflab_measure_lock);

static long kperflab_measure(unsigned int cmd, void __user *u)
{
	long ret;

	if (!mutex_trylock(&kperflab_measure_lock))
		return -EBUSY;
	switch (cmd) {
	case KPL_IOC_IPI:
		ret = kpl_ipi_ioctl(u);
		break;
	case KPL_IOC_CPUMASK:
		ret = kpl_cpumask_ioctl(u);
		break;
	default:
		ret = kpl_notifier_ioctl(u);
		break;
	}
	mutex_unlock(&kperflab_measure_lock);
	return ret;
}

/*
 * An ioctl number made with _IOWR(..., struct X) carries sizeof(X): a
 * caller built against a longer or a shorter struct (a newer or older
 * uapi.h) has another number for the same command. The struct's own size
 * field is what the extension rule checks (kpl_copy_req), so commands are
 * told apart by type, number and direction, never by the size bits.
 */
#define KPL_CMD_KEY(cmd) ((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

static long kperflab_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *u = (void __user *)arg;

	if (!perfmon_capable())
		return -EPERM;
	switch (KPL_CMD_KEY(cmd)) {
	case KPL_CMD_KEY(KPL_IOC_INFO):
		return kperflab_info(u);
	case KPL_CMD_KEY(KPL_IOC_IPI):
		return kperflab_measure(KPL_IOC_IPI, u);
	case KPL_CMD_KEY(KPL_IOC_CPUMASK):
		return kperflab_measure(KPL_IOC_CPUMASK, u);
	case KPL_CMD_KEY(KPL_IOC_NOTIFIER):
		if (!IS_ENABLED(CONFIG_MMU_NOTIFIER))
			return -EOPNOTSUPP;
		return kperflab_measure(KPL_IOC_NOTIFIER, u);
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
