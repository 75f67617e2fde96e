// SPDX-License-Identifier: GPL-2.0-only
// The analysis verbs' entry points: each parses its arguments (cli/cli_args.h)
// and hands the work to analysis/ (restore: to host/). run, list, show and ab:
// cli/runner.h, cli/ab.h.
#pragma once

#include <string>
#include <vector>

namespace kperflab {

int compare_main(const std::vector<std::string>& args);  // cli/compare_verbs.cpp
int export_main(const std::vector<std::string>& args);   // cli/compare_verbs.cpp
// `kperflab restore [--dir DIR]`: what a killed run left changed.
int restore_main(const std::vector<std::string>& args);  // cli/restore_verb.cpp

namespace series {
int series_main(const std::vector<std::string>& args);  // cli/compare_verbs.cpp
}
namespace campaign {
int campaign_main(const std::vector<std::string>& args);  // cli/campaign_verb.cpp
}
namespace compare {
int noise_main(const std::vector<std::string>& args);  // cli/noise_verb.cpp
}
namespace trend {
// `kperflab trend SELECTOR`: where a history of bundles changed (issue #30).
int trend_main(const std::vector<std::string>& args);  // cli/trend_verb.cpp
}
namespace catalog {
// `kperflab catalog [--runs-dir DIR] [--rebuild] [SELECTOR...]`
int catalog_main(const std::vector<std::string>& args);  // cli/catalog_verb.cpp
}

}  // namespace kperflab
