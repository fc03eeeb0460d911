#!/usr/bin/env bash
# tests/graph/run.sh — `platformc graph` draws every edge of the model: the
# same set as the Backstage catalog's relations (compare.py), plus shared_with.
# For each example: render into a scratch folder, draw the graph, compare.
# Prints "ok   graph-edges/CASE" / "FAIL graph-edges/CASE" and "N passed, N failed".
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PLATFORMC:-$root/build/platformc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { echo "ok   graph-edges/$1"; passed=$((passed + 1)); }
fail() {
	echo "FAIL graph-edges/$1"
	shift
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^ */     /'
	failed=$((failed + 1))
}
for ex in company minimal; do
	src=$root/examples/$ex/platform.yaml
	if ! "$bin" render "$src" -o "$tmp/$ex" >"$tmp/r" 2>&1 || [ ! -d "$tmp/$ex/catalog" ]; then
		fail "$ex-backstage-relations" "render failed: $(head -3 "$tmp/r")"
		continue
	fi
	if ! "$bin" graph "$src" >"$tmp/$ex.dot" 2>"$tmp/e" || [ ! -s "$tmp/$ex.dot" ]; then
		fail "$ex-backstage-relations" "graph failed: $(head -3 "$tmp/e")"
		continue
	fi
	name=$(sed -n "/^platform:/,/^[a-z]/s/^  name: *//p" "$src" | head -1 | awk "{print \$1}")
	if out=$(python3 "$root/tests/graph/compare.py" "$tmp/$ex.dot" "$tmp/$ex/catalog" "$name" 2>&1); then
		pass "$ex-backstage-relations"
	else
		fail "$ex-backstage-relations" "$out"
	fi
done
# the key cross-team data flow of the company example is drawn, in both formats
if "$bin" graph "$root/examples/company/platform.yaml" 2>/dev/null |
	grep -q 'resource_user_events -> resource_notifications_queue \[label="subscription"\]' &&
	"$bin" graph "$root/examples/company/platform.yaml" --format mermaid 2>/dev/null |
	grep -q 'resource_user_events -->|subscription| resource_notifications_queue'; then
	pass company-sns-sqs-subscription
else
	fail company-sns-sqs-subscription "no user-events -> notifications-queue edge"
fi
[ $((passed + failed)) -eq 3 ] || fail case-count "ran $((passed + failed)) cases, expected 3"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
