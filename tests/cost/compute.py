#!/usr/bin/env python3
"""Reads `platformc cost --format json` on stdin and checks each team's compute
against platform.yaml (argv[1], with its includes): per environment, the sum
over the team's services of min replicas × max(cpu / node vCPU, memory / node
memory) × hourly × 730, with defaults.service and overrides applied here, and
the node of platform.cloud.nodes or the defaults (m7g.xlarge: 4 vCPU, 16Gi,
0.1632). Prints the number of (team, environment) figures checked; exit 1 on a
difference."""
import copy
import glob
import json
import os
import re
import sys

import yaml

root = sys.argv[1]
pf = yaml.safe_load(open(root))
for pat in pf.get("include", []):
    for f in sorted(glob.glob(os.path.join(os.path.dirname(root), pat))):
        inc = yaml.safe_load(open(f)) or {}
        for k in ("teams", "services", "resources"):
            pf.setdefault(k, []).extend(inc.get(k, []))
cost = json.load(sys.stdin)
node = dict({"vcpu": 4, "memory": "16Gi", "hourly": 0.1632}, **(pf["platform"]["cloud"].get("nodes") or {}))


def qty(q, cpu):
    q = str(q)
    units = {"m": 0.001, "": 1, "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "k": 1e3, "M": 1e6, "G": 1e9}
    m = re.match(r"^([0-9.]+)([A-Za-z]*)$", q)
    return float(m.group(1)) * units[m.group(2)]


dflt = (pf.get("defaults") or {}).get("service") or {}
want = {}
for s in pf.get("services", []):
    envs = s.get("environments") or [e["name"] for e in pf["environments"]]
    for env in envs:
        tier = [e for e in pf["environments"] if e["name"] == env][0]["tier"]
        res = dict(dflt.get("resources") or {}, **(s.get("resources") or {}))
        rep = s.get("replicas", dflt.get("replicas"))
        ov = (s.get("overrides") or {}).get(env) or {}
        res.update(ov.get("resources") or {})
        if "replicas" in ov:
            rep = ov["replicas"] if not isinstance(ov["replicas"], dict) or not isinstance(rep, dict) \
                else dict(rep, **ov["replicas"])
        floor = 2 if tier == "prod" else 1
        n = rep.get("min", floor) if isinstance(rep, dict) else (floor if rep is None else rep)
        if tier == "prod" and "replicas" not in s and "replicas" not in ov:
            n = max(n, 2)    # a platform-wide default does not lower a prod tier below 2 (guide §3.5)
        cpu = qty(res.get("cpu", "100m"), True)
        mem = qty(res.get("memory", "128Mi"), False)
        share = max(cpu / node["vcpu"], mem / qty(node["memory"], False))
        want.setdefault((s["team"], env), [0.0, 0])
        want[(s["team"], env)][0] += n * share * node["hourly"] * 730
        want[(s["team"], env)][1] += n
bad, count = [], 0
for t in cost["teams"]:
    for env, v in (t.get("compute") or {}).get("environments", {}).items():
        count += 1
        w = want.pop((t["team"], env), None)
        if not w or v["pods"] != w[1] or abs(v["usd"] - w[0]) > 0.02 * max(1, w[1]):
            bad.append("%s/%s: cost says %s, want %.2f for %s pods" % (t["team"], env, v, w[0] if w else 0, w and w[1]))
bad += ["%s/%s: no compute figure" % k for k in want]
if bad or not count:
    print("\n".join(bad) or "nothing checked")
    sys.exit(1)
print("%d team-environments" % count)
