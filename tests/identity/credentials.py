#!/usr/bin/env python3
"""Credentials reach the pod: every connection key docs/catalog.md lists is produced.

Usage: credentials.py PLATFORMC WORKDIR

Renders examples/company (it uses every built-in kind) with both identity
modes and, for each kind of the table "The built-in kinds" in
docs/catalog.md, compares the keys its "connection keys" column names with
the keys the render produces for a resource of that kind that a service uses:
the connection details of its Composition (claims target) plus what its
ExternalSecret reads from Secrets Manager (`data[].secretKey`; a `find` of
the RDS-managed master secret gives that secret's JSON keys, `username` and
`password`). Also checks that the ExternalSecret reads those values through
the AWS store of a service of the namespace that uses the resource, that the
store serves that namespace only and uses that service's role (Pod Identity)
or ServiceAccount (IRSA), that the role's policy grants the values' read,
and that the service's Deployment mounts `<resource>-connection`.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "catalog"))
import compose  # noqa: E402
compose.GROUP = "identity/credentials"
check = compose.check
ROOT = compose.ROOT
RDS_SECRET_KEYS = {"username", "password"}   # the JSON of an RDS-managed master user secret
# the keys read from Secrets Manager, which a team granted no `secret_values` mode does not get
# (`username` stays: Crossplane writes it from the cluster's master user name)
VALUE_KEYS = {"aurora-postgresql": {"password"}, "aurora-mysql": {"password"}, "secret": {"value"},
              "redis": {"auth_token"}}


def granted_values(svc, res, services):
    """Whether a service of svc's team that uses res is granted the mode that reads the kind's
    secret values: its team is ({team, access} lists it, or all modes), and its `uses` entry
    does not narrow it away ({resource, access})."""
    import yaml
    kd = yaml.safe_load(open(os.path.join(ROOT, "catalog", res["kind"], "kind.yaml")))
    mode = (kd.get("secret_values") or {}).get("mode")
    if mode is None:
        return True
    team_ok = res["team"] == svc["team"]
    for sh in res.get("shared_with") or []:
        if sh == svc["team"] or (isinstance(sh, dict) and sh["team"] == svc["team"] and mode in sh["access"]):
            team_ok = True
    return team_ok and any(s["team"] == svc["team"] and res["name"] in (s.get("uses") or []) and
                           mode in (s.get("uses_access") or {}).get(res["name"], [mode]) for s in services)


def documented():
    """{kind: set of keys} from the built-in kinds table of docs/catalog.md."""
    text = open(os.path.join(ROOT, "docs", "catalog.md")).read()
    table = text.split("| kind | managed resources (claims target) |", 1)[1].split("\n\n", 1)[0]
    out = {}
    for line in table.split("\n")[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or "(internal)" in cells[0]:
            continue
        keys = set(re.findall(r"`([a-z_]+)`", cells[3]))
        for kind in re.findall(r"`([a-z0-9-]+)`", cells[0]):
            out[kind] = keys
    return out


def main():
    doc = documented()
    check("docs-table-read (%d kinds)" % len(doc), len(doc) >= 8, doc)
    for mode in ("pod-identity", "irsa"):
        d = os.path.join(compose.WORK, mode)
        import shutil
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(os.path.join(ROOT, "examples/company"), os.path.join(d, "src"))
        if mode == "irsa":
            p = os.path.join(d, "src", "platform.yaml")
            t = open(p).read().replace("  cloud:\n", "  cloud:\n    identity: irsa\n"
                                       "    oidc_issuer: oidc.eks.eu-west-1.amazonaws.com/id/COMPANY0123456789ABCDEF\n", 1)
            open(p, "w").write(t)
        compose.WORK = d
        pf, out = compose.render(os.path.join(d, "src"), "claims", "company-" + mode)
        if not os.path.isdir(out):
            continue
        comps = {}
        for f in os.listdir(os.path.join(out, "platform/crossplane")):
            if f.endswith("-composition.yaml"):
                c = compose.docs(os.path.join(out, "platform/crossplane", f))[0]
                comps[c["metadata"]["name"]] = c
        resources = {r["name"]: r for r in pf["resources"]}
        services = pf["services"]
        region, account = pf["platform"]["cloud"]["region"], pf["platform"]["cloud"]["account"]
        seen, bad_keys, bad_store = set(), [], []
        for svc in services:
            for env in compose.envs_of(pf, svc):
                ns = "%s-%s" % (svc["team"], env)
                base = os.path.join(out, "services", svc["name"], "base")
                workload = "rollout.yaml" if svc.get("rollout") == "canary" else "deployment.yaml"
                dep = compose.docs(os.path.join(base, workload))[0]
                vols = {v["secret"]["secretName"] for v in dep["spec"]["template"]["spec"].get("volumes", [])
                        if "secret" in v}
                for u in svc.get("uses") or []:
                    r = resources[u]
                    if env not in compose.envs_of(pf, r):
                        continue
                    if "%s-connection" % u not in vols:
                        bad_keys.append("%s: does not mount %s-connection" % (svc["name"], u))
                    sub = "" if r["team"] == svc["team"] else "shared-%s" % svc["team"]
                    es = compose.docs(os.path.join(out, "resources", u, env, sub, "externalsecret.yaml"))[0]
                    if es["metadata"]["namespace"] != ns or es["spec"]["target"]["name"] != u + "-connection":
                        bad_keys.append("%s/%s: ExternalSecret %s" % (u, env, es["metadata"]))
                    keys = set()
                    for res in comps[r["kind"]]["spec"]["pipeline"][0]["input"]["resources"]:
                        keys |= {c["name"] for c in res.get("connectionDetails", [])}
                    stores = set()
                    for item in es["spec"].get("data", []):
                        keys.add(item["secretKey"])
                        stores.add(item["sourceRef"]["storeRef"]["name"])
                    for item in es["spec"]["dataFrom"]:
                        if "find" in item:
                            want_tag = "arn:aws:rds:%s:%s:cluster:%s-%s" % (region, account, u, env)
                            if item["find"] != {"tags": {"aws:rds:primaryDBClusterArn": want_tag}} or \
                                    item["rewrite"][0]["merge"]["strategy"] != "Extract":
                                bad_keys.append("%s/%s: find %s" % (u, env, item))
                            keys |= RDS_SECRET_KEYS
                            stores.add(item["sourceRef"]["storeRef"]["name"])
                        elif item.get("extract", {}).get("key") != u + "-conn":
                            bad_keys.append("%s/%s: extract %s" % (u, env, item))
                    want = doc.get(r["kind"])
                    if want and not granted_values(svc, r, services):
                        want = want - VALUE_KEYS.get(r["kind"], set())   # no grant, no values
                    if want is None or keys != want:
                        bad_keys.append("%s (%s) in %s: produces %s, docs list %s" % (
                            u, r["kind"], ns, sorted(keys), sorted(want or [])))
                    seen.add(r["kind"])
                    # the values' store: a service of this namespace that uses r, its role
                    for st in stores:
                        m = re.match(r"aws-(.+)-%s$" % re.escape(env), st)
                        reader = m and [s for s in services if s["name"] == m.group(1)]
                        sf = os.path.join(out, "platform/connections", env, "clustersecretstore-%s.yaml" %
                                          st[:-(len(env) + 1)])
                        if not reader or reader[0]["team"] != svc["team"] or u not in reader[0]["uses"] \
                                or not os.path.exists(sf):
                            bad_store.append("%s/%s: store %s" % (u, env, st))
                            continue
                        store = compose.docs(sf)[0]["spec"]
                        role = "arn:aws:iam::%s:role/%s-%s-%s" % (account, pf["platform"]["name"], reader[0]["name"], env)
                        aws = store["provider"]["aws"]
                        auth_ok = aws.get("role") == role if mode != "irsa" else \
                            aws.get("auth") == {"jwt": {"serviceAccountRef": {"name": reader[0]["name"], "namespace": ns}}}
                        if store["conditions"] != [{"namespaces": [ns]}] or not auth_ok or \
                                aws["service"] != "SecretsManager" or aws["region"] != region:
                            bad_store.append("%s/%s: store %s" % (u, env, store))
                        idc = compose.docs(os.path.join(out, "identities", reader[0]["name"], env, "claim.yaml"))[0]
                        pol = json.loads(idc["spec"]["parameters"]["policy"])
                        acts = {a for s in pol["Statement"] for a in s["Action"]}
                        trust = json.loads(idc["spec"]["parameters"]["trustPolicy"])
                        eso = [s for s in trust["Statement"] if s["Principal"].get("AWS")]
                        if "secretsmanager:GetSecretValue" not in acts or (mode != "irsa") != bool(eso):
                            bad_store.append("%s/%s: the role of %s cannot read (%s, trust %s)" % (
                                u, env, reader[0]["name"], sorted(acts), trust))
        missing = set(doc) - seen
        check("company-%s-every-documented-key-produced (%d kinds)" % (mode, len(seen)),
              not bad_keys and not missing, "\n".join(bad_keys + ["kind %s not used" % k for k in sorted(missing)]))
        check("company-%s-values-read-with-a-user-s-role" % mode, not bad_store, "\n".join(bad_store))
    return compose.failures


if __name__ == "__main__":
    sys.exit(main())
