// Tests of the convolutions (conv1d/2d/3d, conv_general, conv_transpose1d/2d/3d).
// Expected values come from PyTorch 2 (torch.nn.functional.conv*, with NCHW
// permutes; the script is quoted above each case) and, for the many
// parameter combinations, from a direct-definition loop written here (a sum
// over kernel taps of input * weight, and the scatter form of the
// transposed convolution). Gradients are checked against PyTorch's autograd
// values and through the adjoint identity of a linear map; vmap against a
// loop.
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "test_helpers.h"

namespace {

using namespace kiln;
using kiln_test::array_is;
using kiln_test::noise;
using kiln_test::throws_invalid;
using kiln_test::values;

// The inputs of the PyTorch cases: element i of a (row-major) array is
// (((i * a) % m) - off) * 0.125, exact in float. In Python:
//   def seq(shape, a=37, m=17, off=8):
//       i = np.arange(np.prod(shape)); return ((((i * a) % m) - off) * 0.125).reshape(shape)
std::vector<float> seq_values(int64_t n, int a = 37, int m = 17, int off = 8) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = float(((i * a) % m) - off) * 0.125f;
  return v;
}
array seq(const Shape& shape, int a = 37, int m = 17, int off = 8) {
  int64_t n = 1;
  for (int d : shape) n *= d;
  std::vector<float> v = seq_values(n, a, m, off);
  return array(v.data(), shape, float32);
}

int64_t product(const Shape& s) {
  int64_t n = 1;
  for (int d : s) n *= d;
  return n;
}

// Row-major strides of a shape.
std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int d = int(s.size()) - 2; d >= 0; --d) st[d] = st[d + 1] * s[d + 1];
  return st;
}

struct ConvCase {
  Shape in, w;  // (N, spatial..., C_in), (C_out, spatial..., C_in / groups)
  std::vector<int> stride, lo, hi, kdil, idil;
  int groups = 1;
  bool flip = false;
};

// conv_general by its definition: output[n, o..., co] = sum over taps k and
// group channels c of x[n, i..., g * cg + c] * w[co, k' ..., c], where
// i_d * idil_d = o_d * stride_d + k_d * kdil_d - lo_d (no element where that
// falls between dilated elements or outside), g = co / (C_out / groups) and
// k' = k, or reversed under flip.
std::vector<double> reference_conv(const ConvCase& c, const std::vector<float>& x, const std::vector<float>& w,
                                   Shape& out_shape) {
  int sp = int(c.in.size()) - 2;
  int cin = c.in.back(), cout = c.w[0], cg = cin / c.groups, og = cout / c.groups;
  out_shape = {c.in[0]};
  for (int d = 0; d < sp; ++d) {
    int64_t ext = (int64_t(c.in[d + 1]) - 1) * c.idil[d] + 1 + c.lo[d] + c.hi[d];
    int64_t kext = (int64_t(c.w[d + 1]) - 1) * c.kdil[d] + 1;
    out_shape.push_back(int((ext - kext) / c.stride[d] + 1));
  }
  out_shape.push_back(cout);
  auto xs = strides_of(c.in), ws = strides_of(c.w), os = strides_of(out_shape);
  Shape kshape(c.w.begin() + 1, c.w.end() - 1);
  int64_t taps = product(kshape);
  std::vector<double> out(product(out_shape), 0.0);
  for (int64_t flat = 0; flat < int64_t(out.size()); ++flat) {
    std::vector<int> o(out_shape.size());
    for (size_t d = 0; d < out_shape.size(); ++d) o[d] = int(flat / os[d] % out_shape[d]);
    int n = o[0], co = o.back(), g = co / og;
    double acc = 0;
    for (int64_t t = 0; t < taps; ++t) {
      int64_t xoff = n * xs[0], woff = co * ws[0];
      bool inside = true;
      int64_t rem = t;
      for (int d = sp - 1; d >= 0; --d) {
        int k = int(rem % kshape[d]);
        rem /= kshape[d];
        int64_t q = int64_t(o[d + 1]) * c.stride[d] + int64_t(k) * c.kdil[d] - c.lo[d];
        if (q < 0 || q % c.idil[d] != 0 || q / c.idil[d] >= c.in[d + 1]) inside = false;
        xoff += (q / c.idil[d]) * xs[d + 1];
        woff += (c.flip ? kshape[d] - 1 - k : k) * ws[d + 1];
      }
      if (!inside) continue;
      for (int ci = 0; ci < cg; ++ci) acc += double(x[xoff + g * cg + ci]) * double(w[woff + ci]);
    }
    out[flat] = acc;
  }
  return out;
}

array conv_of(const ConvCase& c, const array& x, const array& w) {
  return conv_general(x, w, c.stride, c.lo, c.hi, c.kdil, c.idil, c.groups, c.flip);
}

void expect_matches_reference(const ConvCase& c, uint32_t seed) {
  std::vector<float> xv = noise(product(c.in), seed), wv = noise(product(c.w), seed + 1);
  Shape out_shape;
  std::vector<double> expected = reference_conv(c, xv, wv, out_shape);
  array got = conv_of(c, array(xv.data(), c.in, float32), array(wv.data(), c.w, float32));
  EXPECT_TRUE(array_is(got, float32, out_shape, expected, 1e-5, 1e-5)) << "case seed " << seed;
}

// ---- values vs PyTorch ------------------------------------------------------------------------

// x = seq((2,7,3)); w = seq((2,3,3), 5, 7, 3)
// torch.nn.functional.conv1d(x.permute(0,2,1), w.permute(0,2,1), stride=2, padding=1).permute(0,2,1)
TEST(Conv, Conv1dVsTorch) {
  array y = conv1d(seq({2, 7, 3}), seq({2, 3, 3}, 5, 7, 3), 2, 1);
  EXPECT_TRUE(array_is(y, float32, {2, 4, 2},
                       {0.0, -0.140625, 0.078125, 0.015625, -0.46875, 0.515625, 0.125, -0.65625, 0.265625, 0.09375,
                        0.421875, 0.171875, -0.390625, 0.40625, -0.484375, 0.5625},
                       1e-6));
}

// x = seq((1,5,4,4)); w = seq((4,3,2,2), 5, 7, 3)
// conv2d(x.permute(0,3,1,2), w.permute(0,3,1,2), stride=(1,2), padding=(1,0), dilation=(2,1),
//        groups=2).permute(0,2,3,1)
TEST(Conv, Conv2dGroupsDilationVsTorch) {
  array y = conv2d(seq({1, 5, 4, 4}), seq({4, 3, 2, 2}, 5, 7, 3), {1, 2}, {1, 0}, {2, 1}, 2);
  EXPECT_TRUE(array_is(y, float32, {1, 3, 2, 4},
                       {0.015625, 0.0625, 0.34375, -0.234375, 0.34375, 0.59375, 0.015625, 0.40625,
                        0.140625, -0.484375, 0.28125, -0.3125, -0.390625, 0.203125, -0.46875, 0.921875,
                        -0.4375, -0.0625, -0.375, -0.40625, 0.296875, -0.21875, 0.46875, -0.453125},
                       1e-6));
}

// MLX's transposed-convolution weight is (C_out, K, C_in / groups); PyTorch's
// is (C_in, C_out / groups, K) with wt[g*cig + c, j, :] = w[g*og + j, :, c].
// x = seq((1,4,4)); w = seq((2,3,2), 5, 7, 3), groups 2 (og = 1, cig = 2):
// conv_transpose1d(x.permute(0,2,1), wt, stride=2, padding=1, output_padding=1, groups=2).permute(0,2,1)
TEST(Conv, ConvTranspose1dVsTorch) {
  array y = conv_transpose1d(seq({1, 4, 4}), seq({2, 3, 2}, 5, 7, 3), 2, 1, 1, 1, 2);
  EXPECT_TRUE(array_is(y, float32, {1, 8, 2},
                       {0.15625, -0.0625, -0.421875, 0.40625, -0.21875, -0.21875, 0.40625, -0.421875, -0.0625,
                        0.15625, 0.171875, 0.078125, 0.09375, 0.0, -0.328125, 0.140625},
                       1e-6));
}

// x = seq((1,3,3,2)); w = seq((2,2,2,2), 5, 7, 3); y = conv2d(.., padding=1) (NHWC via permutes);
// R = seq(y.shape, 3, 5, 2); (y * R).sum().backward(): x.grad, w.grad.
TEST(Conv, GradientsVsTorch) {
  array x = seq({1, 3, 3, 2}), w = seq({2, 2, 2, 2}, 5, 7, 3), r = seq({1, 4, 4, 2}, 3, 5, 2);
  auto loss = [&](const std::vector<array>& a) { return sum(conv2d(a[0], a[1], {1, 1}, {1, 1}) * r); };
  std::vector<array> g = grad(std::function<array(const std::vector<array>&)>(loss), {0, 1})({x, w});
  EXPECT_TRUE(array_is(g[0], float32, {1, 3, 3, 2},
                       {0.09375, -0.046875, -0.03125, 0.21875, 0.0, 0.09375, -0.171875, -0.15625, 0.09375,
                        -0.046875, -0.03125, 0.21875, 0.109375, -0.109375, -0.171875, -0.15625, 0.09375, -0.046875},
                       1e-6));
  EXPECT_TRUE(array_is(g[1], float32, {2, 2, 2, 2},
                       {-0.265625, 0.125, -0.359375, -0.75, 0.140625, 0.21875, -0.265625, 0.125, 0.015625,
                        -0.0625, 0.46875, 0.46875, -0.359375, -0.75, 0.015625, -0.0625},
                       1e-6));
}

// ---- parameter sweep vs the direct definition -------------------------------------------------

TEST(Conv, GeneralVsDefinition) {
  std::vector<ConvCase> cases = {
      // 1-D: plain, strided, padded asymmetrically, kernel- and input-dilated, grouped, flipped.
      {{2, 9, 3}, {4, 3, 3}, {1}, {0}, {0}, {1}, {1}},
      {{1, 10, 2}, {3, 4, 2}, {3}, {2}, {1}, {1}, {1}},
      {{2, 7, 4}, {6, 2, 2}, {2}, {1}, {3}, {2}, {1}, 2},
      {{1, 5, 2}, {2, 3, 2}, {1}, {2}, {2}, {1}, {3}, 1, true},
      {{1, 6, 6}, {6, 3, 1}, {1}, {1}, {1}, {1}, {1}, 6},                 // depthwise
      {{1, 8, 3}, {2, 3, 3}, {2}, {-1}, {-2}, {1}, {1}},                  // negative padding crops
      // 2-D
      {{2, 6, 5, 3}, {4, 3, 3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}},
      {{1, 7, 6, 4}, {2, 2, 3, 2}, {2, 1}, {0, 2}, {1, 0}, {1, 2}, {2, 1}, 2, true},
      {{3, 4, 4, 2}, {5, 1, 1, 2}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, {1, 1}},  // 1x1
      {{1, 5, 5, 1}, {1, 5, 5, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, {1, 1}},  // kernel = input
      // 3-D
      {{1, 4, 5, 3, 2}, {3, 2, 3, 2, 2}, {1, 2, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 2}, {1, 1, 1}},
      {{2, 3, 3, 3, 4}, {2, 2, 2, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, {2, 1, 2}, 2, true},
      // Unit strides (each tap a contiguous range of the flattened input), 3-D with dilations.
      {{1, 4, 3, 5, 2}, {2, 2, 2, 3, 2}, {1, 1, 1}, {1, 0, 2}, {0, 1, 1}, {2, 1, 1}, {1, 2, 1}},
      {{2, 5, 2}, {3, 5, 2}, {1}, {0}, {0}, {1}, {1}},  // kernel = input, 1-D
      // Depthwise 2-D (one fused elementwise sum over taps), strided and dilated, and flipped.
      {{2, 7, 6, 5}, {5, 3, 3, 1}, {2, 1}, {1, 1}, {1, 0}, {1, 2}, {1, 1}, 5},
      {{1, 5, 5, 3}, {3, 2, 3, 1}, {1, 1}, {0, 1}, {1, 0}, {1, 1}, {2, 1}, 3, true},
  };
  for (size_t i = 0; i < cases.size(); ++i) expect_matches_reference(cases[i], uint32_t(10 * i + 1));
}

// conv1d/2d/3d are conv_general with symmetric padding and no input dilation.
TEST(Conv, FixedRankFormsMatchGeneral) {
  std::vector<float> x1 = noise(2 * 9 * 4, 3), w1 = noise(6 * 3 * 2, 4);
  array a1(x1.data(), {2, 9, 4}, float32), b1(w1.data(), {6, 3, 2}, float32);
  EXPECT_TRUE(array_is(conv1d(a1, b1, 2, 1, 2, 2), float32, {2, 4, 6},
                       values(conv_general(a1, b1, {2}, {1}, {1}, {2}, {1}, 2, false)), 1e-6));
  std::vector<float> x3 = noise(1 * 4 * 4 * 4 * 3, 5), w3 = noise(2 * 3 * 3 * 3 * 3, 6);
  array a3(x3.data(), {1, 4, 4, 4, 3}, float32), b3(w3.data(), {2, 3, 3, 3, 3}, float32);
  EXPECT_TRUE(array_is(conv3d(a3, b3, {1, 2, 1}, {1, 1, 0}, {1, 1, 1}), float32, {1, 4, 2, 2, 2},
                       values(conv_general(a3, b3, {1, 2, 1}, {1, 1, 0}, {1, 1, 0}, {1, 1, 1}, {1, 1, 1}, 1,
                                           false)),
                       1e-6));
}

// ---- transposed convolutions vs their scatter definition ----------------------------------------

// out[n, i * stride - padding + k * dilation, co] += x[n, i, g * cig + c] * w[co, k, c] (1-D and 2-D).
std::vector<double> reference_transpose_2d(const Shape& in, const Shape& wsh, int stride, int padding, int dilation,
                                           int output_padding, int groups, const std::vector<float>& x,
                                           const std::vector<float>& w, Shape& out_shape) {
  int n = in[0], h = in[1], wd = in[2], cin = in[3], cout = wsh[0], kh = wsh[1], kw = wsh[2];
  int cig = cin / groups, og = cout / groups;
  int oh = (h - 1) * stride - 2 * padding + dilation * (kh - 1) + 1 + output_padding;
  int ow = (wd - 1) * stride - 2 * padding + dilation * (kw - 1) + 1 + output_padding;
  out_shape = {n, oh, ow, cout};
  std::vector<double> out(product(out_shape), 0.0);
  for (int b = 0; b < n; ++b)
    for (int i = 0; i < h; ++i)
      for (int j = 0; j < wd; ++j)
        for (int co = 0; co < cout; ++co)
          for (int p = 0; p < kh; ++p)
            for (int q = 0; q < kw; ++q) {
              int y = i * stride - padding + p * dilation, z = j * stride - padding + q * dilation;
              if (y < 0 || y >= oh || z < 0 || z >= ow) continue;
              int g = co / og;
              for (int c = 0; c < cig; ++c)
                out[((int64_t(b) * oh + y) * ow + z) * cout + co] +=
                    double(x[((int64_t(b) * h + i) * wd + j) * cin + g * cig + c]) *
                    double(w[((int64_t(co) * kh + p) * kw + q) * cig + c]);
            }
  return out;
}

TEST(ConvTranspose, TwoDVsDefinition) {
  struct Case {
    Shape in, w;
    int stride, padding, dilation, output_padding, groups;
  };
  std::vector<Case> cases = {
      {{1, 3, 4, 2}, {3, 3, 3, 2}, 1, 0, 1, 0, 1}, {{2, 3, 3, 4}, {4, 3, 2, 2}, 2, 1, 1, 1, 2},
      {{1, 4, 3, 3}, {2, 2, 3, 3}, 3, 2, 2, 1, 1}, {{1, 2, 2, 2}, {2, 3, 3, 2}, 2, 0, 1, 0, 1}};
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    std::vector<float> xv = noise(product(c.in), uint32_t(7 + i)), wv = noise(product(c.w), uint32_t(70 + i));
    Shape out_shape;
    std::vector<double> expected = reference_transpose_2d(c.in, c.w, c.stride, c.padding, c.dilation,
                                                          c.output_padding, c.groups, xv, wv, out_shape);
    array got = conv_transpose2d(array(xv.data(), c.in, float32), array(wv.data(), c.w, float32),
                                 {c.stride, c.stride}, {c.padding, c.padding}, {c.dilation, c.dilation},
                                 {c.output_padding, c.output_padding}, c.groups);
    EXPECT_TRUE(array_is(got, float32, out_shape, expected, 1e-5, 1e-5)) << "case " << i;
  }
}

// conv_transpose is the vjp of conv with respect to its input:
// conv_transpose(r, w) = d/dx sum(conv(x, w) * r) when the conv's output size
// matches (here: stride 2, padding 1, kernel 3, input 5 -> 3 -> back to 5).
TEST(ConvTranspose, IsTheInputGradientOfConv) {
  std::vector<float> xv = noise(2 * 5 * 3, 11), wv = noise(4 * 3 * 3, 12), rv = noise(2 * 3 * 4, 13);
  array x(xv.data(), {2, 5, 3}, float32), w(wv.data(), {4, 3, 3}, float32), r(rv.data(), {2, 3, 4}, float32);
  auto loss = [&](const array& a) { return sum(conv1d(a, w, 2, 1) * r); };
  array gx = grad(std::function<array(const array&)>(loss))(x);
  // The transposed conv maps C_out -> C_in: its weight is w with the channel axes swapped.
  array wt = transpose(w, {2, 1, 0});
  EXPECT_TRUE(array_is(conv_transpose1d(r, wt, 2, 1), float32, {2, 5, 3}, values(gx), 1e-5));
  // 3-D: a (1,3,5,3,2) input with stride (1,2,1) gives (1,2,2,2,2); the middle axis
  // drops one trailing input element, which output_padding gives back.
  std::vector<float> wv3 = noise(2 * 2 * 2 * 2 * 2, 14), cv3 = noise(1 * 2 * 2 * 2 * 2, 15);
  array w3(wv3.data(), {2, 2, 2, 2, 2}, float32), c3(cv3.data(), {1, 2, 2, 2, 2}, float32);
  auto loss3 = [&](const array& a) { return sum(conv3d(a, w3, {1, 2, 1}) * c3); };
  array g3 = grad(std::function<array(const array&)>(loss3))(ones({1, 3, 5, 3, 2}));
  EXPECT_TRUE(array_is(conv_transpose3d(c3, transpose(w3, {4, 1, 2, 3, 0}), {1, 2, 1}, {0, 0, 0}, {1, 1, 1},
                                        {0, 1, 0}),
                       float32, {1, 3, 5, 3, 2}, values(g3), 1e-5));
}

// ---- autodiff, vmap, compile ----------------------------------------------------------------------

void check_adjoint_identity(const ConvCase& c);

// conv is bilinear: for any v, <d/dx sum(conv(x, w) * r), v> = <r, conv(v, w)>,
// and <d/dw ..., u> = <r, conv(x, u)>. Checked for a strided, dilated,
// grouped, input-dilated, flipped case.
TEST(Conv, GradientsSatisfyTheAdjointIdentity) {
  for (const ConvCase& c : {ConvCase{{2, 6, 5, 4}, {4, 3, 2, 2}, {2, 1}, {1, 0}, {2, 1}, {1, 2}, {1, 2}, 2, true},
                            ConvCase{{2, 5, 6, 3}, {4, 3, 3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 2}, {1, 1}},
                            ConvCase{{2, 5, 6, 3}, {3, 3, 3, 1}, {1, 2}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 3},
                            // Unit strides (their vjp is written out): 1-D asymmetric padding and
                            // dilation, 2-D cropping and input dilation, flipped, 3-D.
                            ConvCase{{2, 9, 3}, {4, 3, 3}, {1}, {2}, {0}, {2}, {1}},
                            ConvCase{{2, 5, 6, 3}, {2, 2, 3, 3}, {1, 1}, {-1, 0}, {2, 1}, {1, 1}, {2, 1}, 1, true},
                            ConvCase{{1, 4, 3, 5, 2}, {3, 2, 2, 3, 2}, {1, 1, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 1}, {1, 1, 1}},
                            // One input channel (gathered without the channel axis), more outputs.
                            ConvCase{{2, 5, 4, 1}, {3, 3, 2, 1}, {1, 1}, {1, 0}, {1, 1}, {1, 1}, {1, 1}},
                            // Strided without groups (gathered too): inputs the last window does not
                            // reach, kernel dilation, input dilation with a flip.
                            ConvCase{{2, 7, 6, 3}, {4, 3, 2, 3}, {2, 3}, {1, 0}, {0, 2}, {1, 1}, {1, 1}},
                            ConvCase{{2, 11, 2}, {3, 3, 2}, {2}, {1}, {2}, {2}, {1}},
                            ConvCase{{1, 5, 4, 2}, {2, 2, 2, 2}, {2, 2}, {1, 1}, {0, 1}, {1, 1}, {2, 1}, 1, true}})
    check_adjoint_identity(c);
}

// Second order through the written-out vjp: the input's gradient of
// sum(conv(x, w) * r) is linear in w, and its inner product with v is
// sum(conv(v, w) * r), whose weight gradient the first-order rule gives.
TEST(Conv, SecondOrderGradients) {
  auto mk = [](const Shape& s, uint32_t seed) {
    std::vector<float> v = noise(product(s), seed);
    return array(v.data(), s, float32);
  };
  // Fewer and more output channels than input channels: the input's
  // gradient is a convolution, or the patches' gradient gathered back.
  for (int c_out : {2, 4}) {
    array x = mk({2, 5, 4, 3}, 41), w = mk({c_out, 3, 3, 3}, 42), r = mk({2, 5, 4, c_out}, 43),
          v = mk({2, 5, 4, 3}, 44);
    for (int s : {1, 2}) {
      array rs = s == 1 ? r : mk({2, 3, 4, c_out}, 45);
      auto input_grad_along_v = [&](const array& wt) {
        auto loss = [&](const array& xt) { return sum(conv2d(xt, wt, {s, 1}, {1, 1}) * rs); };
        return sum(grad(std::function<array(const array&)>(loss))(x) * v);
      };
      auto direct = [&](const array& wt) { return sum(conv2d(v, wt, {s, 1}, {1, 1}) * rs); };
      array second = grad(std::function<array(const array&)>(input_grad_along_v))(w);
      array first = grad(std::function<array(const array&)>(direct))(w);
      EXPECT_TRUE(array_is(second, float32, w.shape(), values(first), 1e-5, 1e-5)) << "C_out " << c_out << " stride " << s;
    }
  }
}

void check_adjoint_identity(const ConvCase& c) {
  auto mk = [](const Shape& s, uint32_t seed) {
    std::vector<float> v = noise(product(s), seed);
    return array(v.data(), s, float32);
  };
  array x = mk(c.in, 21), w = mk(c.w, 22);
  array y = conv_of(c, x, w);
  array r = mk(y.shape(), 23), v = mk(c.in, 24), u = mk(c.w, 25);
  auto loss = [&](const std::vector<array>& a) { return sum(conv_of(c, a[0], a[1]) * r); };
  std::vector<array> g = grad(std::function<array(const std::vector<array>&)>(loss), {0, 1})({x, w});
  EXPECT_NEAR(sum(g[0] * v).item<float>(), sum(r * conv_of(c, v, w)).item<float>(), 1e-3);
  EXPECT_NEAR(sum(g[1] * u).item<float>(), sum(r * conv_of(c, x, u)).item<float>(), 1e-3);
  // jvp: the directional derivative along (v, u) is conv(v, w) + conv(x, u).
  auto f = [&](const std::vector<array>& a) { return std::vector<array>{conv_of(c, a[0], a[1])}; };
  auto [out, tangent] = jvp(f, {x, w}, {v, u});
  EXPECT_TRUE(array_is(tangent[0], float32, y.shape(), values(conv_of(c, v, w) + conv_of(c, x, u)), 1e-5, 1e-5));
}

TEST(Conv, VmapMatchesLoop) {
  std::vector<float> xv = noise(3 * 2 * 6 * 5 * 3, 31), wv = noise(4 * 3 * 3 * 3, 32);
  array xs(xv.data(), {3, 2, 6, 5, 3}, float32), w(wv.data(), {4, 3, 3, 3}, float32);
  // Strided, and with unit strides (a custom function: its forward batched).
  for (int s : {2, 1}) {
    auto f = std::function<array(const array&)>([&](const array& x) { return conv2d(x, w, {s, 1}, {1, 1}); });
    array batched = vmap(f)(xs);
    std::vector<array> parts;
    for (int b = 0; b < 3; ++b) parts.push_back(f(take(xs, b, 0)));
    EXPECT_TRUE(array_is(batched, float32, {3, 2, s == 2 ? 3 : 6, 5, 4}, values(stack(parts)), 1e-5)) << s;
  }
  // Batched over the weight, along axis 1.
  std::vector<float> wsv = noise(4 * 2 * 3 * 3 * 3, 33);
  array ws(wsv.data(), {4, 2, 3, 3, 3}, float32);
  array x0 = take(xs, 0, 0);
  auto fw = std::function<array(const array&)>([&](const array& wk) { return conv2d(x0, wk); });
  array bw = vmap(fw, 1, 0)(ws);
  std::vector<array> pw;
  for (int b = 0; b < 2; ++b) pw.push_back(fw(take(ws, b, 1)));
  EXPECT_TRUE(array_is(bw, float32, {2, 2, 4, 3, 4}, values(stack(pw)), 1e-5));
}

TEST(Conv, CompiledMatchesEager) {
  std::vector<float> xv = noise(2 * 8 * 8 * 4, 41), wv = noise(8 * 3 * 3 * 4, 42);
  array x(xv.data(), {2, 8, 8, 4}, float32), w(wv.data(), {8, 3, 3, 4}, float32);
  auto f = [](const array& a, const array& b) { return conv2d(a, b, {1, 1}, {1, 1}); };
  auto cf = compile(std::function<array(const array&, const array&)>(f));
  EXPECT_TRUE(array_is(cf(x, w), float32, {2, 8, 8, 8}, values(f(x, w)), 1e-6));
}

// ---- dtypes, empty, errors --------------------------------------------------------------------------

TEST(Conv, DtypesAndEmptyBatch) {
  array x = seq({1, 4, 2}), w = seq({1, 2, 2}, 5, 7, 3);
  array ref = conv1d(x, w);
  EXPECT_TRUE(array_is(conv1d(astype(x, float16), astype(w, float16)), float16, {1, 3, 1}, values(ref), 1e-3));
  EXPECT_TRUE(array_is(conv1d(astype(x, float64), astype(w, float64)), float64, {1, 3, 1}, values(ref), 1e-12));
  EXPECT_TRUE(array_is(conv1d(x, astype(w, float16)), float32, {1, 3, 1}, values(ref), 1e-6));
  EXPECT_TRUE(array_is(conv1d(zeros({0, 4, 2}), w), float32, {0, 3, 1}, {}));
  // An empty spatial axis that padding makes long enough: all padding, zeros.
  EXPECT_TRUE(array_is(conv1d(zeros({2, 0, 2}), w, 1, 1), float32, {2, 1, 1}, {0.0, 0.0}));
}

TEST(Conv, Errors) {
  array x = zeros({1, 5, 5, 4}), w = zeros({2, 3, 3, 4});
  EXPECT_TRUE(throws_invalid([&] { conv1d(x, w); }, "[conv1d]"));                    // rank 4 for 1-D
  EXPECT_TRUE(throws_invalid([&] { conv2d(zeros({5, 4}), zeros({2, 4})); }, "[conv2d]"));
  EXPECT_TRUE(throws_invalid([&] { conv2d(x, zeros({2, 3, 4})); }, "[conv2d]"));        // weight rank
  EXPECT_TRUE(throws_invalid([&] { conv2d(x, zeros({2, 3, 3, 3})); }, "[conv2d]"));     // channel mismatch
  EXPECT_TRUE(throws_invalid([&] { conv2d(x, zeros({2, 3, 3, 2}), {1, 1}, {0, 0}, {1, 1}, 3); }, "[conv2d]"));
  EXPECT_TRUE(throws_invalid([&] { conv2d(x, zeros({3, 3, 3, 2}), {1, 1}, {0, 0}, {1, 1}, 2); }, "[conv2d]"));
  EXPECT_TRUE(throws_invalid([&] { conv2d(x, w, {1, 1}, {0, 0}, {1, 1}, 0); }, "[conv2d]"));
  EXPECT_TRUE(throws_invalid([&] { conv2d(x, w, {0, 1}); }, "[conv2d]"));               // stride
  EXPECT_TRUE(throws_invalid([&] { conv2d(x, w, {1, 1}, {0, 0}, {1, 0}); }, "[conv2d]"));  // dilation
  EXPECT_TRUE(throws_invalid([&] { conv2d(x, zeros({2, 6, 3, 4})); }, "[conv2d]"));     // kernel too big
  EXPECT_TRUE(throws_invalid([&] { conv2d(x, w, {1, 1}, {0, 0}, {3, 3}); }, "[conv2d]"));  // dilated too big
  EXPECT_TRUE(throws_invalid([&] { conv2d(astype(x, int32), astype(w, int32)); }, "[conv2d]"));
  EXPECT_TRUE(throws_invalid([&] { conv_general(x, w, {1, 1, 1}, {0}, {0}, {1}, {1}, 1, false); },
                             "[conv_general]"));
  EXPECT_TRUE(throws_invalid([&] { conv_general(x, w, {1}, {0}, {0}, {1}, {0}, 1, false); }, "[conv_general]"));
  EXPECT_TRUE(throws_invalid([&] { conv_transpose2d(x, w, {2, 2}, {0, 0}, {1, 1}, {2, 2}); }, "[conv_transpose2d]"));
  EXPECT_TRUE(throws_invalid([&] { conv_transpose2d(x, w, {1, 1}, {-1, 0}); }, "[conv_transpose2d]"));
  EXPECT_TRUE(throws_invalid([&] { conv_transpose1d(zeros({1, 5, 4}), w); }, "[conv_transpose1d]"));
}

}  // namespace
