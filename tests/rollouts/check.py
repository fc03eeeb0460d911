#!/usr/bin/env python3
"""Canaries and right-sizing, checked against what they must mean.

For every service with `rollout: canary` in examples/company (and a small
platform of its own), in every environment:
  - the workload is a Rollout (no Deployment), its HPA and VPA target it, and
    its steps are the tier's (stdlib/apis.yaml);
  - the AnalysisTemplate's query parses (promtool check rules), reads only
    `slo:current_burn_rate:ratio` of the service's own SLIs in that environment
    (sloth_ids the service's PrometheusRule records), and its success condition
    is below the burn factor the page alert uses;
  - a promtool unit test over the service's real recording rules: with 5% of
    requests failing (a 99.9% SLO burns at 50x) the analysis fails, with 0.5%
    (5x) it passes, with no traffic there is no sample (Argo's default()
    counts that as success);
  - `autoscaling.vpa: recommend` renders a VerticalPodAutoscaler with
    updateMode "Off".

Usage: check.py PLATFORMC WORKDIR ; `ok   rollouts/<case>` / `FAIL rollouts/<case>`.
"""
import os
import re
import subprocess
import sys

import yaml

PLATFORMC, WORK = sys.argv[1], sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APIS = yaml.safe_load(open(os.path.join(ROOT, "stdlib/apis.yaml")))
passed = failed = 0
EXPECTED = 14

OWN = """platform:
  name: acme
  domain: acme.example.com
  owner: platform
  cloud: {provider: aws, region: us-east-1, account: "111122223333"}
  gitops: {repo: https://github.com/acme/platform-gitops}
  registries: [ghcr.io/acme]
  monitoring: {prometheus_address: "http://prometheus.observability.svc:9090"}
environments:
  - {name: dev, tier: nonprod}
  - {name: production, tier: prod}
teams:
  - name: platform
    quota: {cpu: 2, memory: 4Gi}
  - name: shop
    quota: {cpu: 4, memory: 8Gi}
services:
  - name: orders-api
    team: shop
    image: ghcr.io/acme/orders-api
    api: grpc
    rollout: canary
    autoscaling: {vpa: recommend}
    slo:
      availability: 99.9
      latency: {threshold: 300ms, percent: 99}
"""


def report(case, problems):
    global passed, failed
    if problems:
        failed += 1
        print("FAIL rollouts/%s" % case)
        for p in problems[:15]:
            print("    " + str(p))
    else:
        passed += 1
        print("ok   rollouts/%s" % case)


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def promtool(args, cwd):
    r = subprocess.run(["promtool"] + args, capture_output=True, text=True, cwd=cwd)
    return r.returncode, r.stdout + r.stderr


def matchers(sel):
    return [(m.group(1), m.group(2), m.group(3)) for m in re.finditer(r'([a-zA-Z_]+)(=~|=)"((?:[^"\\]|\\.)*)"', sel)]


def series(name, labels):
    return "%s{%s}" % (name, ",".join('%s="%s"' % kv for kv in labels))


def availability_inputs(expr5m, error_ratio, minutes=30):
    """Counters for `sum(rate(M{sel,err=~re}[5m])) / sum(rate(M{sel}[5m]))` at error_ratio."""
    sels = re.findall(r"rate\(([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*?)\}\[5m\]\)", expr5m)
    (m1, s1), (m2, s2) = sels
    base = [(k, v) for k, op, v in matchers(s2) if op == "="]
    err = [(k, v) for k, op, v in matchers(s1) if op == "=~"][0]
    bad_code = next(c for c in ["500", "INTERNAL", "Internal", "UNAVAILABLE", "Unavailable", "503"]
                    if re.fullmatch(err[1], c))
    good_code = next(c for c in ["200", "OK", "ok"] if not re.fullmatch(err[1], c))
    per_min = 10000
    bad = int(round(per_min * error_ratio))
    return [{"series": series(m1, base + [(err[0], bad_code)]), "values": "0+%dx%d" % (bad, minutes)},
            {"series": series(m1, base + [(err[0], good_code)]), "values": "0+%dx%d" % (per_min - bad, minutes)}]


def check_service(tag, out, svc, envs, prod_envs, platform_domain):
    # ---- the workload and its companions, per environment
    for env in envs:
        probs = []
        d = os.path.join(out, "services", svc, env)
        k = subprocess.run(["kubectl", "kustomize", d], capture_output=True, text=True)
        if k.returncode:
            report("%s/%s/%s/objects" % (tag, svc, env), ["kustomize: " + k.stderr[:300]])
            continue
        objs = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(k.stdout) if o}
        ro = objs.get(("Rollout", svc))
        if not ro or ("Deployment", svc) in objs:
            probs.append("want a Rollout and no Deployment: %s" % sorted(objs))
        else:
            tier = "prod" if env in prod_envs else "nonprod"
            want = []
            for st in APIS["rollouts"]["canary"]["steps"][tier]:
                want += [{"setWeight": st["weight"]}, {"pause": {"duration": st["pause"]}}]
            got = ro["spec"]["strategy"]["canary"]["steps"]
            if got != want:
                probs.append("steps %s, want %s" % (got, want))
            tmpl = ro["spec"]["strategy"]["canary"]["analysis"]["templates"]
            if [t["templateName"] for t in tmpl] != ["%s-slo" % svc] or ("AnalysisTemplate", "%s-slo" % svc) not in objs:
                probs.append("analysis template %s not rendered beside it" % tmpl)
            c = ro["spec"]["template"]["spec"]["containers"][0]
            if not c.get("image", "").endswith(":unset") or "startupProbe" not in c or "ports" not in c:
                probs.append("the overlay lost the container: %s" % sorted(c))
            labels = ro["spec"]["template"]["metadata"]["labels"]
            if labels.get("platform.%s/environment" % platform_domain) != env:
                probs.append("pod template lacks the environment label: %s" % labels)
        hpa = objs.get(("HorizontalPodAutoscaler", svc))
        if hpa and hpa["spec"]["scaleTargetRef"]["kind"] != "Rollout":
            probs.append("HPA targets %s" % hpa["spec"]["scaleTargetRef"])
        vpa = objs.get(("VerticalPodAutoscaler", svc))
        if not vpa or vpa["spec"]["updatePolicy"]["updateMode"] != "Off" or vpa["spec"]["targetRef"]["kind"] != "Rollout":
            probs.append("VPA: %s" % (vpa and vpa["spec"]))
        report("%s/%s/%s/objects" % (tag, svc, env), probs)

        # ---- the analysis: query, threshold, promtool
        at = objs.get(("AnalysisTemplate", "%s-slo" % svc))
        rule_path = os.path.join(out, "monitoring", svc, env, "prometheusrule.yaml")
        if not at or not os.path.exists(rule_path):
            report("%s/%s/%s/analysis" % (tag, svc, env), ["no AnalysisTemplate or no PrometheusRule"])
            continue
        probs = []
        m = at["spec"]["metrics"][0]
        q = m["provider"]["prometheus"]["query"]
        rule = load_all(rule_path)[0]
        groups = rule["spec"]["groups"]
        ids = sorted({r["labels"]["sloth_id"] for g in groups for r in g["rules"]
                      if r.get("record") == "slo:current_burn_rate:ratio"})
        ids_in_q = sorted(re.search(r'sloth_id=~"([^"]*)"', q).group(1).split("|")) if "sloth_id=~" in q else []
        if not q.startswith("max(slo:current_burn_rate:ratio{") or ids_in_q != ids:
            probs.append("query %s does not read the burn rate of %s" % (q, ids))
        pages = sorted({float(x) for g in groups for r in g["rules"] if "alert" in r
                        for x in re.findall(r"> \(([0-9.]+) \*", r["expr"])})
        thr = re.fullmatch(r"default\(result\[0\], 0\) < ([0-9.]+)", m["successCondition"])
        if not thr or not pages or float(thr.group(1)) != max(pages):
            probs.append("successCondition %r is not `< %s` (the fast page factor)" % (m["successCondition"], pages))
        work = os.path.join(WORK, "%s-%s-%s" % (tag, svc, env))
        os.makedirs(work, exist_ok=True)
        with open(os.path.join(work, "rules.yaml"), "w") as f:
            yaml.safe_dump({"groups": groups}, f, sort_keys=False)
        with open(os.path.join(work, "query.yaml"), "w") as f:
            yaml.safe_dump({"groups": [{"name": "analysis", "rules": [{"record": "rollout:analysis:burn_rate",
                                                                       "expr": q}]}]}, f)
        rc, outp = promtool(["check", "rules", "query.yaml"], work)
        if rc:
            probs.append("promtool check rules: " + outp[:300])
        threshold = thr.group(1) if thr else "14.4"
        r5 = [r for g in groups for r in g["rules"] if r.get("record") == "slo:sli_error:ratio_rate5m"
              and r["labels"]["slo"] == "availability"]
        if not r5:
            probs.append("no availability SLI to drive")
        else:
            fails = "(%s) >= bool %s" % (q, threshold)
            tests = [
                # 5% errors against a 99.9% SLO: a 50x burn, the canary is aborted
                {"name": "burning", "interval": "1m", "input_series": availability_inputs(r5[0]["expr"], 0.05),
                 "promql_expr_test": [{"expr": fails, "eval_time": "20m", "exp_samples": [{"labels": "{}", "value": 1}]}]},
                # 0.5% errors: a 5x burn, below the page factor: the canary goes on
                {"name": "healthy", "interval": "1m", "input_series": availability_inputs(r5[0]["expr"], 0.005),
                 "promql_expr_test": [{"expr": fails, "eval_time": "20m", "exp_samples": [{"labels": "{}", "value": 0}]}]},
                # no traffic: no sample at all (the template's default(result[0], 0) passes)
                {"name": "no-traffic", "interval": "1m", "input_series": [],
                 "promql_expr_test": [{"expr": q, "eval_time": "20m", "exp_samples": []}]},
            ]
            with open(os.path.join(work, "test.yaml"), "w") as f:
                yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}, f,
                               sort_keys=False)
            rc, outp = promtool(["test", "rules", "test.yaml"], work)
            if rc:
                probs.append("promtool test rules: " + outp[-600:])
        report("%s/%s/%s/analysis" % (tag, svc, env), probs)


def check_cost(out, root):
    """A team with a budget gets an OpenCost spend-rate alert: promtool fires it when the team's pods are
    allocated more than the budget (less its cloud resources) allows, and not below."""
    teams = [t for t in root["teams"] if "budget" in t]
    probs = []
    if not teams:
        probs.append("no team with a budget")
    for t in teams[:2]:
        path = os.path.join(out, "platform/monitoring/rules/cost-%s.yaml" % t["name"])
        if not os.path.exists(path):
            probs.append("no %s" % path)
            continue
        groups = load_all(path)[0]["spec"]["groups"]
        alert = [r for g in groups for r in g["rules"] if r.get("alert") == "TeamSpendOverBudget"][0]
        limit = float(re.search(r"vector\(([0-9.]+)\)", [r for g in groups for r in g["rules"] if r.get("record") == "team:budget_left_usd:monthly"][0]["expr"]).group(1))
        if not 0 < limit <= float(t["budget"]):
            probs.append("%s: limit %s outside (0, budget %s]" % (t["name"], limit, t["budget"]))
        work = os.path.join(WORK, "cost-" + t["name"])
        os.makedirs(work, exist_ok=True)
        with open(os.path.join(work, "rules.yaml"), "w") as f:
            yaml.safe_dump({"groups": groups}, f, sort_keys=False)
        ns = "%s-%s" % (t["name"], root["environments"][-1]["name"])
        price = 0.05  # USD per core-hour; memory free: cores x 0.05 x 730 per month

        def inputs(cores):
            return [{"series": 'container_cpu_allocation{namespace="%s",node="n1",pod="p",container="app"}' % ns,
                     "values": "%s+0x480" % cores},
                    {"series": 'container_memory_allocation_bytes{namespace="%s",node="n1",pod="p",container="app"}' % ns,
                     "values": "0+0x480"},
                    {"series": 'node_cpu_hourly_cost{node="n1",instance="i"}', "values": "%s+0x480" % price},
                    {"series": 'node_ram_hourly_cost{node="n1",instance="i"}', "values": "0+0x480"}]
        over = int(limit / (price * 730)) + 2
        under = max(int(limit / (price * 730)) - 2, 0)
        exp = {"severity": "ticket", "team": t["name"]}
        ann = {k: v.replace('{{ $value | printf "%.0f" }}', "%.0f" % (over * price * 730))
               for k, v in alert["annotations"].items()}
        tests = [{"name": "over", "interval": "1m", "input_series": inputs(over),
                  "alert_rule_test": [{"eval_time": "7h", "alertname": "TeamSpendOverBudget",
                                       "exp_alerts": [{"exp_labels": exp, "exp_annotations": ann}]}]},
                 {"name": "under", "interval": "1m", "input_series": inputs(under),
                  "alert_rule_test": [{"eval_time": "7h", "alertname": "TeamSpendOverBudget", "exp_alerts": []}]}]
        with open(os.path.join(work, "test.yaml"), "w") as f:
            yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}, f,
                           sort_keys=False)
        rc, outp = promtool(["test", "rules", "test.yaml"], work)
        if rc:
            probs.append("promtool: " + outp[-800:])
    report("company/opencost-budget-alert", probs)


def render(tag, path):
    out = os.path.join(WORK, tag)
    r = subprocess.run([PLATFORMC, "render", path, "-o", out], capture_output=True, text=True)
    ok = r.returncode == 0 and os.path.isdir(os.path.join(out, "services"))
    report("%s/render" % tag, [] if ok else ["render exited %d: %s" % (r.returncode, r.stderr[:300])])
    return out if ok else None


def main():
    own = os.path.join(WORK, "own.yaml")
    with open(own, "w") as f:
        f.write(OWN)
    for tag, path in (("own", own), ("company", os.path.join(ROOT, "examples/company/platform.yaml"))):
        out = render(tag, path)
        if not out:
            continue
        import glob
        root = yaml.safe_load(open(path))
        services = list(root.get("services") or [])
        for pat in root.get("include") or []:
            for f in sorted(glob.glob(os.path.join(os.path.dirname(path), pat))):
                services += (yaml.safe_load(open(f)) or {}).get("services") or []
        canaries = [s for s in services if s.get("rollout") == "canary"]
        if not canaries:
            report("%s/has-a-canary" % tag, ["no service with rollout: canary"])
        envs_all = [e["name"] for e in root["environments"]]
        prod = {e["name"] for e in root["environments"] if e["tier"] == "prod"}
        for s in canaries:
            envs = [e for e in envs_all if e in (s.get("environments") or envs_all)]
            check_service(tag, out, s["name"], envs, prod, root["platform"]["domain"])
        if tag == "company":
            check_cost(out, root)
        # the prometheus address: the platform's, else the Operator's service in the monitoring namespace
        if tag == "own":
            at = load_all(os.path.join(out, "services/orders-api/dev/analysistemplate.yaml"))[0]
            addr = at["spec"]["metrics"][0]["provider"]["prometheus"]["address"]
            report("own/prometheus-address", [] if addr == "http://prometheus.observability.svc:9090" else [addr])
    print("%d passed, %d failed" % (passed, failed))
    if failed or passed < EXPECTED:
        if not failed:
            print("FAIL rollouts/count: %d cases, expected %d" % (passed, EXPECTED))
        sys.exit(1)


main()
