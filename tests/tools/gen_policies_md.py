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
          "${INGRESS_CLASS}": "<ingress class>"}
SCOPE = {"team": "team namespaces", "all": "all namespaces", "default": "`default`",
         "unmanaged-team": "team namespaces not created by platformc"}


def text(s):
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
print("is warning W0220. `tests/tools/policy_check.py` encodes each policy as a check that the test")
print("suite runs over every rendered workload.\n")
print("| policy | category | severity | applies to | checks |")
print("|---|---|---|---|---|")
for p in lib:
    print("| `%s` | %s | %s | %s in %s | %s |" % (p["name"], p["category"], p["severity"], p["match"],
                                               SCOPE[p["namespaces"]], text(p["checks"])))
print()
print("## Why\n")
for p in lib:
    print("- **`%s`** — %s" % (p["name"], text(p["why"])))
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
