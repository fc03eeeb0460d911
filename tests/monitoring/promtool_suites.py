#!/usr/bin/env python3
"""The promtool suites a render ships (tests/promtool/) re-prove its alerts.

    promtool_suites.py TREE

Prints "ok NAME (...)" / "FAIL NAME" + details for three checks; exits 1 on a
failure:
  coverage  every PrometheusRule of the tree (monitoring/, platform/monitoring/)
            has a suite whose rule file holds exactly its groups, and every
            alert of it is tested twice: once where it must fire, once where
            it must not;
  pass      `promtool test rules` passes every suite;
  teeth     a suite of each kind fails when its alerts never fire (every alert's expr
            replaced by `vector(1) < 0`) and when they always fire
            (`vector(1)`): the suites can tell a broken rule from a good one.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

import yaml


def main():
    tree = sys.argv[1]
    failures = 0

    def report(name, problems, summary):
        nonlocal failures
        if problems:
            failures += 1
            print(f"FAIL {name}")
            for p in problems[:40]:
                print(f"     {p}")
        else:
            print(f"ok   {name} ({summary})")

    rules = {}
    for path in sorted(glob.glob(f"{tree}/monitoring/*/*/prometheusrule.yaml")):
        svc, env = path.split("/")[-3:-1]
        rules[path] = f"{tree}/tests/promtool/services/{svc}/{env}"
    for path in sorted(glob.glob(f"{tree}/platform/monitoring/rules/*.yaml")):
        rules[path] = f"{tree}/tests/promtool/platform/{os.path.basename(path)[:-5]}"
    suites = sorted(glob.glob(f"{tree}/tests/promtool/**/*.test.yaml", recursive=True))

    # coverage
    problems, alerts = [], 0
    for path, base in rules.items():
        groups = yaml.safe_load(open(path))["spec"]["groups"]
        if not os.path.exists(base + ".test.yaml"):
            problems.append(f"{path}: no suite {base}.test.yaml")
            continue
        shipped = yaml.safe_load(open(base + ".rules.yaml"))
        if shipped != {"groups": groups}:
            problems.append(f"{base}.rules.yaml: not the groups of {path}")
        tests = yaml.safe_load(open(base + ".test.yaml"))["tests"]
        fires, silent = set(), set()
        for t in tests:
            for a in t.get("alert_rule_test", []):
                (fires if a.get("exp_alerts") else silent).add(a["alertname"])
        for g in groups:
            for r in g["rules"]:
                if "alert" not in r:
                    continue
                alerts += 1
                if r["alert"] not in fires:
                    problems.append(f"{base}.test.yaml: no case where {r['alert']} fires")
                if r["alert"] not in silent:
                    problems.append(f"{base}.test.yaml: no case where {r['alert']} stays silent")
    if not rules:
        problems.append(f"{tree}: no PrometheusRule")
    if len(suites) != len(rules):
        problems.append(f"{len(suites)} suites for {len(rules)} rule files")
    report("promtool-suites/coverage", problems, f"{len(rules)} rule files, {alerts} alerts")

    def promtool(files):
        """One promtool run over many suites: {suite: passed}."""
        r = subprocess.run(["promtool", "test", "rules", *files], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        out, status, current = r.stdout, {}, None
        for line in out.splitlines():
            if line.startswith("Unit Testing:"):
                current = line.split(":", 1)[1].strip()
                status[current] = True
            elif current and "FAILED" in line:
                status[current] = False
        return status, out

    # pass
    cases = sum(len(yaml.safe_load(open(s))["tests"]) for s in suites)
    status, out = promtool(suites) if suites else ({}, "")
    problems = [f"{os.path.relpath(s, tree)} fails" for s in suites if not status.get(s)]
    if problems:
        problems.append(out[-2000:])
    report("promtool-suites/pass", problems if suites else ["no suite"], f"{len(suites)} suites, {cases} cases")

    # teeth: the first suite of each kind (platform, team, cost, service), over
    # rule files whose alerts never fire, or always do
    problems = []
    kinds = {}
    for s in suites:
        b = os.path.basename(s)
        kinds.setdefault("services" if "/services/" in s else b.split("-")[0] if "-" in b else b, s)
    sample = sorted(kinds.values())
    work = tempfile.mkdtemp()
    try:
        for label, expr in (("never fires", "vector(1) < 0"), ("always fires", "vector(1)")):
            copies = []
            for i, s in enumerate(sample):
                base = s[: -len(".test.yaml")]
                d = os.path.join(work, label.replace(" ", "-"), str(i))
                os.makedirs(d)
                shutil.copy(s, d)
                rf = yaml.safe_load(open(base + ".rules.yaml"))
                for g in rf["groups"]:
                    for r in g["rules"]:
                        if "alert" in r:
                            r["expr"] = expr
                with open(os.path.join(d, os.path.basename(base) + ".rules.yaml"), "w") as f:
                    yaml.safe_dump(rf, f)
                copies.append((s, os.path.join(d, os.path.basename(s))))
            status, _ = promtool([c for _, c in copies])
            problems += [f"{os.path.relpath(s, tree)} passes when every alert {label}" for s, c in copies
                         if status.get(c, True)]
    finally:
        shutil.rmtree(work)
    report("promtool-suites/teeth", problems if suites else ["no suite"], f"{2 * len(sample)} broken rule sets refused")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
