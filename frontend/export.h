#pragma once
// Export and import of traced functions, as mlx::core::export_function and
// import_function: a function is traced for example inputs and written to a
// file (its IR in the text form of ir/README.md, under a small header); a
// later process imports it and calls it, compiles it, differentiates it or
// vmaps it, without the C++ that traced it.
#include <memory>
#include <string>
#include <vector>

#include "frontend/array.h"
#include "frontend/trace.h"
#include "ir/function.h"

namespace kiln {

// Traces fun for the dtypes and shapes of args (their values are not read)
// and writes it to `path`. Arrays fun captures are stored as constants.
// shapeless = true is not supported yet (throws std::invalid_argument): an
// exported function takes exactly the shapes it was traced for.
// Throws std::runtime_error if the file cannot be written.
void export_function(const std::string& path, const ArrayFunction& fun, const std::vector<array>& args,
                     bool shapeless = false);

class ImportedFunction;

namespace detail {
// import_function on a file's contents; `name` stands for the file in error
// messages. (import_function reads the file and calls it; the importer's
// fuzzer, tests/fuzz/fuzz_import.cpp, calls it on arbitrary bytes.)
ImportedFunction import_function_bytes(const std::string& bytes, const std::string& name);
// The bytes export_function writes for a function's IR text: the header
// (with the IR's length and checksum), then the IR. (Also used by the
// importer's fuzzer to wrap IR inputs.)
std::string exported_file_bytes(const std::string& ir);
}  // namespace detail

// A function read back by import_function. Calling it with arrays of the
// exported dtypes and shapes returns lazy outputs, like any op; the first
// call per process compiles it (with the in-memory and disk kernel caches),
// later calls only run. It composes with compile, grad, vjp, jvp and vmap
// like any ArrayFunction.
class ImportedFunction {
 public:
  std::vector<array> operator()(const std::vector<array>& args) const;
  // The exported IR and its input types.
  const ir::Function& function() const { return *f_; }
  const std::vector<ir::Type>& input_types() const { return f_->inputs; }

 private:
  friend ImportedFunction import_function(const std::string& path);
  friend ImportedFunction detail::import_function_bytes(const std::string& bytes, const std::string& name);
  std::shared_ptr<const ir::Function> f_;
  ArrayFunction compiled_;
};

// Reads a file written by export_function. A missing, truncated, corrupted
// or malformed file throws std::runtime_error that names the file and the
// problem (for a malformed function, the line and column in the IR).
ImportedFunction import_function(const std::string& path);

}  // namespace kiln
