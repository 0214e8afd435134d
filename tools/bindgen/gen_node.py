#!/usr/bin/python3
"""Writes the Node.js addon's op bindings from the description that
describe_ops.py makes (ops.json): a C++ source with one N-API function per op
family (its overloads picked at run time from the JS arguments, node/args.h)
and the TypeScript declarations of those ops (index.d.ts, from the template
node/index.d.ts.in).

JS names follow node-mlx: camelCase (not_equal -> notEqual, var ->
variance), random/linalg/fft ops under mx.random, mx.linalg, mx.fft. C++
default arguments become trailing optional JS arguments; StreamOrDevice is
dropped (ops run on the default stream). Every op of namespace kiln whose
overloads all take an array first is also an array method (a.sum(0)).
Overloads whose parameter types JS cannot express are skipped; the list is
printed. Usage:
  gen_node.py --ops ops.json --source out/node_ops.cpp --dts-template node/index.d.ts.in --dts out/index.d.ts
"""
import argparse
import json
import re

# C++ type (const and & stripped) -> (argument kind of node/args.h, TypeScript type).
KINDS = {
    "array": ("Array", "ScalarOrArray"),
    "std::optional<array>": ("OptArray", "ScalarOrArray | null"),
    "int": ("Int", "number"),
    "bool": ("Bool", "boolean"),
    "double": ("Number", "number"),
    "float": ("Number", "number"),
    "uint64_t": ("UInt64", "number | bigint"),
    "size_t": ("Size", "number"),
    "Dtype": ("Dtype", "Dtype | DtypeName"),
    "Shape": ("IntList", "number | number[]"),
    "std::vector<int>": ("IntList", "number | number[]"),
    "std::optional<std::vector<int>>": ("OptIntList", "number | number[] | null"),
    "std::vector<array>": ("ArrayList", "ScalarOrArray[]"),
    "std::string": ("String", "string"),
    "std::optional<float>": ("OptNumber", "number | null"),
    "std::pair<int, int>": ("IntPair", "number | [number, number]"),
    "std::tuple<int, int, int>": ("IntTriple", "number | [number, number, number]"),
    "std::vector<std::pair<int, int>>": ("PairList", "[number, number][]"),
    "Strides": ("Int64List", "number[]"),
}
# C++ result type -> TypeScript result type.
RESULTS = {"array": "array", "std::vector<array>": "array[]", "std::pair<array, array>": "[array, array]",
           "Dtype": "Dtype", "Shape": "number[]", "void": "void"}
NAMESPACES = {"kiln": "", "kiln::random": "random", "kiln::linalg": "linalg", "kiln::fft": "fft"}
# node-mlx's spelling where camelCase alone differs.
RENAMES = {"var": "variance"}
# Extra JS names for an op (MLX's own spelling kept as well).
ALIASES = {"var": ["var"]}
# JS array properties that an op method must not shadow.
ARRAY_PROPERTIES = {"shape", "dtype", "ndim", "size", "itemsize", "nbytes", "length", "T", "item", "tolist",
                    "toTypedArray", "toString"}


def bare(t):
    t = re.sub(r"^const\s+", "", t.strip())
    return re.sub(r"\s*&$", "", t).strip()


def camel(name):
    if name in RENAMES:
        return RENAMES[name]
    head, *rest = name.split("_")
    return head + "".join(r[:1].upper() + r[1:] for r in rest)


RESERVED = {"default", "function", "delete", "new", "in", "var", "with", "class", "const", "let", "this", "typeof"}


def js_param_name(name):
    n = camel(name)
    return n + "_" if n in RESERVED else n


def plan(desc):
    """[(namespace, name, [usable overloads])], [skipped lines]."""
    families, skipped = {}, []
    for op in desc["ops"]:
        label = f"{op['namespace']}::{op['name']}(" + ", ".join(p["type"] for p in op["params"]) + ")"
        if op["namespace"] not in NAMESPACES:
            skipped.append(f"{label}: namespace")
            continue
        if op["template"]:
            skipped.append(f"{label}: C++ template")
            continue
        if bare(op["returns"]) not in RESULTS:
            skipped.append(f"{label}: returns {op['returns']}")
            continue
        bad = [p["type"] for p in op["params"] if bare(p["type"]) != "StreamOrDevice" and bare(p["type"]) not in KINDS]
        if bad:
            skipped.append(f"{label}: parameter type {', '.join(bad)}")
            continue
        families.setdefault((op["namespace"], op["name"]), []).append(op)
    return [(ns, name, ops) for (ns, name), ops in families.items()], skipped


def js_params(op):
    return [p for p in op["params"] if bare(p["type"]) != "StreamOrDevice"]


def required_count(op):
    params = js_params(op)
    n = len(params)
    while n and params[n - 1]["default"] is not None:
        n -= 1
    return n


def ts_signature(op, drop_first=False):
    params = js_params(op)[1 if drop_first else 0:]
    req = required_count(op) - (1 if drop_first else 0)
    parts = []
    for i, p in enumerate(params):
        parts.append(f"{js_param_name(p['name'])}{'?' if i >= req else ''}: {KINDS[bare(p['type'])][1]}")
    return "(" + ", ".join(parts) + "): " + RESULTS[bare(op["returns"])]


def cpp_family(ns, name, ops, fid):
    """The C++ of one op family: its signature table and its dispatcher."""
    qual = "kiln::" + (NAMESPACES[ns] + "::" if NAMESPACES[ns] else "") + name
    js_name = (NAMESPACES[ns] + "." if NAMESPACES[ns] else "") + camel(name)
    sigs, cases = [], []
    for k, op in enumerate(ops):
        params = js_params(op)
        kinds = ", ".join("Kind::" + KINDS[bare(p["type"])][0] for p in params)
        text = js_name + ts_signature(op).replace('"', "'")
        sigs.append(f'    {{{{{kinds}}}, {required_count(op)}, "{text}"}},')
        body, args, i = [], [], 0
        for p in op["params"]:
            t = bare(p["type"])
            if t == "StreamOrDevice":
                args.append("StreamOrDevice{}")
                continue
            var = f"p{i}"
            getter = f"args.get_{KINDS[t][0].lower()}({i})"
            if p["default"] is None:
                body.append(f"      {t} {var} = {getter};")
            else:
                body.append(f"      {t} {var} = {p['default']};")
                body.append(f"      if (args.has({i})) {var} = {getter};")
            args.append(var)
            i += 1
        fn_type = f"{op['returns']} (*)(" + ", ".join(p["type"] for p in op["params"]) + ")"
        call = f"static_cast<{fn_type}>(&{qual})(" + ", ".join(args) + ")"
        if bare(op["returns"]) == "void":
            body.append(f"      {call};\n      return args.env().Undefined();")
        else:
            body.append(f"      return to_js(args.env(), {call});")
        cases.append(f"    case {k}: {{  // {op['header']}\n" + "\n".join(body) + "\n    }")
    return (f"// {qual}\n"
            f"static const Signature kSigs{fid}[] = {{\n" + "\n".join(sigs) + "\n};\n"
            f"static Napi::Value dispatch{fid}(Args& args) {{\n"
            f"  switch (args.pick(kSigs{fid}, {len(ops)}, \"{js_name}\")) {{\n" + "\n".join(cases) +
            "\n  }\n  return args.env().Undefined();\n}\n"
            f"static Napi::Value fn{fid}(const Napi::CallbackInfo& info) {{\n"
            f"  return guarded(info.Env(), [&] {{ Args args(info, false); return dispatch{fid}(args); }});\n}}\n")


def method_of(ns, name, ops):
    """Whether the family is an array method (a.sum()): namespace kiln, every
    overload's first parameter an array."""
    return ns == "kiln" and camel(name) not in ARRAY_PROPERTIES and all(
        js_params(op) and bare(js_params(op)[0]["type"]) == "array" for op in ops)


SOURCE_TOP = """// Generated by tools/bindgen/gen_node.py from the op headers: do not edit.
#include "node/args.h"
#include "node/array_wrap.h"
#include "node/dtype.h"
#include "node/errors.h"
#include <kiln/kiln.h>

namespace kiln {
namespace node_ops {

using kiln_node::Args;
using kiln_node::Kind;
using kiln_node::Signature;
using kiln_node::guarded;
using kiln_node::to_js;

"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--dts-template", required=True)
    ap.add_argument("--dts", required=True)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    desc = json.load(open(args.ops))
    families, skipped = plan(desc)

    with open(args.source, "w") as s:
        s.write(SOURCE_TOP)
        for fid, (ns, name, ops) in enumerate(families):
            s.write(cpp_family(ns, name, ops, fid) + "\n")
        s.write("}  // namespace node_ops\n}  // namespace kiln\n\n")
        s.write("namespace kiln_node {\n\n// Every op: its JS namespace ('' for mx itself), JS name, function.\n")
        s.write("const OpBinding kOps[] = {\n")
        count = 0
        for fid, (ns, name, ops) in enumerate(families):
            for js in [camel(name)] + ALIASES.get(name, []):
                s.write(f'    {{"{NAMESPACES[ns]}", "{js}", kiln::node_ops::fn{fid}}},\n')
                count += 1
        s.write(f"}};\nconst size_t kOpCount = {count};\n\n")
        s.write("// The ops that are also array methods, with `this` as their first argument.\n")
        s.write("const MethodBinding kMethods[] = {\n")
        mcount = 0
        for fid, (ns, name, ops) in enumerate(families):
            if method_of(ns, name, ops):
                for js in [camel(name)] + ALIASES.get(name, []):
                    s.write(f'    {{"{js}", [](const Napi::CallbackInfo& info) -> Napi::Value {{\n'
                            f"       return guarded(info.Env(), [&] {{ Args args(info, true); "
                            f"return kiln::node_ops::dispatch{fid}(args); }});\n     }}}},\n")
                    mcount += 1
        s.write(f"}};\nconst size_t kMethodCount = {mcount};\n\n}}  // namespace kiln_node\n")

    # TypeScript: functions per namespace, methods inside class array.
    by_ns = {v: [] for v in NAMESPACES.values()}
    methods = []
    for ns, name, ops in families:
        for js in [camel(name)] + ALIASES.get(name, []):
            for op in ops:
                if js not in RESERVED:  # `function var` is not TypeScript; a.var() is
                    by_ns[NAMESPACES[ns]].append(f"function {js}{ts_signature(op)};")
                if method_of(ns, name, ops):
                    methods.append(f"{js}{ts_signature(op, drop_first=True)};")
    ops_text = "\n".join("  " + line for line in by_ns[""])
    for sub in ("random", "linalg", "fft"):
        ops_text += f"\n\n  namespace {sub} {{\n" + "\n".join("    " + line for line in by_ns[sub]) + "\n  }"
    template = open(args.dts_template).read()
    dts = template.replace("  // @OPS@", "  // Generated from the op headers (tools/bindgen/gen_node.py).\n" + ops_text)
    dts = dts.replace("    // @METHODS@", "\n".join("    " + m for m in methods))
    with open(args.dts, "w") as d:
        d.write(dts)

    if not args.quiet:
        print(f"gen_node: {sum(len(o) for _, _, o in families)} overloads in {len(families)} functions, "
              f"{mcount} array methods; skipped {len(skipped)} overloads:")
        for line in skipped:
            print(f"  {line}")


if __name__ == "__main__":
    main()
