#!/usr/bin/env python3
"""Writes the cluster requirements of stdlib/requirements.yaml into docs/guide.md §7,
between the markers below: every entry, with its `when` as a condition and each
${value} as the value's `guide` text. out/README.md lists the same entries that apply
to a platform (compiler/backend_readme.c), so the two cannot drift.

    python3 tests/tools/gen_requirements_md.py            # rewrite docs/guide.md
    python3 tests/tools/gen_requirements_md.py --check    # exit 1 when it is not current
"""
import os
import re
import sys

import yaml

BEGIN = "<!-- BEGIN stdlib/requirements.yaml -->\n"
END = "<!-- END stdlib/requirements.yaml -->\n"
COND = {
    ("resources", True): "with resources",
    ("crossplane", "claims"): "`targets.crossplane: claims` (the default)",
    ("crossplane", "namespaced"): "`targets.crossplane: namespaced`",
    ("kyverno", "validating-policy"): "`targets.kyverno: validating-policy` (the default)",
    ("kyverno", "cluster-policy"): "`targets.kyverno: cluster-policy`",
    ("canary", True): "with a `rollout: canary` service",
    ("vpa", True): "with an `autoscaling.vpa` service",
}

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(root, "stdlib", "requirements.yaml"), encoding="utf-8") as f:
    data = yaml.safe_load(f)
values = {k: v["guide"] for k, v in data["values"].items()}
lines = []
for r in data["requirements"]:
    text = re.sub(r"\$\{([^}]*)\}", lambda m: values[m.group(1)], " ".join(r["text"].split()))
    when = [COND[(k, v)] for k, v in (r.get("when") or {}).items()]
    lines.append("- " + (f"*{', '.join(when)}:* " if when else "") + text)
section = "\n".join(lines) + "\n"

page = os.path.join(root, "docs", "guide.md")
with open(page, encoding="utf-8") as f:
    text = f.read()
if text.count(BEGIN) != 1 or text.count(END) != 1:
    sys.exit(f"gen_requirements_md: docs/guide.md needs one pair of markers:\n{BEGIN}{END}")
head, rest = text.split(BEGIN)
_, tail = rest.split(END)
new = head + BEGIN + section + END + tail
if "--check" in sys.argv[1:]:
    if new != text:
        print("docs/guide.md's cluster requirements differ from stdlib/requirements.yaml: "
              "run `python3 tests/tools/gen_requirements_md.py`")
        sys.exit(1)
    sys.exit(0)
with open(page, "w", encoding="utf-8") as f:
    f.write(new)
