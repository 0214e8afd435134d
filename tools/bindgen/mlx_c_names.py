"""mlx-c's C names for the C++ overloads kiln implements (mlx-c v0.6:
mlx/c/ops.h, random.h, linalg.h, fft.h; results first, the stream last).

mlx-c names overloads one by one rather than by a rule, so gen_c.py looks
each overload up here: an entry is the C name and the C++ overload it
wraps, written `name(param param ...)` with the C++ parameter names in
order (the stream left out), and `param:Type` where two overloads of one
name have the same parameter names (roll(a, shift:int) and
roll(a, shift:Shape)). An op that mlx-c has but whose overload has no entry
here is not wrapped (mlx-c has no such function); an op that mlx-c lacks
keeps gen_c.py's generated names.
"""

_UNARY = ("abs negative sign square sqrt rsqrt reciprocal exp expm1 log log2 log10 log1p sin cos tan arcsin "
          "arccos arctan sinh cosh tanh arcsinh arccosh arctanh sigmoid erf erfinv floor ceil isnan isinf "
          "isfinite isposinf isneginf logical_not bitwise_invert stop_gradient degrees radians copy "
          "zeros_like ones_like conjugate real imag").split()
_BINARY = ("add subtract multiply divide floor_divide remainder power maximum minimum arctan2 logaddexp equal "
           "not_equal less less_equal greater greater_equal logical_and logical_or bitwise_and bitwise_or "
           "bitwise_xor left_shift right_shift matmul inner outer kron").split()

MLX_C = {
    # creation
    "mlx_arange": "arange(start:double stop:double step:double dtype)",
    "mlx_linspace": "linspace(start stop num dtype)",
    "mlx_astype": "astype(a dtype)",
    "mlx_full": "full(shape vals:array dtype)",
    "mlx_full_like": "full_like(a vals:array dtype)",
    "mlx_zeros": "zeros(shape dtype)",
    "mlx_ones": "ones(shape dtype)",
    "mlx_eye": "eye(n m k dtype)",
    "mlx_identity": "identity(n dtype)",
    "mlx_tri": "tri(n m k type)",
    "mlx_tril": "tril(x k)",
    "mlx_triu": "triu(x k)",
    # shapes
    "mlx_reshape": "reshape(a shape)",
    "mlx_flatten": "flatten(a start_axis end_axis)",
    "mlx_unflatten": "unflatten(a axis shape)",
    "mlx_squeeze_axes": "squeeze(a axes)",
    "mlx_squeeze_axis": "squeeze(a axis)",
    "mlx_squeeze": "squeeze(a)",
    "mlx_expand_dims_axes": "expand_dims(a axes)",
    "mlx_expand_dims": "expand_dims(a axis)",
    "mlx_transpose_axes": "transpose(a axes)",
    "mlx_transpose": "transpose(a)",
    "mlx_swapaxes": "swapaxes(a axis1 axis2)",
    "mlx_moveaxis": "moveaxis(a source destination)",
    "mlx_broadcast_to": "broadcast_to(a shape)",
    "mlx_broadcast_arrays": "broadcast_arrays(inputs)",
    "mlx_atleast_1d": "atleast_1d(a:array)",
    "mlx_atleast_2d": "atleast_2d(a:array)",
    "mlx_atleast_3d": "atleast_3d(a:array)",
    "mlx_contiguous": "contiguous(a allow_col_major)",
    "mlx_view": "view(a dtype)",
    # slicing, joining, indexing
    "mlx_slice": "slice(a start stop strides)",
    "mlx_slice_dynamic": "slice(a start:array axes slice_size)",
    "mlx_slice_update": "slice_update(src update start stop strides)",
    "mlx_slice_update_dynamic": "slice_update(src update start:array axes)",
    "mlx_split": "split(a num_splits axis)",
    "mlx_split_sections": "split(a indices axis)",
    "mlx_concatenate_axis": "concatenate(arrays axis)",
    "mlx_concatenate": "concatenate(arrays)",
    "mlx_stack_axis": "stack(arrays axis)",
    "mlx_stack": "stack(arrays)",
    "mlx_meshgrid": "meshgrid(arrays sparse indexing)",
    "mlx_roll": "roll(a shift:Shape)",
    "mlx_roll_axis": "roll(a shift:Shape axis)",
    "mlx_roll_axes": "roll(a shift:Shape axes)",
    "mlx_repeat_axis": "repeat(arr repeats axis)",
    "mlx_repeat": "repeat(arr repeats)",
    "mlx_tile": "tile(arr reps)",
    "mlx_pad": "pad(a axes low_pad_size high_pad_size pad_value mode)",
    "mlx_pad_symmetric": "pad(a pad_width:int pad_value mode)",
    "mlx_take_axis": "take(a indices:array axis)",
    "mlx_take": "take(a indices:array)",
    "mlx_take_along_axis": "take_along_axis(a indices axis)",
    "mlx_put_along_axis": "put_along_axis(a indices values axis)",
    "mlx_gather": "gather(a indices:std::vector<array> axes slice_sizes)",
    "mlx_gather_single": "gather(a indices:array axis slice_sizes)",
    "mlx_scatter_add_axis": "scatter_add_axis(a indices values axis)",
    "mlx_masked_scatter": "masked_scatter(a mask src)",
    # linear algebra helpers, convolutions
    "mlx_addmm": "addmm(c a b alpha beta)",
    "mlx_tensordot": "tensordot(a b axes_a axes_b)",
    "mlx_tensordot_axis": "tensordot(a b axis)",
    "mlx_diagonal": "diagonal(a offset axis1 axis2)",
    "mlx_diag": "diag(a k)",
    "mlx_trace": "trace(a offset axis1 axis2 dtype)",
    "mlx_einsum": "einsum(subscripts operands)",
    "mlx_conv_general": "conv_general(input weight stride padding_lo padding_hi kernel_dilation input_dilation "
                        "groups flip)",
    "mlx_conv1d": "conv1d(input weight stride padding dilation groups)",
    "mlx_conv2d": "conv2d(input weight stride padding dilation groups)",
    "mlx_conv3d": "conv3d(input weight stride padding dilation groups)",
    "mlx_conv_transpose1d": "conv_transpose1d(input weight stride padding dilation output_padding groups)",
    "mlx_conv_transpose2d": "conv_transpose2d(input weight stride padding dilation output_padding groups)",
    "mlx_conv_transpose3d": "conv_transpose3d(input weight stride padding dilation output_padding groups)",
    # elementwise with extra arguments
    "mlx_round": "round(a decimals)",
    "mlx_nan_to_num": "nan_to_num(a nan posinf neginf)",
    "mlx_where": "where(condition x y)",
    "mlx_clip": "clip(a a_min a_max)",
    "mlx_divmod": "divmod(a b)",
    "mlx_array_equal": "array_equal(a b equal_nan)",
    "mlx_isclose": "isclose(a b rtol atol equal_nan)",
    "mlx_allclose": "allclose(a b rtol atol equal_nan)",
    # sorting and selection
    "mlx_sort_axis": "sort(a axis)",
    "mlx_sort": "sort(a)",
    "mlx_argsort_axis": "argsort(a axis)",
    "mlx_argsort": "argsort(a)",
    "mlx_partition_axis": "partition(a kth axis)",
    "mlx_partition": "partition(a kth)",
    "mlx_argpartition_axis": "argpartition(a kth axis)",
    "mlx_argpartition": "argpartition(a kth)",
    "mlx_topk_axis": "topk(a k axis)",
    "mlx_topk": "topk(a k)",
    "mlx_argmax_axis": "argmax(a axis keepdims)",
    "mlx_argmax": "argmax(a keepdims)",
    "mlx_argmin_axis": "argmin(a axis keepdims)",
    "mlx_argmin": "argmin(a keepdims)",
    "mlx_softmax_axes": "softmax(a axes precise)",
    "mlx_softmax_axis": "softmax(a axis precise)",
    "mlx_softmax": "softmax(a precise)",
    # random
    "mlx_random_key": "random::key(seed)",
    "mlx_random_seed": "random::seed(seed)",
    "mlx_random_split": "random::split(key)",
    "mlx_random_split_num": "random::split(key num)",
    "mlx_random_bits": "random::bits(shape width key)",
    "mlx_random_uniform": "random::uniform(low high shape dtype key)",
    "mlx_random_normal": "random::normal(shape dtype loc:float scale:float key)",
    "mlx_random_normal_broadcast": "random::normal(shape dtype loc:std::optional<array> "
                                   "scale:std::optional<array> key)",
    "mlx_random_multivariate_normal": "random::multivariate_normal(mean cov shape dtype key)",
    "mlx_random_randint": "random::randint(low high shape dtype key)",
    "mlx_random_bernoulli": "random::bernoulli(p shape key)",
    "mlx_random_truncated_normal": "random::truncated_normal(lower upper shape dtype key)",
    "mlx_random_gumbel": "random::gumbel(shape dtype key)",
    "mlx_random_categorical_shape": "random::categorical(logits axis shape key)",
    "mlx_random_categorical_num_samples": "random::categorical(logits axis num_samples key)",
    "mlx_random_categorical": "random::categorical(logits axis key)",
    "mlx_random_laplace": "random::laplace(shape dtype loc scale key)",
    "mlx_random_permutation": "random::permutation(x:array axis key)",
    "mlx_random_permutation_arange": "random::permutation(x:int key)",
    # linalg
    "mlx_linalg_norm": "linalg::norm(a ord:double axis:std::optional<std::vector<int>> keepdims)",
    "mlx_linalg_norm_matrix": "linalg::norm(a ord:std::string axis:std::optional<std::vector<int>> keepdims)",
    "mlx_linalg_norm_l2": "linalg::norm(a axis:std::optional<std::vector<int>> keepdims)",
    "mlx_linalg_qr": "linalg::qr(a)",
    "mlx_linalg_svd": "linalg::svd(a compute_uv)",
    "mlx_linalg_inv": "linalg::inv(a)",
    "mlx_linalg_tri_inv": "linalg::tri_inv(a upper)",
    "mlx_linalg_cholesky": "linalg::cholesky(a upper)",
    "mlx_linalg_cholesky_inv": "linalg::cholesky_inv(L upper)",
    "mlx_linalg_pinv": "linalg::pinv(a)",
    "mlx_linalg_lu": "linalg::lu(a)",
    "mlx_linalg_lu_factor": "linalg::lu_factor(a)",
    "mlx_linalg_solve": "linalg::solve(a b)",
    "mlx_linalg_solve_triangular": "linalg::solve_triangular(a b upper)",
    "mlx_linalg_cross": "linalg::cross(a b axis)",
    "mlx_linalg_eig": "linalg::eig(a)",
    "mlx_linalg_eigvals": "linalg::eigvals(a)",
    "mlx_linalg_eigh": "linalg::eigh(a UPLO)",
    "mlx_linalg_eigvalsh": "linalg::eigvalsh(a UPLO)",
}
for _op in _UNARY:
    MLX_C[f"mlx_{_op}"] = f"{_op}(a)"
for _op in _BINARY:
    MLX_C[f"mlx_{_op}"] = f"{_op}(a b)"
# Reductions: _axes, _axis and (all axes) the plain name.
for _op, _extra in [(r, "") for r in "all any sum prod max min mean logsumexp".split()] + \
        [("var", " ddof"), ("std", " ddof")]:
    MLX_C[f"mlx_{_op}_axes"] = f"{_op}(a axes keepdims{_extra})"
    MLX_C[f"mlx_{_op}_axis"] = f"{_op}(a axis keepdims{_extra})"
    MLX_C[f"mlx_{_op}"] = f"{_op}(a keepdims{_extra})"
# Scans take the axis (the flattened forms have no C name).
for _op in "cumsum cumprod cummax cummin logcumsumexp".split():
    MLX_C[f"mlx_{_op}"] = f"{_op}(a axis reverse inclusive)"
# The single-axis scatters: mlx-c's `_single`.
for _op in "scatter scatter_add scatter_prod scatter_max scatter_min".split():
    MLX_C[f"mlx_{_op}"] = f"{_op}(a indices:std::vector<array> updates axes)"
    MLX_C[f"mlx_{_op}_single"] = f"{_op}(a indices:array updates axis)"
# FFTs: one form each, with n and the axis or axes.
for _op in "fft ifft rfft irfft".split():
    MLX_C[f"mlx_fft_{_op}"] = f"fft::{_op}(a n axis)"
for _op in "fft2 ifft2 fftn ifftn rfft2 irfft2 rfftn irfftn".split():
    MLX_C[f"mlx_fft_{_op}"] = f"fft::{_op}(a n axes)"
for _op in "fftshift ifftshift".split():
    MLX_C[f"mlx_fft_{_op}"] = f"fft::{_op}(a axes)"


def parse(spec):
    """'random::split(key num)' -> ('random', 'split', [('key', None), ('num', None)])"""
    head, params = spec.rstrip(")").split("(")
    ns, _, name = head.rpartition("::")
    out = []
    for p in params.split():
        n, _, t = p.partition(":")
        out.append((n, t or None))
    return ns, name, out


def by_op():
    """{(sub-namespace, name): [(C name, [(param, type or None)])]}"""
    table = {}
    for c_name, spec in MLX_C.items():
        ns, name, params = parse(spec)
        table.setdefault((ns, name), []).append((c_name, params))
    return table
