// File formats (frontend/io.h): .npy, .npz, .safetensors, .gguf. Files
// written by NumPy (and by hand from the formats' specifications) are in
// tests/data, made by tests/data/make_io_fixtures.py, whose formulas the
// expected values below repeat. Hostile inputs (every truncation and byte
// flip of small valid files, huge sizes, bad offsets) must throw
// std::runtime_error, never crash or allocate what they declare.
#include <unistd.h>

#include <cstring>
#include <functional>
#include <map>

#include "test_helpers.h"

using namespace kiln;

namespace {

const std::string kData = KILN_TEST_DATA_DIR;

const std::vector<Dtype> kAllDtypes = {bool_, uint8,   uint16,  uint32,  uint64,   int8,     int16,
                                       int32, int64,   float16, float32, float64,  bfloat16, complex64};

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "kiln_io_" + std::to_string(getpid()) + "_" + name;
}

// An array of `dtype` and `shape` whose bytes are a fixed pattern (every
// bit pattern of small types occurs; bools are 0/1).
array pattern(Dtype dtype, const Shape& shape) {
  size_t n = 1;
  for (int32_t d : shape) n *= size_t(d);
  std::string bytes(n * dtype.size(), '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = dtype == bool_ ? char(i % 3 == 1) : char(i * 37 + 11);
  return array(bytes.data(), shape, dtype);
}

// Same dtype, shape and bytes.
::testing::AssertionResult same_bytes(array a, array b) {
  if (a.dtype() != b.dtype()) return ::testing::AssertionFailure() << "dtype " << a.dtype() << " vs " << b.dtype();
  if (a.shape() != b.shape()) return ::testing::AssertionFailure() << "shapes differ";
  a.eval();
  b.eval();
  if (a.nbytes() && std::memcmp(a.node()->buffer->data(), b.node()->buffer->data(), a.nbytes()) != 0)
    return ::testing::AssertionFailure() << "bytes differ";
  return ::testing::AssertionSuccess();
}

// f throws std::runtime_error whose message contains every one of `parts`.
template <typename F>
::testing::AssertionResult throws_runtime(F&& f, std::vector<std::string> parts = {}) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    for (const std::string& p : parts)
      if (std::string(e.what()).find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "message \"" << e.what() << "\" lacks \"" << p << "\"";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

std::shared_ptr<io::Reader> from_bytes(const std::string& bytes, const std::string& label = "<bytes>") {
  return std::make_shared<io::MemoryReader>(bytes, label);
}

std::string npy_bytes(array a) {
  auto w = std::make_shared<io::MemoryWriter>();
  save(w, std::move(a));
  return w->bytes();
}

// The values make_io_fixtures.py writes for NumPy type code `code`, from
// i = 0..5: bool i % 2 == 1, unsigned 40 i, signed i - 2, float (i - 2.5)/2.
std::vector<double> fixture_values(char kind) {
  std::vector<double> v;
  for (int i = 0; i < 6; ++i)
    v.push_back(kind == 'b' ? i % 2 : kind == 'u' ? 40 * i : kind == 'i' ? i - 2 : (i - 2.5) * 0.5);
  return v;
}

std::vector<std::complex<double>> fixture_complex() {
  std::vector<std::complex<double>> v;
  for (int i = 0; i < 6; ++i) v.emplace_back(i - 2.5, 0.25 * i);
  return v;
}

// Every truncation of `bytes` throws std::runtime_error from `load`; every
// single-byte flip either loads or throws std::runtime_error.
void check_hostile_mutations(const std::string& bytes, const std::function<void(std::shared_ptr<io::Reader>)>& load_fn,
                             size_t valid_prefix) {
  for (size_t n = 0; n < valid_prefix; ++n)
    EXPECT_TRUE(throws_runtime([&] { load_fn(from_bytes(bytes.substr(0, n))); })) << "truncated to " << n << " bytes";
  for (size_t i = 0; i < bytes.size(); ++i)
    for (unsigned char x : {0x01, 0x80, 0xff}) {
      std::string m = bytes;
      m[i] = char(m[i] ^ x);
      try {
        load_fn(from_bytes(m));
      } catch (const std::runtime_error&) {
      } catch (const std::exception& e) {
        ADD_FAILURE() << "byte " << i << " ^ " << int(x) << " threw a non-runtime_error: " << e.what();
      }
    }
}

}  // namespace

// --- .npy --------------------------------------------------------------------

TEST(Npy, RoundTripsEveryDtypeAndShape) {
  for (Dtype t : kAllDtypes)
    for (const Shape& shape : std::vector<Shape>{{}, {0}, {2, 0, 3}, {7}, {2, 3, 4}}) {
      array a = pattern(t, shape);
      EXPECT_TRUE(same_bytes(load(from_bytes(npy_bytes(a))), a)) << t << " " << shape.size();
    }
}

TEST(Npy, FileOverloadsAppendTheExtension) {
  std::string path = temp_path("plain");
  array a = pattern(float32, {3, 2});
  save(path, a);
  EXPECT_TRUE(same_bytes(load(path + ".npy"), a));
  save(path + ".npy", pattern(int8, {4}));  // already ends in .npy: the same file
  EXPECT_TRUE(same_bytes(load(path + ".npy"), pattern(int8, {4})));
  unlink((path + ".npy").c_str());
}

// kiln's files are NumPy's to the byte (header text, padding to 64, data).
TEST(Npy, WritesWhatNumPyWrites) {
  std::map<Dtype::Val, std::string> code = {
      {Dtype::Val::bool_, "b1"},   {Dtype::Val::uint8, "u1"},   {Dtype::Val::uint16, "u2"},  {Dtype::Val::uint32, "u4"},
      {Dtype::Val::uint64, "u8"},  {Dtype::Val::int8, "i1"},    {Dtype::Val::int16, "i2"},   {Dtype::Val::int32, "i4"},
      {Dtype::Val::int64, "i8"},   {Dtype::Val::float16, "f2"}, {Dtype::Val::float32, "f4"}, {Dtype::Val::float64, "f8"},
      {Dtype::Val::complex64, "c8"}};
  for (const auto& [val, c] : code) {
    std::string numpy_file = kiln_test::read_file(kData + "/npy_" + c + ".npy");
    ASSERT_FALSE(numpy_file.empty()) << c;
    EXPECT_EQ(npy_bytes(load(kData + "/npy_" + c + ".npy")), numpy_file) << c;
  }
  EXPECT_EQ(npy_bytes(array(3.5f)), kiln_test::read_file(kData + "/npy_scalar.npy"));
  EXPECT_EQ(npy_bytes(zeros({0, 3}, int64)), kiln_test::read_file(kData + "/npy_empty.npy"));
}

TEST(Npy, ReadsNumPyFilesOfEveryDtype) {
  std::vector<std::pair<std::string, Dtype>> files = {
      {"b1", bool_}, {"u1", uint8}, {"u2", uint16}, {"u4", uint32},  {"u8", uint64},  {"i1", int8},
      {"i2", int16}, {"i4", int32}, {"i8", int64},  {"f2", float16}, {"f4", float32}, {"f8", float64}};
  for (const auto& [c, t] : files)
    EXPECT_TRUE(kiln_test::array_is(load(kData + "/npy_" + c + ".npy"), t, {2, 3}, fixture_values(c[0]))) << c;
  EXPECT_TRUE(kiln_test::complex_array_is(load(kData + "/npy_c8.npy"), {2, 3}, fixture_complex(), 0));
}

TEST(Npy, ReadsBigEndianFortranScalarEmptyAndVersion2) {
  EXPECT_TRUE(kiln_test::array_is(load(kData + "/npy_big_f8.npy"), float64, {2, 3}, fixture_values('f')));
  EXPECT_TRUE(kiln_test::array_is(load(kData + "/npy_big_i2.npy"), int16, {2, 3}, fixture_values('i')));
  EXPECT_TRUE(kiln_test::complex_array_is(load(kData + "/npy_big_c8.npy"), {2, 3}, fixture_complex(), 0));
  // np.asfortranarray(np.arange(24).reshape(2, 3, 4)): read back in C order.
  std::vector<double> iota(24);
  for (int i = 0; i < 24; ++i) iota[i] = i;
  EXPECT_TRUE(kiln_test::array_is(load(kData + "/npy_fortran.npy"), int32, {2, 3, 4}, iota));
  EXPECT_TRUE(kiln_test::array_is(load(kData + "/npy_scalar.npy"), float32, {}, {3.5}));
  EXPECT_TRUE(kiln_test::array_is(load(kData + "/npy_empty.npy"), int64, {0, 3}, {}));
  EXPECT_TRUE(kiln_test::array_is(load(kData + "/npy_v2.npy"), float32, {2, 3}, fixture_values('f')));
}

TEST(Npy, Bfloat16IsWrittenAsV2) {
  array a = array({1.5f, -2.0f, 0.25f}, bfloat16);
  std::string bytes = npy_bytes(a);
  EXPECT_NE(bytes.find("'descr': '<V2'"), std::string::npos);
  EXPECT_TRUE(kiln_test::array_is(load(from_bytes(bytes)), bfloat16, {3}, {1.5, -2.0, 0.25}));
}

TEST(Npy, LazyArraysAreEvaluatedWhenSaved) {
  array a = arange(6, float32) * 2.0f;
  EXPECT_TRUE(kiln_test::array_is(load(from_bytes(npy_bytes(reshape(a, {3, 2})))), float32, {3, 2},
                                  {0, 2, 4, 6, 8, 10}));
}

TEST(Npy, HostileFilesThrow) {
  std::string valid = npy_bytes(pattern(float32, {2, 3}));
  check_hostile_mutations(valid, [](auto r) { load(r); }, valid.size());
  auto with_header = [](const std::string& dict) {
    std::string h = dict;
    h.append(118 - h.size() - 1, ' ');
    h += '\n';
    return std::string("\x93NUMPY\x01\x00", 8) + char(h.size() & 0xff) + char(h.size() >> 8) + h;
  };
  // Sizes far beyond the file: refused before any allocation.
  EXPECT_TRUE(throws_runtime([&] { load(from_bytes(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }"), "huge.npy")); },
                             {"[load]", "huge.npy", "truncated"}));
  EXPECT_TRUE(throws_runtime([&] { load(from_bytes(with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"))); },
                             {"too large"}));
  EXPECT_TRUE(throws_runtime([&] { load(from_bytes(with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647, 2147483647), }"))); },
                             {"overflows"}));
  EXPECT_TRUE(throws_runtime([&] { load(from_bytes(with_header("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }"))); },
                             {"unsupported dtype '<c16'"}));
  EXPECT_TRUE(throws_runtime([&] { load(from_bytes(with_header("{'descr': '<f4', 'shape': (1,), }"))); }, {"lacks"}));
  EXPECT_TRUE(throws_runtime([&] { load(from_bytes(with_header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"))); },
                             {"structured"}));
  EXPECT_TRUE(throws_runtime([&] { load(from_bytes("PK\x03\x04 not npy")); }, {"bad magic"}));
  // A missing file names itself.
  EXPECT_TRUE(throws_runtime([] { load("/nonexistent/x.npy"); }, {"/nonexistent/x.npy"}));
}

// --- .npz --------------------------------------------------------------------

// A reader that counts the bytes read through it.
class CountingReader : public io::MemoryReader {
 public:
  using io::MemoryReader::MemoryReader;
  void read(char* data, size_t n) override { bytes_read += n; io::MemoryReader::read(data, n); }
  void read(char* data, size_t n, size_t offset) override {
    bytes_read += n;
    io::MemoryReader::read(data, n, offset);
  }
  size_t bytes_read = 0;
};

// As MLX's: loading reads the header; a tensor's bytes are read when it is
// first used, and a tensor never used is never read (nor its memory taken).
TEST(Npy, LoadingIsLazy) {
  array x = pattern(float32, {256, 256});
  auto r = std::make_shared<CountingReader>(npy_bytes(x));
  array a = load(r);
  EXPECT_LT(r->bytes_read, 1024u) << "only the header is read by load()";
  EXPECT_TRUE(same_bytes(multiply(a, array(2.0f)), multiply(x, array(2.0f))));
  EXPECT_GE(r->bytes_read, x.nbytes());
  // (Big-endian and Fortran-order files, swapped and transposed on first
  // use: Npy.ReadsBigEndianFortranScalarEmptyAndVersion2.)
}

TEST(Safetensors, LoadingIsLazyPerTensor) {
  array big = pattern(float32, {512, 512}), small = pattern(int16, {3, 5});
  auto w = std::make_shared<io::MemoryWriter>();
  save_safetensors(w, {{"big", big}, {"small", small}});
  auto r = std::make_shared<CountingReader>(w->bytes());
  size_t before = get_active_memory();
  auto [arrays, metadata] = load_safetensors(r);
  EXPECT_LT(r->bytes_read, 1024u);
  EXPECT_LT(get_active_memory() - before, big.nbytes()) << "the big tensor's memory is not taken before its use";
  EXPECT_TRUE(same_bytes(arrays.at("small"), small));
  EXPECT_LT(r->bytes_read, 1024u + small.nbytes()) << "using one tensor reads only its bytes";
  EXPECT_TRUE(same_bytes(sum(arrays.at("big")), sum(big)));
  EXPECT_GE(r->bytes_read, big.nbytes());
}

// A file that shrinks between load() and the first use: the read fails then,
// with a runtime_error naming the file, and nothing crashes.
TEST(Npy, AFileTruncatedAfterLoadingThrowsOnUse) {
  std::string path = temp_path("shrinks.npy");
  save(path, pattern(float32, {64, 64}));
  array a = load(path);
  ASSERT_EQ(truncate(path.c_str(), 200), 0);
  EXPECT_TRUE(throws_runtime([&] { a.eval(); (void)a.data<float>(); }, {path}));
  std::remove(path.c_str());
}

TEST(Npz, ReadsNumPyArchives) {
  for (const char* name : {"npz_stored.npz", "npz_deflated.npz"}) {
    auto m = load_npz(kData + "/" + name);
    ASSERT_EQ(m.size(), 2u) << name;
    EXPECT_TRUE(kiln_test::array_is(m.at("a"), int64, {5}, {0, 1, 2, 3, 4})) << name;
    EXPECT_TRUE(kiln_test::array_is(m.at("b"), float32, {2, 3}, fixture_values('f'))) << name;
  }
}

TEST(Npz, RoundTripsStoredAndCompressed) {
  std::unordered_map<std::string, array> arrays;
  for (Dtype t : kAllDtypes) arrays.emplace("x_" + dtype_name(t), pattern(t, {3, 5}));
  arrays.emplace("scalar", array(2.5f));
  arrays.emplace("empty", zeros({0, 4}, int16));
  arrays.emplace("zeros", zeros({1000}, float32));  // compresses well
  std::string stored = temp_path("stored"), compressed = temp_path("compressed");
  savez(stored, arrays);
  savez_compressed(compressed, arrays);
  EXPECT_LT(kiln_test::read_file(compressed + ".npz").size(), kiln_test::read_file(stored + ".npz").size());
  for (const std::string& path : {stored, compressed}) {
    auto m = load_npz(path + ".npz");
    ASSERT_EQ(m.size(), arrays.size());
    for (auto& [k, v] : arrays) EXPECT_TRUE(same_bytes(m.at(k), v)) << k;
    unlink((path + ".npz").c_str());
  }
}

TEST(Npz, HostileArchivesThrow) {
  auto w = std::make_shared<io::MemoryWriter>();
  savez(w, {{"a", pattern(int16, {3})}, {"b", pattern(float32, {2})}}, true);
  std::string valid = w->bytes();
  check_hostile_mutations(valid, [](auto r) { load_npz(r); }, valid.size());
  // A deflated member that declares a size beyond what deflate can produce.
  std::string bomb = valid;
  size_t cd = bomb.rfind(std::string("PK\x01\x02", 4));
  uint32_t huge = 0xfffffff0;
  std::memcpy(&bomb[cd + 24], &huge, 4);
  EXPECT_TRUE(throws_runtime([&] { load_npz(from_bytes(bomb, "bomb.npz")); }, {"[load_npz]", "bomb.npz", "more than deflate"}));
  // The central directory pointing outside the file.
  std::string outside = valid;
  uint32_t far = 0x7fffffff;
  std::memcpy(&outside[outside.size() - 6], &far, 4);
  EXPECT_TRUE(throws_runtime([&] { load_npz(from_bytes(outside)); }, {"beyond the file"}));
  // A member whose bytes were changed: the CRC catches it.
  auto stored = std::make_shared<io::MemoryWriter>();
  savez(stored, {{"a", pattern(int32, {8})}}, false);
  std::string changed = stored->bytes();
  changed[30 + 5 + 128 + 3] ^= 1;  // local header, "a.npy", npy header, a data byte
  EXPECT_TRUE(throws_runtime([&] { load_npz(from_bytes(changed)); }, {"CRC-32"}));
}

// --- .safetensors --------------------------------------------------------------

TEST(Safetensors, ReadsAReferenceFileWithMetadata) {
  auto [arrays, meta] = load_safetensors(kData + "/reference.safetensors");
  ASSERT_EQ(arrays.size(), 3u);
  EXPECT_TRUE(kiln_test::array_is(arrays.at("w"), float32, {2, 3}, fixture_values('f')));
  EXPECT_TRUE(kiln_test::array_is(arrays.at("b"), bfloat16, {3}, {1.5, -2.0, 0.25}));
  EXPECT_TRUE(kiln_test::array_is(arrays.at("n"), int64, {}, {-7}));
  EXPECT_EQ(meta, (std::unordered_map<std::string, std::string>{{"format", "pt"}, {"note", "h\xc3\xa9llo \"q\""}}));
}

TEST(Safetensors, RoundTripsEveryDtypeWithMetadata) {
  std::unordered_map<std::string, array> arrays;
  for (Dtype t : kAllDtypes) arrays.emplace("layer." + dtype_name(t), pattern(t, {2, 3}));
  arrays.emplace("scalar", array(int32_t(-3)));
  arrays.emplace("empty", zeros({0}, float16));
  std::unordered_map<std::string, std::string> meta = {{"format", "mlx"}, {"quote\"and\\slash\n", "\x01 tab\t"}};
  std::string path = temp_path("model");
  save_safetensors(path, arrays, meta);
  auto [back, back_meta] = load_safetensors(path + ".safetensors");
  EXPECT_EQ(back_meta, meta);
  ASSERT_EQ(back.size(), arrays.size());
  for (auto& [k, v] : arrays) EXPECT_TRUE(same_bytes(back.at(k), v)) << k;
  // The data starts 8-byte aligned.
  std::string bytes = kiln_test::read_file(path + ".safetensors");
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ((8 + n) % 8, 0u);
  unlink((path + ".safetensors").c_str());
  EXPECT_TRUE(kiln_test::throws_invalid([&] { save_safetensors(path, {{"__metadata__", array(1)}}); }, "[save_safetensors]"));
}

TEST(Safetensors, HostileFilesThrow) {
  auto w = std::make_shared<io::MemoryWriter>();
  save_safetensors(w, {{"a", pattern(float32, {2, 2})}, {"b", pattern(int8, {3})}}, {{"k", "v"}});
  std::string valid = w->bytes();
  check_hostile_mutations(valid, [](auto r) { load_safetensors(r); }, valid.size());
  auto file = [](const std::string& json, size_t data_bytes) {
    uint64_t n = json.size();
    return std::string(reinterpret_cast<const char*>(&n), 8) + json + std::string(data_bytes, '\0');
  };
  auto fails = [&](const std::string& bytes, std::vector<std::string> parts) {
    parts.insert(parts.begin(), {"[load_safetensors]", "t.safetensors"});
    return throws_runtime([&] { load_safetensors(from_bytes(bytes, "t.safetensors")); }, parts);
  };
  std::string huge_len(8, '\xff');
  EXPECT_TRUE(fails(huge_len + "{}", {"header length"}));
  EXPECT_TRUE(fails(file("{\"a\":", 0), {"bad JSON"}));
  EXPECT_TRUE(fails(file("[1, 2]", 0), {"not a JSON object"}));
  EXPECT_TRUE(fails(file(std::string(200, '[') + std::string(200, ']'), 0), {"nesting too deep"}));
  EXPECT_TRUE(fails(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4), {"outside"}));
  EXPECT_TRUE(fails(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 8), {"need 8"}));
  EXPECT_TRUE(fails(file(R"({"a":{"dtype":"F32","shape":[1000000000000],"data_offsets":[0,4]}})", 8), {"too large"}));
  EXPECT_TRUE(fails(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[2],"data_offsets":[4,12]}})", 12),
                    {"overlap"}));
  EXPECT_TRUE(fails(file(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}})", 1), {"unsupported dtype 'Q4'"}));
  EXPECT_TRUE(fails(file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), {"non-negative"}));
  EXPECT_TRUE(fails(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), {"outside"}));
  EXPECT_TRUE(fails(file(R"({"__metadata__":{"k":1}})", 0), {"not a string"}));
  EXPECT_TRUE(fails(file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
                    {"twice"}));
}

// --- .gguf ---------------------------------------------------------------------

TEST(Gguf, ReadsAReferenceFile) {
  auto [arrays, meta] = load_gguf(kData + "/reference.gguf");
  ASSERT_EQ(arrays.size(), 4u);
  EXPECT_TRUE(kiln_test::array_is(arrays.at("w"), float32, {2, 3}, fixture_values('f')));
  EXPECT_TRUE(kiln_test::array_is(arrays.at("h"), float16, {4}, {1, -0.5, 2, 65504}));
  EXPECT_TRUE(kiln_test::array_is(arrays.at("bf"), bfloat16, {3}, {1.5, -2.0, 0.25}));
  EXPECT_TRUE(kiln_test::array_is(arrays.at("i8"), int8, {5}, {-128, -1, 0, 1, 127}));
  ASSERT_EQ(meta.size(), 5u);
  EXPECT_EQ(std::get<std::string>(meta.at("general.architecture")), "test");
  EXPECT_TRUE(kiln_test::array_is(std::get<array>(meta.at("count")), uint32, {}, {7}));
  EXPECT_TRUE(kiln_test::array_is(std::get<array>(meta.at("scale")), float32, {}, {0.5}));
  EXPECT_EQ(std::get<std::vector<std::string>>(meta.at("names")), (std::vector<std::string>{"a", "bc"}));
  EXPECT_TRUE(kiln_test::array_is(std::get<array>(meta.at("ids")), int32, {3}, {1, -2, 3}));
}

TEST(Gguf, QuantizedTypesAreRefusedByName) {
  EXPECT_TRUE(throws_runtime([&] { load_gguf(kData + "/quantized.gguf"); }, {"[load_gguf]", "quantized.gguf", "'q'", "Q8_0"}));
}

TEST(Gguf, RoundTripsItsDtypesAndMetadata) {
  std::unordered_map<std::string, array> arrays;
  for (Dtype t : {float32, float16, bfloat16, float64, int8, int16, int32, int64})
    arrays.emplace("t." + dtype_name(t), pattern(t, {2, 3, 5}));
  arrays.emplace("rank4", pattern(float32, {2, 1, 3, 2}));
  arrays.emplace("scalar", array(1.25f));
  arrays.emplace("empty", zeros({0, 2}, int32));
  std::unordered_map<std::string, GGUFMetaData> meta = {
      {"name", std::string("kiln")},
      {"tokens", std::vector<std::string>{"<s>", "", "hello"}},
      {"n", array(uint64_t(1) << 40)},
      {"flag", array(true)},
      {"ids", array({3, 1, 2})},
      {"scales", array({0.5, 2.0}, float64)},
  };
  std::string path = temp_path("weights");
  save_gguf(path, arrays, meta);
  auto [back, back_meta] = load_gguf(path + ".gguf");
  ASSERT_EQ(back.size(), arrays.size());
  for (auto& [k, v] : arrays) EXPECT_TRUE(same_bytes(back.at(k), v)) << k;
  ASSERT_EQ(back_meta.size(), meta.size());
  EXPECT_EQ(std::get<std::string>(back_meta.at("name")), "kiln");
  EXPECT_EQ(std::get<std::vector<std::string>>(back_meta.at("tokens")), (std::vector<std::string>{"<s>", "", "hello"}));
  for (const char* k : {"n", "flag", "ids", "scales"})
    EXPECT_TRUE(same_bytes(std::get<array>(back_meta.at(k)), std::get<array>(meta.at(k)))) << k;
  unlink((path + ".gguf").c_str());
  EXPECT_TRUE(kiln_test::throws_invalid([&] { save_gguf(path, {{"u", pattern(uint32, {2})}}); }, "[save_gguf]"));
  EXPECT_TRUE(kiln_test::throws_invalid([&] { save_gguf(path, {{"r5", pattern(int8, {1, 1, 1, 1, 2})}}); }, "rank 5"));
  EXPECT_TRUE(kiln_test::throws_invalid([&] { save_gguf(path, {}, {{"m", GGUFMetaData{}}}); }, "[save_gguf]"));
  EXPECT_TRUE(kiln_test::throws_invalid([&] { save_gguf(path, {}, {{"m", array({1.0f}, float16)}}); }, "float16"));
}

namespace {

std::string gguf_str(const std::string& s) {
  uint64_t n = s.size();
  return std::string(reinterpret_cast<const char*>(&n), 8) + s;
}
template <typename T>
std::string le(T v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}
// A GGUF v3 file with one F32 tensor "t" of dims `dims` at `offset` and
// `data` bytes of data.
std::string gguf_file(uint64_t n_tensors, uint64_t n_kv, const std::string& kvs, std::vector<uint64_t> dims,
                      uint64_t offset, size_t data, uint32_t type = 0) {
  std::string f = "GGUF" + le<uint32_t>(3) + le(n_tensors) + le(n_kv) + kvs;
  f += gguf_str("t") + le<uint32_t>(uint32_t(dims.size()));
  for (uint64_t d : dims) f += le(d);
  f += le(type) + le(offset);
  f.append((32 - f.size() % 32) % 32, '\0');
  return f + std::string(data, '\0');
}

}  // namespace

TEST(Gguf, HostileFilesThrow) {
  std::string path = temp_path("hostile");
  // The last tensor has 32 bytes, so that the file ends with data, not padding.
  save_gguf(path, {{"a", pattern(int16, {3})}, {"b", pattern(float32, {8})}},
            {{"s", std::string("x")}, {"v", array({1, 2})}, {"l", std::vector<std::string>{"p", "q"}}});
  std::string valid = kiln_test::read_file(path + ".gguf");
  unlink((path + ".gguf").c_str());
  check_hostile_mutations(valid, [](auto r) { load_gguf(r); }, valid.size());
  auto fails = [&](const std::string& bytes, std::vector<std::string> parts) {
    parts.insert(parts.begin(), {"[load_gguf]", "t.gguf"});
    return throws_runtime([&] { load_gguf(from_bytes(bytes, "t.gguf")); }, parts);
  };
  EXPECT_TRUE(gguf_file(1, 0, "", {4}, 0, 16).size() > 0);
  EXPECT_NO_THROW(load_gguf(from_bytes(gguf_file(1, 0, "", {4}, 0, 16))));
  EXPECT_TRUE(fails("GGML" + std::string(20, '\0'), {"bad magic"}));
  EXPECT_TRUE(fails(gguf_file(1, 0, "", {4}, 0, 16).replace(4, 4, le<uint32_t>(1)), {"version 1"}));
  EXPECT_TRUE(fails(gguf_file(uint64_t(1) << 60, 0, "", {4}, 0, 16), {"tensors, more than the file holds"}));
  EXPECT_TRUE(fails(gguf_file(1, uint64_t(1) << 60, "", {4}, 0, 16), {"metadata pairs"}));
  EXPECT_TRUE(fails(gguf_file(1, 1, gguf_str("k") + le<uint32_t>(9) + le<uint32_t>(0) + le<uint64_t>(uint64_t(1) << 62), {4}, 0, 16),
                    {"'k'"}));
  EXPECT_TRUE(fails(gguf_file(1, 1, gguf_str("k") + le<uint32_t>(8) + le<uint64_t>(uint64_t(1) << 62), {4}, 0, 16), {"truncated"}));
  EXPECT_TRUE(fails(gguf_file(1, 1, gguf_str("k") + le<uint32_t>(99), {4}, 0, 16), {"unknown value type 99"}));
  EXPECT_TRUE(fails(gguf_file(1, 0, "", {uint64_t(1) << 40}, 0, 16), {"too large"}));
  EXPECT_TRUE(fails(gguf_file(1, 0, "", {1 << 30, 1 << 30, 1 << 30, 1 << 30}, 0, 16), {"overflows"}));
  EXPECT_TRUE(fails(gguf_file(1, 0, "", {1 << 20}, 0, 16), {"lies beyond"}));
  EXPECT_TRUE(fails(gguf_file(1, 0, "", {4}, 32, 40), {"lies beyond"}));
  EXPECT_TRUE(fails(gguf_file(1, 0, "", {4}, 3, 40), {"not aligned"}));
  EXPECT_TRUE(fails(gguf_file(1, 0, "", {1, 1, 1, 1, 1}, 0, 16), {"rank 5"}));
  EXPECT_TRUE(fails(gguf_file(1, 0, "", {4}, 0, 16, 12), {"Q4_K"}));
  EXPECT_TRUE(fails(gguf_file(1, 1, gguf_str("general.alignment") + le<uint32_t>(4) + le<uint32_t>(3), {4}, 0, 16),
                    {"power of two"}));
  // Two tensors sharing bytes.
  std::string two = "GGUF" + le<uint32_t>(3) + le<uint64_t>(2) + le<uint64_t>(0);
  two += gguf_str("x") + le<uint32_t>(1) + le<uint64_t>(16) + le<uint32_t>(0) + le<uint64_t>(0);
  two += gguf_str("y") + le<uint32_t>(1) + le<uint64_t>(16) + le<uint32_t>(0) + le<uint64_t>(32);
  two.append((32 - two.size() % 32) % 32, '\0');
  two += std::string(96, '\0');
  EXPECT_TRUE(fails(two, {"'x' and 'y' overlap"}));
}
