#!/usr/bin/env python3
"""What the Crossplane output composes, checked end to end.

Usage: compose.py PLATFORMC WORKDIR   (schemas: $PLATFORMC_SCHEMAS, else tests/schemas)

Renders examples/company and tests/catalog/compose/platform.yaml with both
Crossplane targets (`claims` and `namespaced`) and checks, against the inputs
read here independently of platformc:

  * DynamoDB: each claim's `attributes` are the table's and indexes' keys,
    each once; `globalSecondaryIndexes` / `localSecondaryIndexes` follow the
    params (projection, capacities of a provisioned table);
  * SNS: each subscription gives exactly one `sns-subscription` claim in the
    topic's namespace, with the topic's ARN and, for a queue, the queue's
    ARN; each subscribed queue's `policy` lets exactly its topics send;
  * SQS: a queue with `dlq` has a `redrivePolicy` naming the ARN of its
    dead-letter queue claim (same FIFO-ness), one without has neither;
  * every claim, composed like function-patch-and-transform does (its
    Composition's bases with the FromCompositeFieldPath patches applied),
    gives managed resources that validate against the provider's schemas,
    with the API group of the target (*.aws.upbound.io / *.aws.m.upbound.io).

Prints `ok   catalog/compose/<name>` or `FAIL catalog/compose/<name>: why`;
the exit status is the number of failures.
"""
import copy
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import yaml
from jsonschema import Draft7Validator

PLATFORMC, WORK = sys.argv[1], sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS = os.environ.get("PLATFORMC_SCHEMAS") or os.path.join(ROOT, "tests", "schemas")
failures = 0
GROUP = "catalog/compose"


def check(name, cond, why=""):
    global failures
    if cond:
        print("ok   %s/%s" % (GROUP, name))
    else:
        failures += 1
        print("FAIL %s/%s: %s" % (GROUP, name, str(why)[:600]))


def load_platform(path):
    """The root file with its includes appended (guide §2.4)."""
    doc = yaml.safe_load(open(path))
    base = os.path.dirname(path)
    for pat in doc.get("include", []):
        for f in sorted(glob.glob(os.path.join(base, pat))):
            inc = yaml.safe_load(open(f)) or {}
            for key in ("teams", "systems", "services", "resources"):
                doc.setdefault(key, []).extend(inc.get(key, []))
    # `uses: [{resource, access}]`: the names in `uses`, the narrowed modes in `uses_access`
    for s in doc.get("services", []):
        names, acc = [], {}
        for u in s.get("uses") or []:
            if isinstance(u, dict):
                acc.setdefault(u["resource"], []).extend(u["access"])
                u = u["resource"]
            names.append(u)
        if "uses" in s:
            s["uses"], s["uses_access"] = names, acc
    return doc


def params_in(res, env):
    """A resource's params in an environment: params, then overrides.<env>.params (one level merge)."""
    p = copy.deepcopy(res.get("params") or {})
    for k, v in ((res.get("overrides") or {}).get(env, {}).get("params") or {}).items():
        if isinstance(v, dict) and isinstance(p.get(k), dict):
            p[k].update(v)
        else:
            p[k] = v
    return p


def render(src_dir, target, tag):
    """Copies the platform, sets the Crossplane target, renders; returns (platform doc, out dir)."""
    d = os.path.join(WORK, tag)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(src_dir, os.path.join(d, "in"))
    root = os.path.join(d, "in", "platform.yaml")
    text = open(root).read()
    if "crossplane:" in text:
        text = re.sub(r"crossplane: \w+", "crossplane: %s" % target, text)
    else:
        text = re.sub(r"^platform:\n", "platform:\n  targets: {crossplane: %s}\n" % target, text, count=1, flags=re.M)
    open(root, "w").write(text)
    out = os.path.join(d, "out")
    r = subprocess.run([PLATFORMC, "render", root, "-o", out], capture_output=True, text=True)
    # a render that exits 0 must also have written its tree
    check("%s-renders" % tag, r.returncode == 0 and os.path.isfile(os.path.join(out, "README.md")),
          r.stderr or "exit %d, no README.md in %s" % (r.returncode, out))
    return load_platform(root), out


def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def claims_of(out, res, env):
    """{file: claim} of resources/<res>/<env>/."""
    d = os.path.join(out, "resources", res, env)
    return {os.path.basename(f): docs(f)[0] for f in sorted(glob.glob(os.path.join(d, "claim*.yaml")))}


# ---- function-patch-and-transform, as far as platformc uses it ----

TOKEN = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")


def field_path(p):
    return [int(b) if b and b.isdigit() else (a or b) for a, b in TOKEN.findall(p)]


def get_path(obj, p):
    for seg in field_path(p):
        if isinstance(seg, int):
            if not isinstance(obj, list) or seg >= len(obj):
                return None
            obj = obj[seg]
        else:
            if not isinstance(obj, dict) or seg not in obj:
                return None
            obj = obj[seg]
    return obj


def set_path(obj, p, value):
    segs = field_path(p)
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        nxt = None if last else ([] if isinstance(segs[i + 1], int) else {})
        if isinstance(seg, int):
            while len(obj) <= seg:
                obj.append(copy.deepcopy(nxt))
            if last:
                obj[seg] = value
            else:
                if obj[seg] is None:
                    obj[seg] = nxt
                obj = obj[seg]
        else:
            if last:
                obj[seg] = value
            else:
                obj = obj.setdefault(seg, nxt)


def transform(v, transforms):
    for t in transforms or []:
        if t["type"] == "map":
            key = json.dumps(v) if not isinstance(v, str) else v
            if isinstance(v, bool):
                key = "true" if v else "false"
            if key not in t["map"]:
                raise ValueError("map transform: no key %r" % key)
            v = t["map"][key]
        elif t["type"] == "convert":
            # P&T (Go strconv) writes booleans as true/false
            v = {"string": lambda x: ("true" if x else "false") if isinstance(x, bool) else str(x)}[t["convert"]["toType"]](v)
        elif t["type"] == "string":
            v = t["string"]["fmt"].replace("%d", "%s") % (v,)
        else:
            raise ValueError("transform %s" % t["type"])
    return v


def compose(xr, composition):
    """The managed resources a Composition gives for an XR (P&T FromCompositeFieldPath only)."""
    mrs = []
    step = composition["spec"]["pipeline"][0]["input"]
    for r in step["resources"]:
        mr = copy.deepcopy(r["base"])
        mr.setdefault("metadata", {})["name"] = "%s-%s" % (xr["metadata"]["name"].replace(".", "-"), r["name"])
        for pt in r.get("patches", []):
            assert pt["type"] == "FromCompositeFieldPath", pt
            v = get_path(xr, pt["fromFieldPath"])
            if v is None:
                continue            # P&T skips a patch whose source is missing
            set_path(mr, pt["toFieldPath"], transform(v, pt.get("transforms")))
        mrs.append((r["name"], mr))
    return mrs


_validators = {}


def mr_validator(api, kind):
    group, version = api.rsplit("/", 1)
    p = os.path.join(SCHEMAS, "provider-upjet-aws", group, "%s_%s.json" % (kind.lower(), version))
    if p not in _validators:
        _validators[p] = Draft7Validator(json.load(open(p)))
    return _validators[p]


def compose_all(out, target, tag):
    """Composes every claim of the tree; returns {(namespace, claim name): [(name, MR)]}."""
    comps = {}
    for f in glob.glob(os.path.join(out, "platform/crossplane/*-composition.yaml")):
        c = docs(f)[0]
        comps[c["metadata"]["name"]] = c
    composed, bad = {}, []
    group_suffix = ".aws.m.upbound.io/" if target == "namespaced" else ".aws.upbound.io/"
    for f in sorted(glob.glob(os.path.join(out, "resources/*/*/claim*.yaml")) +
                    glob.glob(os.path.join(out, "identities/*/*/claim.yaml"))):
        c = docs(f)[0]
        spec = c["spec"]
        ref = (spec.get("crossplane") or {}).get("compositionRef") if target == "namespaced" else spec.get("compositionRef")
        comp = comps.get((ref or {}).get("name"))
        if not comp:
            bad.append("%s: no Composition %r" % (f, ref))
            continue
        mrs = compose(c, comp)
        for name, mr in mrs:
            if group_suffix not in mr["apiVersion"]:
                bad.append("%s %s: %s is not of the %s target" % (f, name, mr["apiVersion"], target))
            errs = sorted(mr_validator(mr["apiVersion"], mr["kind"]).iter_errors(mr), key=lambda e: list(e.path))
            for e in errs[:3]:
                bad.append("%s %s: %s at %s" % (os.path.relpath(f, out), name, e.message[:200],
                                                "/".join(map(str, e.path))))
        composed[(c["metadata"]["namespace"], c["metadata"]["name"])] = mrs
    n = sum(len(v) for v in composed.values())
    check("%s-composed-resources-validate (%d claims, %d managed resources)" % (tag, len(composed), n),
          not bad, "\n".join(bad[:10]))
    return composed


def arn(service, region, account, name):
    return "arn:aws:%s:%s:%s:%s" % (service, region, account, name)


def envs_of(pf, res):
    return res.get("environments") or [e["name"] for e in pf["environments"]]


def ext_name(res, env, pf):
    fifo = params_in(res, env).get("fifo", False) is True
    return "%s-%s%s" % (res["name"], env, ".fifo" if fifo else "")


def check_tree(pf, out, target, tag):
    region, account = pf["platform"]["cloud"]["region"], pf["platform"]["cloud"]["account"]
    resources = {r["name"]: r for r in pf.get("resources", [])}
    composed = compose_all(out, target, tag)

    # ---- DynamoDB: key attributes and indexes in the managed resource's shape
    bad, n = [], 0
    for r in resources.values():
        if r["kind"] != "dynamodb":
            continue
        for env in envs_of(pf, r):
            n += 1
            p = params_in(r, env)
            keys = [p["partition_key"], p.get("sort_key")]
            for g in p.get("global_indexes", []):
                keys += [g["partition_key"], g.get("sort_key")]
            for l in p.get("local_indexes", []):
                keys.append(l["sort_key"])
            want_attrs = []
            for k in keys:
                if k and {"name": k["name"], "type": k["type"]} not in want_attrs:
                    want_attrs.append({"name": k["name"], "type": k["type"]})
            proj = {"all": "ALL", "keys-only": "KEYS_ONLY"}
            want_gsi = []
            for g in p.get("global_indexes", []):
                x = {"name": g["name"], "hashKey": g["partition_key"]["name"]}
                if g.get("sort_key"):
                    x["rangeKey"] = g["sort_key"]["name"]
                x["projectionType"] = proj[g.get("projection", "all")]
                if p.get("billing") == "provisioned":
                    x["readCapacity"], x["writeCapacity"] = p["read_capacity"], p["write_capacity"]
                want_gsi.append(x)
            want_lsi = [{"name": l["name"], "rangeKey": l["sort_key"]["name"],
                         "projectionType": proj[l.get("projection", "all")]} for l in p.get("local_indexes", [])]
            claim = claims_of(out, r["name"], env)["claim.yaml"]
            cp = claim["spec"]["parameters"]
            got = (cp.get("attributes"), cp.get("globalSecondaryIndexes"), cp.get("localSecondaryIndexes"))
            if got != (want_attrs, want_gsi or None, want_lsi or None):
                bad.append("%s/%s: claim has %s, want %s" % (r["name"], env, got, (want_attrs, want_gsi, want_lsi)))
            mr = dict(composed[(claim["metadata"]["namespace"], claim["metadata"]["name"])])["table"]
            fp = mr["spec"]["forProvider"]
            if (fp.get("attribute"), fp.get("globalSecondaryIndex"), fp.get("localSecondaryIndex")) != \
                    (want_attrs, want_gsi or None, want_lsi or None):
                bad.append("%s/%s: composed Table has %s" % (r["name"], env, fp))
    check("%s-dynamodb-keys-and-indexes (%d tables)" % (tag, n), n and not bad, "\n".join(bad))

    # ---- SNS: one subscription claim per subscription, with the right ARNs
    bad, n = [], 0
    senders = {}   # (queue, env) -> set of topic ARNs
    for r in resources.values():
        if r["kind"] != "sns":
            continue
        for env in envs_of(pf, r):
            p = params_in(r, env)
            topic = arn("sns", region, account, ext_name(r, env, pf))
            subs = [c for f, c in claims_of(out, r["name"], env).items() if f != "claim.yaml"]
            ns = "%s-%s" % (r["team"], env)
            for s in p.get("subscriptions", []):
                n += 1
                if s["protocol"] == "sqs":
                    q = resources[s["resource"]]
                    endpoint = arn("sqs", region, account, ext_name(q, env, pf))
                    senders.setdefault((q["name"], env), set()).add(topic)
                else:
                    endpoint = s.get("arn") or s.get("endpoint")
                mine = [c for c in subs if c["spec"]["parameters"]["endpoint"] == endpoint]
                if len(mine) != 1:
                    bad.append("%s/%s: %d claims for %s" % (r["name"], env, len(mine), endpoint))
                    continue
                c = mine[0]
                cp = c["spec"]["parameters"]
                want = {"topicArn": topic, "protocol": s["protocol"], "endpoint": endpoint}
                if s.get("raw_delivery"):
                    want["rawDelivery"] = True
                got = {k: v for k, v in cp.items() if k not in ("deletionPolicy", "managementPolicies")}
                if got != want or c["kind"] != "TopicSubscription" or c["metadata"]["namespace"] != ns:
                    bad.append("%s/%s: %s in %s, want %s in %s" % (r["name"], env, got, c["metadata"]["namespace"],
                                                                  want, ns))
                sub = dict(composed[(ns, c["metadata"]["name"])])["subscription"]["spec"]["forProvider"]
                if (sub.get("topicArn"), sub.get("endpoint"), sub.get("protocol")) != (topic, endpoint, s["protocol"]):
                    bad.append("%s/%s: composed TopicSubscription %s" % (r["name"], env, sub))
            if len(subs) != len(p.get("subscriptions", [])):
                bad.append("%s/%s: %d subscription claims for %d subscriptions" % (
                    r["name"], env, len(subs), len(p.get("subscriptions", []))))
    check("%s-sns-one-subscription-claim-each (%d)" % (tag, n), n and not bad, "\n".join(bad))

    # ---- SQS: the policy lets exactly the subscribed topics send; the DLQ and its redrive policy
    bad_pol, bad_dlq, nq, ndlq = [], [], 0, 0
    for r in resources.values():
        if r["kind"] != "sqs":
            continue
        for env in envs_of(pf, r):
            nq += 1
            p = params_in(r, env)
            cl = claims_of(out, r["name"], env)
            cp = cl["claim.yaml"]["spec"]["parameters"]
            me = arn("sqs", region, account, ext_name(r, env, pf))
            want = senders.get((r["name"], env), set())
            if not want:
                if "policy" in cp:
                    bad_pol.append("%s/%s: a policy without subscribed topics" % (r["name"], env))
            else:
                pol = json.loads(cp.get("policy", "{}"))
                st = pol.get("Statement", [])
                got = {s["Condition"]["ArnEquals"]["aws:SourceArn"] for s in st}
                ok = pol.get("Version") == "2012-10-17" and got == want and all(
                    s["Effect"] == "Allow" and s["Principal"] == {"Service": "sns.amazonaws.com"} and
                    s["Action"] == "sqs:SendMessage" and s["Resource"] == me for s in st)
                if not ok:
                    bad_pol.append("%s/%s: policy %s, want senders %s" % (r["name"], env, pol, want))
                q = dict(composed[(cl["claim.yaml"]["metadata"]["namespace"], r["name"])])["queue"]
                if q["spec"]["forProvider"].get("policy") != cp["policy"]:
                    bad_pol.append("%s/%s: the composed Queue has no policy" % (r["name"], env))
            dlq = p.get("dlq")
            if not dlq:
                if "redrivePolicy" in cp or "claim-dlq.yaml" in cl:
                    bad_dlq.append("%s/%s: a redrive policy or dead-letter queue without `dlq`" % (r["name"], env))
                continue
            ndlq += 1
            d = cl.get("claim-dlq.yaml")
            rp = json.loads(cp.get("redrivePolicy", "{}"))
            if not d:
                bad_dlq.append("%s/%s: no dead-letter queue claim" % (r["name"], env))
                continue
            dp = d["spec"]["parameters"]
            want_ext = "%s-%s-dlq%s" % (r["name"], env, ".fifo" if p.get("fifo") else "")
            if (d["kind"], d["metadata"]["name"], dp.get("externalName"), dp.get("fifo")) != \
                    ("Queue", r["name"] + ".dlq", want_ext, p.get("fifo", False)):
                bad_dlq.append("%s/%s: dead-letter queue claim %s" % (r["name"], env, d))
            if rp != {"deadLetterTargetArn": arn("sqs", region, account, dp.get("externalName")),
                      "maxReceiveCount": dlq["max_receive"]}:
                bad_dlq.append("%s/%s: redrive policy %s" % (r["name"], env, rp))
            ns = cl["claim.yaml"]["metadata"]["namespace"]
            q = dict(composed[(ns, r["name"])])["queue"]
            dq = dict(composed[(ns, d["metadata"]["name"])])["queue"]
            if q["spec"]["forProvider"].get("redrivePolicy") != cp["redrivePolicy"] or \
                    dq["metadata"].get("annotations", {}).get("crossplane.io/external-name") != want_ext:
                bad_dlq.append("%s/%s: composed queues %s / %s" % (r["name"], env, q, dq))
    check("%s-sqs-policy-lets-its-topics-send (%d queues)" % (tag, nq), nq and not bad_pol, "\n".join(bad_pol))
    check("%s-sqs-dead-letter-queue (%d)" % (tag, ndlq), ndlq and not bad_dlq, "\n".join(bad_dlq))


# ---- every parameter reflected in the composed managed resources, and billed as composed

# Parameters no managed resource reflects yet (docs/catalog.md, "Not composed"): the test fails
# when one of these becomes composed (shrink the list) or another one is not.
NOT_COMPOSED = {
    "secret": {"generate", "rotation_days"},
}
DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(v):
    if isinstance(v, int):
        return v
    m = re.match(r"^(\d+)([smhd])$", str(v))
    return int(m.group(1)) * DURATION[m.group(2)]


def kind_yaml(kind):
    return yaml.safe_load(open(os.path.join(ROOT, "catalog", kind, "kind.yaml")))


def values(pf, res, env):
    """A resource's values in an environment: kind defaults (per tier, `when`), defaults.resources, params, overrides."""
    tier = [e for e in pf["environments"] if e["name"] == env][0]["tier"]
    kd = kind_yaml(res["kind"])["params"]
    v = copy.deepcopy((pf.get("defaults") or {}).get("resources", {}).get(res["kind"]) or {})
    v.update(copy.deepcopy(params_in(res, env)))
    for name, spec in kd.items():
        if name in v or "default" not in spec:
            if spec.get("type") == "object" and isinstance(v.get(name), dict):
                for f, fs in spec.get("fields", {}).items():
                    if f not in v[name] and "default" in fs:
                        v[name][f] = fs["default"]
            continue
        d = spec["default"]
        if isinstance(d, dict) and set(d) == {"prod", "nonprod"}:
            d = d[tier]
        if spec.get("type") == "object":
            d = {f: fs["default"] for f, fs in spec.get("fields", {}).items() if "default" in fs}
        w = spec.get("when")
        if w:
            m = re.match(r'^(\w+) == "([^"]+)"$', w)
            if v.get(m.group(1), kd[m.group(1)].get("default")) != m.group(2):
                continue
        v[name] = d
    return v, tier


def check_params(pf, out, target, tag, composed):
    region, account = pf["platform"]["cloud"]["region"], pf["platform"]["cloud"]["account"]
    bad, n = [], {}
    for r in pf.get("resources", []):
        for env in envs_of(pf, r):
            v, tier = values(pf, r, env)
            ns = "%s-%s" % (r["team"], env)
            kind, name = r["kind"], r["name"]
            mrs = dict(composed.get((ns, name), []))
            ext = ext_name(r, env, pf)
            n[kind] = n.get(kind, 0) + 1

            def want(what, got, exp):
                if got != exp:
                    bad.append("%s/%s %s: %r, want %r" % (name, env, what, got, exp))
            if kind.startswith("aurora-"):
                fp = mrs["cluster"]["spec"]["forProvider"]
                want("engineVersion", fp.get("engineVersion"), v["version"])
                want("backupRetentionPeriod", fp.get("backupRetentionPeriod"), v["backup_retention_days"])
                want("deletionProtection", fp.get("deletionProtection"), v["deletion_protection"])
                want("storageEncrypted", fp.get("storageEncrypted"), True)
                want("manageMasterUserPassword", fp.get("manageMasterUserPassword"), True)
                want("skipFinalSnapshot", fp.get("skipFinalSnapshot"), tier != "prod")
                want("finalSnapshotIdentifier", fp.get("finalSnapshotIdentifier"),
                     ext + "-final" if tier == "prod" else None)
                want("iamDatabaseAuthenticationEnabled", fp.get("iamDatabaseAuthenticationEnabled"), v["iam_auth"])
                ann = mrs["cluster"]["metadata"].get("annotations", {})
                want("IAM database user", ann.get("platformc.io/iam-user"), ext if v["iam_auth"] else None)
                want("IAM auth note names the user", ext in ann.get("platformc.io/iam-auth", ""), v["iam_auth"])
                sl = fp.get("serverlessv2ScalingConfiguration")
                want("serverless scaling", sl, {"minCapacity": v["min_acu"], "maxCapacity": v["max_acu"]}
                     if v["mode"] == "serverless" else None)
                insts = sorted((mr for (cns, cn), l in composed.items() if cns == ns and cn.startswith(name + ".instance-")
                                for rn, mr in l), key=lambda m: m["metadata"]["annotations"]["crossplane.io/external-name"])
                want("instances", len(insts), v["instances"])
                cls = "db.serverless" if v["mode"] == "serverless" else v["instance_class"]
                for i, mr in enumerate(insts):
                    ifp = mr["spec"]["forProvider"]
                    want("instance %d" % (i + 1), (mr["kind"], ifp.get("clusterIdentifier"), ifp.get("instanceClass"),
                                                   ifp.get("engine"), ifp.get("promotionTier"),
                                                   mr["metadata"]["annotations"]["crossplane.io/external-name"]),
                         ("ClusterInstance", ext, cls, kind, i, "%s-%d" % (ext, i + 1)))
            elif kind == "redis":
                fp = mrs["group"]["spec"]["forProvider"]
                want("nodeType", fp.get("nodeType"), v["node_type"])
                want("engineVersion", fp.get("engineVersion"), v["engine_version"])
                want("clusterMode", fp.get("clusterMode"), {"single": "disabled", "cluster": "enabled"}[v["mode"]])
                want("numNodeGroups", fp.get("numNodeGroups"), v["shards"])
                want("replicasPerNodeGroup", fp.get("replicasPerNodeGroup"), v["replicas"])
                want("atRestEncryptionEnabled", fp.get("atRestEncryptionEnabled"), str(v["encryption"]["at_rest"]).lower())
                want("transitEncryptionEnabled", fp.get("transitEncryptionEnabled"), v["encryption"]["in_transit"])
                failover = v["mode"] == "cluster" or v["replicas"] > 0
                want("automaticFailoverEnabled", fp.get("automaticFailoverEnabled"), failover)
                want("multiAzEnabled", fp.get("multiAzEnabled"), failover)
                # the AUTH token: generated by the provider into a Kubernetes secret (in crossplane-system
                # for cluster-scoped resources, the resource's own namespace otherwise), copied by a
                # SecretVersion into the Secrets Manager secret `<cache>-<env>-auth`
                ref = {"name": ext + "-auth", "key": "token"}
                if target == "claims":
                    ref["namespace"] = "crossplane-system"
                want("AUTH token", (fp.get("autoGenerateAuthToken"), fp.get("authTokenSecretRef")), (True, ref))
                sfp = mrs["auth-secret"]["spec"]["forProvider"]
                want("AUTH token secret", (mrs["auth-secret"]["kind"], sfp.get("name"), sfp.get("recoveryWindowInDays")),
                     ("Secret", ext + "-auth", 0))
                vfp = mrs["auth-version"]["spec"]["forProvider"]
                want("AUTH token version", (mrs["auth-version"]["kind"], vfp.get("secretIdSelector"),
                                            vfp.get("secretStringSecretRef")),
                     ("SecretVersion", {"matchControllerRef": True}, ref))
            elif kind == "sqs":
                fp = mrs["queue"]["spec"]["forProvider"]
                want("fifoQueue", fp.get("fifoQueue"), v["fifo"])
                want("visibilityTimeoutSeconds", fp.get("visibilityTimeoutSeconds"), seconds(v["visibility_timeout"]))
                want("messageRetentionSeconds", fp.get("messageRetentionSeconds"), seconds(v["retention"]))
                want("delaySeconds", fp.get("delaySeconds"), seconds(v["delay"]))
                want("encryption", (fp.get("sqsManagedSseEnabled"), fp.get("kmsMasterKeyId")),
                     (True, "") if v["encryption"] == "sqs-managed" else (False, "alias/aws/sqs"))
            elif kind == "sns":
                fp = mrs["topic"]["spec"]["forProvider"]
                want("fifoTopic", fp.get("fifoTopic"), v["fifo"])
            elif kind == "dynamodb":
                fp = mrs["table"]["spec"]["forProvider"]
                want("billingMode", fp.get("billingMode"), {"on-demand": "PAY_PER_REQUEST", "provisioned": "PROVISIONED"}[v["billing"]])
                want("capacity", (fp.get("readCapacity"), fp.get("writeCapacity")), (v.get("read_capacity"), v.get("write_capacity")))
                want("stream", (fp.get("streamEnabled"), fp.get("streamViewType") or None),
                     (v["stream"] != "none", None if v["stream"] == "none" else v["stream"].upper().replace("-", "_")))
                want("pointInTimeRecovery", fp.get("pointInTimeRecovery"), {"enabled": v["point_in_time_recovery"]})
                want("ttl", fp.get("ttl"), {"attributeName": v["ttl_attribute"]} if v.get("ttl_attribute") else None)
                want("serverSideEncryption", fp.get("serverSideEncryption"), {"enabled": True})
            elif kind == "secret":
                fp = mrs["secret"]["spec"]["forProvider"]
                want("description", fp.get("description"), v.get("description"))
                want("name", fp.get("name"), ext)
            elif kind == "s3-bucket":
                sel = {"matchControllerRef": True}
                vfp = mrs["versioning"]["spec"]["forProvider"]
                want("versioning", (vfp.get("bucketSelector"), vfp.get("versioningConfiguration")),
                     (sel, {"status": "Enabled" if v["versioning"] else "Suspended"}))
                pfp = mrs["public-access"]["spec"]["forProvider"]
                want("public access block", pfp, dict({k: not v["public"] for k in (
                    "blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")}, bucketSelector=sel,
                    region=region))
                efp = mrs["encryption"]["spec"]["forProvider"]
                want("encryption", efp.get("rule"), [{"bucketKeyEnabled": True, "applyServerSideEncryptionByDefault": {
                    "sseAlgorithm": {"sse-s3": "AES256", "kms": "aws:kms"}[v["encryption"]]}}])
                lfp = mrs["lifecycle"]["spec"]["forProvider"]
                rules = [{"id": "abort-incomplete-uploads", "status": "Enabled", "filter": [{"prefix": ""}],
                          "abortIncompleteMultipartUpload": [{"daysAfterInitiation": 7}]}]
                if v.get("expire_after"):
                    rules.append({"id": "expire-objects", "status": "Enabled", "filter": [{"prefix": ""}],
                                  "expiration": [{"days": seconds(v["expire_after"]) // 86400}]})
                want("lifecycle", lfp.get("rule"), rules)
            # every parameter of the kind is read by a patch, a computed value or a further claim, or listed
            kd = kind_yaml(kind)
            text = yaml.safe_dump({k: kd.get(k) for k in ("resources", "computed", "claims")})
            unread = {p for p in kd["params"] if not re.search(r"\b%s\b" % p, text)} - {"mode"} \
                if kind.startswith("aurora-") else {p for p in kd["params"] if not re.search(r"\b%s\b" % p, text)}
            want("parameters not composed", unread, NOT_COMPOSED.get(kind, set()))
    check("%s-every-param-reflected (%s)" % (tag, ", ".join("%d %s" % (c, k) for k, c in sorted(n.items()))),
          n and not bad, "\n".join(sorted(set(bad))[:20]))


def check_cost(pf, root, out, tag, composed):
    """`platformc cost` equals the price of what is composed: instances, nodes, capacities, secrets."""
    r = subprocess.run([PLATFORMC, "cost", root, "--format", "json"], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        check("%s-cost-equals-composed" % tag, False, r.stderr)
        return
    try:
        cost = json.loads(r.stdout)
    except ValueError as e:
        check("%s-cost-equals-composed" % tag, False, e)
        return
    billed = {(x["name"], env): usd for t in cost["teams"] for x in t["resources"]
              for env, usd in x["environments"].items()}
    bad, n = [], 0
    for res in pf.get("resources", []):
        kd = kind_yaml(res["kind"])
        hourly = (kd["cost"].get("tables") or {}).get("hourly", {})
        for env in envs_of(pf, res):
            ns = "%s-%s" % (res["team"], env)
            mrs = dict(composed.get((ns, res["name"]), []))
            kind = res["kind"]
            if kind.startswith("aurora-"):
                acu = (mrs["cluster"]["spec"]["forProvider"].get("serverlessv2ScalingConfiguration") or {}).get("minCapacity")
                insts = [mr for (cns, cn), l in composed.items() if cns == ns and cn.startswith(res["name"] + ".instance-")
                         for _, mr in l]
                usd = sum((acu * hourly["acu"] if m["spec"]["forProvider"]["instanceClass"] == "db.serverless"
                           else hourly[m["spec"]["forProvider"]["instanceClass"]]) * 730 for m in insts)
            elif kind == "redis":
                fp = mrs["group"]["spec"]["forProvider"]
                usd = fp["numNodeGroups"] * (1 + fp["replicasPerNodeGroup"]) * hourly[fp["nodeType"]] * 730 + \
                    0.40 * sum(1 for m in mrs.values() if m["kind"] == "Secret")    # the AUTH token's secret
            elif kind == "dynamodb":
                fp = mrs["table"]["spec"]["forProvider"]
                if fp["billingMode"] != "PROVISIONED":
                    usd = "usage"
                else:
                    per = fp["readCapacity"] * hourly["rcu"] + fp["writeCapacity"] * hourly["wcu"]
                    usd = (1 + len(fp.get("globalSecondaryIndex") or [])) * per * 730
            elif kind == "secret":
                usd = 0.40 * sum(1 for m in mrs.values() if m["kind"] == "Secret")
            else:
                usd = "usage"
            n += 1
            got = billed.get((res["name"], env))
            if usd is None:
                continue
            if (isinstance(usd, str) and got != usd) or (not isinstance(usd, str) and
                                                          (not isinstance(got, (int, float)) or abs(got - usd) > 0.006)):
                bad.append("%s/%s: cost says %r, composed %r" % (res["name"], env, got, usd))
    check("%s-cost-equals-composed (%d)" % (tag, n), n and not bad, "\n".join(bad))


# ---- networking as data: subnet groups, security groups, egress

def network_of(pf, env):
    e = [x for x in pf["environments"] if x["name"] == env][0]
    cloud = pf["platform"]["cloud"]
    per = ((cloud.get("clusters") or {}).get(e.get("cluster", "in-cluster")) or {}).get("network")
    return per or cloud.get("network")


def check_network(pf, out, tag, composed):
    """Databases and caches in the cluster's VPC, admitting its security group only; egress by CIDR."""
    has_net = any(network_of(pf, e["name"]) for e in pf["environments"])
    bad, n = [], 0
    for r in pf.get("resources", []):
        if not (r["kind"].startswith("aurora-") or r["kind"] == "redis"):
            continue
        port = {"aurora-postgresql": 5432, "aurora-mysql": 3306, "redis": 6379}[r["kind"]]
        for env in envs_of(pf, r):
            n += 1
            ns = "%s-%s" % (r["team"], env)
            mrs = dict(composed.get((ns, r["name"]), []))
            net = network_of(pf, env)
            ext = ext_name(r, env, pf)
            main = mrs.get("cluster") or mrs.get("group")
            fp = main["spec"]["forProvider"]
            sel = ("dbSubnetGroupNameSelector", "vpcSecurityGroupIdSelector") if "cluster" in mrs else \
                ("subnetGroupNameSelector", "securityGroupIdSelector")
            if not has_net:
                if set(mrs) - {"cluster", "group", "auth-secret", "auth-version"} or any(s in fp for s in sel):
                    bad.append("%s/%s: network resources without a network: %s" % (r["name"], env, sorted(mrs)))
                continue
            sg, sn, rule = mrs.get("security-group"), mrs.get("subnet-group"), mrs.get("from-cluster")
            if not (sg and sn and rule):
                bad.append("%s/%s: composed %s" % (r["name"], env, sorted(mrs)))
                continue
            got = (sn["spec"]["forProvider"].get("subnetIds"),
                   sn["metadata"].get("annotations", {}).get("crossplane.io/external-name"),
                   sg["spec"]["forProvider"].get("vpcId"), sg["spec"]["forProvider"].get("name"),
                   rule["spec"]["forProvider"].get("referencedSecurityGroupId"),
                   rule["spec"]["forProvider"].get("fromPort"), rule["spec"]["forProvider"].get("toPort"),
                   rule["spec"]["forProvider"].get("ipProtocol"), rule["spec"]["forProvider"].get("securityGroupIdSelector"),
                   [fp.get(s) for s in sel], "cidrIpv4" in rule["spec"]["forProvider"])
            want = (net["subnets"], ext, net["vpc_id"], ext, net["security_group"], port, port, "tcp",
                    {"matchControllerRef": True}, [{"matchControllerRef": True}] * 2, False)
            if got != want:
                bad.append("%s/%s: %s, want %s" % (r["name"], env, got, want))
    check("%s-databases-caches-in-the-vpc (%d)" % (tag, n), n and not bad, "\n".join(bad[:10]))
    # egress: to each used resource's port, the cluster's VPC CIDR (443: with vpc_endpoints), else anywhere
    resources = {r["name"]: r for r in pf.get("resources", [])}
    ports = {"aurora-postgresql": 5432, "aurora-mysql": 3306, "redis": 6379}
    bad, n = [], 0
    for s in pf.get("services", []):
        for env in envs_of(pf, s):
            net = network_of(pf, env)
            want = {}
            for u in s.get("uses") or []:
                port = ports.get(resources[u]["kind"], 443)
                want[port] = net["cidr"] if net and (port != 443 or net.get("vpc_endpoints")) else "0.0.0.0/0"
            npd = docs(os.path.join(out, "services", s["name"], env, "networkpolicy.yaml"))[0]
            got = {}
            for rule in npd["spec"]["egress"]:
                for to in rule.get("to", []):
                    if "ipBlock" in to:
                        for pt in rule["ports"]:
                            got[pt["port"]] = to["ipBlock"]["cidr"]
            n += 1
            if got != want:
                bad.append("%s/%s: egress %s, want %s" % (s["name"], env, got, want))
    check("%s-egress-by-cidr-and-port (%d)" % (tag, n), n and not bad, "\n".join(bad[:10]))


def main():
    for target in ("claims", "namespaced"):
        for src, tag in ((os.path.join(ROOT, "examples/company"), "company"),
                         (os.path.join(ROOT, "tests/catalog/compose"), "fixture")):
            pf, out = render(src, target, "%s-%s" % (tag, target))
            if os.path.isdir(out):
                check_tree(pf, out, target, "%s-%s" % (tag, target))
        for src, tag in ((os.path.join(ROOT, "examples/company"), "company"),
                         (os.path.join(ROOT, "tests/catalog/params"), "params")):
            t = "%s-%s-params" % (tag, target)
            pf, out = render(src, target, t)
            if os.path.isdir(out):
                composed = compose_all(out, target, t)
                check_params(pf, out, target, t, composed)
                check_cost(pf, os.path.join(WORK, t, "in", "platform.yaml"), out, t, composed)
                check_network(pf, out, t, composed)
        # run-time kinds (platform.catalog), with a computed value of their own
        pf, out = render(os.path.join(ROOT, "tests/catalog/extra"), target, "extra-%s" % target)
        if os.path.isdir(out):
            composed = compose_all(out, target, "extra-%s" % target)
            tags = [dict(mrs)["queue"]["spec"]["forProvider"].get("tags") for (ns, name), mrs in composed.items()
                    if name == "jobs" and ns.endswith("-production")]
            check("extra-%s-computed-tags" % target, tags and tags[0] and tags[0].get("environment") == "production"
                  and tags[0].get("priority") and tags[0].get("team"), tags)
    return failures


if __name__ == "__main__":
    sys.exit(main())
