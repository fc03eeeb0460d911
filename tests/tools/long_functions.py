#!/usr/bin/env python3
"""Functions of compiler/*.c over a length limit, and whether each says why.

A function longer than LIMIT lines (its body, from the opening brace to the
closing one) needs a comment just above its definition containing "one
piece" that says why it is not split, e.g.

    /* one piece: a state machine over one token stream; its states share locals */
    static void lex(...)

Usage: long_functions.py [--limit N] [--all] [FILE.c ...]
Prints one line per long function ("file:line: name: N lines[: why]"),
the unjustified ones marked "UNJUSTIFIED"; exits 1 when one is unjustified.
--all lists the justified ones too. The project's style puts a function's
opening brace alone on the line after its signature, at column 0, and its
closing brace alone at column 0; that is what this reads.
"""
import glob
import re
import sys

LIMIT = 120
NAME = re.compile(r"([A-Za-z_]\w*)\s*\(")


def functions(text):
    """(name, signature line number, body lines, comment above) per definition."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "{" and i > 0:
            # the signature: the lines above back to one at column 0 that is not a continuation
            s = i - 1
            while s > 0 and lines[s][:1] in ("\t", " ") and lines[s].strip():
                s -= 1
            sig = " ".join(l.strip() for l in lines[s:i])
            m = NAME.search(sig)
            end = i + 1
            while end < len(lines) and lines[end] != "}":
                end += 1
            if m and not sig.startswith(("struct", "typedef", "enum", "union")) and "=" not in sig.split("(")[0]:
                yield m.group(1), s + 1, end - i + 1, comment_above(lines, s)
            i = end + 1
            continue
        i += 1


def comment_above(lines, s):
    """The comment block ending on the line just above line index s, or ""."""
    j = s - 1
    if j < 0 or not lines[j].rstrip().endswith("*/"):
        return ""
    block = [lines[j]]
    while "/*" not in lines[j] and j > 0:
        j -= 1
        block.append(lines[j])
    return " ".join(re.sub(r"^\*(?!/)\s*", "", l.strip()) for l in reversed(block))


def main(argv):
    limit, show_all, files = LIMIT, False, []
    args = iter(argv)
    for a in args:
        if a == "--limit":
            limit = int(next(args))
        elif a == "--all":
            show_all = True
        else:
            files.append(a)
    files = files or sorted(glob.glob("compiler/*.c"))
    bad = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for name, line, n, comment in functions(text):
            if n <= limit:
                continue
            why = re.search(r"one piece\b[:,]?\s*(.*?)\s*\*/", comment, re.I | re.S)
            if why:
                if show_all:
                    print(f"{path}:{line}: {name}: {n} lines: {why.group(1)}")
            else:
                bad += 1
                print(f"{path}:{line}: {name}: {n} lines: UNJUSTIFIED (no `/* one piece: why */` above it)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
