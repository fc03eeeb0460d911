#!/usr/bin/env python3
"""The kind-file schema (`platformc schema --kind`, docs/kind.schema.json) for
editors: it is draft-07, every built-in kind validates, and broken copies of a
built-in kind fail where they are broken — and `platformc check` rejects each
copy too (E0301), as a kind of `platform.catalog`, while the unbroken copy
passes both.

usage: kind_check.py KIND_SCHEMA_JSON PLATFORMC WORKDIR
Prints "ok   schema/<case>" or "FAIL schema/<case>" with indented details."""
import copy
import glob
import json
import os
import subprocess
import sys

import jsonschema
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "catalog"))
import kind_case  # noqa: E402

schema_path, platformc, work = sys.argv[1:4]
platformc = os.path.abspath(platformc) if os.sep in platformc else platformc
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
status = 0


def report(name, problems):
    global status
    if problems:
        status = 1
        print(f"FAIL schema/{name}")
        for p in problems[:20]:
            print(f"     {p}")
    else:
        print(f"ok   schema/{name}")


schema = json.load(open(schema_path))
problems = []
try:
    jsonschema.Draft7Validator.check_schema(schema)
except jsonschema.SchemaError as e:
    problems.append(f"not draft-07: {e.message}")
v = jsonschema.Draft7Validator(schema)
kinds = sorted(glob.glob(os.path.join(root, "catalog", "*", "kind.yaml")))
if len(kinds) < 10:
    problems.append(f"only {len(kinds)} built-in kinds found")
for f in kinds:
    for e in v.iter_errors(yaml.safe_load(open(f))):
        problems.append(f"{os.path.relpath(f, root)}: {'.'.join(map(str, e.path))}: {e.message[:120]}")
report("kind-schema-validates-built-in-kinds", problems)

base = yaml.safe_load(open(os.path.join(root, "catalog", "sqs", "kind.yaml")))


def broken(path, value):
    """A copy of the sqs kind with `value` at `path` (None: the key removed)."""
    d = copy.deepcopy(base)
    node = d
    for k in path[:-1]:
        node = node[k]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


first_param = next(iter(base["params"]))
with_min = next(k for k, p in base["params"].items() if isinstance(p, dict) and "min" in p)
cases = {
    "unbroken": (copy.deepcopy(base), None),
    "unknown-key-in-a-param": (broken(["params", first_param, "defualt"], 1), ["params", first_param]),
    "unknown-param-type": (broken(["params", first_param, "type"], "integr"), ["params", first_param, "type"]),
    "port-out-of-range": (broken(["port"], 70000), ["port"]),
    "title-missing": (broken(["title"], None), []),
    "min-a-list": (broken(["params", with_min, "min"], [1]), ["params", with_min, "min"]),
    "resources-not-a-list": (broken(["resources"], {"a": 1}), ["resources"]),
}
for name, (doc, where) in cases.items():
    problems = []
    errs = list(v.iter_errors(doc))
    if where is None and errs:
        problems.append(f"the unbroken copy fails the schema: {errs[0].message[:120]}")
    if where is not None:
        if not errs:
            problems.append("the schema accepts it")
        elif not any(list(e.absolute_path)[:len(where)] == where for e in errs):
            problems.append(f"the schema flags {[list(e.absolute_path) for e in errs]}, not {where}")
    d = os.path.join(work, name)
    kind_case.write(d, "queue2", doc, "queue2")
    r = subprocess.run([platformc, "check", "platform.yaml"], cwd=d, capture_output=True, text=True,
                       env={**os.environ, "NO_COLOR": "1"})
    if where is None and r.returncode != 0:
        problems.append(f"platformc check rejects the unbroken copy: {r.stderr[:300]}")
    if where is not None and (r.returncode != 1 or "E0301" not in r.stderr):
        problems.append(f"platformc check exit {r.returncode}, no E0301: {r.stderr[:300]}")
    report(f"kind-copy-{name}", problems)
sys.exit(status)
