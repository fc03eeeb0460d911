#!/usr/bin/env python3
"""Argo CD: build the app-of-apps per cluster the way Argo CD would, and check
that no object (cluster-scoped, or namespaced) is owned by two Applications,
that prod-tier Applications do not prune unless platform.argocd says so, that
sync windows reach the projects, and that the claim health check is emitted.

Starts at argocd/root/kustomization.yaml: the root Applications, then the
Applications they list, then `kubectl kustomize` of each Application's path.

Usage: check.py PLATFORMC WORKDIR ; prints `ok   argocd/<case>` or
`FAIL argocd/<case>` (details indented) and `N passed, N failed`.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys

import yaml

PLATFORMC, WORK = sys.argv[1], sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
passed = failed = 0
EXPECTED = 18

# kinds without a namespace (what the tree renders, and what it might)
CLUSTER_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
                 "CompositeResourceDefinition", "Composition", "ClusterPolicy", "ValidatingPolicy",
                 "MutatingPolicy", "GeneratingPolicy", "ImageValidatingPolicy", "DeletingPolicy",
                 "ClusterSecretStore", "ClusterExternalSecret", "ClusterIssuer", "IngressClass",
                 "StorageClass", "PriorityClass", "ValidatingAdmissionPolicy",
                 "ValidatingAdmissionPolicyBinding", "Function", "Provider", "ProviderConfig",
                 "EnvironmentConfig", "PersistentVolume"}


def report(case, problems):
    global passed, failed
    if problems:
        failed += 1
        print("FAIL argocd/%s" % case)
        for p in problems[:15]:
            print("    " + str(p))
    else:
        passed += 1
        print("ok   argocd/%s" % case)


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def render(src_dir, tag, edit=None):
    d = os.path.join(WORK, tag)
    shutil.copytree(src_dir, os.path.join(d, "in"))
    p = os.path.join(d, "in", "platform.yaml")
    if edit:
        text = open(p).read()
        new = edit(text)
        if new == text:
            raise SystemExit("edit of %s changed nothing" % tag)
        open(p, "w").write(new)
    r = subprocess.run([PLATFORMC, "render", p, "-o", os.path.join(d, "out")], capture_output=True, text=True)
    ok = r.returncode == 0 and os.path.isfile(os.path.join(d, "out", "argocd", "root", "kustomization.yaml"))
    return ok, r, os.path.join(d, "out"), load(p)


def local(out, gitops_path, path):
    base = (gitops_path or "out").strip("/")
    rel = path[len(base) + 1:] if base not in ("", ".") and path.startswith(base + "/") else path
    return os.path.join(out, rel)


def apps_of(out, gitops_path):
    """Every Application reachable from the roots: [(app, its file)]."""
    roots = load(os.path.join(out, "argocd/root/kustomization.yaml"))["resources"]
    result = []
    for f in roots:
        root = load(os.path.join(out, "argocd/root", f))
        d = local(out, gitops_path, root["spec"]["source"]["path"])
        k = load(os.path.join(d, "kustomization.yaml"))
        for af in k["resources"]:
            app = load(os.path.join(d, af))
            if app.get("kind") == "Application":
                result.append((app, os.path.join(d, af)))
    return result


def cluster_of(app):
    dst = app["spec"]["destination"]
    return dst.get("name") or {"https://kubernetes.default.svc": "in-cluster"}.get(dst.get("server"), dst.get("server"))


BUILDS = {}  # the key of a kustomization's inputs -> kubectl kustomize's result


def build_key(path):
    """A hash of every file a build of PATH reads: the folder, and the folders its
    `../` resources name (an overlay reaches its base, nothing further)."""
    h = hashlib.sha256()
    dirs, seen = [os.path.normpath(path)], set()
    while dirs:
        d = dirs.pop()
        if d in seen or not os.path.isdir(d):
            continue
        seen.add(d)
        for root, subdirs, files in sorted(os.walk(d)):
            subdirs.sort()
            for f in sorted(files):
                fp = os.path.join(root, f)
                data = open(fp, "rb").read()
                h.update(os.path.relpath(fp, path).encode() + b"\0" + hashlib.sha256(data).digest())
                if f == "kustomization.yaml":
                    for ref in re.findall(rb"^- (\.\./\S+)", data, re.M):
                        dirs.append(os.path.normpath(os.path.join(root, ref.decode())))
    return h.hexdigest()


def kustomize(path):
    """kubectl kustomize PATH, once per distinct input (the company variants share
    most Applications byte for byte)."""
    key = build_key(path)
    if key not in BUILDS:
        BUILDS[key] = subprocess.run(["kubectl", "kustomize", path], capture_output=True, text=True)
    return BUILDS[key]


def ownership(out, gitops_path, apps):
    owners, problems = {}, []
    for app, _ in apps:
        path = local(out, gitops_path, app["spec"]["source"]["path"])
        k = kustomize(path)
        if k.returncode:
            problems.append("kustomize %s: %s" % (path, k.stderr.strip()[:200]))
            continue
        ns_default = app["spec"]["destination"].get("namespace")
        for o in yaml.safe_load_all(k.stdout):
            if not o:
                continue
            group = o["apiVersion"].split("/")[0] if "/" in o["apiVersion"] else ""
            if o["kind"] in CLUSTER_KINDS:
                key = (cluster_of(app), group, o["kind"], "", o["metadata"]["name"])
            else:
                key = (cluster_of(app), group, o["kind"], o["metadata"].get("namespace") or ns_default,
                       o["metadata"]["name"])
            owners.setdefault(key, []).append(app["metadata"]["name"])
    twice = {k: v for k, v in owners.items() if len(v) > 1}
    for k, v in sorted(twice.items()):
        problems.append("%s owned by %s" % ("/".join(x for x in k if x), ", ".join(v)))
    return owners, problems


def tiers(platform):
    return {e["name"]: e["tier"] for e in platform["environments"]}


def prune_problems(apps, platform, prune_prod):
    envs = platform["environments"]
    prod_clusters = {e.get("cluster") or "in-cluster" for e in envs if e["tier"] == "prod"}
    probs = []
    for app, f in apps:
        labels = app["metadata"].get("labels") or {}
        env = next((v for k, v in labels.items() if k.endswith("/environment")), None)
        cluster = next((v for k, v in labels.items() if k.endswith("/cluster")), None)
        if env:
            prod = tiers(platform)[env] == "prod"
        elif cluster:
            prod = cluster in prod_clusters
        else:
            probs.append("%s has neither an environment nor a cluster label" % app["metadata"]["name"])
            continue
        prune = app["spec"]["syncPolicy"]["automated"]["prune"]
        want = (not prod) or prune_prod
        if prune != want:
            probs.append("%s (%s): prune %s, want %s" % (app["metadata"]["name"], "prod" if prod else "nonprod",
                                                          prune, want))
    return probs


def main():
    cases = []
    for ex in ("minimal", "company"):
        cases.append((ex, os.path.join(ROOT, "examples", ex), None, False))
    # every environment of the company on one cluster: one Application for each cluster-wide part
    cases.append(("company-one-cluster", os.path.join(ROOT, "examples/company"),
                  lambda t: re.sub(r"\n    clusters:\n(      .*\n)+", "\n", t.replace(", cluster: prod-eu}", "}")), False))
    # prune in prod when the platform says so, and sync windows
    cases.append(("company-prune-windows", os.path.join(ROOT, "examples/company"),
                  lambda t: t.replace("  targets:\n", "  argocd:\n    prune_prod: true\n    sync_windows:\n"
                                      "      - {kind: deny, schedule: '0 22 * * *', duration: 1d2h, tier: prod}\n"
                                      "  targets:\n", 1), True))
    for tag, src, edit, prune_prod in cases:
        ok, r, out, platform = render(src, tag, edit)
        report("%s/render" % tag, [] if ok else ["render exited %d: %s" % (r.returncode, r.stderr.strip()[:300])])
        if not ok:
            continue
        gp = platform["platform"]["gitops"].get("path", "out")
        apps = apps_of(out, gp)
        clusters = sorted({cluster_of(a) for a, _ in apps})
        owners, probs = ownership(out, gp, apps)
        if not owners:
            probs.append("no objects found")
        report("%s/one-owner-per-object (%d objects, %d apps, clusters %s)" % (tag, len(owners), len(apps),
                                                                              ",".join(clusters)), probs)
        # cluster-wide parts: exactly one Application per part and cluster, named for the cluster
        probs = []
        for c in clusters:
            parts = [a["metadata"]["name"] for a, _ in apps if cluster_of(a) == c
                     and a["spec"]["source"]["path"].rstrip("/").split("/")[-2:-1] == ["platform"]
                     and a["spec"]["source"]["path"].rstrip("/").split("/")[-1] in ("kyverno", "crossplane", "monitoring")]
            if len(parts) != len(set(parts)) or not parts:
                probs.append("cluster %s: cluster-wide apps %s" % (c, parts))
            for n in parts:
                if not n.endswith("-" + c):
                    probs.append("%s is not named for cluster %s" % (n, c))
        report("%s/cluster-apps-per-cluster" % tag, probs)
        report("%s/prune-per-tier" % tag, prune_problems(apps, platform, prune_prod))
        if tag == "company-prune-windows":
            probs = []
            for f in sorted(os.listdir(os.path.join(out, "argocd/projects"))):
                if f == "kustomization.yaml":
                    continue
                w = load(os.path.join(out, "argocd/projects", f))["spec"].get("syncWindows")
                if not w or w[0].get("duration") != "26h" or "*-production" not in w[0]["applications"] \
                        or "*-dev" in w[0]["applications"] or "*-prod-eu" not in w[0]["applications"]:
                    probs.append("%s: syncWindows %s" % (f, w))
            report("%s/sync-windows" % tag, probs)
        if tag == "company":
            cm = load(os.path.join(out, "argocd/health/argocd-cm.yaml"))
            key = "resource.customizations.health.platform.%s_*" % platform["platform"]["domain"]
            lua = (cm.get("data") or {}).get(key, "")
            report("%s/claim-health-check" % tag,
                   [] if re.search(r'"Ready"', lua) and "return hs" in lua and "Degraded" in lua
                   else ["argocd-cm lacks %s" % key])
    print("%d passed, %d failed" % (passed, failed))
    if failed or passed < EXPECTED:
        if not failed:
            print("FAIL argocd/count: %d cases, expected %d" % (passed, EXPECTED))
        sys.exit(1)


main()
