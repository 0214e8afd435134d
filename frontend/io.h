#pragma once
// Reading and writing arrays in files, as mlx::core's io.h: .npy (save,
// load), .safetensors (save_safetensors, load_safetensors) and .gguf
// (save_gguf, load_gguf), plus .npz (savez, savez_compressed, load_npz),
// which MLX offers in Python only.
//
// Readers treat files as untrusted: a truncated, corrupt or hostile file
// (bad magic or header, declared sizes beyond the file, out-of-range or
// overlapping offsets, bad JSON) throws std::runtime_error naming the file
// and the problem; no declared size is allocated before it is checked
// against the bytes the file holds.
//
// load (.npy) and load_safetensors are lazy, as MLX's: they read and check
// the header, and each array reads its bytes the first time it is used (its
// memory is taken then too; an array never used is never read). The reader
// (the open file) stays alive while such an array does; if the file changes
// in between, the use reads what is there then, and a read that fails
// throws std::runtime_error naming the file at that use. .npz and .gguf
// are read at once.
#include <cstdint>
#include <cstdio>
#include <ios>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "frontend/array.h"
#include "frontend/stream.h"

namespace kiln {

namespace io {

// A source of bytes, as mlx::core::io::Reader. read() throws
// std::runtime_error naming label() when fewer than n bytes are left.
class Reader {
 public:
  virtual ~Reader() = default;
  virtual bool is_open() const = 0;
  virtual bool good() const = 0;
  virtual size_t tell() = 0;
  virtual void seek(int64_t off, std::ios_base::seekdir way = std::ios_base::beg) = 0;
  virtual void read(char* data, size_t n) = 0;
  // Reads n bytes at `offset` from the start; leaves the position unspecified.
  virtual void read(char* data, size_t n, size_t offset) = 0;
  virtual std::string label() const = 0;
};

// A sink of bytes, as mlx::core::io::Writer. write() throws
// std::runtime_error naming label() when the bytes cannot be written.
class Writer {
 public:
  virtual ~Writer() = default;
  virtual bool is_open() const = 0;
  virtual bool good() const = 0;
  virtual size_t tell() = 0;
  virtual void seek(int64_t off, std::ios_base::seekdir way = std::ios_base::beg) = 0;
  virtual void write(const char* data, size_t n) = 0;
  virtual std::string label() const = 0;
};

// A file opened for reading; is_open() is false when it cannot be opened.
class FileReader : public Reader {
 public:
  explicit FileReader(std::string file_path);
  ~FileReader() override;
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  bool is_open() const override;
  bool good() const override;
  size_t tell() override;
  void seek(int64_t off, std::ios_base::seekdir way = std::ios_base::beg) override;
  void read(char* data, size_t n) override;
  void read(char* data, size_t n, size_t offset) override;
  std::string label() const override;

 private:
  std::string path_;
  std::FILE* file_;
  bool good_ = true;
};

// MLX's name for its file reader.
using ParallelFileReader = FileReader;

// A file created (or truncated) for writing; is_open() is false when it
// cannot be.
class FileWriter : public Writer {
 public:
  explicit FileWriter(std::string file_path);
  ~FileWriter() override;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  bool is_open() const override;
  bool good() const override;
  size_t tell() override;
  void seek(int64_t off, std::ios_base::seekdir way = std::ios_base::beg) override;
  void write(const char* data, size_t n) override;
  std::string label() const override;

 private:
  std::string path_;
  std::FILE* file_;
  bool good_ = true;
};

// kiln: bytes in memory read as a file (for tests, fuzzing, archives).
class MemoryReader : public Reader {
 public:
  explicit MemoryReader(std::string bytes, std::string label = "<memory>");
  bool is_open() const override { return true; }
  bool good() const override { return good_; }
  size_t tell() override { return pos_; }
  void seek(int64_t off, std::ios_base::seekdir way = std::ios_base::beg) override;
  void read(char* data, size_t n) override;
  void read(char* data, size_t n, size_t offset) override;
  std::string label() const override { return label_; }

 private:
  std::string bytes_;
  std::string label_;
  size_t pos_ = 0;
  bool good_ = true;
};

// kiln: bytes written to memory (bytes() returns them).
class MemoryWriter : public Writer {
 public:
  explicit MemoryWriter(std::string label = "<memory>") : label_(std::move(label)) {}
  bool is_open() const override { return true; }
  bool good() const override { return true; }
  size_t tell() override { return pos_; }
  void seek(int64_t off, std::ios_base::seekdir way = std::ios_base::beg) override;
  void write(const char* data, size_t n) override;
  std::string label() const override { return label_; }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
  std::string label_;
  size_t pos_ = 0;
};

}  // namespace io

// GGUF metadata values: a number or a numeric array (an array of the
// value's dtype, 0-d for a scalar), a string, or an array of strings;
// monostate for what has no such form (arrays of arrays).
using GGUFMetaData = std::variant<std::monostate, array, std::string, std::vector<std::string>>;
using GGUFLoad = std::pair<std::unordered_map<std::string, array>,
                           std::unordered_map<std::string, GGUFMetaData>>;
using SafetensorsLoad = std::pair<std::unordered_map<std::string, array>,
                                  std::unordered_map<std::string, std::string>>;

// Writes `a` in NumPy's .npy format (C order; bfloat16 as '<V2', as MLX).
void save(std::shared_ptr<io::Writer> out_stream, array a);
// Writes `a` to `file` (".npy" is appended when the name lacks it).
void save(std::string file, array a);
// Reads a .npy array (any kiln dtype, either byte order, C or Fortran order).
array load(std::shared_ptr<io::Reader> in_stream, StreamOrDevice s = {});
array load(std::string file, StreamOrDevice s = {});

// Reads a .safetensors file: its arrays and its "__metadata__" strings.
SafetensorsLoad load_safetensors(std::shared_ptr<io::Reader> in_stream, StreamOrDevice s = {});
SafetensorsLoad load_safetensors(const std::string& file, StreamOrDevice s = {});
// Writes arrays and string metadata as .safetensors (".safetensors" is
// appended to a file name that lacks it).
void save_safetensors(std::shared_ptr<io::Writer> in_stream, std::unordered_map<std::string, array>,
                      std::unordered_map<std::string, std::string> metadata = {});
void save_safetensors(std::string file, std::unordered_map<std::string, array>,
                      std::unordered_map<std::string, std::string> metadata = {});

// Reads a .gguf file (version 2 or 3): the tensors of types F32, F16, BF16,
// F64, I8, I16, I32, I64, and the metadata. Quantized tensor types throw
// std::runtime_error naming the tensor and its type.
GGUFLoad load_gguf(const std::string& file, StreamOrDevice s = {});
// kiln: load_gguf from any reader.
GGUFLoad load_gguf(std::shared_ptr<io::Reader> in_stream, StreamOrDevice s = {});
// Writes a .gguf (version 3) file (".gguf" is appended when missing).
// Arrays must be float32, float16, bfloat16, float64, int8, int16, int32 or
// int64 of rank at most 4; others throw std::invalid_argument.
void save_gguf(std::string file, std::unordered_map<std::string, array> array_map,
               std::unordered_map<std::string, GGUFMetaData> meta_data = {});

// kiln (MLX: Python only): a .npz archive, one "<name>.npy" member per
// array, as numpy.savez (stored) and numpy.savez_compressed (deflated).
// ".npz" is appended to a file name that lacks it.
void savez(std::string file, std::unordered_map<std::string, array> arrays);
void savez_compressed(std::string file, std::unordered_map<std::string, array> arrays);
void savez(std::shared_ptr<io::Writer> out_stream, std::unordered_map<std::string, array> arrays,
           bool compressed = false);
// Reads a .npz archive (stored or deflated members) into name -> array.
std::unordered_map<std::string, array> load_npz(const std::string& file, StreamOrDevice s = {});
std::unordered_map<std::string, array> load_npz(std::shared_ptr<io::Reader> in_stream,
                                                StreamOrDevice s = {});

}  // namespace kiln
