// export_function / import_function: the file is a short text header and the
// function's IR text.
//
//   kiln-function 1            format version
//   kiln-version 0.1.0         the kiln that wrote it (informational)
//   ir-bytes 1234              the IR's exact length, so truncation is caught
//   ir-fnv1a64 0123456789abcdef  a checksum of the IR, so corruption is caught
//   (empty line)
//   <IR text>
//
// The checksum guards against accidents, not attackers: what is loaded is IR,
// which the parser verifies, never native code.
#include "frontend/export.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "frontend/transforms.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pass_manager.h"
#include "runtime/atomic_file.h"
#include "runtime/unique_fd.h"

namespace kiln {

namespace {

constexpr int kFormatVersion = 1;

std::string fnv1a64_hex(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw std::runtime_error("[import_function] " + path + ": " + problem);
}

// Reads "<name> <value>\n" at pos; fails with a clear message otherwise.
std::string header_field(const std::string& path, const std::string& text, size_t& pos, const std::string& name) {
  size_t eol = text.find('\n', pos);
  if (eol == std::string::npos) fail(path, "truncated header (no '" + name + "' line)");
  std::string line = text.substr(pos, eol - pos);
  pos = eol + 1;
  if (line.rfind(name + " ", 0) != 0) fail(path, "malformed header: expected '" + name + " ...', found '" + line + "'");
  return line.substr(name.size() + 1);
}

}  // namespace

std::string detail::exported_file_bytes(const std::string& ir) {
  std::ostringstream os;
  os << "kiln-function " << kFormatVersion << "\n"
     << "kiln-version " << KILN_VERSION << "\n"
     << "ir-bytes " << ir.size() << "\n"
     << "ir-fnv1a64 " << fnv1a64_hex(ir) << "\n\n"
     << ir;
  return os.str();
}

void export_function(const std::string& path, const ArrayFunction& fun, const std::vector<array>& args,
                     bool shapeless) {
  if (shapeless)
    throw std::invalid_argument("[export_function] shapeless export is not supported yet: export one file per shape");
  if (detail::tracing())
    throw std::invalid_argument("[export_function] cannot export from inside a transformation (compile, grad, vmap)");
  ir::Function f = detail::trace(fun, detail::types_of(args));
  std::string bytes = detail::exported_file_bytes(ir::print(passes::simplify(std::move(f))));
  // Written to a fresh temporary file beside the target and renamed over
  // it: a reader never sees half a file, a failed write leaves an older
  // export intact, concurrent exports to one path do not mix, and a link
  // planted under a temporary name cannot redirect the write.
  try {
    runtime::write_file_atomically(path, {bytes}, 0666, /*sync=*/true);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("[export_function] cannot write " + path + ": " + e.what());
  }
}

// The file's bytes. A FIFO under the name would block open() and read()
// forever, so the file is opened without waiting and read only if it is a
// regular file; the IR's size that the header announces is checked against
// the file's before the IR is read, so a huge or truncated file costs one
// short read.
std::string read_exported_file(const std::string& path) {
  runtime::UniqueFd fd(open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) fail(path, std::string("cannot open the file: ") + std::strerror(errno));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) fail(path, std::string("cannot stat the file: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  const uint64_t size = uint64_t(st.st_size);
  constexpr size_t kMaxHeaderBytes = 4096;
  std::string text = runtime::read_up_to(fd.get(), size_t(std::min<uint64_t>(kMaxHeaderBytes, size)));
  size_t blank = text.find("\n\n");
  size_t at = text.find("\nir-bytes ");
  if (blank != std::string::npos && at != std::string::npos && at < blank) {
    std::string field = text.substr(at + 10, text.find('\n', at + 1) - (at + 10));
    if (!field.empty() && field.size() < 20 && field.find_first_not_of("0123456789") == std::string::npos) {
      uint64_t announced = std::stoull(field), present = size - (blank + 2);
      if (present < announced)
        fail(path, "truncated: the IR has " + std::to_string(present) + " of " + std::to_string(announced) + " bytes");
      if (present > announced) fail(path, "unexpected data after the IR's " + std::to_string(announced) + " bytes");
    }
  }
  // (A malformed header is reported by import_function_bytes.)
  return text + runtime::read_up_to(fd.get(), size_t(size - text.size()));
}

ImportedFunction import_function(const std::string& path) {
  return detail::import_function_bytes(read_exported_file(path), path);
}

ImportedFunction detail::import_function_bytes(const std::string& text, const std::string& path) {
  if (text.rfind("kiln-function ", 0) != 0) fail(path, "not a kiln exported function (no 'kiln-function' header)");
  size_t pos = 0;
  std::string version = header_field(path, text, pos, "kiln-function");
  if (version != std::to_string(kFormatVersion))
    fail(path, "format version " + version + ", this kiln reads version " + std::to_string(kFormatVersion));
  header_field(path, text, pos, "kiln-version");
  std::string bytes = header_field(path, text, pos, "ir-bytes");
  std::string checksum = header_field(path, text, pos, "ir-fnv1a64");
  if (text.compare(pos, 1, "\n") != 0) fail(path, "malformed header: no empty line before the IR");
  pos++;
  uint64_t expected = 0;
  try {
    size_t used = 0;
    expected = std::stoull(bytes, &used);
    if (used != bytes.size()) throw std::invalid_argument(bytes);
  } catch (const std::exception&) {
    fail(path, "malformed header: ir-bytes '" + bytes + "' is not a number");
  }
  std::string ir = text.substr(pos);
  if (ir.size() < expected)
    fail(path, "truncated: the IR has " + std::to_string(ir.size()) + " of " + std::to_string(expected) + " bytes");
  if (ir.size() > expected) fail(path, "unexpected data after the IR's " + std::to_string(expected) + " bytes");
  if (fnv1a64_hex(ir) != checksum) fail(path, "checksum mismatch: the file is corrupted");

  ImportedFunction fn;
  try {
    fn.f_ = std::make_shared<const ir::Function>(ir::parse(ir));
  } catch (const ir::ParseError& e) {
    fail(path, std::string("malformed IR at ") + e.what());
  }
  std::shared_ptr<const ir::Function> f = fn.f_;
  fn.compiled_ = compile(ArrayFunction([f](const std::vector<array>& args) {
    return detail::inline_function(*f, args);
  }));
  return fn;
}

std::vector<array> ImportedFunction::operator()(const std::vector<array>& args) const {
  if (!f_) throw std::invalid_argument("[import_function] calling an empty ImportedFunction");
  if (args.size() != f_->inputs.size())
    throw std::invalid_argument("[import_function] the function takes " + std::to_string(f_->inputs.size()) +
                                " inputs, got " + std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i) {
    ir::Type t{args[i].dtype(), args[i].shape()};
    if (t != f_->inputs[i])
      throw std::invalid_argument("[import_function] input " + std::to_string(i) + " is " + ir::type_to_string(t) +
                                  ", the function was exported for " + ir::type_to_string(f_->inputs[i]));
  }
  return compiled_(args);
}

}  // namespace kiln
