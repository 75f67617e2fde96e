// SPDX-License-Identifier: GPL-2.0-only
// Anchor of the kperflab_workloads library; the generators live beside it.
namespace kperflab::workloads {
const char* library_name() { return "kperflab_workloads"; }
}  // namespace kperflab::workloads
