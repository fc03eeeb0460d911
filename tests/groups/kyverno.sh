#!/usr/bin/env bash
# ---- Kyverno: the policy library against the workloads platformc renders -----
# Each policy of stdlib/policies.yaml has a Python check (tests/tools/
# policy_check.py) that must reject a deliberately bad object; the built
# clusters/<env> objects must pass every enabled policy except where an
# exception says otherwise; the policies validate in both targets.
. "$(dirname "$0")/../lib.sh"

if out=$("$PY" tests/tools/policy_check.py --self-test 2>&1); then
	ok "kyverno/every-policy-has-a-check-that-can-fail ($(tail -1 <<<"$out"))"
else
	fail kyverno/every-policy-has-a-check-that-can-fail "$(grep -v '^ok' <<<"$out")"
fi
if diff -u docs/policies.md <("$PY" tests/tools/gen_policies_md.py) >"$TMP/p" 2>&1; then
	ok kyverno/docs-policies-md-current
else
	fail kyverno/docs-policies-md-current "$(head -20 "$TMP/p"; echo '(regenerate: "$PY" tests/tools/gen_policies_md.py > docs/policies.md)')"
fi
for ex in $EXAMPLES; do
	render_example "$ex" || { fail "kyverno/$ex-renders" "$RENDER_ERR"; continue; }
	# the kustomize group's builds of clusters/<env> when it ran, else built here
	built=() berr=""
	for env in "$RENDERED"/clusters/*/; do
		[ -d "$env" ] || continue
		e=$(basename "$env")
		f=$TMP/kyverno-built-$ex-$e.yaml
		if [ -s "$RENDERED.built/$e.yaml" ]; then cp "$RENDERED.built/$e.yaml" "$f"
		elif ! kubectl kustomize "$env" >"$f" 2>"$TMP/kerr" || [ ! -s "$f" ]; then berr+="clusters/$e: $(cat "$TMP/kerr")"$'\n'; fi
		built+=("$f")
	done
	[ ${#built[@]} -gt 0 ] || berr="no clusters/<env> folder in the render"
	if [ -n "$berr" ]; then
		fail "kyverno/$ex/rendered-workloads-satisfy-policies" "kubectl kustomize: $berr"
	elif out=$("$PY" tests/tools/policy_check.py --platform "examples/$ex/platform.yaml" "${built[@]}" 2>&1); then
		ok "kyverno/$ex/rendered-workloads-satisfy-policies ($(tail -1 <<<"$out"))"
	else
		fail "kyverno/$ex/rendered-workloads-satisfy-policies" "$out"
	fi
	out=""
	if [ -d "$RENDERED/platform/kyverno" ] &&
		out=$("$PY" tests/tools/policy_check.py --platform "examples/$ex/platform.yaml" --rendered "$RENDERED/platform/kyverno" 2>&1); then
		ok "kyverno/$ex/validating-policy-library-rendered ($(tail -1 <<<"$out"))"
	else
		fail "kyverno/$ex/validating-policy-library-rendered" "${out:-no platform/kyverno folder in the render}"
	fi
	if validate out "$RENDERED/platform/kyverno"; then
		ok "kyverno/$ex/validating-policy-validates ($(tail -1 <<<"$out"))"
	else
		fail "kyverno/$ex/validating-policy-validates" "$out"
	fi
	# the same platform with targets.kyverno: cluster-policy
	cp -r "examples/$ex" "$TMP/cp-$ex"
	"$PY" tests/admission/set_target.py "$TMP/cp-$ex/platform.yaml"
	sed -i -E 's/^(\s+action:\s*)Enforce/\1Audit/' "$TMP/cp-$ex/platform.yaml"   # and the other action
	if ! render_to "$TMP/cp-$ex/platform.yaml" "$TMP/cp-out-$ex"; then
		fail "kyverno/$ex/cluster-policy-renders" "$RENDER_ERR"
		continue
	fi
	out2=""
	if [ -d "$TMP/cp-out-$ex/platform/kyverno" ] &&
		out=$("$PY" tests/tools/policy_check.py --platform "$TMP/cp-$ex/platform.yaml" --rendered "$TMP/cp-out-$ex/platform/kyverno" 2>&1) &&
		validate out2 "$TMP/cp-out-$ex/platform/kyverno"; then
		ok "kyverno/$ex/cluster-policy-library-rendered-and-validates ($(tail -1 <<<"$out"); $(tail -1 <<<"$out2"))"
	else
		fail "kyverno/$ex/cluster-policy-library-rendered-and-validates" "$out
${out2:-}"
	fi
done

finish
