#!/usr/bin/env python3
"""Writes docs/policies.md from stdlib/policies.yaml (the library platformc renders
into platform/kyverno/). The test suite checks the committed file is current:
    python3 tests/tools/gen_policies_md.py > docs/policies.md
"""
import os

import yaml

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(root, "stdlib", "policies.yaml"), encoding="utf-8") as f:
    lib = yaml.safe_load(f)["policies"]
PARAMS = {"${DOMAIN}": "<domain>", "${TEAM_LABEL}": "platform.<domain>/team",
          "${ENV_LABEL}": "platform.<domain>/environment", "${TIER_LABEL}": "platform.<domain>/tier",
          "${BASELINE_NAMESPACES}": "see Exceptions below",
          "${INGRESS_CLASS}": "<ingress class>"}
SCOPE = {"team": "team namespaces", "all": "all namespaces", "default": "`default`",
         "unmanaged-team": "team namespaces not created by platformc"}


def text(s, local=None):
    for k, v in (local or {}).items():
        s = s.replace("${%s}" % k, str(v))
    for k, v in PARAMS.items():
        s = s.replace(k, v)
    return " ".join(s.split()).replace("|", "\\|")


print("<!-- generated from stdlib/policies.yaml by tests/tools/gen_policies_md.py — do not edit -->")
print("# Policies\n")
print("platformc renders this library into `platform/kyverno/` (one file per policy) and")
print("`clusters/<env>` includes it. Validation policies are `policies.kyverno.io/v1` ValidatingPolicy")
print("(CEL) by default, `kyverno.io/v1` ClusterPolicy with `platform.targets.kyverno: cluster-policy`;")
print("mutation and generation policies are ClusterPolicy in both targets (the CEL engine's")
print("MutatingPolicy and GeneratingPolicy are not emitted yet). `policies.action` (Enforce | Audit)")
print("sets `validationActions` (Deny | Audit) or `failureAction`; `policies.disable` drops a policy;")
print("each `policies.exceptions` entry becomes a PolicyException in namespace `kyverno`, matching the")
print("named services' workloads (label `app.kubernetes.io/name`) in their own namespaces only, with")
print("its reason and expiry as annotations. An unknown policy name is error E0221; an exception to a")
print("disabled policy is warning W0222 (it is not rendered); a past `expires`")
print("is error E0231 (warning W0250 within 30 days of it). How exceptions change the render is below.")
print("`tests/admission/` runs the rendered policies with a conformant CEL engine over everything a")
print("platform builds and the objects controllers make from it, in both targets, and over mutants that")
print("each policy must deny.\n")
print("| policy | category | severity | applies to | checks |")
print("|---|---|---|---|---|")
for p in lib:
    print("| `%s` | %s | %s | %s in %s | %s |" % (p["name"], p["category"], p["severity"], p["match"],
                                               SCOPE[p["namespaces"]], text(p["checks"], p.get("params"))))
print()
print("## Why\n")
for p in lib:
    print("- **`%s`** — %s" % (p["name"], text(p["why"], p.get("params"))))
print()
print("## Mutants\n")
print("Objects each validation policy exists to catch (`mutants` in stdlib/policies.yaml: JSON patches of")
print("a rendered Pod, and of its Deployment's pod template, or of the object the policy matches). The")
print("render's `kyverno test` suites (`tests/kyverno/<env>/`, guide §7.2) carry each as a failing")
print("resource of its policy; `tests/admission/` makes them from the objects every example builds and")
print("its controllers make, and from the other pod controllers. `tests/admission/mutants.mjs` adds")
print("those of Secrets, ExternalSecrets, claims and PersistentVolumeClaims, which the suites do not carry.\n")
print("| policy | mutants |")
print("|---|---|")
for p in lib:
    if p.get("mutants"):
        print("| `%s` | %s |" % (p["name"], ", ".join("`%s`%s" % (m["name"], " (Service)" if m.get("on") == "service" else "")
                                                     for m in p["mutants"])))
print()
print("## Admission as Kyverno runs it\n")
print("- **Pod policies autogen.** Each pod policy matches exactly `pods` (group `\"\"`, version `v1`) with")
print("  no namespace or object selector, and tests the namespace in a `matchCondition` on `namespaceObject`:")
print("  Kyverno 1.15-1.17 (`pkg/cel/autogen`, `CanAutoGen`) only then writes the rules for Deployments,")
print("  StatefulSets, DaemonSets, Jobs and CronJobs (`autogen.podControllers`), so a bad workload is refused")
print("  when it is applied, not later as a ReplicaSet's FailedCreate event. Its textual rewrite of")
print("  `object.spec`/`object.metadata` leaves `namespaceObject` alone. Ephemeral containers (the")
print("  `pods/ephemeralcontainers` subresource) are left to Pod Security Admission, which checks them too.")
print("  The legacy target's rules match kind `Pod` with a `namespaceSelector`, which legacy autogen allows.")
print("- **Core kinds by version** in the legacy target (`v1/Secret`, `v1/Service`, ...): a bare `Secret`")
print("  matches every group's kind `Secret`, the platform's own `Secret.platform.<domain>` claims included.")
print("- **Cluster-scoped objects** have no `request.namespace` key (the request is JSON with omitempty):")
print("  expressions test `has(object.metadata.namespace)` instead.")
print("- **Connection secrets.** A Secret of type `connection.crossplane.io/v1alpha1` whose one owner is a")
print("  controller reference to one of the platform's claim kinds (`platform.<domain>/v1alpha1`; with the")
print("  namespaced Crossplane target, a kind's primary managed resource) is admitted: that is exactly what")
print("  Crossplane's `LocalConnectionSecretFor` writes for a claim's `writeConnectionSecretToRef`.")
print()
print("## `check` decides what admission would deny\n")
print("What a policy enforces and `platform.yaml` decides is refused by `check`, at the input's position,")
print("naming the policy: an image outside the registries (E0209, `restrict-image-registries`), an ingress")
print("host outside the domain (E0232, `restrict-ingress-hosts`), a container above `restrict-container-size`")
print("(E0233; the limits are that policy's `params`, read by both), and one host and path served twice in")
print("a cluster (E0234: no Kyverno policy, ingress-nginx's own admission refuses the second Ingress). The")
print("other policies hold by construction: platformc always writes ClusterIP Services, requests and limits,")
print("probes, the labels and the securityContext. `tests/admission/cases.sh` proves each pair: the input")
print("fails `check`, and the engine denies the rendered object carrying the same value.")
print()
print("## Exceptions\n")
print("An exception relaxes exactly what it names, for exactly its services:")
print()
print("- The workload follows: `require-run-as-non-root` drops `runAsNonRoot` from the pod and container,")
print("  `disallow-privilege-escalation` sets `allowPrivilegeEscalation: true`, `require-read-only-root-fs`")
print("  sets `readOnlyRootFilesystem: false`; the rest of the securityContext stays.")
print("- Pod Security follows: an exception to a policy Pod Security `restricted` enforces too (%s)" %
      ", ".join("`%s`" % p["name"] for p in lib if p.get("pod-security") == "restricted"))
print("  sets `pod-security.kubernetes.io/enforce: baseline` on the namespaces its services run in (audit and")
print("  warn stay `restricted`, so the gap stays visible), and `require-pod-security-labels` accepts")
print("  `baseline` on exactly those namespaces. The Kyverno policies still hold every other service of the")
print("  namespace to the restricted rules. An exception to a policy `baseline` enforces (%s) is" %
      ", ".join("`%s`" % p["name"] for p in lib if p.get("pod-security") == "baseline"))
print("  error E0230: platformc never makes a team namespace `privileged`.")
print("- The PolicyException matches the services' workloads (label `app.kubernetes.io/name`) in their")
print("  namespaces: the Pods and, through autogen, the Deployment (legacy: every pod controller kind).")
print("- `expires` in the past is error E0231; within 30 days, warning W0250. The rendered files never")
print("  depend on the date (`SOURCE_DATE_EPOCH` sets \"today\" for the check).")
print()
print("## What the cluster needs\n")
print("- Kyverno 1.17 or later for the default target (ValidatingPolicy and the CEL engine's PolicyException);")
print("  `targets.kyverno: cluster-policy` for older releases. Kyverno 1.17 deprecated ClusterPolicy, so the")
print("  mutation and generation policies need a release that still serves `kyverno.io/v1`.")
print("- Policy exceptions enabled (`features.policyExceptions.enabled`) and accepted from the namespace")
print("  `kyverno` (`features.policyExceptions.namespace`), where platformc writes them.")
print("- The background controller allowed to create NetworkPolicies and LimitRanges (the generation")
print("  policies); the admission controller allowed to read Namespaces (add-cost-allocation-labels).")
print("- Claims carry the team label `platform.<domain>/team`, ExternalSecrets use a ClusterSecretStore,")
print("  and the Secrets they create are owned by them (External Secrets' default `creationPolicy: Owner`).")
