// SPDX-License-Identifier: GPL-2.0-only
// `kperflab compare` and `kperflab export` entry points.
#pragma once

#include <string>
#include <vector>

namespace kperflab {

int compare_main(const std::vector<std::string>& args);
int export_main(const std::vector<std::string>& args);

}  // namespace kperflab
