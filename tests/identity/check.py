#!/usr/bin/env python3
"""Every service's AWS identity, checked against platform.yaml read here.

Usage: check.py PLATFORMC WORKDIR

For examples/company, examples/minimal and tests/identity/platform.yaml, with both Crossplane
targets and both identity modes (pod-identity, irsa):

  * the grants each identity's policy makes, as (action, ARN, condition)
    triples, equal those derived here: the actions each kind declares per
    access mode in catalog/<kind>/kind.yaml (data), on the ARNs written out
    below per kind (independently of the kind's templates), for the modes
    the service's team may use (its own resources: every mode; `shared_with`:
    every mode for a plain name, the listed `access` otherwise);
  * a service that needs no AWS access has no identity;
  * the trust policy: the EKS Pod Identity principal (plus the External
    Secrets role when a store reads secrets with it), or the cluster's OIDC
    provider for exactly the service's ServiceAccount (irsa);
  * the identity claim composed like function-patch-and-transform gives a
    Role, Policy, RolePolicyAttachment (and PodIdentityAssociation with the
    cluster, namespace and ServiceAccount) that validate against the provider
    schemas, carry the claim's documents, and the role name as external name;
  * with irsa, the service's ServiceAccount in each environment's overlay is
    annotated with the role's ARN.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "catalog"))
import compose  # noqa: E402  (reads PLATFORMC and WORKDIR from argv)
import yaml  # noqa: E402

ROOT = compose.ROOT
check = compose.check
compose.GROUP = "identity"


def kind_doc(kind):
    return yaml.safe_load(open(os.path.join(ROOT, "catalog", kind, "kind.yaml")))


def modes_of(kind):
    return list((kind_doc(kind).get("access") or {}).keys())


def actions_of(kind, mode):
    """The actions of each statement of a mode, in order (kind.yaml is the source of the actions)."""
    return [st["actions"] for st in kind_doc(kind)["access"][mode]["statements"]]


def ext(res, env, p):
    return "%s-%s%s" % (res["name"], env, ".fifo" if p.get("fifo") else "")


def expected_statements(res, env, mode, region, account, prefix=None):
    """[(actions, [ARN], condition)] for one mode of one resource, written out per kind."""
    kind, p = res["kind"], compose.params_in(res, env)
    defaults = {k: v.get("default") for k, v in (kind_doc(kind).get("params") or {}).items() if isinstance(v, dict)}
    for k, v in defaults.items():
        p.setdefault(k, v)
    name = ext(res, env, p)
    acts = actions_of(kind, mode)
    if kind == "sqs":
        q = "arn:aws:sqs:%s:%s:%s" % (region, account, name)
        if mode == "consume":
            arns = [q] + (["arn:aws:sqs:%s:%s:%s-%s-dlq%s" % (region, account, res["name"], env,
                                                             ".fifo" if p.get("fifo") else "")] if p.get("dlq") else [])
            return [(acts[0], arns, None)]
        return [(acts[0], [q], None)]
    if kind == "sns":
        return [(acts[0], ["arn:aws:sns:%s:%s:%s" % (region, account, name)], None)]
    if kind == "dynamodb":
        t = "arn:aws:dynamodb:%s:%s:table/%s" % (region, account, name)
        if mode == "read":
            idx = [t + "/index/" + i["name"] for i in (p.get("global_indexes") or []) + (p.get("local_indexes") or [])]
            out = [(acts[0], [t] + idx, None)]
            if p.get("stream", "none") != "none":
                out.append((acts[1], [t + "/stream/*"], None))
            return out
        return [(acts[0], [t], None)]
    if kind == "secret":
        return [(acts[0], ["arn:aws:secretsmanager:%s:%s:secret:%s-??????" % (region, account, name)], None)]
    if kind == "s3-bucket":
        # a `prefix` share: the objects under it, and the listing under it (no GetBucketLocation)
        b = "arn:aws:s3:::%s" % name
        objs = "%s/%s*" % (b, prefix or "")
        if mode == "read":
            if prefix:
                return [(["s3:ListBucket"], [b], {"StringLike": {"s3:prefix": [prefix + "*"]}}),
                        (acts[2], [objs], None)]
            return [(acts[0], [b], None), (acts[2], [objs], None)]
        return [(acts[0], [objs], None)]
    if kind == "redis":
        # the AUTH token's secret in Secrets Manager (6 random characters appended to its ARN)
        return [(acts[0], ["arn:aws:secretsmanager:%s:%s:secret:%s-auth-??????" % (region, account, name)], None)]
    if kind in ("aurora-postgresql", "aurora-mysql") and mode == "iam":
        # the IAM database user is the cluster's AWS name; the cluster's resource id is AWS's
        return [(acts[0], ["arn:aws:rds-db:%s:%s:dbuser:cluster-*/%s" % (region, account, name)], None)] \
            if p.get("iam_auth") else []
    if kind in ("aurora-postgresql", "aurora-mysql"):
        cond = {"StringEquals": {"secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn":
                                 "arn:aws:rds:%s:%s:cluster:%s" % (region, account, name)}}
        return [(acts[0], ["arn:aws:secretsmanager:%s:%s:secret:rds!cluster-*" % (region, account)], cond),
                (acts[1], ["*"], None)]
    raise AssertionError("no expectation for kind %s mode %s" % (kind, mode))


def allowed_modes(svc, res):
    """The team's modes (all for its own resources and a plain `shared_with` name, else the listed
    ones), narrowed by the service's `uses: [{resource, access}]`."""
    modes = modes_of(res["kind"])
    narrow = (svc.get("uses_access") or {}).get(res["name"])
    if narrow is not None:
        modes = [m for m in modes if m in narrow]
    if res["team"] == svc["team"]:
        return modes
    for sh in res.get("shared_with") or []:
        if sh == svc["team"]:
            return modes
        if isinstance(sh, dict) and sh["team"] == svc["team"]:
            return [m for m in modes if m in sh["access"]]
    return []


def share_prefix(svc, res):
    """The `prefix` svc's team is limited to on res, or None (its own team, a plain name)."""
    if res["team"] == svc["team"]:
        return None
    for sh in res.get("shared_with") or []:
        if isinstance(sh, dict) and sh["team"] == svc["team"]:
            return sh.get("prefix")
    return None


def triples(statements):
    out = set()
    for acts, arns, cond in statements:
        for a in acts:
            for r in arns:
                out.add((a, r, json.dumps(cond, sort_keys=True) if cond else ""))
    return out


def policy_triples(doc):
    out = set()
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow", st
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        cond = json.dumps(st["Condition"], sort_keys=True) if st.get("Condition") else ""
        for a in acts:
            for r in res:
                out.add((a, r, cond))
    return out


def envs(pf, obj):
    return obj.get("environments") or [e["name"] for e in pf["environments"]]


def cluster_of(pf, env):
    e = [x for x in pf["environments"] if x["name"] == env][0]
    argo = e.get("cluster", "in-cluster")
    cloud = pf["platform"]["cloud"]
    per = (cloud.get("clusters") or {}).get(argo) or {}
    eks = per.get("eks_cluster") or cloud.get("eks_cluster") or e.get("cluster") or pf["platform"]["name"]
    return eks, per.get("oidc_issuer") or cloud.get("oidc_issuer")


def set_identity(src_root, mode):
    text = open(src_root).read()
    text = re.sub(r"^    identity: [a-z-]+\n", "", text, flags=re.M)
    if mode == "irsa":
        extra = "    identity: irsa\n"
        if "oidc_issuer" not in text:      # the examples: one issuer for their clusters
            extra += "    oidc_issuer: oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE0123456789ABCDEF\n"
        if re.search(r"^  cloud: \{", text, flags=re.M):   # examples/minimal: flow style
            text = re.sub(r"^  cloud: \{", "  cloud: {" + extra.strip().replace("\n    ", ", ") + ", ", text,
                          count=1, flags=re.M)
        else:
            text = re.sub(r"^  cloud:\n", "  cloud:\n" + extra, text, count=1, flags=re.M)
    open(src_root, "w").write(text)


def check_tree(pf, out, target, mode, tag):
    cloud = pf["platform"]["cloud"]
    region, account = cloud["region"], cloud["account"]
    resources = {r["name"]: r for r in pf.get("resources", [])}
    composed = compose.compose_all(out, target, tag)
    bad_grants, bad_trust, bad_mr, bad_sa = [], [], [], []
    n_ids = n_none = 0
    for svc in pf.get("services", []):
        for env in envs(pf, svc):
            want = set()
            for u in svc.get("uses") or []:
                res = resources[u]
                if env not in envs(pf, res):
                    continue
                for m in allowed_modes(svc, res):
                    want |= triples(expected_statements(res, env, m, region, account, share_prefix(svc, res)))
            f = os.path.join(out, "identities", svc["name"], env, "claim.yaml")
            if not want:
                n_none += 1
                if os.path.exists(f):
                    bad_grants.append("%s/%s: an identity without grants" % (svc["name"], env))
                continue
            n_ids += 1
            if not os.path.exists(f):
                bad_grants.append("%s/%s: no identity, want %s" % (svc["name"], env, sorted(want)))
                continue
            claim = compose.docs(f)[0]
            cp = claim["spec"]["parameters"]
            got = policy_triples(json.loads(cp["policy"]))
            if got != want:
                bad_grants.append("%s/%s: extra %s, missing %s" % (svc["name"], env, sorted(got - want),
                                                                  sorted(want - got)))
            ns = "%s-%s" % (svc["team"], env)
            role = "%s-%s-%s" % (pf["platform"]["name"], svc["name"], env)
            trust = json.loads(cp["trustPolicy"])
            eks, issuer = cluster_of(pf, env)
            if mode == "irsa":
                st = trust["Statement"]
                ok = len(st) == 1 and st[0]["Principal"] == {
                    "Federated": "arn:aws:iam::%s:oidc-provider/%s" % (account, issuer)} and \
                    st[0]["Action"] == "sts:AssumeRoleWithWebIdentity" and \
                    st[0]["Condition"] == {"StringEquals": {issuer + ":sub": "system:serviceaccount:%s:%s" % (ns, svc["name"]),
                                                            issuer + ":aud": "sts.amazonaws.com"}}
            else:
                # External Secrets may assume the role when it reads secret values with it
                reads = any(env in envs(pf, resources[u]) and
                            (kind_doc(resources[u]["kind"]).get("secret_values") or {}).get("mode")
                            in allowed_modes(svc, resources[u]) for u in svc.get("uses") or [])
                st = trust["Statement"]
                ok = st[0]["Principal"] == {"Service": "pods.eks.amazonaws.com"} and \
                    sorted(st[0]["Action"]) == ["sts:AssumeRole", "sts:TagSession"] and \
                    len(st) == (2 if reads else 1) and \
                    all(s["Principal"] == {"AWS": "arn:aws:iam::%s:role/external-secrets" % account} and
                        s["Action"] == "sts:AssumeRole" for s in st[1:])
            if not ok or cp["roleName"] != role or claim["metadata"]["namespace"] != ns:
                bad_trust.append("%s/%s: %s %s in %s" % (svc["name"], env, cp["roleName"], trust,
                                                        claim["metadata"]["namespace"]))
            mrs = dict(composed.get((ns, svc["name"]), []))
            want_kinds = ["Role", "Policy", "RolePolicyAttachment"] + (["PodIdentityAssociation"] if mode != "irsa" else [])
            if sorted(m["kind"] for m in mrs.values()) != sorted(want_kinds):
                bad_mr.append("%s/%s: composed %s" % (svc["name"], env, [m["kind"] for m in mrs.values()]))
                continue
            fp = {m["kind"]: m["spec"]["forProvider"] for m in mrs.values()}
            en = {m["kind"]: m["metadata"].get("annotations", {}).get("crossplane.io/external-name") for m in mrs.values()}
            if fp["Role"].get("assumeRolePolicy") != cp["trustPolicy"] or fp["Policy"].get("policy") != cp["policy"] \
                    or en["Role"] != role or en["Policy"] != role or "region" in fp["Role"] \
                    or fp["RolePolicyAttachment"] != {"roleSelector": {"matchControllerRef": True},
                                                      "policyArnSelector": {"matchControllerRef": True}}:
                bad_mr.append("%s/%s: composed IAM %s %s" % (svc["name"], env, fp, en))
            if mode != "irsa":
                a = fp["PodIdentityAssociation"]
                if (a.get("clusterName"), a.get("namespace"), a.get("serviceAccount"), a.get("region"),
                        a.get("roleArnSelector")) != (eks, ns, svc["name"], region, {"matchControllerRef": True}):
                    bad_mr.append("%s/%s: association %s, want cluster %s" % (svc["name"], env, a, eks))
            # the ServiceAccount: annotated with the role (irsa) or not at all (pod identity)
            arn = "arn:aws:iam::%s:role/%s" % (account, role)
            patch = os.path.join(out, "services", svc["name"], env, "serviceaccount-patch.yaml")
            kust = compose.docs(os.path.join(out, "services", svc["name"], env, "kustomization.yaml"))[0]
            listed = any(p.get("path") == "serviceaccount-patch.yaml" for p in kust.get("patches", []))
            if mode == "irsa":
                sa = compose.docs(patch)[0] if os.path.exists(patch) else {}
                if sa.get("kind") != "ServiceAccount" or not listed or \
                        sa.get("metadata", {}).get("annotations", {}).get("eks.amazonaws.com/role-arn") != arn:
                    bad_sa.append("%s/%s: ServiceAccount patch %s (listed: %s)" % (svc["name"], env, sa, listed))
            elif os.path.exists(patch) or listed:
                bad_sa.append("%s/%s: a ServiceAccount patch with Pod Identity" % (svc["name"], env))
    check("%s-grants-equal-derived (%d identities, %d services without)" % (tag, n_ids, n_none),
          n_ids and not bad_grants, "\n".join(bad_grants))
    check("%s-trust-policy (%d)" % (tag, n_ids), n_ids and not bad_trust, "\n".join(bad_trust))
    check("%s-composed-identity (%d)" % (tag, n_ids), n_ids and not bad_mr, "\n".join(bad_mr))
    check("%s-serviceaccount-annotation (%d)" % (tag, n_ids), n_ids and not bad_sa, "\n".join(bad_sa))


def main():
    for target in ("claims", "namespaced"):
        for mode in ("pod-identity", "irsa"):
            for src, tag in ((os.path.join(ROOT, "examples/company"), "company"),
                             (os.path.join(ROOT, "examples/minimal"), "minimal"),
                             (os.path.join(ROOT, "tests/identity"), "fixture")):
                t = "%s-%s-%s" % (tag, target, mode)
                d = os.path.join(compose.WORK, t)
                import shutil
                shutil.rmtree(d, ignore_errors=True)
                shutil.copytree(src, os.path.join(d, "src"))
                set_identity(os.path.join(d, "src", "platform.yaml"), mode)
                compose.WORK = d
                pf, out = compose.render(os.path.join(d, "src"), target, t)
                if os.path.isdir(out):
                    check_tree(pf, out, target, mode, t)
    return compose.failures


if __name__ == "__main__":
    sys.exit(main())
