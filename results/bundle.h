// SPDX-License-Identifier: GPL-2.0-only
// Result bundles: results/runs/<host>/<kernel-release>/<UTC stamp>-<id>/
// with meta.json ("kperflab.meta/1"), kconfig.gz, <probe>.json
// ("kperflab.probe/1") and attachments (gbench.json). See results/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/read_file.h"

namespace kperflab {

inline constexpr const char* kMetaSchema = "kperflab.meta/1";
inline constexpr const char* kProbeSchema = "kperflab.probe/1";

// Text from a bundle (or a path a user typed) made safe for a terminal:
// control characters (C0, DEL, C1) and bytes that are not UTF-8 become
// \xNN, so a hostile bundle cannot move the cursor, retitle the window or
// hide lines (#12, items 1 and 11).
std::string printable(std::string_view text);

// The rule the bundle loader applies to every string (results/
// bundle_validate_extra.cpp), for text before it goes into a bundle: "" when
// text is acceptable, else what is wrong ("contains the control character
// 0x1b at byte 5"). Control characters are C0 (but tab and newline), DEL and
// C1; as_path: tab and newline too, and bytes that are not UTF-8 (a path is
// printed on one line and stored as JSON text).
std::string refused_text(std::string_view text, bool as_path = false);

// Tags go into selectors (tag:NAME, '+' joins terms): 1..64 of letters,
// digits, '.', '_' and '-'. "" when tag is one, else why not (`run --tag`
// refuses it; the catalog does not index it from a hand-edited bundle).
std::string tag_problem(std::string_view tag);

// A bundle that cannot be read: names the file and the field (both, and the
// message, passed through printable()).
struct BundleError : std::runtime_error {
  BundleError(const std::filesystem::path& file, const std::string& field, const std::string& what);
};

// Writes a bundle. The directory is created as a hidden temporary, given a
// meta.json with status "partial" and renamed into place at once; every file
// is then written to a temporary name and renamed, so a crash leaves a
// readable bundle marked partial and never a half-written file.
class BundleWriter {
 public:
  // root: the runs directory (results/runs) or, with exact=true, the bundle
  // directory itself (--out DIR).
  BundleWriter(const std::filesystem::path& root, nlohmann::json meta, bool exact = false);
  const std::filesystem::path& dir() const { return dir_; }
  nlohmann::json& meta() { return meta_; }
  // A file that cannot be written into the bundle (a full disk, an I/O
  // error) is not lost: it goes to the rescue directory instead, and the
  // failure is listed in write_failures(). Neither throws for that reason:
  // the run goes on measuring.
  void write_json(const std::string& file, const nlohmann::json& doc);
  void write_file(const std::string& file, const std::string& bytes);
  // Rewrites meta.json (e.g. after a probe finished).
  void flush_meta();
  void finish(bool complete);

  // One line per file that did not reach the bundle: why, and where it went
  // ("membarrier.json: cannot write ...: No space left on device; saved as
  // /dev/shm/kperflab-rescue-<id>/membarrier.json") or that it was lost.
  // Empty when the bundle on disk holds everything.
  const std::vector<std::string>& write_failures() const { return failures_; }
  // $KPERFLAB_RESCUE_DIR, else /dev/shm (memory: it has room when the disk
  // is full), else the system temporary directory.
  static std::filesystem::path rescue_root();

 private:
  void write(const std::string& file, const std::string& bytes);
  std::filesystem::path dir_, rescue_dir_;
  nlohmann::json meta_;
  std::vector<std::string> failures_;
};

class JsonView;  // results/json_access.h

// A validated bundle in memory. Readers go through meta_view() and
// probe_view() (results/json_access.h), never index the JSON themselves.
struct Bundle {
  std::filesystem::path dir;
  nlohmann::json meta;
  std::map<std::string, nlohmann::json> probes;  // probe name -> <probe>.json
  // Throws BundleError (file + field) on anything missing or malformed.
  static Bundle load(const std::filesystem::path& dir);
  JsonView meta_view() const;
  JsonView probe_view(const std::string& name) const;  // a probe in probes
};

// Caps on what a bundle may hold, checked on load (results/README.md and
// results/schema say the same). Real bundles are far below each; a hostile
// one is refused before a reader spends seconds or gigabytes on it.
namespace limits {
inline constexpr size_t kString = 4096;             // any string or object key, bytes
inline constexpr size_t kHistText = size_t{1} << 20;  // a histogram's base64 text
inline constexpr size_t kDepth = 32;                // JSON nesting
inline constexpr size_t kCpus = 8192;               // topology entries (NR_CPUS max)
inline constexpr size_t kSmtSiblings = 256;         // per CPU (SMT8 is the most seen)
inline constexpr size_t kMatrixSide = 4096;         // rows, cols of one matrix
inline constexpr size_t kTableColumns = 4096;
inline constexpr uint64_t kCells = uint64_t{1} << 24;  // table + matrix cells per bundle
inline constexpr uint64_t kHistograms = 100000;     // histograms per bundle
inline constexpr uint64_t kInflated = uint64_t{256} << 20;  // decoded histogram bytes per bundle
// Per file, enforced while the file is read and parsed (core/read_file.h):
// a JSON bomb stops at the budget instead of costing gigabytes first.
// meta.json, measured (results/README.md "Reading bundles"): a real one of
// this host inflated to 256 CPUs of topology, --tune governors for 256
// policies and the noise check is 132 KB, 8,387 JSON values, 5 levels deep;
// at 8192 CPUs (kCpus) 3.9 MB and 246,467 values. The cap admits 8192 CPUs:
// 31 times what 256 CPUs need.
inline constexpr ReadLimits kMetaFile{size_t{4} << 20, 64, size_t{1} << 18, "a meta.json"};
// A probe file: the largest real ones are a few MiB; 4 Mi values hold a
// 2048 x 2048 matrix. Text and tree together stay well under 1 GiB.
inline constexpr ReadLimits kProbeFile{size_t{128} << 20, 64, size_t{1} << 22, "a probe file"};
}  // namespace limits

// The work one Bundle::load has done so far, across all of its files.
struct LoadBudget {
  uint64_t histograms = 0, inflated = 0, cells = 0;
};

// Validation used by load(), exposed for tests and tools.
void validate_meta(const nlohmann::json& meta, const std::filesystem::path& file);
void validate_probe(const nlohmann::json& doc, const std::filesystem::path& file);
void validate_probe(const nlohmann::json& doc, const std::filesystem::path& file,
                    LoadBudget& budget);

}  // namespace kperflab
