#!/usr/bin/python3
"""Writes the op functions of kiln's Python module (`kiln.core`) from the
description that describe_ops.py makes.

Each Python op is one plain C++ function `py::object f(py::args, py::kwargs)`
that collapses the C++ overloads of one name the way mlx.core's Python API
does (`sum(a, axis=None, keepdims=False, *, stream=None)` with axis an int,
a list of ints or None): python/convert.h's Call maps the arguments to
MLX's keyword names, and the function tries each C++ overload in turn,
first accepting only exact Python types, then with conversions (a Python
number for an array, an int for a shape). Every function has the same C++
type, so pybind11 instantiates its templates once per file, and the code is
split over --parts files to keep each compile small.

Usage: gen_python.py --ops ops.json --out-dir DIR [--parts N]
writes DIR/py_ops_0.cpp ... and DIR/py_ops_skipped.txt.
"""
import argparse
import json
import os
import re

# C++ parameter type (const and & stripped) -> (Call's type tag, converter).
TYPES = {
    "array": ("Arg::array", "arr"),
    "std::optional<array>": ("Arg::opt_array", "opt_arr"),
    "std::vector<array>": ("Arg::arrays", "arrs"),
    "int": ("Arg::int_", "int_"),
    "bool": ("Arg::bool_", "bool_"),
    "double": ("Arg::double_", "double_"),
    "float": ("Arg::double_", "float_"),
    "Shape": ("Arg::ints", "ints"),
    "std::vector<int>": ("Arg::ints", "ints"),
    "std::optional<std::vector<int>>": ("Arg::opt_ints", "opt_ints"),
    "Strides": ("Arg::ints", "int64s"),
    "Dtype": ("Arg::dtype", "dtype"),
    "std::string": ("Arg::string", "string"),
    "std::optional<float>": ("Arg::opt_float", "opt_float"),
    "std::pair<int, int>": ("Arg::pair", "pair"),
    "std::tuple<int, int, int>": ("Arg::triple", "triple"),
    "std::vector<std::pair<int, int>>": ("Arg::pairs", "pairs"),
    "uint64_t": ("Arg::int_", "uint64"),
    "size_t": ("Arg::int_", "size"),
}
RESULTS = {"array", "std::vector<array>", "std::pair<array, array>", "Dtype", "Shape", "void"}
NAMESPACES = {"kiln": "", "kiln::random": "random", "kiln::linalg": "linalg", "kiln::fft": "fft"}

# Where MLX's Python keyword differs from the C++ parameter name:
# (namespace or "*", op or "*", C++ name) -> Python name.
RENAMES = {
    ("*", "split", "num_splits"): "indices_or_sections",
    ("*", "split", "indices"): "indices_or_sections",
    ("*", "take", "index"): "indices",
    ("*", "repeat", "arr"): "array",
    ("*", "tri", "type"): "dtype",
    ("*", "tensordot", "axis"): "axes",
    ("*", "pad", "pad_value"): "constant_values",
    ("*", "full", "val"): "vals",
    ("kiln::fft", "*", "n"): "s",   # fftn(a, s, axes); fft(a, n, axis) keeps n (see below)
}
# fft's one-dimensional forms keep `n`.
FFT_1D = {"fft", "ifft", "rfft", "irfft"}

# Python defaults that differ from "leave it out" (C++ picks another
# overload or has no default): (namespace, op) -> {param: C++ expression
# making the py::object}. They are soft: an overload without the parameter
# still matches.
PY_DEFAULTS = {
    ("kiln", "sort"): {"axis": "py::int_(-1)"},
    ("kiln", "argsort"): {"axis": "py::int_(-1)"},
    ("kiln", "partition"): {"axis": "py::int_(-1)"},
    ("kiln", "argpartition"): {"axis": "py::int_(-1)"},
    ("kiln", "topk"): {"axis": "py::int_(-1)"},
    ("kiln::random", "normal"): {"shape": "py::tuple()", "loc": "py::float_(0.0)", "scale": "py::float_(1.0)"},
    ("kiln::random", "uniform"): {"shape": "py::tuple()", "low": "py::float_(0.0)", "high": "py::float_(1.0)"},
    ("kiln::random", "randint"): {"shape": "py::tuple()"},
    ("kiln::random", "gumbel"): {"shape": "py::tuple()"},
    ("kiln::random", "laplace"): {"shape": "py::tuple()", "loc": "py::float_(0.0)", "scale": "py::float_(1.0)"},
    ("kiln::random", "bernoulli"): {"p": "py::float_(0.5)"},
}
for _op in ("fft", "ifft", "rfft", "irfft"):
    PY_DEFAULTS[("kiln::fft", _op)] = {"axis": "py::int_(-1)"}
for _op in ("fft2", "ifft2", "rfft2", "irfft2"):
    PY_DEFAULTS[("kiln::fft", _op)] = {"axes": "py::make_tuple(-2, -1)"}
# Ops whose Python numbers take the dtype argument's type (float32 when it
# is not given) rather than their own: uniform(0, 1) draws floats.
SCALAR_DTYPE = {("kiln::random", "uniform"): "float32", ("kiln::random", "normal"): "float32",
                ("kiln::random", "truncated_normal"): "float32"}
# MLX's positional order where the longest C++ overload's is not it (pad's
# longest form is the (axes, low, high) one MLX's Python API does not have).
PY_ORDER = {
    ("kiln", "pad"): ["a", "pad_width", "mode", "constant_values"],
}
# Written by hand in python/ (their Python signature cannot be read off the
# C++ overloads): arange(stop) vs arange(start, stop).
HAND_WRITTEN = {("kiln", "arange")}


def bare(t):
    t = re.sub(r"^const\s+", "", t.strip())
    return re.sub(r"\s*&$", "", t).strip()


def cpp_default(p):
    """The C++ default as source text, or None. Defaults read from a macro
    expansion come back as the rest of the macro (with ';'): there the only
    defaulted parameter is `bool keepdims = false`."""
    d = p["default"]
    if d is None:
        return None
    if ";" in d:
        return "false" if bare(p["type"]) == "bool" else None
    return d


def py_name(ns, op, name, family_names):
    for key in ((ns, op, name), ("*", op, name), (ns, "*", name)):
        if key in RENAMES:
            if ns == "kiln::fft" and name == "n" and op in FFT_1D:
                return "n"
            return RENAMES[key]
    # A family with both `axis` and `axes` forms collapses to MLX's `axis`.
    if name == "axes" and "axis" in family_names:
        return "axis"
    return name


def merge_order(overloads):
    """The Python positional order: the longest overload's names, with the
    others' names inserted before their next name already placed."""
    order = []
    for names in sorted(overloads, key=len, reverse=True):
        for i, n in enumerate(names):
            if n in order:
                continue
            after = [m for m in names[i + 1:] if m in order]
            if after:
                order.insert(order.index(after[0]), n)
            else:
                order.append(n)
    return order


def c_value(ctype, default):
    if default is None:
        return None
    d = default.strip()
    if re.fullmatch(r"\{\s*\}", d):
        return f"{ctype}{{}}"
    if d.startswith("{"):
        return f"{ctype}{d}"
    return f"{ctype}({d})"  # not braces: array{array(0)} would be a list of one array


def plan_family(ns, name, overloads):
    usable, skipped = [], []
    label = lambda o: f"{ns}::{name}(" + ", ".join(p["type"] for p in o["params"]) + ")"
    for op in overloads:
        if op["template"]:
            skipped.append(f"{label(op)}: C++ template (the array overload takes Python numbers)")
            continue
        if bare(op["returns"]) not in RESULTS:
            skipped.append(f"{label(op)}: returns {op['returns']}")
            continue
        params = [p for p in op["params"] if bare(p["type"]) != "StreamOrDevice"]
        if len(params) + 1 < len(op["params"]) or (op["params"] and bare(op["params"][-1]["type"]) ==
                                                       "StreamOrDevice") != (len(params) < len(op["params"])):
            skipped.append(f"{label(op)}: stream not last")
            continue
        bad = [p["type"] for p in params if bare(p["type"]) not in TYPES]
        if bad:
            skipped.append(f"{label(op)}: parameter type {', '.join(bad)}")
            continue
        op = dict(op, has_stream=len(params) < len(op["params"]))
        usable.append((op, params))
    return usable, skipped


def emit_function(ns, name, usable, fn_name):
    family_names = {p["name"] for _, params in usable for p in params}
    named = [[py_name(ns, name, p["name"], family_names) for p in params] for _, params in usable]
    order = merge_order(named)
    if (ns, name) in PY_ORDER:
        first = PY_ORDER[(ns, name)]
        order = first + [n for n in order if n not in first]
    defaults = PY_DEFAULTS.get((ns, name), {})
    lines = [f"// {ns}::{name}"]
    lines.append(f"py::object {fn_name}(py::args args, py::kwargs kwargs) {{")
    params_text = ", ".join(f'"{n}"' for n in order)
    lines.append(f'  static const Signature sig{{"{name}", {{{params_text}}}}};')
    lines.append("  Call c(sig, args, kwargs);")
    for pname, expr in defaults.items():
        if pname in order:
            lines.append(f"  c.soft_default({order.index(pname)}, {expr});")
    if (ns, name) in SCALAR_DTYPE and "dtype" in order:
        lines.append(f"  c.scalar_dtype({order.index('dtype')}, {SCALAR_DTYPE[(ns, name)]});")
    qual = "kiln::" + (ns[len("kiln::"):] + "::" if ns != "kiln" else "")
    # Overloads with more parameters first: with every optional argument
    # given, the fullest form is the one that uses them all.
    ranked = sorted(zip(usable, named), key=lambda x: -len(x[0][1]))
    lines.append("  for (bool strict : {true, false}) {")
    for (op, params), names in ranked:
        checks, args = [], []
        for p, pn in zip(params, names):
            t = bare(p["type"])
            tag, conv = TYPES[t]
            slot = order.index(pn)
            dflt = c_value(t, cpp_default(p))
            optional = t.startswith("std::optional")
            checks.append(f"{{{slot}, {tag}, {'true' if (dflt is not None or optional) else 'false'}}}")
            value = f"c.{conv}({slot})"
            if dflt is not None and not optional:
                value = f"(c.has({slot}) ? {value} : {dflt})"
            args.append(value)
        if op["has_stream"]:
            args.append("c.stream()")
        call = f"{qual}{name}({', '.join(args)})"
        cpp_sig = ", ".join(p["type"] for p in params)
        lines.append(f"    // {name}({cpp_sig})")
        lines.append(f"    if (c.fits(strict, {{{', '.join(checks)}}})) {{")
        if bare(op["returns"]) == "void":
            lines.append(f"      {call};")
            lines.append("      return py::none();")
        else:
            lines.append(f"      return wrap({call});")
        lines.append("    }")
    lines.append("  }")
    lines.append("  c.no_match();")
    lines.append("}")
    doc = f"{name}(" + ", ".join(order) + (", " if order else "") + "*, stream=None)"
    return "\n".join(lines) + "\n", doc


TOP = """// Generated by tools/bindgen/gen_python.py from the op headers: do not edit.
#include "python/convert.h"
#include "frontend/fft.h"
#include "frontend/linalg.h"
#include "frontend/ops.h"
#include "frontend/random.h"
#if __has_include("frontend/ops_scan_sort.h")
#include "frontend/ops_scan_sort.h"
#endif

namespace kiln::python {
namespace {

"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--parts", type=int, default=4)
    args = ap.parse_args()
    desc = json.load(open(args.ops))
    families = {}
    for op in desc["ops"]:
        families.setdefault((op["namespace"], op["name"]), []).append(op)
    functions, skipped = [], []
    for (ns, name), overloads in families.items():
        if ns not in NAMESPACES:
            skipped.append(f"{ns}::{name}: namespace")
            continue
        if (ns, name) in HAND_WRITTEN:
            skipped.append(f"{ns}::{name}: written by hand in python/")
            continue
        usable, why = plan_family(ns, name, overloads)
        skipped += why
        if not usable:
            continue
        fn_name = "op_" + (NAMESPACES[ns] + "_" if NAMESPACES[ns] else "") + name
        code, doc = emit_function(ns, name, usable, fn_name)
        functions.append((NAMESPACES[ns], name, fn_name, code, doc))
    parts = [functions[i::args.parts] for i in range(args.parts)]
    os.makedirs(args.out_dir, exist_ok=True)
    for i, part in enumerate(parts):
        with open(os.path.join(args.out_dir, f"py_ops_{i}.cpp"), "w") as f:
            f.write(TOP)
            for _, _, _, code, _ in part:
                f.write(code + "\n")
            f.write("}  // namespace\n\n")
            f.write(f"void init_ops_{i}(py::module_& core) {{\n")
            for sub, name, fn_name, _, doc in part:
                target = f'core.attr("{sub}").cast<py::module_>()' if sub else "core"
                f.write(f'  {target}.def("{name}", &{fn_name}, "{doc}");\n')
            f.write("}\n\n}  // namespace kiln::python\n")
    with open(os.path.join(args.out_dir, "py_ops_skipped.txt"), "w") as f:
        f.write(f"gen_python: {len(functions)} Python ops; skipped {len(skipped)} overloads:\n")
        for s in skipped:
            f.write(f"  {s}\n")


if __name__ == "__main__":
    main()
