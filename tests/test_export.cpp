// export_function / import_function: round trips that call, compile,
// differentiate and vmap the imported function, compared with known values
// and finite differences; the errors of bad files and bad calls; and how
// the file is written (atomically, through no planted link, concurrently).
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "test_helpers.h"

namespace {

std::string temp_file(const std::string& name) {
  return ::testing::TempDir() + "kiln_export_" + name + "_" + std::to_string(getpid()) + ".kfn";
}

// A fresh directory of its own for one test, removed afterwards.
struct TempDir {
  std::string path;
  TempDir() {
    std::string pattern = ::testing::TempDir() + "kiln_export_XXXXXX";
    path = mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

// f(x, w) = [sum(tanh(x @ w)), x * 2] with w a captured constant in one
// variant; values are checked against hand-computed numbers.
std::vector<kiln::array> two_outputs(const std::vector<kiln::array>& a) {
  return {kiln::sum(kiln::tanh(kiln::matmul(a[0], a[1]))), a[0] * 2.0f};
}

bool throws_runtime(const std::function<void()>& fn, const std::string& needle, std::string* message = nullptr) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    if (message) *message = e.what();
    return std::string(e.what()).find(needle) != std::string::npos;
  }
  return false;
}

}  // namespace

TEST(Export, RoundTripCallsTheFunction) {
  std::string path = temp_file("roundtrip");
  kiln::array x({0.5f, -1.0f, 2.0f, 0.25f}, {2, 2});
  kiln::array w({1.0f, 0.0f, 0.5f, -1.0f}, {2, 2});
  kiln::export_function(path, two_outputs, {x, w});

  kiln::ImportedFunction f = kiln::import_function(path);
  ASSERT_EQ(f.input_types().size(), 2u);
  std::vector<kiln::array> out = f({x, w});
  ASSERT_EQ(out.size(), 2u);
  // x @ w = [[0, 1], [2.125, -0.25]]
  double expected = std::tanh(0.0) + std::tanh(1.0) + std::tanh(2.125) + std::tanh(-0.25);
  EXPECT_TRUE(kiln_test::array_is(out[0], kiln::float32, {}, {expected}, 1e-6));
  EXPECT_TRUE(kiln_test::array_is(out[1], kiln::float32, {2, 2}, {1, -2, 4, 0.5}));
  // Other values of the same shapes.
  kiln::array x2({1.0f, 1.0f, 1.0f, 1.0f}, {2, 2});
  EXPECT_TRUE(kiln_test::array_is(f({x2, w})[0], kiln::float32, {},
                                  {2 * std::tanh(1.5) + 2 * std::tanh(-1.0)}, 1e-6));
  std::remove(path.c_str());
}

TEST(Export, CapturedArraysAreStoredAsConstants) {
  std::string path = temp_file("captured");
  kiln::array scale({3.0f, -2.0f});
  kiln::export_function(path, [scale](const std::vector<kiln::array>& a) {
    return std::vector<kiln::array>{a[0] * scale + 1.0f};
  }, {kiln::zeros({2})});
  kiln::ImportedFunction f = kiln::import_function(path);
  EXPECT_TRUE(kiln_test::array_is(f({kiln::array({1.0f, 2.0f})})[0], kiln::float32, {2}, {4, -3}));
  std::remove(path.c_str());
}

TEST(Export, ImportedFunctionsCompileDifferentiateAndVmap) {
  std::string path = temp_file("transforms");
  // g(x) = sum(sin(x) * x)
  kiln::export_function(path, [](const std::vector<kiln::array>& a) {
    return std::vector<kiln::array>{kiln::sum(kiln::sin(a[0]) * a[0])};
  }, {kiln::zeros({3})});
  kiln::ImportedFunction g = kiln::import_function(path);
  auto scalar_g = [g](const std::vector<kiln::array>& a) { return g(a)[0]; };
  std::vector<double> xs = {0.3, -1.2, 2.0};
  kiln::array x({0.3f, -1.2f, 2.0f});

  // grad: cos(x) * x + sin(x)
  kiln::array dx = kiln::grad(scalar_g)({x})[0];
  std::vector<double> expected;
  for (double v : xs) expected.push_back(std::cos(v) * v + std::sin(v));
  EXPECT_TRUE(kiln_test::array_is(dx, kiln::float32, {3}, expected, 1e-5));

  // compile(grad(imported)) and grad(compile(imported)) agree with it.
  auto compiled_grad = kiln::compile(kiln::grad(scalar_g));
  EXPECT_TRUE(kiln_test::array_is(compiled_grad({x})[0], kiln::float32, {3}, expected, 1e-5));
  auto grad_compiled = kiln::grad(
      [c = kiln::compile(kiln::ArrayFunction(g))](const std::vector<kiln::array>& a) { return c(a)[0]; });
  EXPECT_TRUE(kiln_test::array_is(grad_compiled({x})[0], kiln::float32, {3}, expected, 1e-5));

  // vmap over a batch of two rows.
  kiln::array batch({0.3f, -1.2f, 2.0f, 1.0f, 0.0f, -0.5f}, {2, 3});
  kiln::array per_row = kiln::vmap(kiln::ArrayFunction(g), {0}, {0})({batch})[0];
  std::vector<double> rows = {0, 0};
  std::vector<double> b = {0.3, -1.2, 2.0, 1.0, 0.0, -0.5};
  for (int i = 0; i < 6; ++i) rows[i / 3] += std::sin(b[i]) * b[i];
  EXPECT_TRUE(kiln_test::array_is(per_row, kiln::float32, {2}, rows, 1e-5));
  std::remove(path.c_str());
}

TEST(Export, BadCallsAreRejected) {
  std::string path = temp_file("calls");
  kiln::export_function(path, two_outputs, {kiln::zeros({2, 2}), kiln::zeros({2, 2})});
  kiln::ImportedFunction f = kiln::import_function(path);
  EXPECT_TRUE(kiln_test::throws_invalid([&] { f({kiln::zeros({2, 2})}); }, "takes 2 inputs, got 1"));
  EXPECT_TRUE(kiln_test::throws_invalid([&] { f({kiln::zeros({2, 3}), kiln::zeros({2, 2})}); },
                                        "input 0 is f32[2,3], the function was exported for f32[2,2]"));
  EXPECT_TRUE(kiln_test::throws_invalid(
      [&] { f({kiln::zeros({2, 2}, kiln::int32), kiln::zeros({2, 2})}); }, "input 0 is i32[2,2]"));
  EXPECT_TRUE(kiln_test::throws_invalid(
      [&] { kiln::export_function(path, two_outputs, {kiln::zeros({2, 2}), kiln::zeros({2, 2})}, true); },
      "shapeless"));
  std::remove(path.c_str());
}

TEST(Export, BadFilesGiveClearErrors) {
  std::string path = temp_file("bad");
  kiln::export_function(path, two_outputs, {kiln::zeros({2, 2}), kiln::zeros({2, 2})});
  const std::string good = kiln_test::read_file(path);
  size_t ir_start = good.find("\n\n") + 2;

  struct Case {
    std::string what, bytes, message;
  };
  std::string flipped = good;
  flipped[ir_start + (good.size() - ir_start) / 2] ^= 0x01;
  std::string broken_ir = good;
  // A valid checksum over invalid IR: the parser's error, with a location.
  {
    std::string ir = good.substr(ir_start);
    size_t at = ir.find("tanh");
    ASSERT_NE(at, std::string::npos) << ir;
    ir.replace(at, 4, "tanx");
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : ir) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    std::string header = good.substr(0, ir_start);
    size_t sum_at = header.find("ir-fnv1a64 ") + 11;
    header.replace(sum_at, 16, hex);
    broken_ir = header + ir;
  }
  std::vector<Case> cases = {
      {"empty", "", "not a kiln exported function"},
      {"not ours", "hello world\n", "not a kiln exported function"},
      {"truncated header", good.substr(0, 20), "truncated header"},
      {"truncated IR", good.substr(0, good.size() - 10), "truncated: the IR has"},
      {"extended", good + "x", "unexpected data after the IR"},
      {"flipped byte", flipped, "checksum mismatch"},
      {"newer format", "kiln-function 9\n" + good.substr(good.find('\n') + 1), "format version 9"},
      {"malformed IR", broken_ir, "malformed IR at "},
  };
  for (const Case& c : cases) {
    kiln_test::write_file(path, c.bytes);
    std::string message;
    EXPECT_TRUE(throws_runtime([&] { kiln::import_function(path); }, c.message, &message))
        << c.what << ": " << message;
    EXPECT_NE(message.find(path), std::string::npos) << c.what << ": " << message;
  }
  std::remove(path.c_str());
  EXPECT_TRUE(throws_runtime([&] { kiln::import_function(path); }, "cannot open the file"));
}

// The file was written through "<path>.tmp", a fixed name: a symbolic link
// planted there made the export overwrite whatever it pointed to.
TEST(Export, APlantedLinkIsNotWrittenThrough) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string path = dir.path + "/model.kfn", victim = dir.path + "/victim";
  kiln_test::write_file(victim, "precious");
  ASSERT_EQ(symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
  kiln::export_function(path, two_outputs, {kiln::zeros({2, 2}), kiln::zeros({2, 2})});
  EXPECT_EQ(kiln_test::read_file(victim), "precious");
  EXPECT_NO_THROW(kiln::import_function(path));
  // Nothing but the export, the victim and the planted link remain.
  EXPECT_EQ(dir.files(), (std::vector<std::string>{"model.kfn", "model.kfn.tmp", "victim"}));
}

// Several threads export to one path while others import it: every export
// succeeds, and every import reads a whole file (one export or another),
// never a mix or a part.
TEST(Export, ConcurrentExportsAndImportsSeeWholeFiles) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string path = dir.path + "/model.kfn";
  // Functions of different lengths, so that a mix of two files shows.
  auto chain = [](int n) {
    return kiln::ArrayFunction([n](const std::vector<kiln::array>& a) {
      kiln::array y = a[0];
      for (int i = 0; i < n; ++i) y = y * 1.5f + float(i);
      return std::vector<kiln::array>{y};
    });
  };
  const std::vector<kiln::array> example = {kiln::zeros({4})};
  kiln::export_function(path, chain(1), example);

  std::mutex mutex;
  std::vector<std::string> errors;
  auto record = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex);
    errors.push_back(what);
  };
  std::atomic<bool> writing{true};
  std::atomic<int> imports{0};
  std::vector<std::thread> writers, readers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        try {
          kiln::export_function(path, chain(1 + (t * 7 + i) % 16), example);
        } catch (const std::exception& e) {
          record(std::string("export: ") + e.what());
        }
      }
    });
  for (int t = 0; t < 2; ++t)
    readers.emplace_back([&] {
      while (writing) {
        try {
          kiln::ImportedFunction f = kiln::import_function(path);
          if (f.input_types().size() != 1) record("import: wrong inputs");
          imports++;
        } catch (const std::exception& e) {
          record(std::string("import: ") + e.what());
        }
      }
    });
  for (auto& t : writers) t.join();
  writing = false;
  for (auto& t : readers) t.join();
  EXPECT_TRUE(errors.empty()) << errors.size() << " failures, the first: " << (errors.empty() ? "" : errors.front());
  EXPECT_GT(imports.load(), 0);
  EXPECT_EQ(dir.files(), std::vector<std::string>{"model.kfn"});  // no temporary file left
}

// Under a file size limit (ulimit -f) smaller than the file, writing it
// raised SIGXFSZ, which ends the process. The export must throw instead,
// leaving the previous file and no temporary one.
TEST(Export, AFileSizeLimitThrowsInsteadOfEndingTheProcess) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string path = dir.path + "/model.kfn";
  const std::vector<kiln::array> example = {kiln::zeros({2, 2}), kiln::zeros({2, 2})};
  kiln::export_function(path, two_outputs, example);
  const std::string before = kiln_test::read_file(path);
  auto body = [&]() -> std::string {
    rlimit r;
    r.rlim_cur = r.rlim_max = 100;
    if (setrlimit(RLIMIT_FSIZE, &r) != 0) return "setrlimit failed";
    std::string message;
    if (!throws_runtime([&] { kiln::export_function(path, two_outputs, example); }, "file size limit", &message))
      return "no error naming the limit: '" + message + "'";
    if (message.find(path) == std::string::npos) return "the error does not name the file: " + message;
    return "";
  };
  EXPECT_EQ(kiln_test::in_child(body, 30), "");
  EXPECT_EQ(kiln_test::read_file(path), before);
  EXPECT_EQ(dir.files(), std::vector<std::string>{"model.kfn"});
}

// import_function opened the path with std::ifstream and read it whole: a
// FIFO under the name hung it, and a huge file was read before its header
// said it was wrong.
TEST(Export, ImportRefusesFifosAndHugeFilesWithoutReadingThem) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string fifo = dir.path + "/pipe.kfn";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(kiln_test::in_child([&]() -> std::string {
              std::string message;
              if (!throws_runtime([&] { kiln::import_function(fifo); }, "not a regular file", &message))
                return "no clear error: '" + message + "'";
              return "";
            }, 20), "");

  // A valid header followed by 16 GiB of (sparse) nothing.
  const std::string huge = dir.path + "/huge.kfn";
  kiln::export_function(huge, two_outputs, {kiln::zeros({2, 2}), kiln::zeros({2, 2})});
  ASSERT_EQ(truncate(huge.c_str(), off_t(16) << 30), 0);
  EXPECT_EQ(kiln_test::in_child([&]() -> std::string {
              // 512 MiB of address space beyond what the process maps now:
              // reading the file whole would fail.
              std::ifstream status("/proc/self/status");
              std::string line;
              rlim_t mapped_kib = 0;
              while (std::getline(status, line))
                if (line.rfind("VmSize:", 0) == 0) mapped_kib = rlim_t(std::stoull(line.substr(7)));
              if (mapped_kib == 0) return "no VmSize in /proc/self/status";
              rlimit r;
              r.rlim_cur = r.rlim_max = (mapped_kib << 10) + (rlim_t(512) << 20);
              if (setrlimit(RLIMIT_AS, &r) != 0) return "setrlimit failed";
              std::string message;
              if (!throws_runtime([&] { kiln::import_function(huge); }, "unexpected data after the IR", &message))
                return "no clear error: '" + message + "'";
              return "";
            }, 20), "");
}
