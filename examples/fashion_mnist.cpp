// Trains a classifier on Fashion-MNIST with kiln::nn and kiln::optimizers.
//
//   kiln-fashion-mnist [--model mlp|cnn] [--epochs N] [--batch-size B] [--lr LR]
//                      [--csv FILE | --loss-csv FILE] [--data DIR] [--seed S] [--no-shuffle] [--steps N]
//
// Reads the gzip idx files of Debian's dataset-fashion-mnist package (in
// /usr/share/datasets/fashion-mnist by default), trains with Adam, one
// compiled function per training step (forward, backward and update), shows
// a progress bar per epoch on stderr, writes the loss of every step to the
// CSV file if asked, and ends with "test accuracy: 0.xxxx".
#include <kiln/optimizers.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace kiln;

namespace {

// The whole content of a gzip file.
std::vector<uint8_t> read_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path + " (install Debian's dataset-fashion-mnist)");
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  bool failed = n < 0;
  gzclose(f);
  if (failed) throw std::runtime_error("cannot decompress " + path);
  return out;
}

uint32_t big_endian(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// An idx file: images (magic 2051, n x rows x cols bytes) or labels (2049).
struct Images {
  int count = 0, rows = 0, cols = 0;
  std::vector<float> pixels;  // in [0, 1]
};

Images read_images(const std::string& path) {
  auto bytes = read_gzip(path);
  if (bytes.size() < 16 || big_endian(bytes.data()) != 2051) throw std::runtime_error(path + " is not an idx image file");
  Images im;
  im.count = int(big_endian(&bytes[4]));
  im.rows = int(big_endian(&bytes[8]));
  im.cols = int(big_endian(&bytes[12]));
  size_t n = size_t(im.count) * im.rows * im.cols;
  if (bytes.size() != 16 + n) throw std::runtime_error(path + " has the wrong size");
  im.pixels.resize(n);
  for (size_t i = 0; i < n; ++i) im.pixels[i] = bytes[16 + i] / 255.0f;
  return im;
}

std::vector<int32_t> read_labels(const std::string& path) {
  auto bytes = read_gzip(path);
  if (bytes.size() < 8 || big_endian(bytes.data()) != 2049) throw std::runtime_error(path + " is not an idx label file");
  size_t n = big_endian(&bytes[4]);
  if (bytes.size() != 8 + n) throw std::runtime_error(path + " has the wrong size");
  return std::vector<int32_t>(bytes.begin() + 8, bytes.end());
}

std::shared_ptr<nn::Module> make_mlp(int pixels) {
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(pixels, 256), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(256, 256),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(256, 10)});
}

// Two 3x3 convolutions with ReLU and 2x2 max pooling (28 -> 14 -> 7), then
// two linear layers. Inputs (N, 28, 28, 1), channels-last as MLX.
class Cnn : public nn::Module {
 public:
  Cnn() {
    conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(1, 16, 3, 1, 1));
    conv2_ = register_module("conv2", std::make_shared<nn::Conv2d>(16, 32, 3, 1, 1));
    fc1_ = register_module("fc1", std::make_shared<nn::Linear>(7 * 7 * 32, 128));
    fc2_ = register_module("fc2", std::make_shared<nn::Linear>(128, 10));
  }
  array operator()(const array& x) override {
    nn::MaxPool2d pool(2);
    array y = pool(nn::relu((*conv1_)(x)));
    y = pool(nn::relu((*conv2_)(y)));
    y = reshape(y, {y.shape()[0], -1});
    return (*fc2_)(nn::relu((*fc1_)(y)));
  }

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::Linear> fc1_, fc2_;
};

struct Options {
  std::string model = "mlp", csv, data = "/usr/share/datasets/fashion-mnist";
  int epochs = 2, batch_size = 128;
  int steps = 0;  // batches per epoch; 0: all of them
  bool shuffle = true;
  float lr = 1e-3f;
  uint64_t seed = 0;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--model") o.model = value();
    else if (a == "--epochs") o.epochs = std::stoi(value());
    else if (a == "--batch-size") o.batch_size = std::stoi(value());
    else if (a == "--lr") o.lr = std::stof(value());
    else if (a == "--csv" || a == "--loss-csv") o.csv = value();
    else if (a == "--data") o.data = value();
    else if (a == "--seed") o.seed = std::stoull(value());
    else if (a == "--no-shuffle") o.shuffle = false;  // file order (for bench/fashion_mnist_epoch.py)
    else if (a == "--steps") o.steps = std::stoi(value());  // a short run, to profile a training step
    else throw std::invalid_argument("unknown argument " + a +
                                     " (--model mlp|cnn --epochs N --batch-size B --lr LR --csv FILE --data DIR --seed S --no-shuffle"
                                     " --steps N)");
  }
  if (o.model != "mlp" && o.model != "cnn") throw std::invalid_argument("--model is mlp or cnn");
  if (o.epochs < 1 || o.batch_size < 1 || o.steps < 0)
    throw std::invalid_argument("--epochs and --batch-size must be positive, --steps not negative");
  return o;
}

// The images [first, first + n) of `order` as a batch: (n, pixels) for the
// MLP, (n, rows, cols, 1) (NHWC, as MLX's convolutions) for the CNN.
array batch_images(const Images& im, const std::vector<int>& order, size_t first, int n, bool nhwc) {
  size_t px = size_t(im.rows) * im.cols;
  std::vector<float> buf(n * px);
  for (int i = 0; i < n; ++i) std::memcpy(&buf[i * px], &im.pixels[order[first + i] * px], px * sizeof(float));
  Shape shape = nhwc ? Shape{n, im.rows, im.cols, 1} : Shape{n, int(px)};
  return array(buf.data(), shape);
}

array batch_labels(const std::vector<int32_t>& labels, const std::vector<int>& order, size_t first, int n) {
  std::vector<int32_t> buf(n);
  for (int i = 0; i < n; ++i) buf[i] = labels[order[first + i]];
  return array(buf.data(), Shape{n});
}

void progress(int epoch, int epochs, int done, int total, float loss, double examples_per_s) {
  const int width = 30;
  int filled = total ? done * width / total : width;
  std::fprintf(stderr, "\repoch %d/%d [%s%s] %d/%d  loss %.4f  %.0f examples/s ", epoch, epochs,
               std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(), done, total, loss,
               examples_per_s);
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options opt = parse(argc, argv);
    Images train = read_images(opt.data + "/train-images-idx3-ubyte.gz");
    Images test = read_images(opt.data + "/t10k-images-idx3-ubyte.gz");
    std::vector<int32_t> train_labels = read_labels(opt.data + "/train-labels-idx1-ubyte.gz");
    std::vector<int32_t> test_labels = read_labels(opt.data + "/t10k-labels-idx1-ubyte.gz");
    if (int(train_labels.size()) != train.count || int(test_labels.size()) != test.count)
      throw std::runtime_error("image and label counts differ");

    // Training flushes subnormal results to zero (device.h): the border
    // pixels' weights get no gradient, and Adam's moments for them decay
    // through the subnormal range, where each operation costs x86 CPUs a
    // microcode assist (the MLP's later epochs took 40% longer).
    set_flush_denormal(true);
    random::seed(opt.seed);
    bool cnn = opt.model == "cnn";
    std::shared_ptr<nn::Module> model;
    if (cnn) {
      if (train.rows != 28 || train.cols != 28) throw std::runtime_error("the CNN expects 28x28 images");
      model = std::make_shared<Cnn>();
    } else {
      model = make_mlp(train.rows * train.cols);
    }
    optimizers::Adam adam(opt.lr);
    auto loss_fn = [&](const std::vector<array>& b) {
      return nn::losses::cross_entropy((*model)(b[0]), b[1], std::nullopt, -1, 0.0f, nn::losses::Reduction::mean);
    };
    auto value_and_grad = nn::value_and_grad(*model, loss_fn);
    auto train_step = optimizers::compile_step(*model, adam, [&](const std::vector<array>& batch) {
      auto [loss, grads] = value_and_grad(batch);
      adam.update(*model, grads);
      return std::vector<array>{loss};
    });

    std::ofstream csv;
    if (!opt.csv.empty()) {
      csv.open(opt.csv);
      if (!csv) throw std::runtime_error("cannot write " + opt.csv);
      csv << "step,epoch,loss\n";
    }
    std::vector<int> order(train.count);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937 shuffle_rng(uint32_t(opt.seed));
    int batches = (train.count + opt.batch_size - 1) / opt.batch_size;
    if (opt.steps > 0) batches = std::min(batches, opt.steps);
    long step = 0;
    for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
      model->train();
      if (opt.shuffle) std::shuffle(order.begin(), order.end(), shuffle_rng);
      auto start = std::chrono::steady_clock::now();
      for (int b = 0; b < batches; ++b) {
        size_t first = size_t(b) * opt.batch_size;
        int n = int(std::min<size_t>(opt.batch_size, train.count - first));
        array x = batch_images(train, order, first, n, cnn);
        array y = batch_labels(train_labels, order, first, n);
        float loss = train_step({x, y})[0].item<float>();
        ++step;
        if (csv) csv << step << "," << epoch << "," << loss << "\n";
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (b % 10 == 0 || b + 1 == batches) progress(epoch, opt.epochs, b + 1, batches, loss, (first + n) / seconds);
      }
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "\nepoch %d: %.2f s\n", epoch, seconds);
    }

    model->eval();
    std::vector<int> test_order(test.count);
    std::iota(test_order.begin(), test_order.end(), 0);
    long correct = 0;
    for (int first = 0; first < test.count; first += 1000) {
      int n = std::min(1000, test.count - first);
      array x = batch_images(test, test_order, first, n, cnn);
      array y = batch_labels(test_labels, test_order, first, n);
      correct += sum(equal(argmax((*model)(x), 1), y)).item<int>();
    }
    std::printf("test accuracy: %.4f\n", double(correct) / test.count);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-fashion-mnist: %s\n", e.what());
    return 1;
  }
}
