// Trains a small decoder-only transformer on fortune-cookie text and samples
// from it, with kiln::nn and kiln::optimizers.
//
//   kiln-char-lm [--steps N] [--batch-size B] [--context T] [--dims D] [--heads H]
//                [--layers L] [--lr LR] [--data FILE]... [--seed S] [--log-every N]
//                [--loss-csv FILE] [--save FILE.safetensors] [--load FILE.safetensors]
//                [--sample N] [--prompt TEXT] [--temperature T]
//
// The text is Debian's `fortunes` package (/usr/share/games/fortunes:
// plain text, one fortune per block, blocks separated by lines holding
// "%"). Characters are the tokens. The model: token and position
// embeddings, a causally masked TransformerEncoder (pre-norm), and a linear
// read-out to the characters. Training takes random windows of the text,
// with Adam, one compiled function per step; the loss is printed every
// --log-every steps and written per step to --loss-csv. --load reads a
// checkpoint before training (with --steps 0 it only samples), --save
// writes one after it. Ends by sampling --sample characters.
#include <kiln/optimizers.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace kiln;

namespace {

struct Options {
  int steps = 500, batch_size = 32, context = 64, dims = 64, heads = 4, layers = 2, log_every = 25, sample = 300;
  float lr = 3e-3f, temperature = 0.8f;
  uint64_t seed = 0;
  std::vector<std::string> data;
  std::string loss_csv, save, load, prompt = "You will ";
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--steps") o.steps = std::stoi(value());
    else if (a == "--batch-size") o.batch_size = std::stoi(value());
    else if (a == "--context") o.context = std::stoi(value());
    else if (a == "--dims") o.dims = std::stoi(value());
    else if (a == "--heads") o.heads = std::stoi(value());
    else if (a == "--layers") o.layers = std::stoi(value());
    else if (a == "--lr") o.lr = std::stof(value());
    else if (a == "--data") o.data.push_back(value());
    else if (a == "--seed") o.seed = std::stoull(value());
    else if (a == "--log-every") o.log_every = std::stoi(value());
    else if (a == "--loss-csv") o.loss_csv = value();
    else if (a == "--save") o.save = value();
    else if (a == "--load") o.load = value();
    else if (a == "--sample") o.sample = std::stoi(value());
    else if (a == "--prompt") o.prompt = value();
    else if (a == "--temperature") o.temperature = std::stof(value());
    else
      throw std::invalid_argument("unknown argument " + a +
                                  " (--steps --batch-size --context --dims --heads --layers --lr --data --seed "
                                  "--log-every --loss-csv --save --load --sample --prompt --temperature)");
  }
  if (o.data.empty()) o.data = {"/usr/share/games/fortunes/fortunes", "/usr/share/games/fortunes/cookie"};
  if (o.steps < 0 || o.batch_size < 1 || o.context < 2 || o.dims < 1 || o.heads < 1 || o.layers < 1 ||
      o.log_every < 1 || o.sample < 0 || o.temperature <= 0)
    throw std::invalid_argument("sizes must be positive (--steps and --sample may be 0)");
  if (o.dims % o.heads) throw std::invalid_argument("--dims must be divisible by --heads");
  return o;
}

// The fortunes of a file, each followed by a blank line ("%" separators
// dropped).
std::string read_fortunes(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path + " (install Debian's fortunes package: scripts/setup.sh)");
  std::string text, line;
  while (std::getline(in, line)) text += line == "%" ? "\n" : line + "\n";
  return text;
}

// Characters as tokens: the distinct bytes of the text, in byte order (the
// same text gives the same vocabulary, so checkpoints fit).
struct Vocabulary {
  std::vector<char> chars;
  int index[256];
  explicit Vocabulary(const std::string& text) {
    bool seen[256] = {};
    for (unsigned char c : text) seen[c] = true;
    for (int c = 0; c < 256; ++c) {
      index[c] = seen[c] ? int(chars.size()) : -1;
      if (seen[c]) chars.push_back(char(c));
    }
  }
  int size() const { return int(chars.size()); }
  int32_t encode(char c) const { return index[(unsigned char)c] >= 0 ? index[(unsigned char)c] : 0; }
};

// Token and learned position embeddings, a causal pre-norm transformer and
// a linear read-out: logits (B, T, vocab) for tokens (B, T).
class CharTransformer : public nn::Module {
 public:
  CharTransformer(int vocab, int context, int dims, int heads, int layers) {
    tokens_ = register_module("tokens", std::make_shared<nn::Embedding>(vocab, dims));
    positions_ = register_module("positions", std::make_shared<nn::Embedding>(context, dims));
    transformer_ = register_module("transformer", std::make_shared<nn::TransformerEncoder>(layers, dims, heads));
    out_ = register_module("out", std::make_shared<nn::Linear>(dims, vocab));
  }
  array operator()(const array& x) override {
    int t = x.shape(1);
    array h = (*tokens_)(x) + (*positions_)(arange(t));
    return (*out_)((*transformer_)(h, "causal"));
  }

 private:
  std::shared_ptr<nn::Embedding> tokens_, positions_;
  std::shared_ptr<nn::TransformerEncoder> transformer_;
  std::shared_ptr<nn::Linear> out_;
};

// Text generated from the prompt, one character at a time, from the last
// `context` characters.
std::string sample(CharTransformer& model, const Vocabulary& vocab, const std::string& prompt, int n, int context,
                   float temperature) {
  std::vector<int32_t> tokens;
  for (char c : prompt) tokens.push_back(vocab.encode(c));
  if (tokens.empty()) tokens.push_back(vocab.encode('\n'));
  std::string out = prompt;
  for (int i = 0; i < n; ++i) {
    int t = std::min<int>(int(tokens.size()), context);
    array x(tokens.data() + tokens.size() - t, Shape{1, t}, int32);
    array logits = model(x);                        // (1, t, vocab)
    array last = take(take(logits, 0, 0), t - 1, 0);  // (vocab)
    int32_t next = random::categorical(last * array(1.0f / temperature)).item<int32_t>();
    tokens.push_back(next);
    out += vocab.chars[next];
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options opt = parse(argc, argv);
    std::string text;
    for (const auto& f : opt.data) text += read_fortunes(f);
    if (text.size() < size_t(opt.context) + 2) throw std::runtime_error("the text is shorter than the context");
    Vocabulary vocab(text);
    std::vector<int32_t> ids(text.size());
    for (size_t i = 0; i < text.size(); ++i) ids[i] = vocab.encode(text[i]);
    std::fprintf(stderr, "text: %zu characters, %d distinct\n", text.size(), vocab.size());

    // Training flushes subnormal results to zero (device.h): Adam's moments
    // decay through the subnormal range for weights without gradient
    // (embeddings of characters absent from the batch), where each
    // operation costs x86 CPUs a microcode assist.
    set_flush_denormal(true);
    random::seed(opt.seed);
    CharTransformer model(vocab.size(), opt.context, opt.dims, opt.heads, opt.layers);
    if (!opt.load.empty()) {
      model.load_weights(opt.load);
      std::fprintf(stderr, "loaded %s\n", opt.load.c_str());
    }
    std::fprintf(stderr, "model: %zu parameters\n", model.num_parameters());

    optimizers::Adam adam(opt.lr);
    auto loss_fn = [&](const std::vector<array>& b) {
      array logits = model(b[0]);
      return nn::losses::cross_entropy(reshape(logits, {-1, vocab.size()}), reshape(b[1], {-1}), std::nullopt, -1,
                                       0.0f, nn::losses::Reduction::mean);
    };
    auto value_and_grad = nn::value_and_grad(model, loss_fn);
    auto train_step = optimizers::compile_step(model, adam, [&](const std::vector<array>& batch) {
      auto [loss, grads] = value_and_grad(batch);
      adam.update(model, grads);
      return std::vector<array>{loss};
    });

    std::ofstream csv;
    if (!opt.loss_csv.empty()) {
      csv.open(opt.loss_csv);
      if (!csv) throw std::runtime_error("cannot write " + opt.loss_csv);
      csv << "step,loss\n";
    }
    std::mt19937_64 rng(opt.seed);
    std::uniform_int_distribution<size_t> start_of(0, ids.size() - opt.context - 1);
    std::vector<int32_t> xs(size_t(opt.batch_size) * opt.context), ys(xs.size());
    auto start = std::chrono::steady_clock::now();
    double window_loss = 0;
    for (int step = 1; step <= opt.steps; ++step) {
      for (int b = 0; b < opt.batch_size; ++b) {
        size_t s = start_of(rng);
        std::copy_n(&ids[s], opt.context, &xs[size_t(b) * opt.context]);
        std::copy_n(&ids[s + 1], opt.context, &ys[size_t(b) * opt.context]);
      }
      array x(xs.data(), Shape{opt.batch_size, opt.context}, int32);
      array y(ys.data(), Shape{opt.batch_size, opt.context}, int32);
      float loss = train_step({x, y})[0].item<float>();
      window_loss += loss;
      if (csv) csv << step << "," << loss << "\n";
      if (step % opt.log_every == 0 || step == opt.steps) {
        int n = step % opt.log_every ? step % opt.log_every : opt.log_every;
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "step %5d/%d  loss %.4f  %.1f steps/s\n", step, opt.steps, window_loss / n,
                     step / seconds);
        window_loss = 0;
        if (csv) csv.flush();
      }
    }
    if (csv) csv.close();
    if (!opt.save.empty()) {
      model.save_weights(opt.save);
      std::fprintf(stderr, "saved %s\n", opt.save.c_str());
    }
    if (opt.sample > 0) {
      model.eval();
      std::printf("%s\n", sample(model, vocab, opt.prompt, opt.sample, opt.context, opt.temperature).c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln-char-lm: %s\n", e.what());
    return 1;
  }
}
