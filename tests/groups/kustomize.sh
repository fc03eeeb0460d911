#!/usr/bin/env bash
# ---- real consumers: kustomize and the upstream JSON Schemas -----------------
# Every environment's entry point and every service overlay of the render of
# each example (by this binary: out/<ex> when the golden group passes) builds
# with the real kustomize; what `clusters/<env>` builds is then validated
# object by object against the upstream schemas (the contract of guide §7).
# The built objects are kept beside the render for the kyverno group.
. "$(dirname "$0")/../lib.sh"

for ex in $EXAMPLES; do
	render_example "$ex" || { fail "kustomize/$ex-renders" "$RENDER_ERR"; continue; }
	built=$RENDERED.built
	rm -rf "$built"; mkdir -p "$built"
	n=0
	for env in "$RENDERED"/clusters/*/; do
		[ -d "$env" ] || continue
		e=$(basename "$env")
		n=$((n + 1))
		name=kustomize/$ex/clusters/$e
		# renamed in whole: the kyverno group may read it while this group runs
		if out=$(kubectl kustomize "$env" 2>&1 >"$built/$e.yaml.part") && mv "$built/$e.yaml.part" "$built/$e.yaml"; then
			ok "$name ($(grep -c '^kind: ' "$built/$e.yaml") objects)"
		else
			rm -f "$built/$e.yaml.part"
			fail "$name" "$out"
		fi
	done
	[ $n -gt 0 ] || fail "kustomize/$ex/clusters" "no clusters/<env> folder in the render"
	bad=""
	n=0
	for dir in "$RENDERED"/services/*/*/ "$RENDERED"/argocd/*/; do
		[ -d "$dir" ] || continue
		n=$((n + 1))
		kubectl kustomize "$dir" >/dev/null 2>"$TMP/kerr" || bad="$bad${dir#"$RENDERED/"}: $(cat "$TMP/kerr")
"
	done
	[ $n -gt 0 ] || bad="no service overlay or app-of-apps folder in the render"
	[ -z "$bad" ] && ok "kustomize/$ex/every-overlay-and-app-of-apps ($n folders)" || fail "kustomize/$ex/every-overlay-and-app-of-apps" "$bad"
	if validate out "$built"; then
		ok "kustomize/$ex/built-objects-validate ($(tail -1 <<<"$out"))"
	else
		fail "kustomize/$ex/built-objects-validate" "$out"
	fi
done

finish
