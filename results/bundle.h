// SPDX-License-Identifier: GPL-2.0-only
// Result bundles: results/runs/<host>/<kernel-release>/<UTC stamp>-<id>/
// with meta.json ("kperflab.meta/1"), kconfig.gz, <probe>.json
// ("kperflab.probe/1") and attachments (gbench.json). See results/README.md.
#pragma once

#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kperflab {

inline constexpr const char* kMetaSchema = "kperflab.meta/1";
inline constexpr const char* kProbeSchema = "kperflab.probe/1";

// A bundle that cannot be read: names the file and the field.
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

// A validated bundle in memory.
struct Bundle {
  std::filesystem::path dir;
  nlohmann::json meta;
  std::map<std::string, nlohmann::json> probes;  // probe name -> <probe>.json
  // Throws BundleError (file + field) on anything missing or malformed.
  static Bundle load(const std::filesystem::path& dir);
};

// Validation used by load(), exposed for tests and tools.
void validate_meta(const nlohmann::json& meta, const std::filesystem::path& file);
void validate_probe(const nlohmann::json& doc, const std::filesystem::path& file);

// Helpers for gzip (kconfig.gz) and sha256 (config hash), no extra deps.
std::string gzip_compress(const std::string& data);
std::string gzip_decompress(const std::string& data);
std::string sha256_hex(const std::string& data);

}  // namespace kperflab
