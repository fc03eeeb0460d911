#!/usr/bin/env python3
"""Targeted checks of the Kustomize and Argo CD backends over tests/model/platform.yaml.

Each check prints `ok <name>` or `FAIL <name>: why`; the exit status is the
number of failures. Usage: check.py PLATFORMC WORKDIR
"""
import os
import re
import subprocess
import sys

import yaml

PLATFORMC, WORK = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = open(os.path.join(HERE, "platform.yaml")).read()
failures = 0


def check(name, cond, why=""):
    global failures
    if cond:
        print("ok   model/%s" % name)
    else:
        failures += 1
        print("FAIL model/%s: %s" % (name, why))


def render(text, tag):
    d = os.path.join(WORK, tag)
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "platform.yaml")
    with open(src, "w") as f:
        f.write(text)
    r = subprocess.run([PLATFORMC, "render", src, "-o", os.path.join(d, "out")],
                       capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"))
    return r, os.path.join(d, "out")


def load(out, rel):
    p = os.path.join(out, rel)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return yaml.safe_load(f)


def kustomize(out, rel):
    r = subprocess.run(["kubectl", "kustomize", os.path.join(out, rel)], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(r.stderr)
    return [d for d in yaml.safe_load_all(r.stdout) if d]


r, out = render(SRC, "base")
# a render that exits 0 must also have written its tree
rendered = r.returncode == 0 and os.path.isfile(os.path.join(out, "README.md"))
check("renders", rendered, r.stderr or "exit %d, no README.md in %s" % (r.returncode, out))
if not rendered:
    sys.exit(1)

# ---- tier-dependent defaults: replicas 1 in nonprod, 2 in prod; PDB only in prod
dev = load(out, "services/web/dev/deployment-patch.yaml")
prod = load(out, "services/web/prod/deployment-patch.yaml")
check("nonprod-default-one-replica", dev["spec"].get("replicas") == 1, dev)
check("prod-default-two-replicas", prod["spec"].get("replicas") == 2, prod)
check("pdb-only-in-prod", load(out, "services/web/prod/pdb.yaml") is not None
      and load(out, "services/web/dev/pdb.yaml") is None)
# ---- a range gives an HPA and no fixed replica count; a number gives neither
hpa = load(out, "services/worker/prod/hpa.yaml")
wp = load(out, "services/worker/prod/deployment-patch.yaml")
check("range-gives-hpa", hpa and hpa["spec"]["minReplicas"] == 2 and hpa["spec"]["maxReplicas"] == 5
      and hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 60, hpa)
check("hpa-owns-replicas", "replicas" not in wp["spec"], wp)
check("fixed-count-no-hpa", load(out, "services/worker/dev/hpa.yaml") is None)
# ---- overrides: ingress only where set; env maps merge
check("ingress-only-where-overridden", load(out, "services/web/prod/ingress.yaml") is not None
      and load(out, "services/web/dev/ingress.yaml") is None)
built = {(d["kind"], d["metadata"]["name"]): d for d in kustomize(out, "services/web/prod")}
cm = built[("ConfigMap", "web-config")]["data"]
check("env-override-merges", cm == {"GREETING": "$(HOME) stays text", "MODE": "live"}, cm)
# ---- $(VAR) never expands: config only through envFrom, never env[].value
dep = built[("Deployment", "web")]
c = dep["spec"]["template"]["spec"]["containers"][0]
check("config-via-envfrom-only", "env" not in c and c["envFrom"] == [{"configMapRef": {"name": "web-config"}}], c)
check("image-tag-placeholder", c["image"] == "ghcr.io/fix/web:unset", c["image"])
check("namespace-is-team-env", all(d["metadata"].get("namespace") == "front-prod" for d in built.values()),
      sorted({d["metadata"].get("namespace") for d in built.values()}))
sc = c["securityContext"]
check("restricted-security-context", sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"]
      and sc["capabilities"]["drop"] == ["ALL"]
      and dep["spec"]["template"]["spec"]["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault")

# ---- services limited to `environments`
check("service-only-in-its-envs", not os.path.exists(os.path.join(out, "services/api/dev"))
      and os.path.exists(os.path.join(out, "services/api/prod")))
devk = load(out, "clusters/dev/kustomization.yaml")["resources"]
check("cluster-lists-only-its-services", "../../services/api/prod" not in devk and "../../services/web/dev" in devk
      and not any("/api/" in x for x in devk), devk)
check("argocd-only-its-apps", not os.path.exists(os.path.join(out, "argocd/dev/services/api.yaml"))
      and os.path.exists(os.path.join(out, "argocd/prod/services/api.yaml")))
check("resource-env-limited", "services/api/prod" in " ".join(load(out, "clusters/prod/kustomization.yaml")["resources"]))

# ---- NetworkPolicy edges from `calls`
apinp = load(out, "services/api/prod/networkpolicy.yaml")["spec"]
froms = [f for rule in apinp["ingress"] for f in rule["from"]]
check("callee-admits-caller", {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "front-prod"}},
                               "podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}} in froms, froms)
webnp_prod = load(out, "services/web/prod/networkpolicy.yaml")["spec"]
tos = [(t, rule["ports"]) for rule in webnp_prod["egress"] for t in rule["to"]]
check("caller-egress-to-callee-port", any(t.get("namespaceSelector", {}).get("matchLabels", {}).get(
    "kubernetes.io/metadata.name") == "back-prod" and p == [{"protocol": "TCP", "port": 8080}] for t, p in tos), tos)
webnp_dev = load(out, "services/web/dev/networkpolicy.yaml")["spec"]
check("no-edge-to-service-absent-in-env", not any(
    t.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "back-dev"
    for rule in webnp_dev["egress"] for t in rule["to"]), webnp_dev["egress"])
check("ingress-controller-admitted-only-with-ingress",
      any(f.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "ingress-nginx"
          for rule in webnp_prod["ingress"] for f in rule["from"])
      and not any(f.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "ingress-nginx"
                  for rule in webnp_dev["ingress"] for f in rule["from"]))
ports = sorted(rule["ports"][0]["port"] for rule in apinp["egress"] if "ipBlock" in rule["to"][0])
check("uses-egress-by-kind-port", ports == [443, 5432], ports)
deny = load(out, "teams/front/dev/networkpolicy-default-deny.yaml")["spec"]
check("namespace-default-deny", deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, deny)

# ---- resources shared across teams: the other team's service mounts it
api = {(d["kind"], d["metadata"]["name"]): d for d in kustomize(out, "services/api/prod")}
vols = {v["name"]: v for v in api[("Deployment", "api")]["spec"]["template"]["spec"]["volumes"]}
check("shared-resource-mounted", vols.get("events", {}).get("secret", {}).get("secretName") == "events-connection", vols)

# ---- tenancy: quota, RBAC, labels
q = load(out, "teams/front/prod/resourcequota.yaml")["spec"]["hard"]
check("quota-from-team", q == {"requests.cpu": "2", "requests.memory": "2Gi", "limits.memory": "2Gi", "pods": "10"}, q)
ns = load(out, "teams/back/prod/namespace.yaml")["metadata"]["labels"]
check("namespace-labels", ns["platform.fix.example.com/tier"] == "prod"
      and ns["pod-security.kubernetes.io/enforce"] == "restricted", ns)
rb = load(out, "teams/front/dev/rolebinding-team-edit.yaml")
check("members-bound", [s["name"] for s in rb["subjects"]] == ["front", "fred", "fiona"], rb["subjects"])
adm = load(out, "teams/front/dev/rolebinding-platform-admin.yaml")
check("owner-admin", adm["roleRef"]["name"] == "admin" and [s["name"] for s in adm["subjects"]] == ["ops", "olga"])
role_prod = load(out, "teams/front/prod/role.yaml")
check("no-exec-in-prod", not any("pods/exec" in r["resources"] for r in role_prod["rules"])
      and any("pods/exec" in r["resources"] for r in load(out, "teams/front/dev/role.yaml")["rules"]))

# ---- Argo CD: destinations, projects, sources
app = load(out, "argocd/prod/services/web.yaml")
check("app-destination-cluster-name", app["spec"]["destination"] == {"name": "prod-eu", "namespace": "front-prod"},
      app["spec"]["destination"])
check("app-source", app["spec"]["source"] == {"repoURL": "https://github.com/fix/gitops", "targetRevision": "release",
                                             "path": "deploy/services/web/prod"}, app["spec"]["source"])
check("app-team-project", app["spec"]["project"] == "front")
ten = load(out, "argocd/dev/teams/tenancy-front.yaml")
check("tenancy-in-platform-project", ten["spec"]["project"] == "platform-system")
proj = load(out, "argocd/projects/team-front.yaml")["spec"]
check("project-destinations", proj["destinations"] == [
    {"server": "https://kubernetes.default.svc", "namespace": "front-dev"},
    {"name": "prod-eu", "namespace": "front-prod"}], proj["destinations"])
check("project-no-cluster-kinds", proj["clusterResourceWhitelist"] == [])
appk = load(out, "argocd/prod/kustomization.yaml")["resources"]
check("app-of-apps-lists-every-app", sorted(appk) == sorted(
    os.path.relpath(os.path.join(dp, f), os.path.join(out, "argocd/prod"))
    for dp, _, fs in os.walk(os.path.join(out, "argocd/prod")) for f in fs if f != "kustomization.yaml"), appk)

# ---- quota arithmetic with overrides: exactly full fits, one more replica does not
fits = SRC.replace('{name: back, quota: {cpu: "1.5", memory: 3Gi}}', '{name: back, quota: {cpu: 1, memory: 2Gi}}')
r, _ = render(fits, "quota-fits")
check("quota-exactly-full-fits", r.returncode == 0, r.stderr)
over = fits.replace("    uses: [db, events]\n", "    uses: [db, events]\n    overrides: {prod: {replicas: 3}}\n")
r, _ = render(over, "quota-over")
check("quota-over-by-override-fails", r.returncode == 1 and "error[E0212]: team `back`" in r.stderr
      and "in `prod`" in r.stderr and "`api`: 3 × 500m cpu" in r.stderr, r.stderr)
check("quota-error-writes-nothing", not os.path.exists(os.path.join(WORK, "quota-over", "out")))

# ---- a platform-wide default does not lower a prod tier below 2; the service itself can
floor = SRC.replace("resources:\n  - {name: db", "defaults:\n  service: {replicas: 1}\nresources:\n  - {name: db", 1)
floor = floor.replace("    image: ghcr.io/fix/api\n", "    image: ghcr.io/fix/api\n    replicas: 1\n", 1)
r, fo = render(floor, "prod-floor")
check("defaults-keep-prod-floor", r.returncode == 0
      and load(fo, "services/web/prod/deployment-patch.yaml")["spec"]["replicas"] == 2
      and load(fo, "services/web/dev/deployment-patch.yaml")["spec"]["replicas"] == 1, r.stderr)
check("service-may-go-below-floor", r.returncode == 0
      and load(fo, "services/api/prod/deployment-patch.yaml")["spec"]["replicas"] == 1, r.stderr)

# ---- defaults.service.overrides apply to every service in that environment; the service wins
dov = SRC.replace("resources:\n  - {name: db",
                  "defaults:\n  service: {overrides: {prod: {env: {REGION: eu}, replicas: 3}}}\nresources:\n  - {name: db", 1)
r, do = render(dov, "defaults-overrides")
check("defaults-overrides-apply", r.returncode == 0
      and load(do, "services/api/prod/deployment-patch.yaml")["spec"]["replicas"] == 3
      and load(do, "services/web/prod/configmap-patch.yaml")["data"] == {"MODE": "live", "REGION": "eu"}
      and "replicas" not in load(do, "services/worker/prod/deployment-patch.yaml")["spec"], r.stderr)
r, _ = render(dov.replace("overrides: {prod:", "overrides: {prd:"), "defaults-overrides-bad")
check("defaults-overrides-unknown-env", r.returncode == 1 and "E0202" in r.stderr and "`prd`" in r.stderr, r.stderr)

# ---- cluster-wide parts: one Application per cluster, never two owners
plat = sorted(f for f in os.listdir(os.path.join(out, "argocd/dev/platform")))
check("platform-app-per-cluster", plat and sorted(os.listdir(os.path.join(out, "argocd/prod/platform"))) == plat,
      plat)
same = SRC.replace("{name: prod, tier: prod, cluster: prod-eu}", "{name: prod, tier: prod}")
r, so = render(same, "one-cluster")
def apps(root, env):
    return {d["spec"]["source"]["path"]: d["metadata"]["name"]
            for f in load(root, "argocd/%s/kustomization.yaml" % env)["resources"]
            for d in [load(root, "argocd/%s/%s" % (env, f))]}
dev_apps, prod_apps = apps(so, "dev"), apps(so, "prod")
shared = sorted(set(dev_apps) & set(prod_apps))
check("platform-app-once-on-shared-cluster", r.returncode == 0 and not shared
      and any(p.endswith("/platform/kyverno") for p in dev_apps), shared or r.stderr)
check("cluster-build-still-has-platform-parts", any(x.startswith("../../platform/")
      for x in load(so, "clusters/prod/kustomization.yaml")["resources"]))

print("model: %d failed" % failures)
sys.exit(1 if failures else 0)
