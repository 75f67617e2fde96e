// SPDX-License-Identifier: GPL-2.0-only
// Report and export files (`compare -o`, `export -o`), issue #12 item 5:
// never overwrite by accident, never write into a bundle, and never exit 0
// with a truncated file.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kperflab {

// The bundle directory (an ancestor holding a meta.json of schema
// kperflab.meta/1, or one of `inputs`) that `path` lies in, or "" if none.
// Symbolic links are followed, so a link into a bundle counts as inside.
std::filesystem::path bundle_containing(const std::filesystem::path& path,
                                        const std::vector<std::filesystem::path>& inputs);

// Writes text to path: refuses a path inside a bundle (even with force) and
// an existing path unless force; writes a temporary file in the same
// directory, checks every write, fsyncs and closes it, then renames it into
// place. On failure the temporary file is removed and std::runtime_error
// names the path and the errno text; refusals are std::invalid_argument.
void write_output_file(const std::filesystem::path& path, const std::string& text, bool force,
                       const std::vector<std::filesystem::path>& inputs);

// Writes text to standard output and checks that it arrived (a full disk
// behind a redirection is an error, not exit 0).
void write_stdout(const std::string& text);

}  // namespace kperflab
