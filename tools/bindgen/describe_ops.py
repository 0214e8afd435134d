#!/usr/bin/python3
"""Parses kiln's public op headers with libclang and writes a neutral
description of every public op overload (name, namespace, parameters with
their C++ types and defaults, return type) as JSON.

This description is what the bindings are generated from: gen_c.py writes
the mlx-c compatible C wrappers from it, and the Python and Node bindings are
meant to read the same file. Usage:
  describe_ops.py --source-dir DIR --out ops.json [--libclang PATH]
"""
import argparse
import json
import os
import sys

import clang.cindex as ci

# The public op headers: ops.h pulls in ops_misc.h; the others are listed
# when they exist (other branches add them).
HEADERS = ["frontend/ops.h", "frontend/ops_misc.h", "frontend/ops_scan_sort.h", "frontend/random.h",
           "frontend/linalg.h", "frontend/fft.h"]


def default_text(param):
    """The default argument's source text, or None. A parameter has a
    default when its cursor has an expression child. The text is the tokens
    after '=' up to the first ',' or ')' outside brackets: for a declaration
    that a macro writes (KILN_REDUCTION), libclang reports the rest of the
    macro's tokens, not just the parameter's."""
    if not any(c.kind.is_expression() for c in param.get_children()):
        return None
    tokens = [t.spelling for t in param.get_tokens()]
    if "=" not in tokens:
        return None
    out, depth = [], 0
    for t in tokens[tokens.index("=") + 1:]:
        if depth == 0 and t in (",", ")", ";"):
            break
        depth += (t in "([{") - (t in ")]}")
        out.append(t)
    return " ".join(out)


def describe(source_dir, libclang):
    if libclang:
        ci.Config.set_library_file(libclang)
    present = [h for h in HEADERS if os.path.exists(os.path.join(source_dir, h))]
    # One translation unit including every header, so each is parsed once.
    text = "".join(f'#include "{h}"\n' for h in present)
    index = ci.Index.create()
    tu = index.parse("kiln_ops_all.cpp", args=["-x", "c++", "-std=c++20", f"-I{source_dir}"],
                     unsaved_files=[("kiln_ops_all.cpp", text)])
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        for d in errors:
            print(f"describe_ops: {d}", file=sys.stderr)
        sys.exit(1)
    wanted = {os.path.realpath(os.path.join(source_dir, h)) for h in present}
    ops = []

    def visit(node, namespace):
        for child in node.get_children():
            if child.kind == ci.CursorKind.NAMESPACE:
                if child.spelling == "detail":
                    continue
                visit(child, namespace + [child.spelling])
            elif child.kind in (ci.CursorKind.FUNCTION_DECL, ci.CursorKind.FUNCTION_TEMPLATE):
                loc = child.location.file
                if loc is None or os.path.realpath(loc.name) not in wanted:
                    continue
                if child.spelling.startswith("operator"):
                    continue
                params = [{"name": p.spelling, "type": p.type.spelling, "default": default_text(p)}
                          for p in child.get_children() if p.kind == ci.CursorKind.PARM_DECL]
                ops.append({
                    "name": child.spelling,
                    "namespace": "::".join(namespace),
                    "template": child.kind == ci.CursorKind.FUNCTION_TEMPLATE,
                    # Defined in the header: a convenience overload forwarding to another.
                    "inline": child.is_definition(),
                    "returns": child.result_type.spelling,
                    "params": params,
                    "header": os.path.relpath(os.path.realpath(loc.name), os.path.realpath(source_dir)),
                })

    visit(tu.cursor, [])
    return {"headers": present, "ops": ops}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--libclang", default=None)
    args = ap.parse_args()
    desc = describe(args.source_dir, args.libclang)
    with open(args.out, "w") as f:
        json.dump(desc, f, indent=1)


if __name__ == "__main__":
    main()
