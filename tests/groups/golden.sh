#!/usr/bin/env bash
# ---- golden trees: examples/<ex> renders to exactly out/<ex> -----------------
# The render goes to the run's shared folder (render_example), where the
# kustomize, validate, backstage, kyverno, monitoring and catalog groups read
# it: they check what this binary renders, which is out/ when this group passes.
. "$(dirname "$0")/../lib.sh"

for ex in $EXAMPLES; do
	render_example "$ex" || { fail "golden/$ex-renders" "$RENDER_ERR"; continue; }
	if d=$(diff -ru --exclude=.platformc-manifest "out/$ex" "$RENDERED" 2>&1); then ok "golden/$ex"; else fail "golden/$ex" "$d"; fi
	"$PLATFORMC" render "examples/$ex/platform.yaml" -o "out/$ex" --check >"$TMP/c" 2>&1
	[ $? -eq 0 ] && ok "golden/$ex-render-check" || fail "golden/$ex-render-check" "$(cat "$TMP/c")"
done

finish
