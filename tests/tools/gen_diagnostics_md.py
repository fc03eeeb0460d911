#!/usr/bin/env python3
"""Writes docs/diagnostics.md from stdlib/diagnostics.json (the same table
`platformc explain` reads). The test suite checks the committed file is current:
    python3 tests/tools/gen_diagnostics_md.py > docs/diagnostics.md
"""
import json, os

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
codes = json.load(open(os.path.join(root, "stdlib", "diagnostics.json"), encoding="utf-8"))
groups = [("E00", "Reading the input (source)"), ("E01", "Types and shapes (check)"),
          ("W01", "Types and shapes (check)"), ("E015", "Includes"), ("W015", "Includes"),
          ("E02", "References and rules across objects (resolve)"), ("W02", "References and rules across objects (resolve)")]
print("<!-- generated from stdlib/diagnostics.json by tests/tools/gen_diagnostics_md.py — do not edit -->")
print("# Diagnostics\n")
print("Every diagnostic platformc prints has a stable code. `E` codes are errors (exit status 1,")
print("nothing is written); `W` codes are warnings. `platformc explain CODE` prints the text below.")
print("Each code has at least one case in `tests/errors/` showing its exact output.\n")
print("| code | title |\n|---|---|")
for c in codes:
    print(f"| [{c['code']}](#{c['code'].lower()}) | {c['title']} |")
print()
for c in codes:
    print(f"## {c['code']}\n\n**{c['title']}**\n\n{c['explain']}\n")
