#!/usr/bin/env python3
"""check_fn_length.py MAX_LINES FILE...

Fails (exit 1) when a C function definition in a FILE is longer than MAX_LINES,
naming each one as FILE:LINE: NAME is N lines. A function's length runs from the
line with its name to the line of its closing brace, both included (what
Universal Ctags reports as its start and end).

How it finds functions: comments, string and character literals and preprocessor
lines are blanked out first; then every brace at nesting depth 0 opens a
top-level block, and the block is a function body when the text between the end
of the previous top-level item (";" or "}") and the brace contains "(" and
neither "=" (an initialiser) nor a leading struct/union/enum/typedef. Its name is
the identifier before the first "(" of that text.

Exit: 0 all within bound; 1 a longer function, or a FILE with no function at all
(a check that reads nothing cannot fail); 2 usage or an unreadable file.
"""
import re
import sys


def blank(src):
    """src with comments, literals and preprocessor lines replaced by spaces
    (newlines kept, so line numbers stay)."""
    out = []
    i, n = 0, len(src)
    line_start = True
    while i < n:
        c = src[i]
        if line_start and c == "#":
            # A directive runs to the end of the line, or further after a backslash.
            while i < n and src[i] != "\n":
                if src[i] == "\\" and i + 1 < n and src[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                out.append(" ")
                i += 1
            continue
        if c in " \t":
            out.append(c)
            i += 1
            continue
        if c == "\n":
            out.append(c)
            line_start = True
            i += 1
            continue
        line_start = False
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", src[i + 1 : j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(src):
    """(name, first line, last line) of every function definition in src."""
    text = blank(src)
    found = []
    depth = 0
    item_start = 0  # offset where the current top-level item began
    body_start = None
    for i, c in enumerate(text):
        if c == "{":
            if depth == 0:
                head = text[item_start:i]
                body_start = None
                if (
                    "(" in head
                    and "=" not in head
                    and not re.match(r"\s*(struct|union|enum|typedef)\b", head)
                ):
                    m = re.search(r"([A-Za-z_]\w*)\s*\(", head)
                    if m:
                        name_at = item_start + m.start(1)
                        body_start = (m.group(1), text.count("\n", 0, name_at) + 1)
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                if body_start:
                    found.append((body_start[0], body_start[1], text.count("\n", 0, i) + 1))
                body_start = None
                item_start = i + 1
        elif c == ";" and depth == 0:
            item_start = i + 1
    return found


def main(argv):
    if len(argv) < 3 or not argv[1].isdigit():
        print("usage: check_fn_length.py MAX_LINES FILE...", file=sys.stderr)
        return 2
    bound = int(argv[1])
    status = 0
    count = 0
    for path in argv[2:]:
        try:
            with open(path, encoding="utf-8") as f:
                src = f.read()
        except OSError as e:
            print(f"check_fn_length: {e}", file=sys.stderr)
            return 2
        fns = functions(src)
        if not fns:
            print(f"check_fn_length: FAIL: no function found in {path}")
            status = 1
        for name, first, last in fns:
            count += 1
            if last - first + 1 > bound:
                print(f"check_fn_length: FAIL: {path}:{first}: {name} is "
                      f"{last - first + 1} lines (bound {bound})")
                status = 1
    if status == 0:
        print(f"check_fn_length: ok: {count} functions in {len(argv) - 2} files, "
              f"none over {bound} lines")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
