#!/usr/bin/env python3
"""Writes the parameter reference of the built-in resource kinds into docs/catalog.md,
between the markers below, from `platformc explain --markdown` (which reads
catalog/<kind>/kind.yaml as compiled into the binary):

    python3 tests/tools/gen_catalog_md.py            # rewrite docs/catalog.md
    python3 tests/tools/gen_catalog_md.py --check    # exit 1 when docs/catalog.md is not current

The binary is $PLATFORMC (default build/platformc). Exit 2 when it fails or prints nothing.
"""
import os
import subprocess
import sys

BEGIN = "<!-- BEGIN platformc explain --markdown -->\n"
END = "<!-- END platformc explain --markdown -->\n"

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
binary = os.environ.get("PLATFORMC", os.path.join(root, "build", "platformc"))
page = os.path.join(root, "docs", "catalog.md")

try:
    run = subprocess.run([binary, "explain", "--markdown"], capture_output=True, text=True)
except OSError as e:
    sys.stderr.write(f"gen_catalog_md: cannot run {binary}: {e}\n")
    sys.exit(2)
if run.returncode != 0 or "### `" not in run.stdout:
    sys.stderr.write(f"gen_catalog_md: `{binary} explain --markdown` exited {run.returncode} "
                     f"and printed {len(run.stdout)} bytes\n{run.stderr}")
    sys.exit(2)

with open(page, encoding="utf-8") as f:
    text = f.read()
if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
    sys.stderr.write(f"gen_catalog_md: docs/catalog.md needs one pair of markers:\n{BEGIN}{END}")
    sys.exit(2)
head, rest = text.split(BEGIN)
_, tail = rest.split(END)
new = head + BEGIN + run.stdout + END + tail

if "--check" in sys.argv[1:]:
    if new != text:
        import difflib
        sys.stdout.writelines(list(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                                        "docs/catalog.md", "platformc explain --markdown"))[:60])
        print("docs/catalog.md is not current: run `python3 tests/tools/gen_catalog_md.py`")
        sys.exit(1)
    sys.exit(0)
with open(page, "w", encoding="utf-8") as f:
    f.write(new)
