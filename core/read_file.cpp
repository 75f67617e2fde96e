// SPDX-License-Identifier: GPL-2.0-only
#include "core/read_file.h"

#include "core/json_fast.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace kperflab {

namespace fs = std::filesystem;
using nlohmann::json;

FileError::FileError(const fs::path& file, const std::string& problem, int err)
    : std::runtime_error(file.string() + ": " + problem), file_(file), problem_(problem),
      err_(err) {}

std::string byte_size(size_t n) {
  if (n >= (size_t{1} << 20) && n % (size_t{1} << 20) == 0)
    return std::to_string(n >> 20) + " MiB";
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}

namespace {

const char* file_type(mode_t m) {
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a plain file";
}

std::string too_large(size_t max, const char* kind) {
  return "larger than " + byte_size(max) + " (the limit for " + kind + ")";
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

namespace {

// The whole file into buf, grown as needed (never shrunk: a buffer reused
// for the next file is not cleared again); returns the file's length.
size_t read_into(const fs::path& path, size_t max_bytes, const char* kind, struct stat* st_out,
                 std::string& buf) {
  // O_NONBLOCK: opening a FIFO for reading would wait for a writer.
  Fd fd(open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    int e = errno;
    throw FileError(path, std::string("cannot open: ") + std::strerror(e), e);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    int e = errno;
    throw FileError(path, std::string("cannot stat: ") + std::strerror(e), e);
  }
  if (st_out) *st_out = st;
  if (!S_ISREG(st.st_mode))  // errno as read(2) would say it for a directory
    throw FileError(path, std::string("not a regular file (") + file_type(st.st_mode) + ")",
                    S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
  if (st.st_size > 0 && static_cast<uintmax_t>(st.st_size) > max_bytes)
    throw FileError(path, too_large(max_bytes, kind));
  // st_size is a hint only: /proc and /sys say 0, and a file may grow.
  size_t hint = std::min<size_t>(st.st_size > 0 ? size_t(st.st_size) + 1 : 4096, max_bytes + 1);
  if (buf.size() < hint) buf.resize(hint);
  size_t got = 0;
  for (;;) {
    // Never more than max_bytes + 1 bytes: one past the limit says enough.
    size_t room = std::min(buf.size(), max_bytes + 1);
    if (got == room) {
      if (got > max_bytes) throw FileError(path, too_large(max_bytes, kind));
      buf.resize(std::min(buf.size() * 2, max_bytes + 1));
      continue;
    }
    ssize_t n = read(fd.get(), buf.data() + got, room - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      throw FileError(path, std::string("read error: ") + std::strerror(e), e);
    }
    if (n == 0) break;
    got += size_t(n);
  }
  if (got > max_bytes) throw FileError(path, too_large(max_bytes, kind));
  return got;
}

}  // namespace

std::string read_file(const fs::path& path, size_t max_bytes, const char* kind, struct stat* st_out) {
  std::string out;
  out.resize(read_into(path, max_bytes, kind, st_out, out));
  return out;
}

std::string json_error_text(std::string_view what) {
  // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
  if (what.starts_with("[json.exception.")) {
    auto close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  return std::string(what);
}

namespace {

// Builds the DOM as nlohmann's own SAX DOM parser does, and counts while it
// goes: returning false from any event ends the parse there, so a bomb is
// refused after at most `elements` values and `depth` open containers.
class BoundedBuilder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit BoundedBuilder(const ReadLimits& l) : limits_(l) {}

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(number_integer_t v) { return put(json(v)); }
  bool number_unsigned(number_unsigned_t v) { return put(json(v)); }
  bool number_float(number_float_t v, const string_t&) { return put(json(v)); }
  bool string(string_t& v) { return put(json(std::move(v))); }
  bool binary(binary_t& v) { return put(json::binary(std::move(v))); }
  bool start_object(size_t) { return open(json(json::value_t::object)); }
  bool start_array(size_t) { return open(json(json::value_t::array)); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(string_t& k) {
    if (!count()) return false;  // a member costs a map node besides its value
    key_ = std::move(k);
    return true;
  }
  template <class Exception>
  bool parse_error(size_t, const std::string&, const Exception& ex) {
    error_ = json_error_text(ex.what());
    return false;
  }

  json& root() { return root_; }
  const std::string& error() const { return error_; }
  bool over_limit() const { return over_limit_; }

 private:
  bool count() {
    if (++elements_ <= limits_.elements) return true;
    error_ = "more than " + std::to_string(limits_.elements) + " JSON values (the limit for " +
             limits_.kind + ")";
    over_limit_ = true;
    return false;
  }
  json* place(json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.get_ref<json::array_t&>().push_back(std::move(v));
      return &parent.get_ref<json::array_t&>().back();
    }
    json& slot = parent.get_ref<json::object_t&>()[key_];
    slot = std::move(v);  // a repeated key: the last one wins, as in json::parse
    return &slot;
  }
  bool put(json&& v) {
    if (!count()) return false;
    place(std::move(v));
    return true;
  }
  bool open(json&& v) {
    if (stack_.size() >= limits_.depth) {
      error_ = "nested deeper than " + std::to_string(limits_.depth) + " levels (the limit for " +
               limits_.kind + ")";
      over_limit_ = true;
      return false;
    }
    if (!count()) return false;
    // The parent never grows while this child is open: the pointer holds.
    stack_.push_back(place(std::move(v)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  const ReadLimits& limits_;
  json root_;
  std::vector<json*> stack_;
  string_t key_;
  size_t elements_ = 0;
  std::string error_;
  bool over_limit_ = false;
};

}  // namespace

json parse_json(std::string_view text, const ReadLimits& limits, const fs::path& file) {
  {
    // The same tree within the same limits, 3-4 times faster; on anything
    // it does not take, nlohmann's parse below says what is wrong (its
    // refused tree freed first: a bomb costs no more memory than before).
    json fast;
    if (parse_json_fast(text, limits.depth, limits.elements, fast)) return fast;
  }
  BoundedBuilder b(limits);
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &b);
  } catch (const json::exception& e) {  // e.g. invalid UTF-8 in a string
    throw FileError(file, "not valid JSON: " + json_error_text(e.what()));
  }
  if (!ok && b.over_limit()) throw FileError(file, "refused: " + b.error());
  if (!ok)
    throw FileError(file, "not valid JSON: " + (b.error().empty() ? "parse stopped" : b.error()));
  return std::move(b.root());
}

json read_json(const fs::path& path, const ReadLimits& limits) {
  // The text goes into a buffer kept per thread for the next file: a
  // bundle's files, read one after another, cost no large allocation (and
  // clearing) each; past kKeep it is freed before the value returns.
  constexpr size_t kKeep = size_t{4} << 20;
  static thread_local std::string text;
  struct Release {
    ~Release() {
      if (text.capacity() > kKeep) std::string().swap(text);
    }
  } release;
  size_t n = read_into(path, limits.bytes, limits.kind, nullptr, text);
  return parse_json(std::string_view(text.data(), n), limits, path);
}

}  // namespace kperflab
