#!/usr/bin/env python3
"""Mutated kind files: the kind loader trusts a tree the kind schema accepted
(stdlib/kind-schema.yaml), so no shape of kind file may crash it.

    mutate_kinds.py PLATFORMC WORKDIR [RUNS]

Each run copies one built-in kind (catalog/<kind>/kind.yaml) into a
`platform.catalog` folder with one to three random changes (a value replaced by
a scalar, null, list or mapping of another shape; a key dropped; a key added)
and runs `platformc check`. Every run must exit 0, or 1 with coded diagnostics
only (`error[E....]`), and no sanitizer report; some runs must be rejected with
E0301 and some accepted, so a binary that does nothing fails. The seed is
fixed: a failure names its run, and WORKDIR/failed-<run>/ keeps its files.
One line per check (ok / FAIL), then the count line.
"""
import glob
import os
import random
import re
import shutil
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kind_case  # noqa: E402

binary, work = sys.argv[1], sys.argv[2]
if os.sep in binary:
    binary = os.path.abspath(binary)  # each run is in its own folder
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 60
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
kinds = sorted(glob.glob(os.path.join(root, "catalog", "*", "kind.yaml")))
rng = random.Random(19)
VALUES = ["x", 5, None, [], {}, [1], {"a": 1}, {"type": "int"}, "true", -1, "${", [None], {"value": None}]


def paths(t, path=()):
    yield path
    if isinstance(t, dict):
        for k, v in t.items():
            yield from paths(v, path + (k,))
    elif isinstance(t, list):
        for i, v in enumerate(t):
            yield from paths(v, path + (i,))


def at(t, path):
    for p in path:
        t = t[p]
    return t


def mutate(t):
    for _ in range(rng.randint(1, 3)):
        p = rng.choice([p for p in paths(t) if p])
        parent = at(t, p[:-1])
        r = rng.random()
        if r < 0.5:
            parent[p[-1]] = rng.choice(VALUES)
        elif r < 0.75 and isinstance(parent, dict):
            del parent[p[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(["typo", "type", "fields", "items", "value", "enum"])] = rng.choice(VALUES)


failed = rejected = accepted = 0
case = os.path.join(work, "case")
for i in range(runs):
    src = kinds[i % len(kinds)]
    with open(src, encoding="utf-8") as f:
        tree = yaml.safe_load(f)
    mutate(tree)
    shutil.rmtree(case, ignore_errors=True)
    name = os.path.basename(os.path.dirname(src)) + "-copy"
    kind_case.write(case, name, tree, "sqs")
    try:
        r = subprocess.run([binary, "check", "platform.yaml"], cwd=case, capture_output=True, text=True,
                           timeout=30)
        rc, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
    heads = [l for l in err.splitlines() if l.startswith("error")]
    coded = heads and all(re.match(r"error(\[[EW]\d{4}\]: |: \d+ errors?$)", l) for l in heads)
    if rc == 0 and "Sanitizer" not in err and "runtime error" not in err:
        accepted += 1
    elif rc == 1 and coded and "Sanitizer" not in err and "runtime error" not in err:
        rejected += "error[E0301]" in err
    else:
        failed += 1
        keep = os.path.join(work, "failed-%d" % i)
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(case, keep)
        print("FAIL catalog/kind-mutation-%d (%s, exit %s; files in %s)" % (i, name, rc, keep))
        for line in err.splitlines()[-12:]:
            print("    " + line)
both = rejected > 0 and accepted > 0
if failed == 0:
    print("ok   catalog/kind-mutations-never-crash (%d runs)" % runs)
print("%s catalog/kind-mutations-both-ways (%d rejected with E0301, %d accepted%s)"
      % ("ok  " if both else "FAIL", rejected, accepted, "" if both else ": want some of each"))
print("%d passed, %d failed" % ((failed == 0) + both, failed + (not both)))
sys.exit(0 if failed == 0 and both else 1)
