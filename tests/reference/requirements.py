#!/usr/bin/env python3
"""out/README.md's "The cluster needs" list is the entries of stdlib/requirements.yaml
that apply to the platform, in order, with the platform's values.

usage: requirements.py REQUIREMENTS_YAML PLATFORM_YAML README_MD
Exits 1 with the differences; on success prints the indexes of the entries listed
(the caller checks that every entry is listed by some platform).
"""
import glob
import os
import re
import sys

import yaml

req_path, platform_path, readme_path = sys.argv[1:4]
data = yaml.safe_load(open(req_path, encoding="utf-8"))
plat = yaml.safe_load(open(platform_path, encoding="utf-8"))
docs = [plat] + [yaml.safe_load(open(f, encoding="utf-8")) or {}
                 for pat in plat.get("include") or []
                 for f in sorted(glob.glob(os.path.join(os.path.dirname(platform_path), pat)))]
targets = (plat.get("platform") or {}).get("targets") or {}
mon = (plat.get("platform") or {}).get("monitoring") or {}
config = {"resources": any(d.get("resources") for d in docs),
          "crossplane": targets.get("crossplane", "claims"),
          "kyverno": targets.get("kyverno", "validating-policy")}
dflt = ((plat.get("defaults") or {}).get("service") or {})
services = [s for d in docs for s in (d.get("services") or [])]
config["canary"] = any(s.get("rollout", dflt.get("rollout", "rolling")) == "canary" for s in services)
config["vpa"] = any((s.get("autoscaling") or dflt.get("autoscaling") or {}).get("vpa", "none") == "recommend"
                    for s in services)
ing = (plat.get("platform") or {}).get("ingress") or {}
selector = mon.get("prometheus_selector") or {"release": "kube-prometheus-stack"}
values = {"ingress.class": "`%s`" % ing.get("class", "nginx"),
          "ingress.namespace": "`%s`" % ing.get("namespace", "ingress-nginx"),
          "ingress.issuer": "`%s`" % ing.get("issuer", "letsencrypt"),
          "monitoring.namespace": "`%s`" % mon.get("namespace", "monitoring"),
          "monitoring.selector": "`%s`" % ", ".join(f"{k}: {v}" for k, v in selector.items())}

want, listed = [], []
for i, r in enumerate(data["requirements"]):
    if all(config[k] == v for k, v in (r.get("when") or {}).items()):
        want.append(re.sub(r"\$\{([^}]*)\}", lambda m: values[m.group(1)], " ".join(r["text"].split())))
        listed.append(i)
readme = open(readme_path, encoding="utf-8").read()
m = re.search(r"\nThe cluster needs:\n\n((?:- .*\n)+)", readme)
got = [re.sub(r"[;.]$", "", line[2:]) for line in m.group(1).splitlines()] if m else []
if got != want:
    print(f"{readme_path} ({config}):")
    for w in want:
        print(("  " if w in got else "- ") + w)
    for g in got:
        if g not in want:
            print("+ " + g)
    sys.exit(1)
print(" ".join(map(str, listed)))
