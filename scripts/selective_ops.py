#!/usr/bin/env python3
"""Lists the ops a GraphDef uses, and the op families (src/ops/*.c tables)
that define them: the selective inference build's input
(-DTFC_SELECTIVE_OPS_FROM=graph.pb, cmake/mobile.cmake; docs/MOBILE.md), as
TensorFlow Lite's selective build lists a model's ops.

    selective_ops.py graph.pb [src_dir]              op, family per line
    selective_ops.py --families graph.pb [src_dir]   the families, one a line
    selective_ops.py --generate OUT graph.pb [src_dir]
        per-op registration: for each family the GraphDef uses (and `core`,
        whose ops the import and the runtime make themselves), writes
        OUT/<family>_selected.c, which compiles the family's file with its
        table renamed out of the way and defines the table anew with only
        the entries of the ops the GraphDef uses; prints "family source
        generated" per line. The full table, which nothing refers to, and
        every kernel only it reaches are then dropped by the linker
        (-ffunction-sections -fdata-sections, --gc-sections).

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


def tables(src_dir):
    """(family, source path, table match) for every op table in src_dir."""
    for root, dirs, files in os.walk(src_dir):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".c"):
                continue
            path = os.path.join(root, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for m in TABLE.finditer(text):
                yield m.group(1), path, m


def op_families(src_dir):
    family = {}
    for fam, _, m in tables(src_dir):
        for op in ENTRY.findall(m.group(2)):
            family.setdefault(op, fam)
    return family


COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def table_entries(body):
    """The entries of a table's body, split at the commas outside brackets,
    strings and comments: (op name or None for the terminator, text)."""
    entries, depth, start, i = [], 0, 0, 0
    while i < len(body):
        c = body[i]
        if body.startswith("/*", i):
            i = body.index("*/", i) + 2
            continue
        if body.startswith("//", i):
            i = body.find("\n", i) % (len(body) + 1)
            continue
        if c in "\"'":
            j = i + 1
            while body[j] != c:
                j += 2 if body[j] == "\\" else 1
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            entries.append(body[start:i])
            start = i + 1
        i += 1
    entries.append(body[start:])
    out = []
    for text in entries:
        code = COMMENT.sub("", text).strip()
        if not code:
            continue
        m = re.search(r'"([A-Za-z_][A-Za-z0-9_]*)"', code)
        out.append((m.group(1) if m else None, text.strip()))
    return out


def generate(out_dir, ops, src_dir):
    """Writes the selected tables (see --generate); returns the lines to print."""
    os.makedirs(out_dir, exist_ok=True)
    family = op_families(src_dir)
    wanted = set(ops) | {op for op, fam in family.items() if fam == "core"}
    lines = []
    for fam, path, m in tables(src_dir):
        entries = table_entries(m.group(2))
        keep = [text for op, text in entries if op in wanted and family.get(op) == fam]
        if not keep:
            continue
        keep += [text for op, text in entries if op is None]  # the terminator
        rel = os.path.relpath(path, os.path.join(src_dir, ".."))
        text = ("/* Generated by scripts/selective_ops.py from %s for a selective\n"
                " * inference build (TFC_SELECTIVE_OPS_FROM, cmake/mobile.cmake): the\n"
                " * family's table, renamed, is compiled but referred to by nothing,\n"
                " * so the linker drops it and the kernels only it reaches; the table\n"
                " * below lists the ops the GraphDef uses. */\n"
                "#define tfc_ops_%s tfc_ops_%s_unselected\n"
                "#include \"%s\"\n"
                "#undef tfc_ops_%s\n\n"
                "const tfc_op_def tfc_ops_%s[] = {\n%s\n};\n"
                % (rel, fam, fam, os.path.abspath(path), fam, fam,
                   "\n".join("    %s," % t for t in keep)))
        generated = os.path.join(out_dir, "%s_selected.c" % fam)
        old = None
        if os.path.exists(generated):
            with open(generated, encoding="utf-8") as f:
                old = f.read()
        if old != text:  # unchanged files keep their time: nothing recompiles
            with open(generated, "w", encoding="utf-8") as f:
                f.write(text)
        lines.append("%s %s %s" % (fam, path, generated))
    return lines


def main(argv):
    only_families = "--families" in argv
    args = [a for a in argv[1:] if a != "--families"]
    out_dir = None
    if args and args[0] == "--generate":
        if len(args) < 2:
            sys.stderr.write(__doc__)
            return 2
        out_dir, args = args[1], args[2:]
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
    if out_dir:
        for line in generate(out_dir, ops, src):
            print(line)
    elif only_families:
        for fam in sorted(set(family[op] for op in ops)):
            print(fam)
    else:
        for op in sorted(ops):
            print(op, family[op])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
