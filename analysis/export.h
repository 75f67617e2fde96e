// SPDX-License-Identifier: GPL-2.0-only
#pragma once

#include <string>

#include "results/bundle.h"

namespace kperflab::exporting {

std::string hlog(const Bundle& b);
std::string gbench(const Bundle& b);
std::string csv(const Bundle& b);
// One line per LAVA test case, tab-separated: name, pass|fail|skip,
// measurement or "-", units or "-", a note (a skip's reason). A probe is a
// case, and each headline figure (results/headline.h) of it.
std::string lava(const Bundle& b);

}  // namespace kperflab::exporting
