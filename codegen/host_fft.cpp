// The fft op's host kernel (codegen/host_fft_quant.h): our own transforms,
// so that kiln needs no FFT library (FFTW is GPL).
//  * a length whose prime factors are all at most 13 runs an iterative
//    mixed-radix Stockham transform (radix 4, 2, 3 and an O(p^2) butterfly
//    for 5..13): each stage reads one buffer and writes the other in order,
//    so no bit reversal is needed and the inner loop is unit-stride;
//  * any other length runs Bluestein's algorithm: a convolution with a
//    chirp, through a power-of-two transform of length >= 2n - 1;
//  * a real forward transform of even length n packs the signal into n/2
//    complex values, transforms those and untangles the halves (half the
//    work); an inverse real one does the reverse;
//  * inverse complex transforms conjugate on the way in and out.
// Twiddles are computed in double and rounded to float once. Rows (the
// transformed lines of the array) run in parallel on the thread pool; a
// single long row runs each stage in parallel instead. Plans are cached per
// length.
#include <cmath>
#include <complex>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <vector>

#include "codegen/host_fft_quant.h"
#include "runtime/buffer.h"
#include "runtime/thread_pool.h"

namespace kiln::codegen {

namespace {

using ir::Op;
using ir::Tensor;
using cf = std::complex<float>;

// Plain complex arithmetic: std::complex's operator* checks for infinities
// through a library call that keeps loops from vectorizing.
inline cf mul(cf a, cf b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}
inline cf times_minus_i(cf a) { return {a.imag(), -a.real()}; }

cf root(int64_t num, int64_t den) {  // exp(-2 pi i num / den)
  const double a = -2 * std::numbers::pi * double(num % den) / double(den);
  return {float(std::cos(a)), float(std::sin(a))};
}

struct Plan {
  int64_t n = 0;
  // Stockham: the radix of each stage and its twiddles
  // tw[f * (p - 1) + q - 1] = W_{L p}^{q f}, L the product of the earlier radices.
  std::vector<int> radices;
  std::vector<std::vector<cf>> twiddles;
  std::vector<std::vector<cf>> roots;  // per stage, W_p^j for the generic butterfly
  // Bluestein (m > 0): length m transform of the chirp's conjugate.
  int64_t m = 0;
  std::vector<cf> chirp, kernel;
  std::shared_ptr<const Plan> sub;
};

std::shared_ptr<const Plan> plan_for(int64_t n);
void transform(const Plan& plan, cf* data, cf* work, bool parallel);

std::shared_ptr<const Plan> make_plan(int64_t n) {
  auto p = std::make_shared<Plan>();
  p->n = n;
  int64_t rest = n;
  std::vector<int> radices;
  while (rest % 4 == 0) radices.push_back(4), rest /= 4;
  while (rest % 2 == 0) radices.push_back(2), rest /= 2;
  for (int q : {3, 5, 7, 11, 13})
    while (rest % q == 0) radices.push_back(q), rest /= q;
  if (rest == 1) {
    p->radices = radices;
    int64_t L = 1;
    for (int r : radices) {
      std::vector<cf> tw(static_cast<size_t>(L * (r - 1)));
      for (int64_t f = 0; f < L; ++f)
        for (int q = 1; q < r; ++q) tw[size_t(f * (r - 1) + q - 1)] = root(q * f, L * r);
      p->twiddles.push_back(std::move(tw));
      std::vector<cf> rt(static_cast<size_t>(r));
      for (int j = 0; j < r; ++j) rt[size_t(j)] = root(j, r);
      p->roots.push_back(std::move(rt));
      L *= r;
    }
    return p;
  }
  // Bluestein: X_k = w_k sum_j (x_j w_j) conj(w_{k-j}), w_k = exp(-i pi k^2 / n).
  int64_t m = 1;
  while (m < 2 * n - 1) m *= 2;
  p->m = m;
  p->sub = plan_for(m);
  p->chirp.resize(size_t(n));
  for (int64_t k = 0; k < n; ++k) p->chirp[size_t(k)] = root((k * k) % (2 * n), 2 * n);
  std::vector<cf> b(static_cast<size_t>(m), cf(0)), work(static_cast<size_t>(m));
  for (int64_t k = 0; k < n; ++k) {
    b[size_t(k)] = std::conj(p->chirp[size_t(k)]) / float(m);  // 1/m: the inverse's scale
    if (k) b[size_t(m - k)] = b[size_t(k)];
  }
  transform(*p->sub, b.data(), work.data(), false);
  p->kernel = std::move(b);
  return p;
}

std::shared_ptr<const Plan> plan_for(int64_t n) {
  static std::mutex mutex;
  static std::map<int64_t, std::shared_ptr<const Plan>> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(n);
    if (it != cache.end()) return it->second;
  }
  auto p = make_plan(n);  // outside the lock: Bluestein asks for its sub-plan
  std::lock_guard<std::mutex> lock(mutex);
  return cache.emplace(n, p).first->second;
}

// One Stockham stage of radix p: L transforms of length L*p from p*L of
// length L (layout: A[f * r + c], f the frequency, c the sub-sequence, r =
// n / L). Frequencies f in [f0, f1), sub-sequences c in [c0, c1) of r/p.
void stage(const cf* in, cf* out, int64_t L, int p, int64_t rout, const cf* tw, const cf* roots, int64_t f0,
           int64_t f1, int64_t c0, int64_t c1) {
  const int64_t r = rout * p;
  for (int64_t f = f0; f < f1; ++f) {
    const cf* t = tw + f * (p - 1);
    const cf* src = in + f * r;
    cf* dst = out + f * rout;
    const int64_t step = L * rout;  // between outputs g and g + 1
    if (p == 4) {
      const cf w1 = t[0], w2 = t[1], w3 = t[2];
      for (int64_t c = c0; c < c1; ++c) {
        cf a0 = src[c], a1 = mul(src[c + rout], w1), a2 = mul(src[c + 2 * rout], w2), a3 = mul(src[c + 3 * rout], w3);
        cf t0 = a0 + a2, t1 = a0 - a2, t2 = a1 + a3, t3 = times_minus_i(a1 - a3);
        dst[c] = t0 + t2;
        dst[c + step] = t1 + t3;
        dst[c + 2 * step] = t0 - t2;
        dst[c + 3 * step] = t1 - t3;
      }
    } else if (p == 2) {
      const cf w1 = t[0];
      for (int64_t c = c0; c < c1; ++c) {
        cf a0 = src[c], a1 = mul(src[c + rout], w1);
        dst[c] = a0 + a1;
        dst[c + step] = a0 - a1;
      }
    } else if (p == 3) {
      const cf w1 = t[0], w2 = t[1];
      const float s = float(std::sqrt(3.0) / 2);
      for (int64_t c = c0; c < c1; ++c) {
        cf a0 = src[c], a1 = mul(src[c + rout], w1), a2 = mul(src[c + 2 * rout], w2);
        cf t1 = a1 + a2, t2 = a0 - 0.5f * t1, t3 = times_minus_i(a1 - a2) * s;
        dst[c] = a0 + t1;
        dst[c + step] = t2 + t3;
        dst[c + 2 * step] = t2 - t3;
      }
    } else {  // 5..13: the DFT by its definition
      cf a[13];
      for (int64_t c = c0; c < c1; ++c) {
        a[0] = src[c];
        for (int q = 1; q < p; ++q) a[q] = mul(src[c + q * rout], t[q - 1]);
        for (int g = 0; g < p; ++g) {
          cf acc = a[0];
          for (int q = 1; q < p; ++q) acc += mul(a[q], roots[(q * g) % p]);
          dst[c + g * step] = acc;
        }
      }
    }
  }
}

// The forward transform (sign -1, unnormalized) of data[0, n), in place;
// work holds n values (Bluestein: 2 m). `parallel`: split each stage over
// the thread pool (only from a thread that is not itself in the pool).
void transform(const Plan& plan, cf* data, cf* work, bool parallel) {
  const int64_t n = plan.n;
  if (plan.m == 0) {  // Stockham (n = 1: no stages)
    cf* in = data;
    cf* out = work;
    int64_t L = 1;
    for (size_t s = 0; s < plan.radices.size(); ++s) {
      const int p = plan.radices[s];
      const int64_t rout = n / (L * p);
      const cf* tw = plan.twiddles[s].data();
      const cf* rt = plan.roots[s].data();
      if (parallel && n >= (int64_t(1) << 14)) {
        if (L >= rout)
          runtime::ThreadPool::global().parallel_for(L, std::max<int64_t>(1, 4096 / rout), [&](int64_t b, int64_t e) {
            stage(in, out, L, p, rout, tw, rt, b, e, 0, rout);
          });
        else
          runtime::ThreadPool::global().parallel_for(rout, std::max<int64_t>(1, 4096 / L), [&](int64_t b, int64_t e) {
            stage(in, out, L, p, rout, tw, rt, 0, L, b, e);
          });
      } else {
        stage(in, out, L, p, rout, tw, rt, 0, L, 0, rout);
      }
      std::swap(in, out);
      L *= p;
    }
    if (in != data) std::memcpy(data, in, size_t(n) * sizeof(cf));
    return;
  }
  const int64_t m = plan.m;
  cf* a = work;
  cf* scratch = work + m;
  for (int64_t k = 0; k < n; ++k) a[k] = mul(data[k], plan.chirp[size_t(k)]);
  for (int64_t k = n; k < m; ++k) a[k] = 0;
  transform(*plan.sub, a, scratch, parallel);
  // The inverse by conjugation: conj(FFT(conj(A K))); K carries the 1/m.
  for (int64_t k = 0; k < m; ++k) a[k] = std::conj(mul(a[k], plan.kernel[size_t(k)]));
  transform(*plan.sub, a, scratch, parallel);
  for (int64_t k = 0; k < n; ++k) data[k] = mul(std::conj(a[k]), plan.chirp[size_t(k)]);
}

int64_t work_size(const Plan& p) { return p.m ? 2 * p.m : p.n; }

// The lines of an array along one axis: `outer` blocks of `len` x `inner`.
struct Lines {
  int64_t outer, inner;
};

Lines lines_of(const ir::Shape& s, int64_t axis) {
  Lines l{1, 1};
  for (int64_t d = 0; d < axis; ++d) l.outer *= s[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < s.size(); ++d) l.inner *= s[d];
  return l;
}

// Lines are handled in blocks of up to kBlock neighbours along the inner
// axes, so that a strided axis is read kBlock contiguous values at a time.
constexpr int64_t kBlock = 8;

// Runs body(o, i0, count) for every block of lines, in parallel over blocks
// when there are enough of them; `inside` says whether body may use the
// pool itself (the blocks then run one after another).
template <class F>
void for_blocks(const Lines& l, int64_t len, const F& body) {
  const int64_t per = (l.inner + kBlock - 1) / kBlock;
  const int64_t blocks = l.outer * per;
  auto run = [&](int64_t b, int64_t e, bool inside) {
    for (int64_t x = b; x < e; ++x) {
      const int64_t o = x / per, i0 = (x % per) * kBlock;
      body(o, i0, std::min(kBlock, l.inner - i0), inside);
    }
  };
  const int threads = runtime::ThreadPool::global().size();
  if (blocks >= 2 * threads || len * blocks < (int64_t(1) << 14)) {
    const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(1, len * kBlock));
    if (blocks <= grain) return run(0, blocks, false);
    runtime::ThreadPool::global().parallel_for(blocks, grain, [&](int64_t b, int64_t e) { run(b, e, false); });
  } else {
    run(0, blocks, true);
  }
}

// Complex transforms of the lines along `axis` of data (in place).
void complex_axis(cf* data, const ir::Shape& shape, int64_t axis, bool inverse, float scale) {
  const int64_t n = shape[size_t(axis)];
  const Lines l = lines_of(shape, axis);
  auto plan = plan_for(n);
  for_blocks(l, n, [&](int64_t o, int64_t i0, int64_t count, bool inside) {
    // Scratch from the runtime's caching allocator: a long line's buffers
    // are reused between calls instead of faulting in fresh pages.
    auto work_buffer = runtime::allocate(size_t(work_size(*plan)) * sizeof(cf));
    cf* work = static_cast<cf*>(work_buffer->data());
    cf* base = data + o * n * l.inner + i0;
    if (l.inner == 1) {  // a contiguous line: in place
      if (inverse)
        for (int64_t j = 0; j < n; ++j) base[j] = std::conj(base[j]);
      transform(*plan, base, work, inside);
      if (inverse)
        for (int64_t j = 0; j < n; ++j) base[j] = std::conj(base[j]) * scale;
      return;
    }
    std::vector<cf> buf(static_cast<size_t>(count * n));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t b = 0; b < count; ++b) {
        cf v = base[j * l.inner + b];
        buf[size_t(b * n + j)] = inverse ? std::conj(v) : v;
      }
    for (int64_t b = 0; b < count; ++b) transform(*plan, buf.data() + b * n, work, inside);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t b = 0; b < count; ++b) {
        cf v = buf[size_t(b * n + j)];
        base[j * l.inner + b] = inverse ? std::conj(v) * scale : v;
      }
  });
}

// The even-length real transform's untangling twiddles W_n^k, k <= n/2.
std::shared_ptr<const std::vector<cf>> half_twiddles(int64_t n) {
  static std::mutex mutex;
  static std::map<int64_t, std::shared_ptr<const std::vector<cf>>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[n];
  if (!slot) {
    auto t = std::make_shared<std::vector<cf>>(size_t(n / 2 + 1));
    for (int64_t k = 0; k <= n / 2; ++k) (*t)[size_t(k)] = root(k, n);
    slot = t;
  }
  return slot;
}

// rfft of one real line x (length n) into X (n/2 + 1 bins); z: n complex
// values of scratch, work: the plan's.
void rfft_line(int64_t n, const Plan& plan, const cf* tw, const float* x, cf* X, cf* z, cf* work, bool inside) {
  if (n % 2) {
    for (int64_t j = 0; j < n; ++j) z[j] = x[j];
    transform(plan, z, work, inside);
    for (int64_t k = 0; k <= n / 2; ++k) X[k] = z[k];
    return;
  }
  // z_j = x_2j + i x_2j+1 has the transform Z = E + i O (E, O: the even
  // and odd samples' transforms), and X_k = E_k + W_n^k O_k with
  // E_k = (Z_k + conj Z_{h-k}) / 2, O_k = (Z_k - conj Z_{h-k}) / 2i.
  const int64_t h = n / 2;
  for (int64_t j = 0; j < h; ++j) z[j] = {x[2 * j], x[2 * j + 1]};
  transform(plan, z, work, inside);
  // Bins 0 and h from Z_0 alone (Z_h = Z_0); no modulo in the loop.
  X[0] = {z[0].real() + z[0].imag(), 0.0f};
  X[h] = {z[0].real() - z[0].imag(), 0.0f};
  for (int64_t k = 1; k < h; ++k) {
    const cf zk = z[k], zc = std::conj(z[h - k]);
    const cf e = 0.5f * (zk + zc), o = times_minus_i(0.5f * (zk - zc));
    X[k] = e + mul(tw[k], o);
  }
}

// irfft of one line of m = n/2 + 1 bins X into x (length n), with the 1/n;
// the imaginary parts of bin 0 and (even n) bin n/2 are ignored, as NumPy.
void irfft_line(int64_t n, const Plan& plan, const cf* tw, const cf* X, float* x, cf* z, cf* work, bool inside) {
  if (n % 2) {  // the Hermitian extension, then a complex inverse
    z[0] = std::conj(cf(X[0].real(), 0));
    for (int64_t k = 1; k <= n / 2; ++k) {
      z[k] = std::conj(X[k]);
      z[n - k] = X[k];
    }
    transform(plan, z, work, inside);
    for (int64_t j = 0; j < n; ++j) x[j] = z[j].real() / float(n);
    return;
  }
  // The reverse of rfft_line: Z_k = E_k + i O_k, E_k = (X_k + conj X_{h-k}) / 2,
  // O_k = (X_k - conj X_{h-k}) / 2 * conj(W_n^k); then z = IFFT_h(Z).
  const int64_t h = n / 2;
  for (int64_t k = 0; k < h; ++k) {
    cf a = X[k], b = std::conj(X[h - k]);
    if (k == 0) a = {a.real(), 0}, b = {X[h].real(), 0};
    const cf e = 0.5f * (a + b), o = mul(0.5f * (a - b), std::conj(tw[k]));
    const cf zk = e + cf(-o.imag(), o.real());
    z[k] = std::conj(zk);  // the inverse by conjugation
  }
  transform(plan, z, work, inside);
  const float s = 1.0f / float(h);
  for (int64_t j = 0; j < h; ++j) {
    x[2 * j] = z[j].real() * s;
    x[2 * j + 1] = -z[j].imag() * s;
  }
}

// Real forward transform along `axis` of src (float) into dst (complex).
void real_forward_axis(const float* src, cf* dst, const ir::Shape& shape, int64_t axis) {
  const int64_t n = shape[size_t(axis)], m = n / 2 + 1;
  const Lines l = lines_of(shape, axis);
  auto plan = plan_for(n % 2 ? n : n / 2);
  auto tw = half_twiddles(n);
  for_blocks(l, n, [&](int64_t o, int64_t i0, int64_t count, bool inside) {
    std::vector<cf> z(static_cast<size_t>(n)), work(static_cast<size_t>(work_size(*plan)));
    const float* sb = src + o * n * l.inner + i0;
    if (l.inner == 1) {  // a contiguous line: straight from src into dst
      rfft_line(n, *plan, tw->data(), sb, dst + o * m, z.data(), work.data(), inside);
      return;
    }
    std::vector<float> x(static_cast<size_t>(n));
    std::vector<cf> X(static_cast<size_t>(count * m));
    for (int64_t b = 0; b < count; ++b) {
      for (int64_t j = 0; j < n; ++j) x[size_t(j)] = sb[j * l.inner + b];
      rfft_line(n, *plan, tw->data(), x.data(), X.data() + b * m, z.data(), work.data(), inside);
    }
    cf* db = dst + o * m * l.inner + i0;
    for (int64_t k = 0; k < m; ++k)
      for (int64_t b = 0; b < count; ++b) db[k * l.inner + b] = X[size_t(b * m + k)];
  });
}

// Real inverse transform along `axis` of src (complex, m bins) into dst
// (float, n values).
void real_inverse_axis(const cf* src, float* dst, const ir::Shape& out_shape, int64_t axis) {
  const int64_t n = out_shape[size_t(axis)], m = n / 2 + 1;
  const Lines l = lines_of(out_shape, axis);
  auto plan = plan_for(n % 2 ? n : n / 2);
  auto tw = half_twiddles(n);
  for_blocks(l, n, [&](int64_t o, int64_t i0, int64_t count, bool inside) {
    std::vector<cf> z(static_cast<size_t>(n)), work(static_cast<size_t>(work_size(*plan)));
    const cf* sb = src + o * m * l.inner + i0;
    if (l.inner == 1) {
      irfft_line(n, *plan, tw->data(), sb, dst + o * n, z.data(), work.data(), inside);
      return;
    }
    std::vector<cf> X(static_cast<size_t>(m));
    std::vector<float> x(static_cast<size_t>(count * n));
    for (int64_t b = 0; b < count; ++b) {
      for (int64_t k = 0; k < m; ++k) X[size_t(k)] = sb[k * l.inner + b];
      irfft_line(n, *plan, tw->data(), X.data(), x.data() + b * n, z.data(), work.data(), inside);
    }
    float* db = dst + o * n * l.inner + i0;
    for (int64_t j = 0; j < n; ++j)
      for (int64_t b = 0; b < count; ++b) db[j * l.inner + b] = x[size_t(b * n + j)];
  });
}

}  // namespace

Tensor fft_host(const Op& op, const Tensor& x) {
  const auto& axes = op.ints_attr("axes");
  const bool inverse = op.int_attr("inverse") != 0, real = op.int_attr("real") != 0;
  Tensor out{op.type, runtime::allocate(size_t(op.type.nbytes()))};
  const ir::Shape& in_shape = x.type.shape;
  if (op.type.size() == 0) return out;
  if (!real) {
    cf* d = static_cast<cf*>(out.buffer->data());
    std::memcpy(d, x.buffer->data(), size_t(x.type.nbytes()));
    for (int64_t a : axes) complex_axis(d, in_shape, a, inverse, 1.0f / float(in_shape[size_t(a)]));
    return out;
  }
  const int64_t last = axes.back();
  if (!inverse) {
    cf* d = static_cast<cf*>(out.buffer->data());
    real_forward_axis(static_cast<const float*>(x.buffer->data()), d, in_shape, last);
    for (size_t a = 0; a + 1 < axes.size(); ++a) complex_axis(d, op.type.shape, axes[a], false, 1.0f);
    return out;
  }
  // The other axes first, on a copy of the operand, then the real one.
  std::vector<cf> tmp(static_cast<size_t>(x.type.size()));
  std::memcpy(tmp.data(), x.buffer->data(), size_t(x.type.nbytes()));
  for (size_t a = 0; a + 1 < axes.size(); ++a)
    complex_axis(tmp.data(), in_shape, axes[a], true, 1.0f / float(in_shape[size_t(axes[a])]));
  real_inverse_axis(tmp.data(), static_cast<float*>(out.buffer->data()), op.type.shape, last);
  return out;
}

}  // namespace kiln::codegen
