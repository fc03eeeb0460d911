#!/usr/bin/env python3
"""set_target.py PLATFORM.yaml — switch a platform to `targets.kyverno: cluster-policy` in place."""
import re
import sys

p = sys.argv[1]
s = open(p).read()
if re.search(r"^\s+kyverno:", s, re.M):
    s = re.sub(r"^(\s+kyverno:\s*)\S+", r"\1cluster-policy", s, flags=re.M)
elif re.search(r"^\s+targets:", s, re.M):
    s = re.sub(r"^(\s+)targets:\s*\n", lambda m: m.group(0) + m.group(1) + "  kyverno: cluster-policy\n", s, count=1, flags=re.M)
elif re.search(r"^platform:\s*\n", s, re.M):
    s = re.sub(r"^platform:\s*\n", "platform:\n  targets: {kyverno: cluster-policy}\n", s, count=1, flags=re.M)
else:
    sys.exit("set_target.py: no `platform:` mapping in " + p)
open(p, "w").write(s)
