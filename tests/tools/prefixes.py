#!/usr/bin/env python3
"""An exported function's prefix names the file that defines it: a non-static
function of compiler/ whose name is `<stem>` or starts with `<stem>_`, for
some file `<stem>.c` of compiler/, is defined in that file. With several
matching stems the longest decides (`catalog_load_x` belongs to
catalog_load.c, `catalog_x` to catalog.c). Names that match no stem
(`sb_*` in util.c, `promql_quote` in monitoring.c) are free.

So "where does monitoring_settings live?" has one answer, and moving a
function to another file without renaming it fails.

Usage: python3 tests/tools/prefixes.py [compiler-dir]
Prints one line per misplaced function and exits 1 when there is one.

Definitions are found as tests/tools/include_graph.py finds them (comments
and strings blanked; a non-static `name(...) {` at the start of a line)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from include_graph import DEF, blank  # noqa: E402

# Functions that keep a prefix naming another file, each with its reason. An
# entry whose function is gone from its file fails too, so the list only shrinks.
EXCEPTIONS = {}


def owner_stem(name, stems):
    best = None
    for s in stems:
        if (name == s or name.startswith(s + '_')) and (best is None or len(s) > len(best)):
            best = s
    return best


def misplaced(src):
    files = sorted(f for f in os.listdir(src) if f.endswith('.c'))
    stems = [f[:-2] for f in files]
    out = []
    for f in files:
        with open(os.path.join(src, f), encoding='utf-8') as fh:
            text = blank(fh.read())
        for m in DEF.finditer(text):
            name = m.group(1)
            stem = owner_stem(name, stems)
            if stem is None or stem + '.c' == f or (name, f) in EXCEPTIONS:
                continue
            line = text.count('\n', 0, m.start(1)) + 1
            out.append(f'{f}:{line}: {name} is defined here, but its prefix names {stem}.c')
    return out


def stale(src):
    """Exceptions for a function its file no longer defines."""
    out = []
    for name, f in sorted(EXCEPTIONS):
        path = os.path.join(src, f)
        defined = False
        if os.path.exists(path):
            with open(path, encoding='utf-8') as fh:
                defined = any(m.group(1) == name for m in DEF.finditer(blank(fh.read())))
        if not defined:
            out.append(f'{f}: {name} is listed as an exception but not defined there')
    return out


def main(argv):
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'compiler')
    src = argv[1] if len(argv) > 1 else here
    bad = misplaced(src)
    if os.path.realpath(src) == os.path.realpath(here):  # the exceptions are compiler/'s
        bad += stale(src)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
