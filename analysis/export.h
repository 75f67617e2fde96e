// SPDX-License-Identifier: GPL-2.0-only
#pragma once

#include <string>

#include "results/bundle.h"

namespace kperflab::exporting {

std::string hlog(const Bundle& b);
std::string gbench(const Bundle& b);
std::string csv(const Bundle& b);

}  // namespace kperflab::exporting
