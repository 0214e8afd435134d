"""mx.array: construction, NumPy interop, properties, operators, indexing."""
import numpy as np
import pytest

import kiln.core as mx


def test_from_scalars_and_lists():
    assert mx.array(1).dtype == mx.int32
    assert mx.array(1.5).dtype == mx.float32
    assert mx.array(True).dtype == mx.bool_
    a = mx.array([[1, 2, 3], [4, 5, 6]])
    assert a.shape == (2, 3) and a.dtype == mx.int32 and a.ndim == 2 and a.size == 6
    assert a.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert mx.array([1, 2.5]).dtype == mx.float32
    assert mx.array([1, 2], mx.float16).dtype == mx.float16
    assert mx.array(3.25).item() == 3.25
    assert isinstance(mx.array(7).item(), int)
    assert mx.array([]).shape == (0,)
    assert mx.array([mx.array([1, 2]), mx.array([3, 4])]).tolist() == [[1, 2], [3, 4]]


def test_numpy_round_trip(rng):
    for dt in (np.float32, np.int32, np.int64, np.uint8, np.bool_, np.float16, np.complex64):
        x = (rng.standard_normal((3, 4)) * 10).astype(dt)
        a = mx.array(x)
        assert a.shape == (3, 4)
        np.testing.assert_array_equal(np.array(a), x)
    # As MLX: NumPy's float64 becomes float32.
    assert mx.array(np.ones(3)).dtype == mx.float32
    # Non-contiguous input is copied in row-major order.
    x = np.arange(12, dtype=np.float32).reshape(3, 4).T
    np.testing.assert_array_equal(np.array(mx.array(x)), x)
    # The buffer protocol gives a read-only view of the evaluated array.
    v = memoryview(mx.array([1.0, 2.0]) * 2)
    assert v.readonly and v.tolist() == [2.0, 4.0]
    assert np.array(mx.array(2.5)).shape == ()


def test_operators_with_scalars():
    a = mx.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(np.array(a + 1), [2, 3, 5])
    np.testing.assert_allclose(np.array(1 - a), [0, -1, -3])
    np.testing.assert_allclose(np.array(2 / a), [2, 1, 0.5])
    np.testing.assert_allclose(np.array(a ** 2), [1, 4, 16])
    np.testing.assert_allclose(np.array(2 ** a), [2, 4, 16])
    np.testing.assert_allclose(np.array(-a), [-1, -2, -4])
    assert (a > 1.5).tolist() == [False, True, True]
    assert (a == 2).tolist() == [False, True, False]
    assert (7 // mx.array([2, 3])).tolist() == [3, 2]
    assert (mx.array([7, 8]) % 3).tolist() == [1, 2]
    m = mx.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(np.array(m @ m), np.array([[7, 10], [15, 22]]))
    # Python scalars are weak: they take the array's dtype.
    assert (mx.array([1, 2], mx.float16) * 2.0).dtype == mx.float16
    assert (mx.array([1, 2], mx.int16) + 1).dtype == mx.int16
    assert (mx.array([1, 2]) * 0.5).dtype == mx.float32
    assert bool(mx.array(True)) and float(mx.array(2.5)) == 2.5 and int(mx.array(3)) == 3


def test_getitem_matches_numpy(rng):
    x = rng.standard_normal((4, 5, 6)).astype(np.float32)
    a = mx.array(x)
    for idx in [0, -1, (1, 2), (slice(1, 3),), (slice(None, None, -1),), (slice(None), 2, slice(1, None, 2)),
                (Ellipsis, 0), (None, 1), (1, None, Ellipsis, None), (slice(-2, None), Ellipsis),
                (slice(5, 1, -2), 0), ()]:
        np.testing.assert_array_equal(np.array(a[idx]), x[idx], err_msg=str(idx))
    idx = np.array([3, 0, 0])
    np.testing.assert_array_equal(np.array(a[mx.array(idx)]), x[idx])
    np.testing.assert_array_equal(np.array(a[:, idx]), x[:, idx])
    np.testing.assert_array_equal(np.array(a[1, :, [5, 1]]), x[1, :, [5, 1]])
    i, j = np.array([0, 3]), np.array([1, 4])
    np.testing.assert_array_equal(np.array(a[i, j]), x[i, j])
    np.testing.assert_array_equal(np.array(a[:, i, j]), x[:, i, j])
    np.testing.assert_array_equal(np.array(a[i, :, j]), x[i, :, j])


def test_getitem_errors():
    a = mx.array([[1, 2], [3, 4]])
    with pytest.raises(IndexError):
        a[2]
    with pytest.raises(IndexError):
        a[0, 0, 0]
    with pytest.raises(ValueError):
        a["x"]


def test_setitem():
    x = np.zeros((3, 4), np.float32)
    a = mx.array(x)
    a[1] = 5.0
    x[1] = 5.0
    a[:, 1:3] = mx.array([7.0, 8.0])
    x[:, 1:3] = [7.0, 8.0]
    a[::2, -1] = -1
    x[::2, -1] = -1
    np.testing.assert_array_equal(np.array(a), x)
    a[mx.array([0, 2])] = 9
    x[[0, 2]] = 9
    np.testing.assert_array_equal(np.array(a), x)


def test_methods_and_properties():
    a = mx.array(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert a.reshape(3, 2).shape == (3, 2) and a.reshape((6,)).shape == (6,)
    assert a.T.shape == (3, 2) and a.transpose(1, 0).shape == (3, 2)
    assert a.sum().item() == 15 and a.sum(1).tolist() == [3, 12]
    assert a.mean(axis=0, keepdims=True).shape == (1, 3)
    assert a.astype(mx.int32).dtype == mx.int32
    assert len(a) == 2 and [r.tolist() for r in a] == [[0, 1, 2], [3, 4, 5]]
    assert "array(" in repr(a)
    assert a.itemsize == 4 and a.nbytes == 24
    assert repr(mx.float32) == "kiln.core.float32" and mx.float32.size == 4


def test_empty_arrays():
    assert np.array(mx.array([])).shape == (0,)
    assert np.array(mx.zeros((0, 3)) + 1).shape == (0, 3)
    assert mx.zeros((2, 0)).tolist() == [[], []]
