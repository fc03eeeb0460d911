#!/usr/bin/env python3
"""Workloads match their API type, derived independently of the compiler.

For each example, this reads platform.yaml (and its includes) and
stdlib/apis.yaml itself, works out per service what its API type implies
(container ports and their names, probes of which kind on which port, a
startupProbe with the start-up budget, whether a Service and an Ingress
exist, the Service's ports and appProtocol, the scrape port, TLS on every
public host), builds every environment with `kubectl kustomize
clusters/<env>` from a fresh render, and compares every container.

Usage: check.py PLATFORMC WORKDIR EXAMPLE... ; prints `ok   workloads/<case>`
or `FAIL workloads/<case>` with indented details; exit status 1 on failure.
"""
import glob
import os
import subprocess
import sys

import yaml

PLATFORMC, WORK = sys.argv[1], sys.argv[2]
EXAMPLES = sys.argv[3:]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APIS = yaml.safe_load(open(os.path.join(ROOT, "stdlib/apis.yaml")))
passed = failed = 0


def report(case, problems):
    global passed, failed
    if problems:
        failed += 1
        print("FAIL workloads/%s" % case)
        for p in problems[:20]:
            print("    " + p)
    else:
        passed += 1
        print("ok   workloads/%s" % case)


def merge(base, over):
    if isinstance(base, dict) and isinstance(over, dict):
        r = dict(base)
        for k, v in over.items():
            r[k] = merge(base.get(k), v) if k in base else v
        return r
    return over if over is not None else base


def duration_s(text):
    total, num = 0, ""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    t = str(text)
    i = 0
    while i < len(t):
        c = t[i]
        if c.isdigit():
            num += c
        elif t[i:i + 2] == "ms":
            total += int(num) / 1000.0
            num = ""
            i += 1
        else:
            total += int(num) * units[c]
            num = ""
        i += 1
    return total


def load_platform(ex):
    path = os.path.join(ROOT, "examples", ex, "platform.yaml")
    root = yaml.safe_load(open(path))
    services = list(root.get("services") or [])
    for pat in root.get("include") or []:
        for f in sorted(glob.glob(os.path.join(os.path.dirname(path), pat))):
            services += (yaml.safe_load(open(f)) or {}).get("services") or []
    return root, path, services


def expect(root, svc, env):
    """What the API type means for this service in this environment."""
    d = (root.get("defaults") or {}).get("service") or {}
    s = merge({k: v for k, v in d.items() if k != "overrides"}, svc)
    ov = merge((d.get("overrides") or {}).get(env), (svc.get("overrides") or {}).get(env)) or {}
    s = merge(s, ov)
    api = s.get("api", "rest")
    t = APIS["apis"][api]
    port = int(s.get("port", 8080))
    health = s.get("health") or {}
    metrics = s.get("metrics") or {}
    lang = (APIS.get("languages") or {}).get(s.get("language", "other")) or {}
    e = {"api": api}
    serving = t["port"] if isinstance(t["port"], dict) else None
    e["ports"] = {}
    if serving:
        e["ports"][serving["name"]] = port
    mport = metrics.get("port")
    if not mport and t["metrics"] == "port" and serving:
        mport = t.get("metrics_port")
    if mport and int(mport) != port:
        e["ports"]["metrics"] = int(mport)
        e["scrape"] = "metrics"
    else:
        e["scrape"] = serving["name"] if serving else None
    # probes
    pr = APIS["probes"]
    if health.get("command"):
        kind, on = "exec", None
    elif t["probes"] == "exec" or not serving:
        kind, on = ("http", "metrics") if "metrics" in e["ports"] else (None, None)
    else:
        kind, on = t["probes"], serving["name"]
    e["probe"], e["probe_on"] = kind, on
    e["command"] = health.get("command")
    e["liveness"] = health.get("liveness", "/health")
    e["readiness"] = health.get("readiness", "/ready")
    budget = duration_s(health.get("startup") or lang.get("startup") or pr["startup"])
    e["startup_budget"] = budget
    e["period"], e["timeout"], e["failure"] = pr["period"], pr["timeout"], pr["failure"]
    e["startup_period"] = pr["startup_period"]
    e["service"] = bool(e["ports"])
    if serving:
        e["service_ports"] = {serving["name"]: (port if serving["service_port"] == "serving" else int(serving["service_port"]),
                                                serving["app_protocol"])}
    else:
        e["service_ports"] = {}
    if "metrics" in e["ports"]:
        e["service_ports"]["metrics"] = (e["ports"]["metrics"], "http")
    ing = s.get("ingress")
    e["ingress"] = ing.get("host") if ing and t["ingress"] else None
    e["ingress_annotations"] = t.get("ingress_annotations") or {}
    return e


def check_probe(name, probe, e, path, period, failure, problems):
    if probe is None:
        problems.append("%s missing" % name)
        return
    if e["probe"] == "grpc":
        if probe.get("grpc", {}).get("port") != e["ports"][e["probe_on"]]:
            problems.append("%s: want grpc on port %s, got %s" % (name, e["ports"][e["probe_on"]], probe))
        if "httpGet" in probe:
            problems.append("%s: an httpGet probe on a gRPC service" % name)
    elif e["probe"] == "exec":
        if probe.get("exec", {}).get("command") != e["command"]:
            problems.append("%s: want exec %s, got %s" % (name, e["command"], probe))
    else:
        g = probe.get("httpGet") or {}
        if g.get("port") != e["probe_on"] or g.get("path") != path:
            problems.append("%s: want httpGet %s on port %s, got %s" % (name, path, e["probe_on"], probe))
    if probe.get("periodSeconds") != period or probe.get("failureThreshold") != failure:
        problems.append("%s: want period %s failureThreshold %s, got %s" % (name, period, failure, probe))
    if probe.get("timeoutSeconds") != e["timeout"]:
        problems.append("%s: want timeout %s" % (name, e["timeout"]))


def compare(e, objs, svc, problems):
    kinds = {}
    for o in objs:
        if o["metadata"]["name"] == svc and o["metadata"].get("labels", {}).get("app.kubernetes.io/name", svc) == svc:
            kinds.setdefault(o["kind"], o)
    wl = kinds.get("Deployment") or kinds.get("Rollout")
    if not wl:
        problems.append("no Deployment or Rollout")
        return
    for c in wl["spec"]["template"]["spec"]["containers"]:
        ports = {p["name"]: p["containerPort"] for p in c.get("ports") or []}
        if ports != e["ports"]:
            problems.append("container %s ports: want %s, got %s" % (c["name"], e["ports"], ports))
        if e["probe"] is None:
            for k in ("livenessProbe", "readinessProbe", "startupProbe"):
                if k in c:
                    problems.append("%s on a worker with nothing to probe" % k)
        else:
            check_probe("livenessProbe", c.get("livenessProbe"), e, e["liveness"], e["period"], e["failure"], problems)
            check_probe("readinessProbe", c.get("readinessProbe"), e, e["readiness"], e["period"], e["failure"], problems)
            sp = c.get("startupProbe")
            fail = int(-(-e["startup_budget"] // e["startup_period"]))
            check_probe("startupProbe", sp, e, e["liveness"], e["startup_period"], fail, problems)
            if sp and sp.get("periodSeconds", 0) * sp.get("failureThreshold", 0) < e["startup_budget"]:
                problems.append("startupProbe allows less than %ss" % e["startup_budget"])
    s = kinds.get("Service")
    if bool(s) != e["service"]:
        problems.append("Service: want %s" % ("one" if e["service"] else "none"))
    if s:
        got = {p["name"]: (p["port"], p.get("appProtocol")) for p in s["spec"]["ports"]}
        if got != e["service_ports"]:
            problems.append("Service ports: want %s, got %s" % (e["service_ports"], got))
        for p in s["spec"]["ports"]:
            if p["targetPort"] not in e["ports"]:
                problems.append("Service port %s targets %s, not a container port" % (p["name"], p["targetPort"]))
    ing = kinds.get("Ingress")
    if bool(ing) != bool(e["ingress"]):
        problems.append("Ingress: want %s" % (e["ingress"] or "none"))
    if ing:
        hosts = [r["host"] for r in ing["spec"]["rules"]]
        tls_hosts = [h for t in ing["spec"].get("tls") or [] for h in t.get("hosts") or [] if t.get("secretName")]
        if hosts != [e["ingress"]] or sorted(tls_hosts) != sorted(hosts):
            problems.append("Ingress hosts %s, TLS hosts %s: want %s with TLS" % (hosts, tls_hosts, e["ingress"]))
        ann = ing["metadata"].get("annotations") or {}
        if not ann.get("cert-manager.io/cluster-issuer"):
            problems.append("Ingress without cert-manager.io/cluster-issuer")
        for k, v in e["ingress_annotations"].items():
            if ann.get(k) != v:
                problems.append("Ingress annotation %s: want %s" % (k, v))
        for r in ing["spec"]["rules"]:
            for p in r["http"]["paths"]:
                port = p["backend"]["service"]["port"].get("name")
                if port not in e["service_ports"] or port == "metrics":
                    problems.append("Ingress backend port %s is not the serving port" % port)
    sm = kinds.get("ServiceMonitor")
    if bool(sm) != bool(e["scrape"]):
        problems.append("ServiceMonitor: want %s" % ("port " + e["scrape"] if e["scrape"] else "none"))
    if sm:
        got = [ep.get("port") for ep in sm["spec"]["endpoints"]]
        if got != [e["scrape"]]:
            problems.append("ServiceMonitor scrapes %s, want %s" % (got, e["scrape"]))
        if e["api"] == "grpc" and e["ports"].get("grpc") in [e["ports"].get(p) for p in got]:
            problems.append("a gRPC port is scraped")


def dashboards(ex, root, services, out):
    """One Grafana dashboard per service, an `env` variable over exactly its environments; every
    alert of the service links that dashboard with its own environment selected."""
    import json
    envs_all = [e["name"] for e in root["environments"]]
    d = ((root.get("defaults") or {}).get("service") or {})
    problems = []
    found = {}
    for dp, _, files in os.walk(out):
        for f in files:
            if f.endswith(".json") and "dashboards" in dp.split(os.sep) + [""] or f == "dashboard.json":
                j = json.load(open(os.path.join(dp, f)))
                if "service" in j.get("tags", []):
                    found.setdefault(j["title"], []).append((os.path.relpath(os.path.join(dp, f), out), j))
    for svc in services:
        runs = [e for e in envs_all if e in (svc.get("environments") or d.get("environments") or envs_all)]
        got = found.get(svc["name"], [])
        if len(got) != 1:
            problems.append("%s: %d dashboards %s" % (svc["name"], len(got), [g[0] for g in got]))
            continue
        j = got[0][1]
        var = [v for v in j["templating"]["list"] if v["name"] == "env"]
        if not var or [o["value"] for o in var[0]["options"]] != runs:
            problems.append("%s: env variable %s, want %s" % (svc["name"], var and var[0].get("options"), runs))
        for env in runs:
            pr = os.path.join(out, "monitoring", svc["name"], env, "prometheusrule.yaml")
            if not os.path.exists(pr):
                continue
            for g in yaml.safe_load(open(pr))["spec"]["groups"]:
                for r in g["rules"]:
                    u = (r.get("annotations") or {}).get("dashboard_url")
                    if "alert" in r and not (u and u.endswith("/d/%s?var-env=%s" % (j["uid"], env))
                                             and u.startswith(root["platform"].get("grafana", {}).get("url", "/"))):
                        problems.append("%s %s: dashboard_url %s" % (svc["name"], r["alert"], u))
    extra = sorted(set(found) - {s["name"] for s in services})
    if extra:
        problems.append("dashboards of no service: %s" % extra)
    report("%s/one-dashboard-per-service (%d)" % (ex, len(found)), problems)


def main():
    total_expected = 0
    for ex in EXAMPLES:
        root, path, services = load_platform(ex)
        envs = [e["name"] for e in root["environments"]]
        out = os.path.join(WORK, ex)
        r = subprocess.run([PLATFORMC, "render", path, "-o", out], capture_output=True, text=True)
        if r.returncode != 0 or not os.path.isdir(os.path.join(out, "clusters")):
            report("%s/render" % ex, ["platformc render exited %d: %s" % (r.returncode, r.stderr.strip()[:400])])
            continue
        report("%s/render" % ex, [])
        total_expected += 1
        dashboards(ex, root, services, out)
        d = ((root.get("defaults") or {}).get("service") or {})
        for env in envs:
            k = subprocess.run(["kubectl", "kustomize", os.path.join(out, "clusters", env)], capture_output=True, text=True)
            objs = [o for o in yaml.safe_load_all(k.stdout) if o] if k.returncode == 0 else []
            if k.returncode != 0 or not objs:
                report("%s/%s/kustomize" % (ex, env), ["kubectl kustomize failed: %s" % k.stderr.strip()[:400]])
                continue
            for svc in services:
                runs = svc.get("environments") or d.get("environments") or envs
                if env not in runs:
                    continue
                total_expected += 1
                ns = "%s-%s" % (svc["team"], env)
                mine = [o for o in objs if o["metadata"].get("namespace") == ns]
                problems = []
                compare(expect(root, svc, env), mine, svc["name"], problems)
                report("%s/%s/%s" % (ex, env, svc["name"]), problems)
    print("%d passed, %d failed" % (passed, failed))
    if failed or passed < total_expected + len(EXAMPLES) or total_expected < 20:
        if not failed:
            print("FAIL workloads/count: ran %d cases, expected at least %d" % (passed, total_expected + len(EXAMPLES)))
        sys.exit(1)


main()
