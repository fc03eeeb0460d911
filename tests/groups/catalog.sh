#!/usr/bin/env bash
# ---- the resource catalog: cost, both Crossplane targets, run-time kinds ----
. "$(dirname "$0")/../lib.sh"

# cost figures were checked by hand once (docs/catalog.md) and are pinned
for f in tests/cost/*.text tests/cost/*.json; do
	ex=$(basename "${f%.*}"); fmt=${f##*.}
	if d=$(diff -u "$f" <("$PLATFORMC" cost "examples/$ex/platform.yaml" --format "$fmt" 2>&1)); then
		ok "catalog/cost-$ex-$fmt"
	else
		fail "catalog/cost-$ex-$fmt" "$d"
	fi
done
# `targets.crossplane: namespaced`: v2 XRDs, namespaced XRs, *.aws.m.upbound.io
cp -r examples/company "$TMP/ns-company"
sed -i 's/crossplane: claims/crossplane: namespaced/' "$TMP/ns-company/platform.yaml"
out=""
if render_to "$TMP/ns-company/platform.yaml" "$TMP/ns-out" &&
	grep -q 'apiextensions.crossplane.io/v2' "$TMP/ns-out/platform/crossplane/sns-xrd.yaml" &&
	validate out "$TMP/ns-out"; then
	ok "catalog/namespaced-target-validates ($(tail -1 <<<"$out"))"
else
	fail catalog/namespaced-target-validates "$RENDER_ERR${out:-}"
fi
# a claim that breaks the XRD the same render produced fails validation
render_example company; company=$?; company_tree=$RENDERED company_err=$RENDER_ERR
mkdir -p "$TMP/wrong-claim"
if [ $company -ne 0 ]; then
	fail catalog/wrong-claim-fails "examples/company does not render: $company_err"
elif ! cp "$company_tree/platform/crossplane/aurora-postgresql-xrd.yaml" "$TMP/wrong-claim/" 2>"$TMP/err" ||
	! sed 's/mode: serverless/mode: serverles/; s/minAcu: 0.5/minAcu: lots/' \
		"$company_tree/resources/users-db/dev/claim.yaml" >"$TMP/wrong-claim/claim.yaml" 2>>"$TMP/err"; then
	fail catalog/wrong-claim-fails "$(cat "$TMP/err")"
elif out=$("$PY" tests/tools/validate_tree.py --quiet "$TMP/wrong-claim" 2>&1); then
	fail catalog/wrong-claim-fails "validated: $out"
elif grep -q "minAcu: 'lots' is not of type 'number'" <<<"$out" && grep -q "serverles" <<<"$out"; then
	ok catalog/wrong-claim-fails
else
	fail catalog/wrong-claim-fails "$out"
fi
# a kind added at run time through `platform.catalog` renders and validates
out=""
if render_to tests/catalog/extra/platform.yaml "$TMP/extra" &&
	grep -q 'kind: WorkQueue' "$TMP/extra/resources/jobs/dev/claim.yaml" &&
	grep -q 'timeout: 300' "$TMP/extra/resources/jobs/production/claim.yaml" &&
	grep -q 'kind: OrgSecret' "$TMP/extra/resources/api-key/dev/claim.yaml" &&
	validate out "$TMP/extra"; then
	ok "catalog/run-time-kind ($(tail -1 <<<"$out"))"
else
	fail catalog/run-time-kind "$RENDER_ERR${out:-}"
fi
# what is composed: DynamoDB indexes, SNS subscriptions and queue policies, dead-letter
# queues, and every composed managed resource against the provider schemas, both targets
# (tests/catalog/compose.py: one line per check, exit status the failures)
relay -n 30 catalog/compose "$PY" tests/catalog/compose.py "$PLATFORMC" "$TMP/compose"
# mutated built-in kind files (random values, dropped and added keys) never crash the kind
# loader, which trusts what the kind schema accepted (tests/catalog/mutate_kinds.py)
relay -n 2 catalog/kind-mutations "$PY" tests/catalog/mutate_kinds.py "$PLATFORMC" "$TMP/mutate"
# no kind: Secret anywhere, and every service's connection secret has an ExternalSecret in its namespace
if [ $company -ne 0 ]; then
	fail catalog/every-mounted-secret-delivered "examples/company does not render: $company_err"
elif out=$("$PY" - "$company_tree" <<'PY' 2>&1
import sys, os, glob, yaml
root = sys.argv[1]
secrets = set()
for f in glob.glob(root + "/resources/**/externalsecret.yaml", recursive=True):
    d = yaml.safe_load(open(f))
    secrets.add((d["metadata"]["namespace"], d["spec"]["target"]["name"]))
missing = []
mounted = 0
for f in glob.glob(root + "/services/*/*/kustomization.yaml"):
    if f.endswith("/base/kustomization.yaml"):
        continue
    k = yaml.safe_load(open(f))
    base = os.path.join(os.path.dirname(f), "..", "base", "deployment.yaml")
    if not os.path.exists(base):  # a canary's workload is a Rollout
        base = os.path.join(os.path.dirname(f), "..", "base", "rollout.yaml")
    dep = yaml.safe_load(open(base))
    for v in dep["spec"]["template"]["spec"].get("volumes", []):
        if "secret" in v:
            mounted += 1
            if (k["namespace"], v["secret"]["secretName"]) not in secrets:
                missing.append("%s: %s" % (k["namespace"], v["secret"]["secretName"]))
if missing:
    print("\n".join(sorted(missing))); sys.exit(1)
if not secrets or not mounted:
    print("%d ExternalSecrets, %d mounted secrets: nothing to check" % (len(secrets), mounted)); sys.exit(1)
print(len(secrets), "ExternalSecrets")
PY
); then ok "catalog/every-mounted-secret-delivered ($out)"; else fail catalog/every-mounted-secret-delivered "$out"; fi

finish
