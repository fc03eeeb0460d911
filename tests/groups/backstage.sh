#!/usr/bin/env bash
# ---- Backstage: the catalog as Backstage applies it ---------------------------
# tests/backstage/check.js with @backstage/catalog-model (pinned by its lock
# file): every entity through the entity policies and its kind's validator,
# relation integrity, the root Location; every template's skeleton filled
# with its form's defaults passes `platformc check` in a copy of the example.
. "$(dirname "$0")/../lib.sh"

bsdir=tests/backstage
if [ ! -d "$bsdir/node_modules" ]; then
	(cd "$bsdir" && npm ci --no-audit --no-fund >"$TMP/npm.log" 2>&1) ||
		fail backstage/npm-ci "$(tail -20 "$TMP/npm.log")"
fi
if [ -d "$bsdir/node_modules" ]; then
	for ex in $EXAMPLES; do
		render_example "$ex" || { fail "backstage/$ex-renders" "$RENDER_ERR"; continue; }
		if out=$(node "$bsdir/check.js" catalog "$RENDERED/catalog" 2>&1); then
			ok "backstage/$ex/catalog ($(tail -1 <<<"$out"))"
		else
			fail "backstage/$ex/catalog" "$out"
		fi
		if out=$(node "$bsdir/check.js" skeletons "$RENDERED/catalog" "examples/$ex" "$TMP/bs-work-$ex" 2>&1); then
			ok "backstage/$ex/templates ($(tail -1 <<<"$out"))"
		else
			fail "backstage/$ex/templates" "$out"
		fi
	done
	# a kind added through `platform.catalog` gets its template like a
	# built-in one, and a replaced built-in kind's template is the new
	# kind's (tests/catalog/extra: work-queue, and secret with a required
	# owner_email): every template's default output passes platformc check
	if ! render_to tests/catalog/extra/platform.yaml "$TMP/bs-extra"; then
		fail backstage/run-time-kind "$RENDER_ERR"
	elif [ ! -f "$TMP/bs-extra/catalog/templates/new-work-queue/template.yaml" ]; then
		fail backstage/run-time-kind "no template new-work-queue"
	elif ! out=$(node "$bsdir/check.js" catalog "$TMP/bs-extra/catalog" 2>&1); then
		fail backstage/run-time-kind "$out"
	elif ! out=$(node "$bsdir/check.js" skeletons "$TMP/bs-extra/catalog" tests/catalog/extra "$TMP/bs-work-extra" 2>&1); then
		fail backstage/run-time-kind "$out"
	else
		ok "backstage/run-time-kind ($(tail -1 <<<"$out"))"
	fi
	# templates add their file under the first include glob that reads it
	inc_case() { # name, include list, expected skeleton folder ("" = no templates)
		rm -rf "$TMP/inc"; cp -r examples/company "$TMP/inc"
		sed -i "s|^include: .*|include: $2|" "$TMP/inc/platform.yaml"
		render_to "$TMP/inc/platform.yaml" "$TMP/inc/out" || { fail "backstage/include/$1" "$RENDER_ERR"; return; }
		got=$(cd "$TMP/inc/out/catalog" 2>/dev/null && ls -d templates/new-sqs/skeleton/*/ 2>/dev/null | cut -d/ -f4-)
		[ "$got" = "$3" ] && ok "backstage/include/$1" || fail "backstage/include/$1" "skeleton folder \`$got\`, expected \`$3\`"
	}
	inc_case first-glob '[platform.d/*.yaml, teams/*.yaml]' platform.d/
	inc_case second-glob-when-first-names-a-file '[platform.d/shared.yaml, teams/*.yaml]' teams/
	inc_case none-when-no-glob-reads-every-name '[platform.d/shared.yaml, "teams/?*[a-z].yaml"]' ''
	out=$(node "$bsdir/check.js" names 2>&1) && ok "backstage/names ($(tail -1 <<<"$out"))" || fail backstage/names "$out"
	# each broken entity, added to a good catalog, is rejected for its own sake
	ex=$(echo "$EXAMPLES" | head -1)
	render_example "$ex"; good=$?
	for f in "$bsdir"/bad/*.yaml; do
		if [ $good -ne 0 ]; then fail "backstage/bad/$(basename "$f")" "no good catalog to add it to: $RENDER_ERR"; continue; fi
		out=$(node "$bsdir/check.js" catalog "$RENDERED/catalog" "$f" 2>&1); rc=$?
		if [ $rc -eq 1 ] && grep -q "^FAIL .*$(basename "$f")#" <<<"$out"; then
			ok "backstage/bad/$(basename "$f")"
		else
			fail "backstage/bad/$(basename "$f")" "expected exit 1 and a FAIL line for the file; got $rc:
$out"
		fi
	done
fi

finish
