// SPDX-License-Identifier: GPL-2.0-only
// The membarrier probe's sub-sweeps that need a fresh process per case
// (order_child.h):
//  - registration order: GLOBAL_EXPEDITED to one spinning target with the
//    process registered before the target thread existed and after
//    (points global_expedited/registered=<order>/targets=1/spin);
//  - litmus: store buffering per command and order, metrics
//    litmus/<command>/<order>/{forbidden_per_million,forbidden,trials,overlapped}.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "delivery.h"
#include "core/probe.h"
#include "report.h"

namespace kperflab::membarrier {

struct OrderSweep {
  const nlohmann::json& params;
  const Clock& clock;
  long mask;                       // QUERY with the refused registrations removed
  DeliveryTracer* tracer;          // null: IPIs counted from /proc/interrupts
  int caller_cpu = 0, target_cpu = -1;  // -1: fewer than 2 online CPUs
};

// Progress steps the two sub-sweeps take with these parameters.
unsigned order_steps(const nlohmann::json& params);
// Seconds they take at most (progress estimate).
double order_estimate_seconds(const nlohmann::json& params);

// Runs both sub-sweeps into rep (metrics, skips, tables). Stops between
// cases, and inside a litmus case between batches, at ^C.
void run_order_sweeps(RunContext& ctx, const OrderSweep& o, Report& report, Repetition& rep);

}  // namespace kperflab::membarrier
