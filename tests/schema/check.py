#!/usr/bin/env python3
"""The editor schemas against the examples and against broken copies of them.

usage: check.py ROOT_SCHEMA INCLUDED_SCHEMA PLATFORMC SCRATCH
Prints "ok   schema/<case>" or "FAIL schema/<case>" with indented details.

YAML is read as the YAML language server reads it (YAML 1.2: `2027-03-31` is a
string, `yes` is a string), not as PyYAML's YAML 1.1 default. Every broken copy
must fail validation at the path that was broken AND be rejected by
`platformc check` (exit 1), so the schema never claims more than the checker.
"""
import copy
import glob
import json
import os
import re
import subprocess
import sys

import jsonschema
import yaml

root_path, inc_path, platformc, scratch = sys.argv[1:5]
failed = 0


def report(name, good, detail=""):
    global failed
    print(("ok   " if good else "FAIL ") + "schema/" + name)
    if not good:
        failed += 1
        for line in str(detail).rstrip().split("\n")[:30]:
            print("     " + line)


class Yaml12(yaml.SafeLoader):
    pass


Yaml12.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
Yaml12.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Yaml12)


try:
    root_schema, inc_schema = json.load(open(root_path)), json.load(open(inc_path))
    jsonschema.Draft7Validator.check_schema(root_schema)
    jsonschema.Draft7Validator.check_schema(inc_schema)
    report("schemas-are-draft7", True)
except Exception as e:  # noqa: BLE001 - any failure is the case's failure
    report("schemas-are-draft7", False, e)
    sys.exit(1)
vroot, vinc = jsonschema.Draft7Validator(root_schema), jsonschema.Draft7Validator(inc_schema)


def errors(v, doc):
    return ["/".join(map(str, e.absolute_path)) + ": " + e.message[:200] for e in v.iter_errors(doc)]


# ---- the examples validate: root files and included files ----
roots = sorted(glob.glob("examples/*/platform.yaml"))
bad = [f"{f}: {e}" for f in roots for e in errors(vroot, load(f))]
report("examples-root-files-validate", roots and not bad, "\n".join(bad) or "no examples")
included = []
for f in roots:
    for pattern in load(f).get("include") or []:
        included += sorted(glob.glob(os.path.join(os.path.dirname(f), pattern)))
bad = [f"{f}: {e}" for f in included for e in errors(vinc, load(f))]
report("examples-included-files-validate", len(included) >= 3 and not bad, "\n".join(bad) or "no included files")
# a root file is not an included file, and an included file is not a root file
report("included-schema-is-not-root", errors(vinc, load(roots[0])) and errors(vroot, load(included[0])),
       "the two schemas accept each other's files")

# ---- kind is an enum of the catalog's kinds ----
kinds = sorted(os.path.basename(os.path.dirname(k)) for k in glob.glob("catalog/*/kind.yaml")
               if not (load(k) or {}).get("internal"))
got = root_schema["definitions"]["Resource"]["properties"]["kind"].get("enum")
report("kind-is-enum-of-catalog", got == kinds, f"enum {got}, catalog/ {kinds}")
params = {k: root_schema["definitions"].get("params-" + k) for k in kinds}
report("every-kind-has-params-schema", all(params.values()), [k for k, v in params.items() if not v])
inst = (params.get("aurora-postgresql") or {}).get("properties", {}).get("instances", {})
report("per-tier-default-described", "Default: 1, and 2 in prod environments." in inst.get("description", "")
       and "default" not in inst and inst.get("minimum") == 1 and inst.get("maximum") == 15, inst)
sqs = (params.get("sqs") or {}).get("properties", {})
report("defaults-typed", sqs.get("fifo", {}).get("default") is False and sqs.get("retention", {}).get("default") == "4d"
       and sqs.get("encryption", {}).get("enum") == ["sqs-managed", "kms"], sqs)

# ---- broken copies: the schema and `platformc check` both reject them ----
os.makedirs(scratch, exist_ok=True)
base = load("examples/minimal/platform.yaml")


def queue(doc):
    return next(r for r in doc["resources"] if r["name"] == "orders-queue")


def check(doc, name):
    path = os.path.join(scratch, name + ".yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    r = subprocess.run([platformc, "check", path], capture_output=True, text=True)
    return r.returncode, r.stderr


rc, err = check(base, "control")
report("control-copy-validates-and-checks", rc == 0 and not errors(vroot, base), f"check exit {rc}: {err}"
       + "\n".join(errors(vroot, base)))


def broken(name, mutate, where):
    doc = copy.deepcopy(base)
    mutate(doc)
    errs = errors(vroot, doc)
    rc, err = check(doc, name)
    good = any(e.startswith(where) for e in errs) and rc == 1
    report("rejects-" + name, good, f"want a schema error at {where}; got {errs or 'none'}\nplatformc check exit {rc}: {err}")


broken("unknown-kind", lambda d: queue(d).update(kind="sqss"), "resources/0/kind")
broken("param-wrong-type", lambda d: queue(d)["params"].update(fifo="maybe"), "resources/0/params/fifo")
broken("param-unknown", lambda d: queue(d)["params"].update(fifoo=True), "resources/0/params")
broken("param-not-in-enum", lambda d: queue(d)["params"].update(encryption="aes"), "resources/0/params/encryption")
broken("param-out-of-range", lambda d: queue(d)["params"]["dlq"].update(max_receive=5000),
       "resources/0/params/dlq/max_receive")
broken("param-bad-duration", lambda d: queue(d)["params"].update(visibility_timeout="soon"),
       "resources/0/params/visibility_timeout")
broken("override-param-wrong-type", lambda d: queue(d).update(overrides={"production": {"params": {"fifo": "maybe"}}}),
       "resources/0/overrides/production/params/fifo")
broken("defaults-param-wrong-type", lambda d: d.update(defaults={"resources": {"sqs": {"delay": "later"}}}),
       "defaults/resources/sqs/delay")
broken("defaults-unknown-kind", lambda d: d.update(defaults={"resources": {"sqss": {"fifo": True}}}),
       "defaults/resources")

# an included file with a resource of the wrong params
inc = next((f for f in included if load(f).get("resources")), None)
if inc:
    doc = load(inc)
    doc["resources"][0].setdefault("params", {})["no_such_param"] = 1
    errs = errors(vinc, doc)
    report("rejects-included-file-param-unknown", any(e.startswith("resources/0/params") for e in errs), errs)
else:
    report("rejects-included-file-param-unknown", False, "no included file with resources")

sys.exit(1 if failed else 0)
