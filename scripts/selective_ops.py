#!/usr/bin/env python3
"""Lists the ops a GraphDef uses, and the op families (src/ops/*.c tables)
that define them: the selective inference build's input
(-DTFC_SELECTIVE_OPS_FROM=graph.pb, cmake/mobile.cmake; docs/MOBILE.md), as
TensorFlow Lite's selective build lists a model's ops.

    selective_ops.py graph.pb [src_dir]              op, family per line
    selective_ops.py --families graph.pb [src_dir]   the families, one a line

The GraphDef is read with a few lines of protobuf wire format (GraphDef.node
= 1, NodeDef.op = 2; the function library, GraphDef.library = 2, its
FunctionDef.node_def = 3), so nothing needs to be built first, which a cross
build could not run. A family is found by reading its table in src/: the
type strings of the entries of `const tfc_op_def tfc_ops_<family>[]`. An op
no table defines is an error naming it."""
import os
import re
import sys


def varint(buf, i):
    shift = value = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def fields(buf):
    """(field number, wire type, value) of a message; bytes for type 2."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wt)
        if i > len(buf):
            raise ValueError("truncated field %d" % num)
        yield num, wt, v


def node_ops(node_def):
    return [v.decode() for num, wt, v in fields(node_def) if num == 2 and wt == 2]


# What the import turns into tfc's ops (src/formats/graphdef.c,
# tf1_control_flow.c): TensorFlow 1's loop and cond primitives, the
# stateless/stateful call forms.
IMPORTED_AS = {
    "Enter": "While", "Exit": "While", "LoopCond": "While", "NextIteration": "While",
    "Switch": "If", "Merge": "If", "StatelessWhile": "While", "StatelessIf": "If",
    "StatefulPartitionedCall": "PartitionedCall",
}


def graph_ops(data):
    ops, functions = set(), set()
    for num, wt, v in fields(data):
        if num == 1 and wt == 2:                      # GraphDef.node
            ops.update(node_ops(v))
        elif num == 2 and wt == 2:                    # GraphDef.library
            for lnum, lwt, fdef in fields(v):
                if lnum == 1 and lwt == 2:            # FunctionDefLibrary.function
                    for fnum, fwt, x in fields(fdef):
                        if fnum == 3 and fwt == 2:    # FunctionDef.node_def
                            ops.update(node_ops(x))
                        elif fnum == 1 and fwt == 2:  # FunctionDef.signature: OpDef.name
                            functions.update(n.decode() for k, t, n in fields(x) if k == 1)
    # a node whose op is a library function is a call
    return set("PartitionedCall" if op in functions else IMPORTED_AS.get(op, op) for op in ops)


TABLE = re.compile(r"^const tfc_op_def tfc_ops_([a-z0-9_]+)\[\]\s*=\s*\{(.*?)^\};",
                   re.S | re.M)
ENTRY = re.compile(r"[({]\s*\"([A-Za-z_][A-Za-z0-9_]*)\"")


def op_families(src_dir):
    family = {}
    for root, _, files in os.walk(src_dir):
        for name in sorted(files):
            if not name.endswith(".c"):
                continue
            with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            for m in TABLE.finditer(text):
                for op in ENTRY.findall(m.group(2)):
                    family.setdefault(op, m.group(1))
    return family


def main(argv):
    only_families = "--families" in argv
    args = [a for a in argv[1:] if a != "--families"]
    if not args or len(args) > 2:
        sys.stderr.write(__doc__)
        return 2
    src = args[1] if len(args) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
    try:
        with open(args[0], "rb") as f:
            ops = graph_ops(f.read())
    except (OSError, ValueError, UnicodeDecodeError) as e:
        sys.stderr.write("selective_ops: %s: not a readable GraphDef (%s)\n" % (args[0], e))
        return 1
    family = op_families(src)
    unknown = sorted(op for op in ops if op not in family)
    if unknown:
        sys.stderr.write("selective_ops: %s uses ops that no table in %s defines: %s\n"
                         % (args[0], src, ", ".join(unknown)))
        return 1
    if only_families:
        for fam in sorted(set(family[op] for op in ops)):
            print(fam)
    else:
        for op in sorted(ops):
            print(op, family[op])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
