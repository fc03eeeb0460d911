#!/usr/bin/env bash
# ---- graph: dot and mermaid; the pictures in docs/ are current ---------------
# (graph/<ex>-svg-committed and graph/graphviz-accepts-dot read docs/ only)
. "$(dirname "$0")/../lib.sh"

for ex in $EXAMPLES; do
	for f in dot mmd; do
		fmt=$([ $f = dot ] && echo dot || echo mermaid)
		"$PLATFORMC" graph "examples/$ex/platform.yaml" --format $fmt >"$TMP/g.$f" 2>&1
		cmp -s "$TMP/g.$f" "docs/examples-$ex.$f" && ok "graph/$ex-$f-current" || \
			fail "graph/$ex-$f-current" "$(diff "docs/examples-$ex.$f" "$TMP/g.$f" | head; echo '(regenerate: make graphs)')"
	done
	[ -s "docs/examples-$ex.svg" ] && ok "graph/$ex-svg-committed" || fail "graph/$ex-svg-committed" "run make graphs with Graphviz installed"
done
g=$("$PLATFORMC" graph examples/company/platform.yaml)
for e in 'team_growth -> service_recommendation_service \[label="owner"\]' \
	'service_graphql_gateway -> service_user_service \[label="calls"\]' \
	'service_user_service -> resource_users_db \[label="uses"\]' \
	'resource_users_db -> team_data \[label="shared_with", style=dashed\]' \
	'system_identity -> service_user_service \[label="part of", style=dashed\]'; do
	grep -q "$e" <<<"$g" && ok "graph/edge-${e%% *}" || fail "graph/edge-${e%% *}" "missing: $e"
done
# Graphviz, when installed (as root from Debian if missing), accepts the dot output
if ! command -v dot >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	apt-get install -y -qq --no-install-recommends graphviz >/dev/null 2>&1 || true
fi
if command -v dot >/dev/null 2>&1; then
	dot -Tsvg docs/examples-company.dot >"$TMP/g.svg" 2>"$TMP/g.err" && [ ! -s "$TMP/g.err" ] && \
		ok graph/graphviz-accepts-dot || fail graph/graphviz-accepts-dot "$(cat "$TMP/g.err")"
else
	skip graph/graphviz-accepts-dot "graphviz not installed"
fi
"$PLATFORMC" graph examples/minimal/platform.yaml --format png >/dev/null 2>&1
[ $? -eq 2 ] && ok graph/unknown-format-exit-2 || fail graph/unknown-format-exit-2
a=$("$PLATFORMC" graph examples/company/platform.yaml --format mermaid 2>&1)
b=$("$PLATFORMC" graph examples/company/platform.yaml --format mermaid 2>&1)
[ -n "$a" ] && [ "$a" = "$b" ] && ok graph/deterministic || fail graph/deterministic "$(diff <(echo "$a") <(echo "$b") | head; [ -n "$a" ] || echo 'no output')"

finish
