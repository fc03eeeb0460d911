#!/usr/bin/env python3
"""The call graph between the files of compiler/: file A -> file B when A
calls a function B defines (not static). Prints one line per file with the
files it calls into, then the import circles (groups of files that call into
each other, directly or through others); exits 1 when there is one.

Usage: python3 tests/tools/include_graph.py [compiler-dir] [--dot] [--allow a.c,b.c ...]

--allow names one circle that is known (its files, exactly): it is still
printed, but does not fail the run. A circle that grows by one file, or a new
one, fails.

Functions are found in the C text with comments, strings and character
constants blanked: a definition is a non-static `name(...) {` at the start of
a line; a call is `name(` anywhere else. A file calling its own functions, or
the test and fuzz harnesses, do not count."""
import os
import re
import sys


def blank(text):
    """Comments, strings and character constants as spaces (lines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(c + ' ' * (min(j, n) - i - 1) + (c if j < n else ''))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


DEF = re.compile(r'^(?!static\b)(?!typedef\b)[A-Za-z_][\w \t*]*?[\s*](\w+)\s*\([^;{}]*\)\s*(?:PRINTF_LIKE\s*\([^)]*\)\s*)?\{',
                 re.M)
LOCAL = re.compile(r'^static\b[\w \t*]*?[\s*](\w+)\s*\(', re.M)
CALL = re.compile(r'\b(\w+)\s*\(')
KEYWORDS = {'if', 'for', 'while', 'switch', 'return', 'sizeof', 'defined'}


def graph(src):
    files = sorted(f for f in os.listdir(src) if f.endswith('.c'))
    text = {f: blank(open(os.path.join(src, f), encoding='utf-8').read()) for f in files}
    owner = {}
    for f in files:
        for m in DEF.finditer(text[f]):
            owner.setdefault(m.group(1), f)
    edges = {f: set() for f in files}
    for f in files:
        own = {m.group(1) for m in LOCAL.finditer(text[f])}  # a static of its own hides another file's
        for m in CALL.finditer(text[f]):
            name = m.group(1)
            if name in KEYWORDS or name in own:
                continue
            g = owner.get(name)
            if g and g != f:
                edges[f].add(g)
    return files, edges


def circles(files, edges):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in files:
        if v not in index:
            visit(v)
    return sorted(out)


def main(argv):
    allowed, args, rest = [], [], argv[1:]
    while rest:
        a = rest.pop(0)
        if a == '--allow' and rest:
            allowed.append(sorted(rest.pop(0).split(',')))
        elif not a.startswith('--'):
            args.append(a)
    src = args[0] if args else os.path.join(os.path.dirname(__file__), '..', '..', 'compiler')
    files, edges = graph(src)
    if '--dot' in argv:
        print('digraph compiler {')
        for f in files:
            for g in sorted(edges[f]):
                print(f'  "{f}" -> "{g}";')
        print('}')
    else:
        for f in files:
            print(f'{f}: {" ".join(sorted(edges[f]))}')
    found = circles(files, edges)
    bad = 0
    for comp in found:
        inner = {f: sorted(g for g in edges[f] if g in comp) for f in comp}
        known = comp in allowed
        bad += not known
        print(('known circle: ' if known else 'circle: ') +
              '; '.join(f'{f} -> {", ".join(inner[f])}' for f in comp), file=sys.stderr)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
