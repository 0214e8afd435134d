"""The generated op functions: MLX's keyword names and defaults, overloads
collapsed as mlx.core's Python API, values against NumPy, errors."""
import numpy as np
import pytest

import kiln.core as mx


def close(a, b, **kw):
    np.testing.assert_allclose(np.array(a), b, rtol=kw.get("rtol", 1e-5), atol=kw.get("atol", 1e-6))


@pytest.fixture
def x(rng):
    return rng.standard_normal((3, 4, 5)).astype(np.float32)


def test_reductions_axis_forms(x):
    a = mx.array(x)
    close(mx.sum(a), x.sum(), rtol=1e-4)
    close(mx.sum(a, 1), x.sum(1), rtol=1e-4)
    close(mx.sum(a, axis=-1, keepdims=True), x.sum(-1, keepdims=True), rtol=1e-4)
    close(mx.sum(a, axis=[0, 2]), x.sum((0, 2)), rtol=1e-4)
    close(mx.mean(a, axis=(0, 1)), x.mean((0, 1)), rtol=1e-4)
    close(mx.max(a, axis=None), x.max())
    close(mx.var(a, axis=1, ddof=1), x.var(1, ddof=1), rtol=1e-4)
    assert mx.argmax(a, axis=2).tolist() == x.argmax(2).tolist()
    close(mx.logsumexp(a, axis=0), np.log(np.exp(x).sum(0)), rtol=1e-4)
    assert mx.all(mx.array([True, False])).item() is False


def test_elementwise_and_binary(x):
    a = mx.array(x)
    close(mx.exp(a), np.exp(x), rtol=1e-5)
    close(mx.tanh(a), np.tanh(x))
    close(mx.maximum(a, 0.0), np.maximum(x, 0))
    close(mx.add(a, 2), x + 2)
    close(mx.where(a > 0, a, 0), np.where(x > 0, x, 0))
    close(mx.clip(a, -0.5, 0.5), np.clip(x, -0.5, 0.5))
    close(mx.clip(a, a_min=None, a_max=0.1), np.minimum(x, 0.1))
    close(mx.softmax(a, axis=-1), np.exp(x) / np.exp(x).sum(-1, keepdims=True), rtol=1e-5)
    assert mx.maximum(mx.array([1, 2], mx.float16), 0.5).dtype == mx.float16


def test_shape_ops(x):
    a = mx.array(x)
    assert mx.reshape(a, (4, 15)).shape == (4, 15)
    assert mx.reshape(a, shape=[-1]).shape == (60,)
    assert mx.transpose(a).shape == (5, 4, 3)
    assert mx.transpose(a, axes=[1, 0, 2]).shape == (4, 3, 5)
    assert mx.expand_dims(a, 0).shape == (1, 3, 4, 5)
    assert mx.expand_dims(a, axis=[0, 2]).shape == (1, 3, 1, 4, 5)
    assert mx.squeeze(mx.zeros((1, 3, 1))).shape == (3,)
    assert mx.squeeze(mx.zeros((1, 3, 1)), axis=0).shape == (3, 1)
    parts = mx.split(a, 2, axis=1)
    assert [p.shape for p in parts] == [(3, 2, 5), (3, 2, 5)]
    with pytest.raises(ValueError):
        mx.split(a, 2, axis=2)  # 5 does not split in 2 equal parts
    parts = mx.split(a, indices_or_sections=[1, 3], axis=1)
    assert [p.shape for p in parts] == [(3, 1, 5), (3, 2, 5), (3, 1, 5)]
    close(mx.concatenate([a, a], axis=1), np.concatenate([x, x], 1))
    close(mx.stack([a, a]), np.stack([x, x]))
    assert mx.flatten(a, start_axis=1).shape == (3, 20)
    close(mx.moveaxis(a, 0, -1), np.moveaxis(x, 0, -1))
    close(mx.swapaxes(a, 0, 2), np.swapaxes(x, 0, 2))
    close(mx.take(a, mx.array([2, 0]), axis=1), np.take(x, [2, 0], axis=1))
    close(mx.take(a, 1, axis=0), x[1])
    close(mx.pad(a, 1), np.pad(x, 1))
    close(mx.pad(a, [(0, 0), (1, 2), (0, 1)], constant_values=3.0),
          np.pad(x, [(0, 0), (1, 2), (0, 1)], constant_values=3.0))
    close(mx.broadcast_to(mx.array([1.0, 2.0]), (3, 2)), np.broadcast_to([1.0, 2.0], (3, 2)))
    close(mx.sort(a), np.sort(x, axis=-1))
    close(mx.sort(a, axis=0), np.sort(x, axis=0))
    close(mx.sort(a, axis=None), np.sort(x, axis=None))
    close(mx.cumsum(a, axis=1), np.cumsum(x, 1), rtol=1e-5)
    close(mx.cumsum(a, axis=1, reverse=True), np.cumsum(x[:, ::-1], 1)[:, ::-1], rtol=1e-5)


def test_creation():
    assert mx.zeros((2, 3)).tolist() == [[0, 0, 0], [0, 0, 0]]
    assert mx.zeros(3, dtype=mx.int32).dtype == mx.int32
    assert mx.ones([2]).dtype == mx.float32
    assert mx.full((2,), 3).tolist() == [3, 3]
    assert mx.full((2,), 1.5, mx.float16).dtype == mx.float16
    assert mx.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert mx.arange(5).dtype == mx.int32
    assert mx.arange(1, 7, 2).tolist() == [1, 3, 5]
    close(mx.arange(0.0, 1.0, 0.25), [0, 0.25, 0.5, 0.75])
    assert mx.arange(3, dtype=mx.float32).dtype == mx.float32
    close(mx.linspace(0, 1, num=5), np.linspace(0, 1, 5))
    close(mx.eye(3, 3, k=1), np.eye(3, k=1))
    close(mx.tril(mx.ones((3, 3)), k=-1), np.tril(np.ones((3, 3)), -1))


def test_matmul_and_conv(rng):
    a = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal((3, 2)).astype(np.float32)
    close(mx.matmul(a, b), a @ b, rtol=1e-4)
    close(mx.addmm(mx.zeros((4, 2)), a, b, alpha=2.0), 2 * a @ b, rtol=1e-4)
    close(mx.tensordot(a, b, axes=1), a @ b, rtol=1e-4)
    img = rng.standard_normal((1, 5, 5, 1)).astype(np.float32)
    w = np.ones((1, 3, 3, 1), np.float32)
    out = mx.conv2d(img, w, stride=1, padding=1)
    expected = np.pad(img[0, :, :, 0], 1)
    expected = np.array([[expected[i:i + 3, j:j + 3].sum() for j in range(5)] for i in range(5)])
    close(out[0, :, :, 0], expected, rtol=1e-4, atol=1e-5)
    assert mx.conv2d(img, w, stride=(2, 2)).shape == (1, 2, 2, 1)


def test_errors_map_to_python():
    with pytest.raises(ValueError):
        mx.add(mx.zeros((2, 3)), mx.zeros((4,)))
    with pytest.raises(ValueError):
        mx.reshape(mx.zeros((2, 3)), (4,))
    with pytest.raises(ValueError):
        mx.sum(mx.zeros((2,)), axis=3)
    with pytest.raises(TypeError):
        mx.sum(mx.zeros((2,)), "x")
    with pytest.raises(TypeError):
        mx.sum(mx.zeros((2,)), bogus=1)
    with pytest.raises(TypeError):
        mx.array(object())


def test_stream_keyword():
    a = mx.array([1.0, 2.0])
    assert mx.exp(a, stream=mx.cpu).tolist() == pytest.approx(np.exp([1.0, 2.0]).tolist(), rel=1e-6)
    assert mx.exp(a, stream=mx.Device(mx.cpu)).shape == (2,)


def test_random():
    mx.random.seed(3)
    u = mx.random.uniform(shape=(1000,))
    assert u.shape == (1000,) and u.dtype == mx.float32
    assert 0 <= mx.min(u).item() and mx.max(u).item() < 1
    k = mx.random.key(0)
    assert mx.random.normal((3,), key=k).tolist() == mx.random.normal((3,), key=k).tolist()
    n = mx.random.normal((20000,), key=k)
    assert abs(mx.mean(n).item()) < 0.05 and abs(mx.var(n).item() - 1) < 0.05
    n = mx.random.normal((20000,), loc=2.0, scale=0.5, key=k)
    assert abs(mx.mean(n).item() - 2) < 0.05
    r = mx.random.randint(0, 10, (500,), key=k)
    assert r.dtype == mx.int32 and 0 <= mx.min(r).item() and mx.max(r).item() < 10
    u = mx.random.uniform(-2, -1, (100,), key=k)
    assert -2 <= mx.min(u).item() and mx.max(u).item() < -1
    a, b = mx.random.split(k)
    assert a.shape == b.shape == k.shape
    assert mx.random.bernoulli(shape=(10,), key=k).dtype == mx.bool_
    c = mx.random.categorical(mx.array([[0.0, 100.0, 0.0]]), key=k)
    assert c.tolist() == [1]


def test_linalg_and_fft(rng):
    m = rng.standard_normal((4, 4)).astype(np.float32) + 4 * np.eye(4, dtype=np.float32)
    close(mx.linalg.inv(m), np.linalg.inv(m), rtol=1e-4, atol=1e-5)
    close(mx.linalg.norm(m), np.linalg.norm(m), rtol=1e-5)
    close(mx.linalg.norm(m, axis=1), np.linalg.norm(m, axis=1), rtol=1e-5)
    q, r = mx.linalg.qr(m)
    close(q @ r, m, rtol=1e-4, atol=1e-4)
    v = rng.standard_normal(8).astype(np.float32)
    close(mx.fft.fft(v), np.fft.fft(v), rtol=1e-4, atol=1e-4)
    close(mx.fft.rfft(v, n=6), np.fft.rfft(v, n=6), rtol=1e-4, atol=1e-4)
    close(mx.fft.fft2(m), np.fft.fft2(m), rtol=1e-4, atol=1e-3)
    close(mx.fft.fftn(m, s=[2, 4], axes=[0, 1]), np.fft.fftn(m, s=[2, 4], axes=[0, 1]), rtol=1e-4, atol=1e-3)


def test_einsum_takes_operands_as_varargs(rng):
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    c = rng.standard_normal((4,)).astype(np.float32)
    close(mx.einsum("ij,jk,k->i", mx.array(a), mx.array(b), mx.array(c)), np.einsum("ij,jk,k->i", a, b, c),
          rtol=1e-4)
    close(mx.einsum("ii", mx.array(np.eye(3, dtype=np.float32))), 3.0)
