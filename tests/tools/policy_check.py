#!/usr/bin/env python3
"""policy_check.py - every policy of stdlib/policies.yaml as an executable check.

There is no Kyverno binary in CI, so each policy's rule is encoded here a second
time, in Python, keyed by policy name. The CEL in the library stays the source of
truth for the cluster; these checks prove that the workloads platformc renders and
the policies it ships agree, and that each policy catches what it is meant to.

Usage:
  policy_check.py --self-test
      every library policy has a check and a bad case here (and nothing else is
      here); each check passes the good fixtures and fails its deliberately bad one
  policy_check.py --platform FILE BUILT.yaml...
      runs every policy that FILE's `policies.disable` leaves on over the objects
      of BUILT (the output of `kubectl kustomize clusters/<env>`), honouring
      FILE's `policies.exceptions`; prints each violation
  policy_check.py --platform FILE --rendered DIR
      DIR (platform/kyverno of a render) holds exactly one policy per enabled
      library policy, of the kind the target asks for, and one exception per
      exception of FILE
Exit status 0 when all is well, 1 otherwise.
"""
import copy
import glob
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POD_CONTROLLERS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet", "ReplicationController"}


def load_library():
    with open(os.path.join(ROOT, "stdlib", "policies.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)["policies"]


# ---------------------------------------------------------------- quantities
_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
           "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "m": 0.001, "": 1}


def quantity(s):
    m = re.fullmatch(r"([0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m|)", str(s))
    if not m:
        raise ValueError("bad quantity %r" % (s,))
    return float(m.group(1)) * _SUFFIX[m.group(2)]


# ---------------------------------------------------------------- context
class Ctx:
    """What a policy is parameterised by, and what it may look up."""

    def __init__(self, domain, registries, team_registries=None, objects=()):
        self.domain = domain
        self.team_label = "platform.%s/team" % domain
        self.env_label = "platform.%s/environment" % domain
        self.tier_label = "platform.%s/tier" % domain
        self.registries = list(registries)
        self.team_registries = dict(team_registries or {})
        self.objects = list(objects)
        self.namespaces = {o["metadata"]["name"]: (o["metadata"].get("labels") or {})
                           for o in self.objects if o.get("kind") == "Namespace" and o.get("apiVersion") == "v1"}

    def ns_labels(self, ns):
        return self.namespaces.get(ns) or {}

    def in_namespace(self, ns, kind, name=None):
        return [o for o in self.objects if o.get("kind") == kind and o["metadata"].get("namespace") == ns
                and (name is None or o["metadata"].get("name") == name)]


# ---------------------------------------------------------------- views
class Pod:
    """A pod as Kyverno autogen sees it: a Pod, or a controller's template."""

    def __init__(self, obj):
        self.obj = obj
        self.namespace = obj["metadata"].get("namespace", "")
        kind = obj.get("kind")
        if kind == "Pod":
            self.meta, self.spec = obj["metadata"], obj.get("spec") or {}
        elif kind == "CronJob":
            t = obj["spec"]["jobTemplate"]["spec"]["template"]
            self.meta, self.spec = t.get("metadata") or {}, t.get("spec") or {}
        else:
            t = obj["spec"]["template"]
            self.meta, self.spec = t.get("metadata") or {}, t.get("spec") or {}
        self.labels = self.meta.get("labels") or {}
        self.containers = list(self.spec.get("containers") or []) + list(self.spec.get("initContainers") or [])
        self.all_containers = self.containers + list(self.spec.get("ephemeralContainers") or [])


def sc(c):
    return c.get("securityContext") or {}


def pod_sc(p):
    return p.spec.get("securityContext") or {}


def each(containers, pred, msg):
    return ["%s: %s" % (c.get("name", "?"), msg) for c in containers if not pred(c)]


def labels_of(o):
    return (o.get("metadata") or {}).get("labels") or {}


# ---------------------------------------------------------------- checks
# Each check takes the view its policy's `match` selects (a Pod for pods, the
# object otherwise) and the context; it returns a list of violations.

def c_privileged(p, ctx):
    return each(p.all_containers, lambda c: sc(c).get("privileged") in (None, False), "privileged")


def c_host_namespaces(p, ctx):
    return ["%s: true" % k for k in ("hostNetwork", "hostPID", "hostIPC") if p.spec.get(k) is True]


def c_host_path(p, ctx):
    return ["volume %s is a hostPath" % v.get("name") for v in p.spec.get("volumes") or [] if "hostPath" in v]


def c_host_ports(p, ctx):
    return each(p.all_containers, lambda c: all(pt.get("hostPort", 0) == 0 for pt in c.get("ports") or []), "hostPort")


def c_capabilities(p, ctx):
    out = each(p.all_containers, lambda c: "ALL" in ((sc(c).get("capabilities") or {}).get("drop") or []),
               "does not drop ALL capabilities")
    out += each(p.all_containers,
                lambda c: all(x == "NET_BIND_SERVICE" for x in (sc(c).get("capabilities") or {}).get("add") or []),
                "adds a capability other than NET_BIND_SERVICE")
    return out


def c_non_root(p, ctx):
    def non_root(c):
        if "runAsNonRoot" in sc(c):
            return sc(c)["runAsNonRoot"] is True
        return pod_sc(p).get("runAsNonRoot") is True
    out = each(p.all_containers, non_root, "may run as root (runAsNonRoot)")
    if pod_sc(p).get("runAsUser") == 0:
        out.append("pod runAsUser 0")
    out += each(p.all_containers, lambda c: sc(c).get("runAsUser") != 0, "runAsUser 0")
    return out


def c_privilege_escalation(p, ctx):
    return each(p.all_containers, lambda c: sc(c).get("allowPrivilegeEscalation") is False,
                "allowPrivilegeEscalation is not false")


def c_seccomp(p, ctx):
    ok = ("RuntimeDefault", "Localhost")

    def good(c):
        if "seccompProfile" in sc(c):
            return sc(c)["seccompProfile"].get("type") in ok
        return (pod_sc(p).get("seccompProfile") or {}).get("type") in ok
    return each(p.all_containers, good, "no RuntimeDefault/Localhost seccomp profile")


ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected",
                   "secret"}


def c_volume_types(p, ctx):
    return ["volume %s has no allowed type" % v.get("name") for v in p.spec.get("volumes") or []
            if not (set(v) & ALLOWED_VOLUMES)]


def c_labels(p, ctx):
    return ["missing label %s" % k for k in ("app.kubernetes.io/name", "app.kubernetes.io/part-of",
                                             "backstage.io/kubernetes-id") if not p.labels.get(k)]


def c_latest(p, ctx):
    def good(c):
        img = c.get("image", "")
        return bool(re.search(r"@sha256:[a-f0-9]{64}$", img)) or (bool(re.search(r":[^/:]+$", img))
                                                                   and not img.endswith(":latest"))
    return each(p.all_containers, good, "image has no tag, or latest")


def c_requests(p, ctx):
    def good(c):
        r = c.get("resources") or {}
        req, lim = r.get("requests") or {}, r.get("limits") or {}
        return "cpu" in req and "memory" in req and "memory" in lim
    return each(p.containers, good, "needs cpu and memory requests and a memory limit")


def c_probes(p, ctx):
    return each(p.spec.get("containers") or [], lambda c: "livenessProbe" in c and "readinessProbe" in c,
                "needs liveness and readiness probes")


def c_read_only(p, ctx):
    return each(p.all_containers, lambda c: sc(c).get("readOnlyRootFilesystem") is True,
                "root file system is writable")


def c_default_namespace(o, ctx):
    return ["in namespace default"] if (o.get("metadata") or {}).get("namespace") == "default" else []


def c_registries(p, ctx):
    team = ctx.ns_labels(p.namespace).get(ctx.team_label, "")
    regs = ctx.team_registries.get(team, ctx.registries)
    return each(p.all_containers, lambda c: any(c.get("image", "").startswith(r + "/") for r in regs),
                "image not from the team's registries")


def c_service_types(o, ctx):
    t = (o.get("spec") or {}).get("type", "ClusterIP")
    return [] if t == "ClusterIP" else ["Service type %s" % t]


def c_ingress_class(o, ctx):
    return [] if (o.get("spec") or {}).get("ingressClassName") == "nginx" else ["ingressClassName is not nginx"]


def c_ingress_hosts(o, ctx):
    rules = (o.get("spec") or {}).get("rules")
    if not rules:
        return ["no rules with hosts"]
    out = []
    for r in rules:
        h = r.get("host")
        if not h or h.startswith("*") or not (h == ctx.domain or h.endswith("." + ctx.domain)):
            out.append("host %r is not under %s" % (h, ctx.domain))
    return out


def c_default_sa(p, ctx):
    return [] if p.spec.get("serviceAccountName") not in (None, "", "default") else ["uses the default ServiceAccount"]


def c_sa_token(p, ctx):
    return [] if p.spec.get("automountServiceAccountToken") is False else ["automountServiceAccountToken is not false"]


def c_plain_secrets(o, ctx):
    if o.get("type") == "kubernetes.io/service-account-token":
        return []
    owners = (o.get("metadata") or {}).get("ownerReferences") or []
    if any(r.get("kind") == "ExternalSecret" and r.get("apiVersion", "").startswith("external-secrets.io/")
           for r in owners):
        return []
    return ["Secret not owned by an ExternalSecret"]


def c_secret_env(p, ctx):
    def good(c):
        return (all("secretKeyRef" not in (e.get("valueFrom") or {}) for e in c.get("env") or [])
                and all("secretRef" not in f for f in c.get("envFrom") or []))
    return each(p.all_containers, good, "reads a Secret through the environment")


def c_external_secret_store(o, ctx):
    ref = (o.get("spec") or {}).get("secretStoreRef") or {}
    return [] if ref.get("kind") == "ClusterSecretStore" else ["secretStoreRef.kind is not ClusterSecretStore"]


def c_team_label(p, ctx):
    want = ctx.ns_labels(p.namespace).get(ctx.team_label)
    have = p.labels.get(ctx.team_label)
    return [] if have is not None and have == want else ["team label %r, namespace's %r" % (have, want)]


def c_claims(o, ctx):
    ns = (o.get("metadata") or {}).get("namespace")
    if not ns:
        return []
    want = ctx.ns_labels(ns).get(ctx.team_label)
    have = labels_of(o).get(ctx.team_label)
    return [] if want is not None and have == want else ["claim in %s (team %r) labelled %r" % (ns, want, have)]


def c_pod_security(o, ctx):
    v = labels_of(o).get("pod-security.kubernetes.io/enforce")
    return [] if v == "restricted" else ["pod-security.kubernetes.io/enforce is %r" % v]


def c_cost_labels(p, ctx):
    nsl = ctx.ns_labels(p.namespace)
    return ["%s %r, namespace's %r" % (k, p.labels.get(k), nsl.get(k)) for k in (ctx.env_label, ctx.tier_label)
            if k not in p.labels or k not in nsl or p.labels[k] != nsl[k]]


def c_container_size(p, ctx):
    def good(c):
        req = (c.get("resources") or {}).get("requests") or {}
        return (("cpu" not in req or quantity(req["cpu"]) <= 4)
                and ("memory" not in req or quantity(req["memory"]) <= 16 * 2**30))
    return each(p.containers, good, "requests more than 4 cpu or 16Gi memory")


def c_volume_size(o, ctx):
    req = ((o.get("spec") or {}).get("resources") or {}).get("requests") or {}
    if "storage" not in req or quantity(req["storage"]) > 100 * 2**30:
        return ["storage request %r is missing or over 100Gi" % req.get("storage")]
    return []


# Mutations and generations: platformc's own objects must already be what the
# policy would make them (a mutation of an Argo CD-managed object is drift; a
# generated object beside a rendered one is a conflict).

def m_seccomp(p, ctx):
    return [] if "seccompProfile" in pod_sc(p) else ["pod-level seccompProfile unset: the mutation would change it"]


def m_sa_token(p, ctx):
    return [] if "automountServiceAccountToken" in p.spec else ["automountServiceAccountToken unset: the mutation would set it"]


def m_cost_labels(p, ctx):
    return ["label %s unset: the mutation would add it" % k for k in (ctx.team_label, ctx.env_label, ctx.tier_label)
            if k not in p.labels]


def _generated_or_rendered(o, ctx, kind, name, good):
    labels = labels_of(o)
    if ctx.team_label not in labels:
        return []
    if labels.get("app.kubernetes.io/managed-by") != "platformc":
        return []   # the policy generates it
    objs = ctx.in_namespace(o["metadata"]["name"], kind, name)
    return [] if objs and all(good(x) for x in objs) else ["team namespace without its %s %s" % (kind, name)]


def g_default_deny(o, ctx):
    def good(np):
        s = np.get("spec") or {}
        return (s.get("podSelector") in ({}, None) and sorted(s.get("policyTypes") or []) == ["Egress", "Ingress"]
                and not s.get("ingress") and not s.get("egress"))
    return _generated_or_rendered(o, ctx, "NetworkPolicy", "default-deny", good)


def g_limitrange(o, ctx):
    def good(lr):
        return any(l.get("type") == "Container" and "defaultRequest" in l for l in (lr.get("spec") or {}).get("limits") or [])
    return _generated_or_rendered(o, ctx, "LimitRange", "container-defaults", good)


CHECKS = {
    "disallow-privileged-containers": c_privileged,
    "disallow-host-namespaces": c_host_namespaces,
    "disallow-host-path": c_host_path,
    "disallow-host-ports": c_host_ports,
    "restrict-capabilities": c_capabilities,
    "require-run-as-non-root": c_non_root,
    "disallow-privilege-escalation": c_privilege_escalation,
    "require-seccomp-profile": c_seccomp,
    "restrict-volume-types": c_volume_types,
    "require-labels": c_labels,
    "disallow-latest-tag": c_latest,
    "require-requests-limits": c_requests,
    "require-probes": c_probes,
    "require-read-only-root-fs": c_read_only,
    "disallow-default-namespace": c_default_namespace,
    "restrict-image-registries": c_registries,
    "restrict-service-types": c_service_types,
    "restrict-ingress-class": c_ingress_class,
    "restrict-ingress-hosts": c_ingress_hosts,
    "disallow-default-service-account": c_default_sa,
    "restrict-service-account-token": c_sa_token,
    "disallow-plain-secrets": c_plain_secrets,
    "disallow-secret-env-vars": c_secret_env,
    "restrict-external-secret-store": c_external_secret_store,
    "require-team-label": c_team_label,
    "restrict-claims-to-team-namespace": c_claims,
    "require-pod-security-labels": c_pod_security,
    "require-cost-allocation-labels": c_cost_labels,
    "restrict-container-size": c_container_size,
    "restrict-volume-size": c_volume_size,
    "add-default-seccomp-profile": m_seccomp,
    "disable-service-account-token-automount": m_sa_token,
    "add-cost-allocation-labels": m_cost_labels,
    "generate-default-deny": g_default_deny,
    "generate-container-defaults": g_limitrange,
}


# ---------------------------------------------------------------- matching
def group_of(api):
    return api.split("/")[0] if "/" in api else ""


def selects(policy, obj, ctx):
    """The view of `obj` the policy applies to, or None (match + namespaces)."""
    kind, api = obj.get("kind"), obj.get("apiVersion", "")
    meta = obj.get("metadata") or {}
    m = policy["match"]
    view = None
    is_pod = kind in POD_CONTROLLERS | {"Pod", "CronJob"} and group_of(api) in ("", "apps", "batch")
    if m == "pods" and is_pod:
        view = Pod(obj)
    elif m == "pods-and-services" and is_pod:
        view = obj
    elif m == "pods-and-services" and kind == "Service" and api == "v1":
        view = obj
    elif (m, kind, api) in (("services", "Service", "v1"), ("secrets", "Secret", "v1"),
                            ("namespaces", "Namespace", "v1"), ("persistentvolumeclaims", "PersistentVolumeClaim", "v1")):
        view = obj
    elif m == "ingresses" and kind == "Ingress" and group_of(api) == "networking.k8s.io":
        view = obj
    elif m == "externalsecrets" and kind == "ExternalSecret" and group_of(api) == "external-secrets.io":
        view = obj
    elif m == "claims" and group_of(api) == "platform." + ctx.domain and meta.get("namespace"):
        view = obj
    if view is None:
        return None
    scope = policy["namespaces"]
    labels = labels_of(obj) if kind == "Namespace" else ctx.ns_labels(meta.get("namespace", ""))
    if scope == "default" and meta.get("namespace") != "default":
        return None
    if scope in ("team", "unmanaged-team") and ctx.team_label not in labels:
        return None
    # unmanaged-team: the check itself covers platformc's namespaces (see g_*)
    return view


# ---------------------------------------------------------------- the model
def load_model(path):
    base = os.path.dirname(os.path.abspath(path))
    with open(path, encoding="utf-8") as f:
        root = yaml.load(f, Loader=yaml.BaseLoader)   # every scalar a string, as platformc reads them
    docs = [root]
    for pat in root.get("include") or []:
        for p in sorted(glob.glob(os.path.join(base, pat))):
            with open(p, encoding="utf-8") as f:
                docs.append(yaml.load(f, Loader=yaml.BaseLoader) or {})
    teams = [t for d in docs for t in d.get("teams") or []]
    services = [s for d in docs for s in d.get("services") or []]
    envs = [e["name"] for e in root["environments"]]
    pl = root["platform"]
    team_regs = {t["name"]: list(t["registries"]) for t in teams if t.get("registries")}
    pols = root.get("policies") or {}
    svc_ns = {}
    for s in services:
        svc_ns[s["name"]] = {"%s-%s" % (s["team"], e) for e in (s.get("environments") or envs)}
    exceptions = []
    for e in pols.get("exceptions") or []:
        exceptions.append((e["policy"], {(svc, ns) for svc in e["services"] for ns in svc_ns.get(svc, ())}))
    return {
        "domain": pl["domain"], "registries": list(pl["registries"]), "team_registries": team_regs,
        "disable": set(pols.get("disable") or []), "exceptions": exceptions, "exceptions_raw": pols.get("exceptions") or [],
        "target": (pl.get("targets") or {}).get("kyverno", "validating-policy"),
        "action": pols.get("action", "Enforce"), "svc_ns": svc_ns,
    }


EXCEPTABLE_BY_SERVICE = {"pods", "pods-and-services", "services", "ingresses", "persistentvolumeclaims"}


def excepted(model, policy, obj):
    meta = obj.get("metadata") or {}
    key = ((meta.get("labels") or {}).get("app.kubernetes.io/name"), meta.get("namespace"))
    return any(p == policy and key in pairs for p, pairs in model["exceptions"])


def load_objects(paths):
    objs = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            objs.extend(d for d in yaml.safe_load_all(f) if isinstance(d, dict))
    return objs


def run_platform(model_path, built):
    lib = load_library()
    model = load_model(model_path)
    bad = checked = excused = 0
    for path in built:
        objs = load_objects([path])
        ctx = Ctx(model["domain"], model["registries"], model["team_registries"], objs)
        for pol in lib:
            if pol["name"] in model["disable"]:
                continue
            for o in objs:
                view = selects(pol, o, ctx)
                if view is None:
                    continue
                msgs = CHECKS[pol["name"]](view, ctx)
                checked += 1
                # an exception selects a service's objects by this label
                if (pol["match"] in EXCEPTABLE_BY_SERVICE and o.get("kind") != "Namespace"
                        and not labels_of(o).get("app.kubernetes.io/name")):
                    bad += 1
                    print("UNSELECTABLE %s: %s %s/%s has no app.kubernetes.io/name label for exceptions to select"
                          % (pol["name"], os.path.basename(path), o.get("kind"), (o.get("metadata") or {}).get("name")))
                if msgs and excepted(model, pol["name"], o):
                    excused += 1
                    continue
                for m in msgs:
                    bad += 1
                    print("VIOLATION %s: %s %s/%s: %s" % (pol["name"], os.path.basename(path), o.get("kind"),
                                                          (o.get("metadata") or {}).get("name"), m))
    print("%d policies, %d object checks, %d violations, %d excused by exceptions"
          % (len([p for p in lib if p["name"] not in model["disable"]]), checked, bad, excused))
    return 1 if bad or not checked else 0


def run_rendered(model_path, d):
    lib = load_library()
    model = load_model(model_path)
    errs = []
    cluster = model["target"] == "cluster-policy"
    found = {}
    for p in sorted(glob.glob(os.path.join(d, "*.yaml"))):
        if os.path.basename(p) == "kustomization.yaml":
            continue
        for o in load_objects([p]):
            found.setdefault(o["kind"], []).append(o)
    policies = {o["metadata"]["name"]: o for k in ("ValidatingPolicy", "ClusterPolicy") for o in found.get(k, [])}
    for pol in lib:
        name = pol["name"]
        if name in model["disable"]:
            if name in policies:
                errs.append("%s is disabled but rendered" % name)
            continue
        o = policies.get(name)
        want = "ValidatingPolicy" if "validations" in pol and not cluster else "ClusterPolicy"
        if not o:
            errs.append("%s is not rendered" % name)
        elif o["kind"] != want:
            errs.append("%s is a %s, want %s" % (name, o["kind"], want))
        elif o["kind"] == "ValidatingPolicy":
            if len(o["spec"]["validations"]) != len(pol["validations"]):
                errs.append("%s: %d validations, library has %d" % (name, len(o["spec"]["validations"]), len(pol["validations"])))
        if o and "${" in yaml.safe_dump(o):
            errs.append("%s: an unsubstituted ${...} parameter" % name)
        if o and name == "restrict-image-registries":
            vs = list(o["spec"].get("variables") or []) + [v for r in o["spec"].get("rules") or []
                                                           for v in r["validate"]["cel"].get("variables") or []]
            text = " ".join(v["expression"] for v in vs)
            want = "{%s}" % ", ".join("'%s': [%s]" % (t, ", ".join("'%s'" % r for r in regs))
                                      for t, regs in model["team_registries"].items())
            maps = re.findall(r"\{(?:'[^']*': \[[^\]]*\](?:, )?)*\}", text)
            if len(maps) != 2 or any(m != want for m in maps):
                errs.append("%s: the teams' own registries are %s, want %s" % (name, maps, want))
            if "[%s]" % ", ".join("'%s'" % r for r in model["registries"]) not in text:
                errs.append("%s: platform.registries are not in the policy" % name)
    action = model["action"]
    for name, o in sorted(policies.items()):
        if o["kind"] == "ValidatingPolicy":
            got = o["spec"].get("validationActions")
            if got != [{"Enforce": "Deny", "Audit": "Audit"}[action]]:
                errs.append("%s: validationActions %r with policies.action %s" % (name, got, action))
        for r in o["spec"].get("rules") or []:
            if "validate" in r and r["validate"].get("failureAction") != action:
                errs.append("%s: failureAction %r with policies.action %s" % (name, r["validate"].get("failureAction"), action))
    # each exception: the policy it names, exactly its services' namespaces
    rendered = []
    for o in found.get("PolicyException", []):
        sp = o["spec"]
        if o["apiVersion"] == "policies.kyverno.io/v1":
            pols = {r["name"] for r in sp["policyRefs"]}
            text = " ".join(c["expression"] for c in sp.get("matchConditions") or [])
            nss = set(re.findall(r"'([a-z0-9-]+)'", " ".join(re.findall(r"request\.namespace in \[([^]]*)\]", text))))
            svcs = set(re.findall(r"== '([a-z0-9-]+)'", text))
        else:
            pols = {e["policyName"] for e in sp["exceptions"]}
            nss = {n for a in sp["match"]["any"] for n in a["resources"].get("namespaces") or []}
            svcs = {a["resources"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for a in sp["match"]["any"]}
        rendered.append((pols, nss, svcs))
    for e in model["exceptions_raw"]:
        if e["policy"] in model["disable"]:
            continue
        want_ns = {ns for svc in e["services"] for ns in model["svc_ns"].get(svc, ())}
        if ({e["policy"]}, want_ns, set(e["services"])) not in rendered:
            errs.append("no PolicyException for %s scoped to %s in %s (rendered: %r)"
                        % (e["policy"], sorted(e["services"]), sorted(want_ns), rendered))
    extra = set(policies) - {p["name"] for p in lib}
    errs += ["%s is not in the library" % n for n in sorted(extra)]
    nexc = len(found.get("PolicyException", []))
    want_exc = len([e for e in model["exceptions_raw"] if e["policy"] not in model["disable"]])
    if nexc != want_exc:
        errs.append("%d PolicyExceptions, platform.yaml declares %d" % (nexc, want_exc))
    for e in errs:
        print("FAIL " + e)
    print("%d policies, %d exceptions rendered" % (len(policies), nexc))
    return 1 if errs else 0


# ---------------------------------------------------------------- self-test
DOMAIN = "example.com"
TEAM, NS = "team-a", "team-a-dev"


def good_namespace():
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": {
        "app.kubernetes.io/managed-by": "platformc", "platform.%s/team" % DOMAIN: TEAM,
        "platform.%s/environment" % DOMAIN: "dev", "platform.%s/tier" % DOMAIN: "nonprod",
        "pod-security.kubernetes.io/enforce": "restricted"}}}


def good_deployment():
    labels = {"app.kubernetes.io/name": "api", "app.kubernetes.io/part-of": "shop", "backstage.io/kubernetes-id": "api",
              "platform.%s/team" % DOMAIN: TEAM, "platform.%s/environment" % DOMAIN: "dev",
              "platform.%s/tier" % DOMAIN: "nonprod"}
    probe = {"httpGet": {"path": "/healthz", "port": "http"}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": NS, "labels": labels},
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "api"}}, "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"serviceAccountName": "api", "automountServiceAccountToken": False,
                         "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                         "containers": [{"name": "app", "image": "ghcr.io/acme/api:1.2.3",
                                         "ports": [{"name": "http", "containerPort": 8080}],
                                         "resources": {"requests": {"cpu": "250m", "memory": "512Mi"},
                                                       "limits": {"memory": "512Mi"}},
                                         "livenessProbe": probe, "readinessProbe": probe,
                                         "securityContext": {"allowPrivilegeEscalation": False,
                                                             "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                                                             "capabilities": {"drop": ["ALL"]}},
                                         "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}],
                         "volumes": [{"name": "tmp", "emptyDir": {}},
                                     {"name": "db", "secret": {"secretName": "db-connection"}}]}}}}


def good_objects():
    ns = good_namespace()
    objs = [ns, good_deployment(),
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "namespace": NS},
             "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}},
            {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "api", "namespace": NS},
             "spec": {"ingressClassName": "nginx", "rules": [{"host": "api.dev.example.com"}]}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-connection", "namespace": NS,
             "ownerReferences": [{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "name": "db",
                                  "uid": "1"}]}},
            {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "db", "namespace": NS},
             "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "aws"}}},
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "cache", "namespace": NS},
             "spec": {"resources": {"requests": {"storage": "20Gi"}}}},
            {"apiVersion": "platform.%s/v1alpha1" % DOMAIN, "kind": "PostgreSQLInstance",
             "metadata": {"name": "db", "namespace": NS, "labels": {"platform.%s/team" % DOMAIN: TEAM}}},
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "default-deny", "namespace": NS},
             "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
            {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "container-defaults", "namespace": NS},
             "spec": {"limits": [{"type": "Container", "defaultRequest": {"cpu": "100m"}}]}},
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
             "spec": {"containers": [{"name": "web", "image": "ghcr.io/acme/web:1"}]}}]
    return objs


def pod_c(o):
    return o["spec"]["template"]["spec"]["containers"][0]


def pod_s(o):
    return o["spec"]["template"]["spec"]


def find(objs, kind):
    return next(o for o in objs if o["kind"] == kind and o["metadata"].get("namespace", NS) != "default")


# policy -> (kind of the object to break, how to break it); the broken object
# replaces the good one in a copy of the good set. Each must violate its policy.
def _set(d, k, v):
    d[k] = v


BAD = {
    "disallow-privileged-containers": ("Deployment", lambda o: pod_c(o)["securityContext"].update(privileged=True)),
    "disallow-host-namespaces": ("Deployment", lambda o: pod_s(o).update(hostPID=True)),
    "disallow-host-path": ("Deployment", lambda o: pod_s(o)["volumes"].append({"name": "h", "hostPath": {"path": "/"}})),
    "disallow-host-ports": ("Deployment", lambda o: pod_c(o)["ports"][0].update(hostPort=80)),
    "restrict-capabilities": ("Deployment", lambda o: pod_c(o)["securityContext"]["capabilities"].update(add=["NET_RAW"])),
    "require-run-as-non-root": ("Deployment", lambda o: pod_c(o)["securityContext"].update(runAsNonRoot=False)),
    "disallow-privilege-escalation": ("Deployment", lambda o: pod_c(o)["securityContext"].pop("allowPrivilegeEscalation")),
    "require-seccomp-profile": ("Deployment", lambda o: pod_c(o)["securityContext"].update(seccompProfile={"type": "Unconfined"})),
    "restrict-volume-types": ("Deployment", lambda o: pod_s(o)["volumes"].append({"name": "n", "nfs": {"server": "x", "path": "/"}})),
    "require-labels": ("Deployment", lambda o: o["spec"]["template"]["metadata"]["labels"].pop("app.kubernetes.io/part-of")),
    "disallow-latest-tag": ("Deployment", lambda o: pod_c(o).update(image="ghcr.io/acme/api:latest")),
    "require-requests-limits": ("Deployment", lambda o: pod_c(o)["resources"].pop("limits")),
    "require-probes": ("Deployment", lambda o: pod_c(o).pop("readinessProbe")),
    "require-read-only-root-fs": ("Deployment", lambda o: pod_c(o)["securityContext"].update(readOnlyRootFilesystem=False)),
    "disallow-default-namespace": ("Service", lambda o: o["metadata"].update(namespace="default")),
    "restrict-image-registries": ("Deployment", lambda o: pod_c(o).update(image="docker.io/library/nginx:1.27")),
    "restrict-service-types": ("Service", lambda o: o["spec"].update(type="LoadBalancer")),
    "restrict-ingress-class": ("Ingress", lambda o: o["spec"].update(ingressClassName="traefik")),
    "restrict-ingress-hosts": ("Ingress", lambda o: o["spec"]["rules"].append({"host": "*.evil.example.org"})),
    "disallow-default-service-account": ("Deployment", lambda o: pod_s(o).pop("serviceAccountName")),
    "restrict-service-account-token": ("Deployment", lambda o: pod_s(o).update(automountServiceAccountToken=True)),
    "disallow-plain-secrets": ("Secret", lambda o: o["metadata"].pop("ownerReferences")),
    "disallow-secret-env-vars": ("Deployment", lambda o: pod_c(o).update(envFrom=[{"secretRef": {"name": "db-connection"}}])),
    "restrict-external-secret-store": ("ExternalSecret", lambda o: o["spec"]["secretStoreRef"].update(kind="SecretStore")),
    "require-team-label": ("Deployment", lambda o: o["spec"]["template"]["metadata"]["labels"].update(
        {"platform.%s/team" % DOMAIN: "team-b"})),
    "restrict-claims-to-team-namespace": ("PostgreSQLInstance", lambda o: o["metadata"]["labels"].update(
        {"platform.%s/team" % DOMAIN: "team-b"})),
    "require-pod-security-labels": ("Namespace", lambda o: o["metadata"]["labels"].update(
        {"pod-security.kubernetes.io/enforce": "privileged"})),
    "require-cost-allocation-labels": ("Deployment", lambda o: o["spec"]["template"]["metadata"]["labels"].pop(
        "platform.%s/environment" % DOMAIN)),
    "restrict-container-size": ("Deployment", lambda o: pod_c(o)["resources"]["requests"].update(memory="32Gi")),
    "restrict-volume-size": ("PersistentVolumeClaim", lambda o: o["spec"]["resources"]["requests"].update(storage="1Ti")),
    "add-default-seccomp-profile": ("Deployment", lambda o: pod_s(o)["securityContext"].pop("seccompProfile")),
    "disable-service-account-token-automount": ("Deployment", lambda o: pod_s(o).pop("automountServiceAccountToken")),
    "add-cost-allocation-labels": ("Deployment", lambda o: o["spec"]["template"]["metadata"]["labels"].pop(
        "platform.%s/tier" % DOMAIN)),
    "generate-default-deny": ("NetworkPolicy", lambda o: o["spec"].update(ingress=[{}])),
    "generate-container-defaults": ("LimitRange", lambda o: o["metadata"].update(name="other")),
}


def violations(pol, objs):
    ctx = Ctx(DOMAIN, ["ghcr.io/acme"], {}, objs)
    out = []
    for o in objs:
        view = selects(pol, o, ctx)
        if view is not None:
            out += CHECKS[pol["name"]](view, ctx)
    return out


def self_test():
    lib = load_library()
    names = [p["name"] for p in lib]
    errs = []
    dup = {n for n in names if names.count(n) > 1}
    errs += ["duplicate policy name %s" % n for n in sorted(dup)]
    errs += ["policy %s has no check in policy_check.py" % n for n in names if n not in CHECKS]
    errs += ["policy %s has no bad case in policy_check.py" % n for n in names if n not in BAD]
    errs += ["check %s is not a library policy" % n for n in sorted(set(CHECKS) - set(names))]
    errs += ["bad case %s is not a library policy" % n for n in sorted(set(BAD) - set(names))]
    cats = {p["category"] for p in lib}
    want = {"pod-security", "best-practices", "security", "compliance", "cost", "mutation", "generation", "secrets"}
    errs += ["no policy of category %s" % c for c in sorted(want - cats)]
    errs += ["unknown category %s" % c for c in sorted(cats - want)]
    for pol in lib:
        n = pol["name"]
        if n not in CHECKS or n not in BAD:
            continue
        good = good_objects()
        # the default-namespace pod is only good for the policies that do not look at it
        if pol["namespaces"] != "default":
            v = violations(pol, good)
            if v:
                errs.append("%s: a good object violates it: %s" % (n, v[0]))
        else:
            good = [o for o in good if o["metadata"].get("namespace") != "default"]
            if violations(pol, good):
                errs.append("%s: a good object violates it" % n)
        kind, breaker = BAD[n]
        bad = copy.deepcopy([o for o in good if o["metadata"].get("namespace") != "default"])
        breaker(find(bad, kind))
        if not violations(pol, bad):
            errs.append("%s: the bad %s does not violate it" % (n, kind))
        else:
            print("ok   %s: bad %s rejected" % (n, kind))
    # a team's own registries replace the platform's
    pol = next(p for p in lib if p["name"] == "restrict-image-registries")
    dep = good_deployment()
    own = Ctx(DOMAIN, ["ghcr.io/acme"], {TEAM: ["ghcr.io/acme/team-a"]}, [good_namespace(), dep])
    if not CHECKS[pol["name"]](Pod(dep), own):
        errs.append("restrict-image-registries: a team's own registries do not replace the platform's")
    pod_c(dep)["image"] = "ghcr.io/acme/team-a/api:1"
    if CHECKS[pol["name"]](Pod(dep), own):
        errs.append("restrict-image-registries: an image from the team's own registry is rejected")
    # an exception excuses the named service in its namespaces, and nothing else
    model = {"exceptions": [("require-run-as-non-root", {("api", NS)})]}
    dep = good_deployment()
    other = copy.deepcopy(dep)
    other["metadata"]["labels"]["app.kubernetes.io/name"] = "web"
    elsewhere = copy.deepcopy(dep)
    elsewhere["metadata"]["namespace"] = "team-a-production"
    if not excepted(model, "require-run-as-non-root", dep):
        errs.append("an exception does not excuse the service it names")
    for what, pol, o in (("another policy", "disallow-host-path", dep), ("another service", "require-run-as-non-root", other),
                         ("another namespace", "require-run-as-non-root", elsewhere)):
        if excepted(model, pol, o):
            errs.append("an exception excuses %s" % what)
    for e in errs:
        print("FAIL " + e)
    print("%d policies, %d checks, %d bad cases: %d failed" % (len(lib), len(CHECKS), len(BAD), len(errs)))
    return 1 if errs else 0


def main(argv):
    if argv[:1] == ["--self-test"]:
        return self_test()
    if len(argv) >= 2 and argv[0] == "--platform":
        if len(argv) == 4 and argv[2] == "--rendered":
            return run_rendered(argv[1], argv[3])
        if len(argv) > 2:
            return run_platform(argv[1], argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
