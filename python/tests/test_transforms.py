"""eval, grad, value_and_grad, vjp, jvp, vmap and compile on Python
functions, with pytrees of lists, tuples and dicts."""
import numpy as np
import pytest

import kiln.core as mx


def close(a, b, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(np.array(a), b, rtol=rtol, atol=atol)


def finite_difference(f, x, eps=1e-3):
    """Central differences of a scalar function of a float64 NumPy array."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


def test_eval_trees():
    a = mx.array([1.0]) + 1
    b = {"x": [mx.array([2.0]) * 2, (mx.array(3) + 1, 5)]}
    mx.eval(a, b)
    assert a.tolist() == [2.0] and b["x"][1][0].item() == 4


def test_grad_against_finite_differences(rng):
    x = rng.standard_normal((3, 4))

    def f(a):
        return mx.sum(mx.sin(a) * a)

    g = mx.grad(f)(mx.array(x.astype(np.float32)))
    close(g, finite_difference(lambda v: np.sum(np.sin(v) * v), x), rtol=1e-3, atol=1e-3)


def test_value_and_grad_argnums_and_trees():
    def loss(params, x, scale):
        y = params["w"] * x + params["b"][0]
        return mx.sum(y * y) * scale

    params = {"w": mx.array([1.0, 2.0]), "b": [mx.array(0.5)]}
    x = mx.array([3.0, -1.0])
    value, grads = mx.value_and_grad(loss)(params, x, 2.0)
    # y = [3.5, -1.5]; loss = 2 * (12.25 + 2.25) = 29; dL/dw = 4*y*x, dL/db = 4*sum(y).
    assert value.item() == pytest.approx(29.0)
    close(grads["w"], [42.0, 6.0])
    close(grads["b"][0], 8.0)
    gw, gx = mx.grad(loss, argnums=(0, 1))(params, x, 2.0)
    close(gx, [4 * 3.5 * 1.0, 4 * -1.5 * 2.0])
    assert set(gw) == {"w", "b"}

    def with_aux(w):
        return mx.sum(w * w), w + 1

    (v, aux), g = mx.value_and_grad(with_aux)(mx.array([1.0, 3.0]))
    assert v.item() == 10 and aux.tolist() == [2.0, 4.0] and g.tolist() == [2.0, 6.0]


def test_grad_errors():
    with pytest.raises(ValueError):
        mx.grad(lambda a: a * 2)(mx.array([1.0, 2.0]))  # not a scalar
    with pytest.raises(ValueError):
        mx.grad(lambda a: mx.sum(a), argnums=3)(mx.array([1.0]))
    with pytest.raises(ZeroDivisionError):
        mx.grad(lambda a: 1 / 0)(mx.array(1.0))


def test_vjp_and_jvp():
    def f(a, b):
        return a * b, mx.exp(a)

    a, b = mx.array([1.0, 2.0]), mx.array([3.0, 4.0])
    outs, vjps = mx.vjp(f, [a, b], [mx.array([1.0, 1.0]), mx.array([0.0, 1.0])])
    close(outs[0], [3.0, 8.0])
    close(vjps[0], [3.0, 4.0 + np.exp(2.0)])
    close(vjps[1], [1.0, 2.0])
    outs, jvps = mx.jvp(lambda x: x * x, [mx.array([3.0])], [mx.array([2.0])])
    close(jvps[0], [12.0])


def test_vmap_matches_a_loop(rng):
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = rng.standard_normal((3,)).astype(np.float32)
    f = mx.vmap(lambda a, b: mx.sum(a * b), in_axes=(0, None))
    close(f(mx.array(x), mx.array(y)), [np.sum(r * y) for r in x])
    g = mx.vmap(lambda a: a * 2, in_axes=1, out_axes=1)
    close(g(mx.array(x)), x * 2)
    h = mx.vmap(lambda t: {"s": mx.sum(t[0]), "p": t[1] + 1})
    out = h((mx.array(x), mx.array(x)))
    close(out["s"], x.sum(1))
    close(out["p"], x + 1)


def test_compile_caches_and_retraces():
    calls = []

    def f(a, b, scale):
        calls.append(1)
        return {"y": mx.exp(a) * b + scale}

    cf = mx.compile(f)
    a, b = mx.array([0.0, 1.0]), mx.array([2.0, 3.0])
    close(cf(a, b, 1.0)["y"], np.exp([0.0, 1.0]) * [2.0, 3.0] + 1)
    cf(a + 1, b, 1.0)
    assert len(calls) == 1  # same shapes and constants: one trace
    close(cf(a, b, 2.0)["y"], np.exp([0.0, 1.0]) * [2.0, 3.0] + 2)
    assert len(calls) == 2  # a new constant retraces
    cf(mx.array([1.0, 2.0, 3.0]), mx.array([1.0]), 2.0)
    assert len(calls) == 3  # new shapes retrace


def test_compile_of_grad():
    step = mx.compile(mx.grad(lambda w: mx.sum(w * w * w)))
    close(step(mx.array([1.0, 2.0])), [3.0, 12.0])
