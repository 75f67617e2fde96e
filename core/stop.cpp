// SPDX-License-Identifier: GPL-2.0-only
#include "core/stop.h"

#include <atomic>

namespace kperflab {

namespace {
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "request_stop runs in a signal handler");
}  // namespace

bool stop_requested() { return g_stop.load(std::memory_order_relaxed); }
bool request_stop() { return g_stop.exchange(true); }

}  // namespace kperflab
