// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cpumask timing programs as TRACING programs on tp_btf/task_rename,
 * for kernels that allow bpf_cpumask kfuncs in TRACING programs but not yet
 * in SYSCALL programs (6.4-6.9). See cpumask_bench.bpf.h for the trigger.
 */
#define KPL_CM_TRACING 1
#include "cpumask.bpf.c"
