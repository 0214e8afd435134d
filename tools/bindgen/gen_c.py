#!/usr/bin/python3
"""Writes kiln's mlx-c compatible op wrappers from the description that
describe_ops.py makes: a C header (declarations) and a C++ source (the
wrappers: each catches, reports through the error handler, returns 1).

mlx-c's scheme: `int mlx_NAME(RESULTS..., INPUTS..., const mlx_stream s)`;
results first as pointers, arrays as `const mlx_array`, int lists as
`const int* x, size_t x_num`, array lists as `const mlx_vector_array`,
optional arrays as an mlx_array whose ctx may be NULL. Overloads that cannot
be expressed so (C++ templates, nested containers, non-array results) are
skipped; the list is printed. Usage:
  gen_c.py --ops ops.json --header out/kiln/c/ops.h --source out/ops.cpp
"""
import argparse
import json
import re

from mlx_c_names import by_op as mlx_c_by_op

# C++ type (const and & stripped) -> how one parameter crosses the C line.
SCALARS = {"int": "int", "bool": "bool", "double": "double", "float": "float", "uint64_t": "uint64_t"}


def bare(t):
    t = re.sub(r"^const\s+", "", t.strip())
    return re.sub(r"\s*&$", "", t).strip()


def c_params(p):
    """[(C declaration, ...)], C++ argument expression; None if inexpressible."""
    t, n = bare(p["type"]), p["name"]
    if t == "array":
        return [f"const mlx_array {n}"], f"kiln_c::get({n})"
    if t == "std::optional<array>":
        return [f"const mlx_array {n} /* may be null */"], f"kiln_c::optional({n})"
    if t in SCALARS:
        return [f"{SCALARS[t]} {n}"], n
    if t == "Dtype":
        return [f"mlx_dtype {n}"], f"kiln_c::to_dtype({n})"
    if t in ("Shape", "std::vector<int>"):
        return [f"const int* {n}", f"size_t {n}_num"], f"std::vector<int>({n}, {n} + {n}_num)"
    if t == "std::vector<array>":
        return [f"const mlx_vector_array {n}"], f"kiln_c::get({n})"
    if t == "std::string":
        return [f"const char* {n}"], f"std::string({n})"
    if t == "std::optional<std::vector<int>>":
        return ([f"const int* {n} /* may be null */", f"size_t {n}_num"],
                f"({n} ? std::optional<std::vector<int>>(std::vector<int>({n}, {n} + {n}_num)) : std::nullopt)")
    if t == "std::optional<float>":
        return [f"mlx_optional_float {n}"], f"kiln_c::optional({n})"
    if t == "std::pair<int, int>":
        return [f"int {n}_0", f"int {n}_1"], f"std::pair<int, int>({n}_0, {n}_1)"
    if t == "std::tuple<int, int, int>":
        return [f"int {n}_0", f"int {n}_1", f"int {n}_2"], f"std::tuple<int, int, int>({n}_0, {n}_1, {n}_2)"
    if t == "StreamOrDevice":
        return [f"const mlx_stream {n}"], f"kiln_c::get({n})"
    return None


RESULTS = {
    "array": (["mlx_array* res"], "kiln_c::set(res, {call})"),
    "std::vector<array>": (["mlx_vector_array* res"], "kiln_c::set(res, {call})"),
    "std::pair<array, array>": (["mlx_array* res_0", "mlx_array* res_1"],
                                "auto [r0, r1] = {call};\n    kiln_c::set(res_0, r0);\n    kiln_c::set(res_1, r1)"),
}
NAMESPACE_PREFIX = {"kiln": "", "kiln::random": "random_", "kiln::linalg": "linalg_", "kiln::fft": "fft_"}


def signature_key(op):
    return tuple((p["name"], bare(p["type"])) for p in op["params"] if bare(p["type"]) != "StreamOrDevice")


def is_subsequence(small, big):
    it = iter(big)
    return all(x in it for x in small)


def overload_suffix(op, family):
    """mlx-c's naming of overloads: the axes form of a reduction is the plain
    name, the single-axis form `_axis`, the all-axes form `_all`; otherwise
    the names of the parameters that set this overload apart from the
    family's common prefix."""
    keys = [signature_key(o) for o in family]
    names = [k[0] for k in signature_key(op)]
    if any("axes" in [n for n, _ in k] for k in keys) and any("axis" in [n for n, _ in k] for k in keys):
        if "axes" in names:
            return ""
        if "axis" in names:
            return "_axis"
        return "_all"
    if any("axis" in [n for n, _ in k] for k in keys) and not any("axes" in [n for n, _ in k] for k in keys) \
            and len(keys) == 2:
        return "_axis" if "axis" in names else ""
    common = 0
    while all(len(k) > common for k in keys) and len({k[common] for k in keys}) == 1:
        common += 1
    rest = names[common:]
    return "_" + "_".join(rest) if rest else ""


def matches(op, params):
    """Whether an overload has mlx-c's parameter names (and types, where given)."""
    key = signature_key(op)
    return len(key) == len(params) and all(n == pn and (pt is None or t == pt)
                                           for (n, t), (pn, pt) in zip(key, params))


def plan(desc, missing=None):
    """Returns (wrappers, skipped): wrappers as dicts with the C name and the
    pieces of its declaration and body; skipped as 'op(types): why'. An op
    that mlx-c has gets mlx-c's names (mlx_c_names.py) and only its
    overloads; `missing` (a list) receives the mlx-c functions of such ops
    that no overload matched."""
    wrappers, skipped = [], []
    by_name = {}
    for op in desc["ops"]:
        by_name.setdefault((op["namespace"], op["name"]), []).append(op)
    mlx_c = mlx_c_by_op()
    # An overload's suffixed name must not be another op's own name
    # (scatter_add's single-axis form vs the op scatter_add_axis).
    own_names = {"mlx_" + NAMESPACE_PREFIX.get(ns, "") + name for ns, name in by_name}
    taken = set()
    for (ns, name), overloads in by_name.items():
        label = lambda o: f"{ns}::{name}(" + ", ".join(p["type"] for p in o["params"]) + ")"
        usable = []
        for op in overloads:
            if op["template"]:
                skipped.append(f"{label(op)}: C++ template")
                continue
            if bare(op["returns"]) not in RESULTS and op["returns"] != "void":
                skipped.append(f"{label(op)}: returns {op['returns']}")
                continue
            if ns not in NAMESPACE_PREFIX:
                skipped.append(f"{label(op)}: namespace")
                continue
            conv = [c_params(p) for p in op["params"]]
            if any(c is None for c in conv):
                bad = [p["type"] for p, c in zip(op["params"], conv) if c is None]
                skipped.append(f"{label(op)}: parameter type {', '.join(bad)}")
                continue
            usable.append((op, conv))
        entries = mlx_c.get((ns[len("kiln::"):] if ns.startswith("kiln::") else "", name))
        if entries:
            # mlx-c's own names, one per overload it has.
            named = []
            for op, conv in usable:
                hit = [c for c, params in entries if matches(op, params)]
                if hit:
                    named.append((op, conv, hit[0]))
                else:
                    skipped.append(f"{label(op)}: no such overload in mlx-c")
            if missing is not None:
                missing += [c for c, _ in entries if all(c != h for _, _, h in named)]
        else:
            # An inline overload whose parameters all appear in another one is a
            # convenience form (zeros(shape) = zeros(shape, float32)): C spells
            # every argument, so only the full form is wrapped.
            full = [(op, conv) for op, conv in usable
                    if not (op["inline"] and any(o is not op and is_subsequence(signature_key(op), signature_key(o))
                                                 for o, _ in usable))]
            for op, _ in usable:
                if all(op is not o for o, _ in full):
                    skipped.append(f"{label(op)}: convenience form of another overload")
            family = [op for op, _ in full]
            named = []
            for op, conv in full:
                base = "mlx_" + NAMESPACE_PREFIX[ns] + name
                cname = base + (overload_suffix(op, family) if len(family) > 1 else "")
                if cname in taken or (cname != base and cname in own_names):  # same parameter names, other types
                    cname += "_" + "_".join(re.sub(r"\W+", "", bare(p["type"])) for p in op["params"][:2])
                named.append((op, conv, cname))
        for op, conv, cname in named:
            if cname in taken:
                raise SystemExit(f"gen_c: two overloads named {cname} (make mlx_c_names.py's entry name a type)")
            taken.add(cname)
            results = RESULTS.get(bare(op["returns"]), ([], "{call}"))
            decl = results[0] + [d for c in conv for d in c[0]]
            call = f"kiln::{NAMESPACE_PREFIX[ns] and ns[len('kiln::'):] + '::'}{name}(" + ", ".join(c[1] for c in conv) + ")"
            wrappers.append({"c_name": cname, "cpp": label(op), "decl": decl, "body": results[1].format(call=call),
                             "op": op})
    return wrappers, skipped


HEADER_TOP = """/* Generated by tools/bindgen/gen_c.py from the op headers: do not edit. */
#ifndef KILN_C_OPS_H
#define KILN_C_OPS_H
#include "kiln/c/array.h"
#include "kiln/c/optional.h"
#include "kiln/c/stream.h"
#include "kiln/c/vector.h"

#ifdef __cplusplus
extern "C" {
#endif
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", required=True)
    ap.add_argument("--header", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--table", help="a C file listing every wrapper (for tests/c)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--check-mlx-c", action="store_true",
                    help="fail when an op mlx-c has lacks one of mlx-c's functions (a name or signature mismatch)")
    args = ap.parse_args()
    desc = json.load(open(args.ops))
    missing = []
    wrappers, skipped = plan(desc, missing)
    with open(args.header, "w") as h:
        h.write(HEADER_TOP)
        for w in wrappers:
            h.write(f"/* {w['cpp']} */\nint {w['c_name']}({', '.join(w['decl'])});\n")
        h.write("\n#ifdef __cplusplus\n}\n#endif\n#endif\n")
    with open(args.source, "w") as s:
        s.write("// Generated by tools/bindgen/gen_c.py from the op headers: do not edit.\n")
        s.write('#include "kiln/c/ops.h"\n#include "c/private.h"\n\n')
        for w in wrappers:
            s.write(f'extern "C" int {w["c_name"]}({", ".join(w["decl"])}) {{\n'
                    f"  try {{\n    {w['body']};\n  }} catch (const std::exception& e) {{\n"
                    f"    return kiln_c::report(e);\n  }}\n  return 0;\n}}\n\n")
    if args.table:
        with open(args.table, "w") as t:
            t.write("/* Generated by tools/bindgen/gen_c.py: every wrapper with its C++ op and parameters. */\n")
            json.dump([{"c_name": w["c_name"], "cpp": w["cpp"], "decl": w["decl"]} for w in wrappers],
                      t, indent=1)
    if not args.quiet:
        print(f"gen_c: {len(wrappers)} wrappers; skipped {len(skipped)} overloads:")
        for s in skipped:
            print(f"  {s}")
    if missing:
        print("mlx-c functions of wrapped ops that no overload matches: " + " ".join(sorted(missing)))
        if args.check_mlx_c:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
