#!/usr/bin/env python3
"""check_monitoring.py - proves a rendered tree's monitoring works (guide §7).

Usage: check_monitoring.py PLATFORM_YAML ROOT WORKDIR CHECK...

CHECK is any of:
  rules       every PrometheusRule `spec`, extracted to a plain rule file, passes `promtool check rules`
  alerts      generated `promtool test rules` unit tests: for every SLO of every service and environment,
              synthetic traffic at a burn rate that must page (prod tiers; nonprod: must ticket), one that
              must only ticket, one that must stay silent, and a fast burn that stopped (the page resets
              through the short windows, the ticket stays); then the same tests against a copy of one
              rule file with the fast-burn factor weakened, which must FAIL (the tests can fail)
  team-rules  generated unit tests for the team rules: a crash-looping pod and a Deployment short of replicas
              page in prod tiers and open tickets elsewhere; healthy series stay silent
  dashboards  every panel query of every dashboard parses as PromQL (Grafana variables replaced by a
              duration, each query wrapped into a recording rule for `promtool check rules`)
  links       every alert has a runbook_url that is <runbook base>/<alert>.md with docs/runbooks/<alert>.md
              in ROOT; every dashboard_url annotation and dashboard link points at a dashboard uid of ROOT
              (or a runbook of ROOT); every dashboard is also shipped by a kustomization configMapGenerator
Prints one line per check: "ok <check> (<figures>)" or "FAIL <check>" + details; exit 1 on any failure.
"""
import glob
import json
import os
import re
import subprocess
import sys
import time

import yaml

PROMTOOL = os.environ.get("PROMTOOL", "promtool")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"')


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def prometheus_rules(root):
    out = []
    for p in sorted(glob.glob(os.path.join(root, "**", "*.yaml"), recursive=True)):
        for d in load_docs(p):
            if isinstance(d, dict) and d.get("kind") == "PrometheusRule":
                out.append((p, d))
    return out


def dashboards(root):
    out = []
    for p in sorted(glob.glob(os.path.join(root, "**", "*.json"), recursive=True)):
        with open(p, encoding="utf-8") as f:
            d = json.load(f)
        if isinstance(d, dict) and "schemaVersion" in d:
            out.append((p, d))
    return out


def promtool(args):
    r = subprocess.run([PROMTOOL] + args, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def dump(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(obj, f, sort_keys=False, width=1 << 20)


def unescape_gotmpl(s):
    # the one template platformc writes into annotations: {{ "{{" }} prints {{
    return s.replace('{{ "{{" }}', "{{")


# ------------------------------------------------------------------ checks

def check_rules(rules, work):
    files = []
    for i, (p, d) in enumerate(rules):
        f = os.path.join(work, "rules-%03d.yaml" % i)
        dump(f, d["spec"])
        files.append(f)
    rc, out = promtool(["check", "rules"] + files)
    if not rules:
        return False, "no PrometheusRule in the tree", "", []
    n = sum(len(g["rules"]) for _, d in rules for g in d["spec"]["groups"])
    alerts = sum(1 for _, d in rules for g in d["spec"]["groups"] for r in g["rules"] if "alert" in r)
    return rc == 0, "%d PrometheusRules, %d rules, %d alerts" % (len(rules), n, alerts), out, files


def unquote(v):
    return re.sub(r"\\(.)", r"\1", v)


def matchers(sel):
    return [(m.group(1), m.group(2), unquote(m.group(3))) for m in MATCHER.finditer(sel)]


BAD = ["500", "503", "Unknown", "Internal", "Unavailable", "DataLoss", "INTERNAL", "UNAVAILABLE", "error", "failed"]
GOOD = ["200", "OK", "ok", "success", "204"]


def pick(regex, cands, want):
    for c in cands:
        if bool(re.fullmatch(regex, c)) == want:
            return c
    raise ValueError("no sample label value %s /%s/" % ("matching" if want else "not matching", regex))


def series(name, labels):
    return "%s{%s}" % (name, ",".join('%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"'))
                                       for k, v in labels))


def fmt(x):
    return str(x) if isinstance(x, int) else repr(float(x))


def values(inc, stop_after=None, total=40):
    """A counter growing by inc per minute; with stop_after, flat after that many minutes."""
    if stop_after is None:
        return "0+%sx%d" % (fmt(inc), total)
    return "0+%sx%d %s+0x%d" % (fmt(inc), stop_after, fmt(inc * stop_after), total - stop_after - 1)


def values_then(inc, stop_after, after, total):
    """A counter growing by inc per minute for stop_after minutes, then by after per minute: one sample a
    minute throughout (a repeated sample at the switch would read as a minute with no requests)."""
    return "0+%sx%d %s+%sx%d" % (fmt(inc), stop_after, fmt(inc * stop_after + after), fmt(after),
                                 total - stop_after - 1)


def inputs_for(expr5m, f, stop_after=None, total=40):
    """Synthetic series (1e6 requests/min) with an error ratio f for the SLI whose 5m recording rule is expr5m;
    with stop_after, the bad requests stop (become good) after that many minutes."""
    # integer increments keep the counters exact (a float sum that ends a hair above the flat value
    # that follows would read as a counter reset)
    rate_per_min = 1000000
    sels = re.findall(r"rate\(([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*?)\}\[5m\]\)", expr5m)
    if not sels or len(sels) != 2:
        raise ValueError("unexpected SLI expression: " + expr5m)
    (m1, s1), (m2, s2) = sels
    base = [(k, v) for k, op, v in matchers(s2) if op == "="]
    out = []
    bad = int(round(f * rate_per_min))
    good = rate_per_min - bad
    if m1.endswith("_bucket"):          # latency: 1 - good/total
        le = [(k, op, v) for k, op, v in matchers(s1) if k == "le"][0]
        lev = le[2] if le[1] == "=" else le[2].split("|")[0]
        fast = series(m1, base + [("le", lev)])
        out = [{"series": fast, "values": values(good, total=total) if stop_after is None else
                values_then(good, stop_after, rate_per_min, total)}]
        out.append({"series": series(m1, base + [("le", "+Inf")]), "values": values(rate_per_min, total=total)})
        out.append({"series": series(m2, base), "values": values(rate_per_min, total=total)})
    else:                               # availability: errors/total
        err = [(k, v) for k, op, v in matchers(s1) if op == "=~" and k not in dict(base)][0]
        out = [{"series": series(m1, base + [(err[0], pick(err[1], BAD, True))]),
                "values": values(bad, stop_after, total)}]
        gs = series(m1, base + [(err[0], pick(err[1], GOOD, False))])
        out.append({"series": gs, "values": values(good, total=total) if stop_after is None else
                    values_then(good, stop_after, rate_per_min, total)})
    return out


EVAL = "30m"           # long windows then hold 30m of data: every window sees the same ratio
EVAL_INTERVAL = "5m"


def alert_tests(rules, files):
    """One test file per PrometheusRule with SLO alerts: returns [(file, [tests])]. Each test runs one
    scenario (page, ticket, silent) for every SLI of the file at once: they share the evaluation."""
    out = []
    for (p, d), rule_file in zip(rules, files):
        groups = {g["name"]: g for g in d["spec"]["groups"]}
        slis = []
        for name, g in groups.items():
            if not name.endswith("-alerts"):
                continue
            stem = name[:-len("-alerts")]
            r5 = [r for r in groups[stem + "-sli"]["rules"] if r["record"] == "slo:sli_error:ratio_rate5m"][0]
            eb = [r for r in groups[stem + "-budget"]["rules"] if r["record"] == "slo:error_budget:ratio"][0]
            b = float(re.search(r"vector\((.*)\)", eb["expr"]).group(1))
            alerts = g["rules"]
            page = [a for a in alerts if a["labels"]["severity"] == "page"]
            ticket = [a for a in alerts if a["labels"]["severity"] == "ticket"]
            assert len(ticket) == 1 and len(page) <= 1, name

            def expect(a, r5=r5):
                labels = dict(r5["labels"])
                labels.update(a["labels"])
                return {"exp_labels": labels,
                        "exp_annotations": {k: unescape_gotmpl(v) for k, v in a["annotations"].items()}}

            slis.append((alerts[0]["alert"], r5, b, page, ticket, expect))
        if not slis:
            continue
        tests = []
        for what in ("page", "ticket", "silent"):
            series_, checks, names = [], [], []
            for alert, r5, b, page, ticket, expect in slis:
                w = what
                if w == "page" and 14.4 * b >= 0.95:
                    w = "ticket"        # an objective this low cannot burn 14.4x: nothing pages by design
                f = {"page": min(20 * b, 0.95), "ticket": 4 * b, "silent": 0.5 * b}[w]
                # fast burn: pages in prod tiers (the ticket pairs fire too); nonprod: a ticket, never a page
                exp = {"page": page + ticket, "ticket": ticket, "silent": []}[w]
                series_ += inputs_for(r5["expr"], f)
                checks.append({"eval_time": EVAL, "alertname": alert, "exp_alerts": [expect(x) for x in exp]})
                names.append("%s %s %gx budget -> %s" % (alert, r5["labels"]["env"], f / b,
                                                         "+".join(x["labels"]["severity"] for x in exp) or "silent"))
            tests.append({"name": "; ".join(names), "interval": "1m", "input_series": series_,
                          "alert_rule_test": checks})
        # a fast burn that stopped 35 minutes ago: the short windows (5m, 30m) are clean again, so the
        # page resets while the ticket (1d and 2h still over 3x) stays -- the windows are wired right
        series_, checks, names = [], [], []
        for alert, r5, b, page, ticket, expect in slis:
            if 14.4 * b >= 0.95:
                continue
            f = min(20 * b, 0.95)
            series_ += inputs_for(r5["expr"], f, stop_after=50, total=85)
            checks.append({"eval_time": "85m", "alertname": alert, "exp_alerts": [expect(x) for x in ticket]})
            names.append("%s %s %gx budget for 50m, then clean for 35m -> ticket" % (alert, r5["labels"]["env"], f / b))
        if checks:
            tests.append({"name": "; ".join(names), "interval": "1m", "input_series": series_,
                          "alert_rule_test": checks})
        out.append((rule_file, tests))
    return out


def run_alert_tests(suites, work, stem="test"):
    paths = []
    n = 0
    for i, (rf, tests) in enumerate(suites):
        # promtool evaluates the groups of a file in random order unless told: run every test twice,
        # recording rules first and alerts first -- Prometheus gives no order either, so an alert that
        # reads the previous evaluation's recorded value must still come out right
        with open(rf, encoding="utf-8") as fh:
            order = [g["name"] for g in yaml.safe_load(fh)["groups"]]
        alerts_first = [g for g in order if g.endswith("-alerts")] + [g for g in order if not g.endswith("-alerts")]
        for suffix, o in (("", order), ("-alerts-first", alerts_first)):
            t = os.path.join(work, "%s-%03d%s.yaml" % (stem, i, suffix))
            dump(t, {"rule_files": [rf], "evaluation_interval": EVAL_INTERVAL, "group_eval_order": o,
                     "tests": tests})
            paths.append(t)
        n += sum(len(x["alert_rule_test"]) for x in tests)
    # promtool runs a file's tests one after the other: spread the files over the CPUs
    jobs = max(1, min(4, os.cpu_count() or 1))
    procs = [subprocess.Popen([PROMTOOL, "test", "rules"] + paths[i::jobs], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for i in range(jobs) if paths[i::jobs]]
    rc, out = 0, ""
    for pr in procs:
        o, _ = pr.communicate()
        rc |= pr.returncode
        if pr.returncode:
            out += o
    return rc, out, n, paths


def check_alerts(rules, files, work):
    suites = alert_tests(rules, files)
    if not suites:
        return False, "no SLO alerts found", ""
    rc, out, n, paths = run_alert_tests(suites, work)
    if rc != 0:
        return False, "", out
    # the tests can fail: weaken the fast-burn factor of one rule file; its page test must now fail
    rf, tests = next((rf, t) for rf, t in suites if any("page" in x["name"] for x in t))
    with open(rf, encoding="utf-8") as fh:
        text = fh.read()
    broken = os.path.join(work, "broken-rules.yaml")
    with open(broken, "w", encoding="utf-8") as fh:
        fh.write(text.replace("(14.4 * ", "(144 * ").replace("(6 * ", "(60 * "))
    bt = os.path.join(work, "broken-test.yaml")
    dump(bt, {"rule_files": [broken], "evaluation_interval": EVAL_INTERVAL, "tests": tests})
    brc, bout = promtool(["test", "rules", bt])
    if brc == 0:
        return False, "", "a rule file with weakened burn-rate factors still passes its tests:\n" + bout
    pages = sum(1 for _, t in suites for x in t for c in x["alert_rule_test"]
                for e in c["exp_alerts"] if e["exp_labels"]["severity"] == "page")
    return True, "%d alert checks in %d files, %d expect a page; a weakened rule file fails them; both group orders" % (
        n, len(suites), pages), ""


def expand(text, labels):
    """What Prometheus makes of an annotation that uses only {{ $labels.x }}."""
    return re.sub(r"\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}", lambda m: labels.get(m.group(1), ""), text)


def check_team_rules(rules, files, platform_yaml, work):
    """Team rules: a crash-looping pod and a Deployment short of replicas page in prod tiers and open
    tickets elsewhere; healthy series stay silent."""
    with open(platform_yaml, encoding="utf-8") as f:
        tiers = {e["name"]: e["tier"] for e in yaml.safe_load(f)["environments"]}
    suites = []
    for (p, d), rule_file in zip(rules, files):
        if not d["metadata"]["name"].startswith("team-"):
            continue
        tests = []
        for g in d["spec"]["groups"]:
            by = {r["alert"]: r for r in g["rules"]}
            crash, mismatch = by["TeamPodCrashLooping"], by["TeamDeploymentReplicasMismatch"]
            ns = re.search(r'namespace="([^"]+)"', crash["expr"]).group(1)
            env = crash["labels"]["env"]
            sev = "page" if tiers[env] == "prod" else "ticket"
            if crash["labels"]["severity"] != sev or mismatch["labels"]["severity"] != sev:
                return False, "", "%s: severity should be %s in %s" % (g["name"], sev, env)

            def exp(rule, labels):
                labels = dict(labels, **rule["labels"])
                return [{"exp_labels": labels,
                         "exp_annotations": {k: expand(v, labels) for k, v in rule["annotations"].items()}}]
            cl = {"namespace": ns, "pod": "app-1", "container": "app", "reason": "CrashLoopBackOff"}
            dl = {"namespace": ns, "deployment": "app"}
            tests.append({"name": "%s: broken workloads -> %s" % (g["name"], sev), "interval": "1m",
                          "input_series": [
                              {"series": series("kube_pod_container_status_waiting_reason", cl.items()),
                               "values": "1x40"},
                              {"series": series("kube_deployment_spec_replicas", dl.items()), "values": "3x40"},
                              {"series": series("kube_deployment_status_replicas_available", dl.items()),
                               "values": "1x40"},
                              {"series": series("kube_deployment_status_replicas_updated", dl.items()),
                               "values": "3x40"}],
                          "alert_rule_test": [
                              {"eval_time": EVAL, "alertname": "TeamPodCrashLooping", "exp_alerts": exp(crash, cl)},
                              {"eval_time": EVAL, "alertname": "TeamDeploymentReplicasMismatch",
                               "exp_alerts": exp(mismatch, dl)}]})
            tests.append({"name": "%s: healthy -> silent" % g["name"], "interval": "1m",
                          "input_series": [
                              {"series": series("kube_pod_container_status_waiting_reason", cl.items()),
                               "values": "0x40"},
                              {"series": series("kube_deployment_spec_replicas", dl.items()), "values": "3x40"},
                              {"series": series("kube_deployment_status_replicas_available", dl.items()),
                               "values": "3x40"},
                              {"series": series("kube_deployment_status_replicas_updated", dl.items()),
                               "values": "3x40"}],
                          "alert_rule_test": [
                              {"eval_time": EVAL, "alertname": "TeamPodCrashLooping", "exp_alerts": []},
                              {"eval_time": EVAL, "alertname": "TeamDeploymentReplicasMismatch", "exp_alerts": []}]})
        suites.append((rule_file, tests))
    if not suites:
        return False, "no team rules", ""
    rc, out, n, paths = run_alert_tests(suites, work, "team-test")
    return rc == 0, "%d alert checks over %d team rule files" % (n, len(suites)), out


GRAFANA_VARS = [("$__rate_interval", "5m"), ("$__interval", "1m"), ("$__range", "1h"), ("${datasource}", "x")]


def check_dashboards(dash, work):
    if not dash:
        return False, "no dashboard in the tree", ""
    rules = []
    for p, d in dash:
        # the dashboard's own custom variables (`env`) at their current value
        own = [("${%s}" % v["name"], v["current"]["value"]) for v in (d.get("templating") or {}).get("list") or []
               if v.get("type") == "custom"]
        own += [("$" + v[2:-1], x) for v, x in own]
        for panel in d.get("panels", []):
            for t in panel.get("targets", []) or []:
                e = t.get("expr")
                if e is None:
                    continue
                for k, v in own + GRAFANA_VARS:
                    e = e.replace(k, v)
                if "$" in re.sub(r"\{\{.*?\}\}", "", e):
                    return False, "", "%s: panel %r: unreplaced variable in %s" % (p, panel.get("title"), e)
                rules.append({"record": "dashboard:query:%d" % len(rules), "expr": e})
    f = os.path.join(work, "dashboard-queries.yaml")
    dump(f, {"groups": [{"name": "dashboard-queries", "rules": rules}]})
    rc, out = promtool(["check", "rules", f])
    return rc == 0, "%d dashboards, %d panel queries" % (len(dash), len(rules)), out


def runbook_base(platform_yaml):
    with open(platform_yaml, encoding="utf-8") as f:
        p = yaml.safe_load(f)["platform"]
    mon = p.get("monitoring") or {}
    if mon.get("runbook_url"):
        return mon["runbook_url"].rstrip("/")
    g = p["gitops"]
    path = str(g.get("path", "out")).strip("/")
    return "%s/blob/%s%s/docs/runbooks" % (g["repo"].rstrip("/"), g.get("revision", "main"),
                                          "/" + path if path and path != "." else "")


def check_links(root, rules, dash, platform_yaml):
    base = runbook_base(platform_yaml)
    with open(platform_yaml, encoding="utf-8") as f:
        backstage = ((yaml.safe_load(f)["platform"].get("backstage") or {}).get("url") or "").rstrip("/")
    uids = {d["uid"] for _, d in dash}
    # the values of each dashboard's variables: a link may select one (`?var-env=production`)
    var_values = {d["uid"]: {v["name"]: {o["value"] for o in v.get("options") or []}
                             for v in (d.get("templating") or {}).get("list") or []} for _, d in dash}
    errs = []
    nalerts = nlinks = 0
    runbooks_used = set()

    def resolve(url, where):
        m = re.search(r"/d/([A-Za-z0-9_-]+)(?:\?var-([a-z]+)=([a-z0-9-]+))?$", url)
        if m:
            if m.group(1) not in uids:
                errs.append("%s: dashboard link %s: no dashboard with uid %s" % (where, url, m.group(1)))
            elif m.group(2) and m.group(3) not in var_values[m.group(1)].get(m.group(2), set()):
                errs.append("%s: dashboard link %s: %s is not a value of the variable %s" % (where, url, m.group(3),
                                                                                             m.group(2)))
            return
        m = re.search(r"/catalog/default/(component|group)/([a-z0-9-]+)$", url)
        if m and backstage and url.startswith(backstage + "/"):
            folder = {"component": "components", "group": "groups"}[m.group(1)]
            if not os.path.isfile(os.path.join(root, "catalog", folder, m.group(2) + ".yaml")):
                errs.append("%s: Backstage link %s: no catalog/%s/%s.yaml" % (where, url, folder, m.group(2)))
            return
        if url.startswith(base + "/"):
            rel = url[len(base) + 1:]
            if not os.path.isfile(os.path.join(root, "docs", "runbooks", rel)):
                errs.append("%s: %s: no docs/runbooks/%s in the render" % (where, url, rel))
            return
        errs.append("%s: link %s points at nothing the render produced" % (where, url))

    for p, d in rules:
        for g in d["spec"]["groups"]:
            for r in g["rules"]:
                if "alert" not in r:
                    continue
                nalerts += 1
                a = r.get("annotations") or {}
                where = "%s %s" % (os.path.relpath(p, root), r["alert"])
                for k in ("summary", "description", "runbook_url"):
                    if not a.get(k):
                        errs.append("%s: no %s" % (where, k))
                url = a.get("runbook_url", "")
                if url != "%s/%s.md" % (base, r["alert"]):
                    errs.append("%s: runbook_url %s is not %s/%s.md" % (where, url, base, r["alert"]))
                resolve(url, where)
                runbooks_used.add(r["alert"])
                if a.get("dashboard_url"):
                    resolve(a["dashboard_url"], where)
    for p, d in dash:
        for l in d.get("links", []):
            nlinks += 1
            resolve(l["url"], "%s link %r" % (os.path.relpath(p, root), l["title"]))
    # every dashboard file is shipped to the Grafana sidecar by a configMapGenerator beside it
    shipped = set()
    for k in glob.glob(os.path.join(root, "**", "kustomization.yaml"), recursive=True):
        for doc in load_docs(k):
            for g in doc.get("configMapGenerator", []) or []:
                if (g.get("options") or {}).get("labels", {}).get("grafana_dashboard") != "1":
                    continue
                for f in g.get("files", []):
                    shipped.add(os.path.normpath(os.path.join(os.path.dirname(k), f.split("=", 1)[-1])))
    for p, _ in dash:
        if os.path.normpath(p) not in shipped:
            errs.append("%s: not shipped by any configMapGenerator with label grafana_dashboard=1" % p)
    books = {os.path.basename(x)[:-3] for x in glob.glob(os.path.join(root, "docs", "runbooks", "*.md"))}
    for extra in sorted(books - runbooks_used):
        errs.append("docs/runbooks/%s.md: no alert of that name" % extra)
    return not errs, "%d alerts with runbooks, %d dashboard links" % (nalerts, nlinks), "\n".join(errs[:40])


def main():
    platform_yaml, root, work = sys.argv[1:4]
    checks = sys.argv[4:] or ["rules", "alerts", "team-rules", "dashboards", "links"]
    os.makedirs(work, exist_ok=True)
    rules = prometheus_rules(root)
    dash = dashboards(root)
    failed = False
    files = None
    for c in ["rules", "alerts", "team-rules", "dashboards", "links"]:
        if c not in checks and not (c == "rules" and ("alerts" in checks or "team-rules" in checks)):
            continue
        t0 = time.time()
        if c == "rules":
            ok, what, out, files = check_rules(rules, work)
        elif c == "alerts":
            ok, what, out = check_alerts(rules, files, work)
        elif c == "team-rules":
            ok, what, out = check_team_rules(rules, files, platform_yaml, work)
        elif c == "dashboards":
            ok, what, out = check_dashboards(dash, work)
        else:
            ok, what, out = check_links(root, rules, dash, platform_yaml)
        if c not in checks:
            continue
        dt = time.time() - t0
        if ok:
            print("ok %s (%s; %.1fs)" % (c, what, dt))
        else:
            failed = True
            print("FAIL %s %s" % (c, what))
            print("\n".join(out.splitlines()[:40]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
