#!/usr/bin/env python3
"""policy_check.py - the policy library as platformc renders it.

The policies themselves are no longer re-encoded here: tests/admission/ runs
the rendered CEL with a conformant engine (@bufbuild/cel) over every built
object and the objects controllers make from them, as Kyverno 1.15-1.17 would
(autogen, exceptions, Pod Security), and over mutants each policy must deny.
This script keeps the command line the test suite uses and hands the
executable checks to that harness.

Usage:
  policy_check.py --self-test
      the Kubernetes CEL library shims of the harness against known cases
  policy_check.py --platform FILE BUILT.yaml...
      runs the policies of each BUILT (the output of `kubectl kustomize
      clusters/<env>`, which includes platform/kyverno) over its objects and the
      objects controllers make from them; prints each denial and CEL error
  policy_check.py --platform FILE --rendered DIR
      DIR (platform/kyverno of a render) holds exactly one policy per enabled
      library policy, of the kind the target asks for, and one exception per
      exception of FILE
Exit status 0 when all is well, 1 otherwise.
"""
import glob
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADMISSION = os.path.join(ROOT, "tests", "admission")


def load_library():
    with open(os.path.join(ROOT, "stdlib", "policies.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)["policies"]


def load_model(path):
    base = os.path.dirname(os.path.abspath(path))
    with open(path, encoding="utf-8") as f:
        root = yaml.load(f, Loader=yaml.BaseLoader)   # every scalar a string, as platformc reads them
    docs = [root]
    for pat in root.get("include") or []:
        for p in sorted(glob.glob(os.path.join(base, pat))):
            with open(p, encoding="utf-8") as f:
                docs.append(yaml.load(f, Loader=yaml.BaseLoader) or {})
    teams = [t for d in docs for t in d.get("teams") or []]
    services = [s for d in docs for s in d.get("services") or []]
    envs = [e["name"] for e in root["environments"]]
    pl = root["platform"]
    team_regs = {t["name"]: list(t["registries"]) for t in teams if t.get("registries")}
    pols = root.get("policies") or {}
    svc_ns = {}
    for s in services:
        svc_ns[s["name"]] = {"%s-%s" % (s["team"], e) for e in (s.get("environments") or envs)}
    exceptions = []
    for e in pols.get("exceptions") or []:
        exceptions.append((e["policy"], {(svc, ns) for svc in e["services"] for ns in svc_ns.get(svc, ())}))
    return {
        "domain": pl["domain"], "registries": list(pl["registries"]), "team_registries": team_regs,
        "disable": set(pols.get("disable") or []), "exceptions": exceptions, "exceptions_raw": pols.get("exceptions") or [],
        "target": (pl.get("targets") or {}).get("kyverno", "validating-policy"),
        "action": pols.get("action", "Enforce"), "svc_ns": svc_ns,
    }



def load_objects(paths):
    objs = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            objs.extend(d for d in yaml.safe_load_all(f) if isinstance(d, dict))
    return objs



def run_rendered(model_path, d):
    lib = load_library()
    model = load_model(model_path)
    errs = []
    cluster = model["target"] == "cluster-policy"
    found = {}
    for p in sorted(glob.glob(os.path.join(d, "*.yaml"))):
        if os.path.basename(p) == "kustomization.yaml":
            continue
        for o in load_objects([p]):
            found.setdefault(o["kind"], []).append(o)
    policies = {o["metadata"]["name"]: o for k in ("ValidatingPolicy", "ClusterPolicy") for o in found.get(k, [])}
    for pol in lib:
        name = pol["name"]
        if name in model["disable"]:
            if name in policies:
                errs.append("%s is disabled but rendered" % name)
            continue
        o = policies.get(name)
        want = "ValidatingPolicy" if "validations" in pol and not cluster else "ClusterPolicy"
        if not o:
            errs.append("%s is not rendered" % name)
        elif o["kind"] != want:
            errs.append("%s is a %s, want %s" % (name, o["kind"], want))
        elif o["kind"] == "ValidatingPolicy":
            if len(o["spec"]["validations"]) != len(pol["validations"]):
                errs.append("%s: %d validations, library has %d" % (name, len(o["spec"]["validations"]), len(pol["validations"])))
        if o and "${" in yaml.safe_dump(o):
            errs.append("%s: an unsubstituted ${...} parameter" % name)
        if o and name == "restrict-image-registries":
            vs = list(o["spec"].get("variables") or []) + [v for r in o["spec"].get("rules") or []
                                                           for v in r["validate"]["cel"].get("variables") or []]
            text = " ".join(v["expression"] for v in vs)
            want = "{%s}" % ", ".join("'%s': [%s]" % (t, ", ".join("'%s'" % r for r in regs))
                                      for t, regs in model["team_registries"].items())
            maps = re.findall(r"\{(?:'[^']*': \[[^\]]*\](?:, )?)*\}", text)
            if len(maps) != 2 or any(m != want for m in maps):
                errs.append("%s: the teams' own registries are %s, want %s" % (name, maps, want))
            if "[%s]" % ", ".join("'%s'" % r for r in model["registries"]) not in text:
                errs.append("%s: platform.registries are not in the policy" % name)
    action = model["action"]
    for name, o in sorted(policies.items()):
        if o["kind"] == "ValidatingPolicy":
            got = o["spec"].get("validationActions")
            if got != [{"Enforce": "Deny", "Audit": "Audit"}[action]]:
                errs.append("%s: validationActions %r with policies.action %s" % (name, got, action))
        for r in o["spec"].get("rules") or []:
            if "validate" in r and r["validate"].get("failureAction") != action:
                errs.append("%s: failureAction %r with policies.action %s" % (name, r["validate"].get("failureAction"), action))
    # each exception: the policy it names, exactly its services' namespaces
    rendered = []
    for o in found.get("PolicyException", []):
        sp = o["spec"]
        if o["apiVersion"] == "policies.kyverno.io/v1":
            pols = {r["name"] for r in sp["policyRefs"]}
            text = " ".join(c["expression"] for c in sp.get("matchConditions") or [])
            nss = set(re.findall(r"'([a-z0-9-]+)'", " ".join(re.findall(r"request\.namespace in \[([^]]*)\]", text))))
            svcs = set(re.findall(r"== '([a-z0-9-]+)'", text))
        else:
            pols = {e["policyName"] for e in sp["exceptions"]}
            nss = {n for a in sp["match"]["any"] for n in a["resources"].get("namespaces") or []}
            svcs = {a["resources"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for a in sp["match"]["any"]}
        rendered.append((pols, nss, svcs))
    for e in model["exceptions_raw"]:
        if e["policy"] in model["disable"]:
            continue
        want_ns = {ns for svc in e["services"] for ns in model["svc_ns"].get(svc, ())}
        if ({e["policy"]}, want_ns, set(e["services"])) not in rendered:
            errs.append("no PolicyException for %s scoped to %s in %s (rendered: %r)"
                        % (e["policy"], sorted(e["services"]), sorted(want_ns), rendered))
    extra = set(policies) - {p["name"] for p in lib}
    errs += ["%s is not in the library" % n for n in sorted(extra)]
    nexc = len(found.get("PolicyException", []))
    want_exc = len([e for e in model["exceptions_raw"] if e["policy"] not in model["disable"]])
    if nexc != want_exc:
        errs.append("%d PolicyExceptions, platform.yaml declares %d" % (nexc, want_exc))
    for e in errs:
        print("FAIL " + e)
    print("%d policies, %d exceptions rendered" % (len(policies), nexc))
    return 1 if errs else 0



def harness(args):
    """node tests/admission/admit.mjs ARGS, after `npm ci` when its packages are missing."""
    lock = os.path.join(ADMISSION, "package-lock.json")
    mark = os.path.join(ADMISSION, "node_modules", ".admission-lock")
    if not os.path.exists(mark) or open(mark, "rb").read() != open(lock, "rb").read():
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ADMISSION, capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL npm ci in tests/admission:\n" + r.stdout[-2000:] + r.stderr[-2000:])
            return 1
        with open(mark, "wb") as f:
            f.write(open(lock, "rb").read())
    r = subprocess.run(["node", os.path.join(ADMISSION, "admit.mjs")] + args, capture_output=True, text=True)
    out = r.stdout + r.stderr
    sys.stdout.write(out)
    cases = len(re.findall(r"^(ok|FAIL) ", out, re.M))
    fails = len(re.findall(r"^FAIL ", out, re.M))
    print("%d cases, %d failed" % (cases, fails))
    return 1 if r.returncode != 0 or fails or not cases else 0


def main(argv):
    if argv[:1] == ["--self-test"]:
        return harness(["selftest"])
    if len(argv) >= 2 and argv[0] == "--platform":
        if len(argv) == 4 and argv[2] == "--rendered":
            return run_rendered(argv[1], argv[3])
        if len(argv) > 2:
            return harness(["admit", os.path.basename(os.path.dirname(os.path.abspath(argv[1])))] + argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
