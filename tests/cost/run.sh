#!/usr/bin/env bash
# tests/cost/run.sh — region-true cost, the budget gate and Kubernetes compute:
#   * W0340 names the region and the price list when platform.cloud.region is not
#     the cost models' region, and is absent when it is, or when the model has that
#     region's prices (`cost.regions`), which are then the ones used;
#   * `cost --fail-over-budget` exits 1 when a team is over its budget, 0 when not,
#     and without the flag an over-budget team is only a warning (exit 0);
#   * compute: each team's pods (requests × min replicas) priced as shares of the
#     on-demand node of platform.cloud.nodes, recomputed here from platform.yaml
#     (tests/cost/compute.py) for the defaults and for a node given in the file.
# Usage: PLATFORMC=build/platformc bash tests/cost/run.sh
set -u
cd "$(dirname "$0")/../.."
PLATFORMC=${PLATFORMC:-build/platformc}
case $PLATFORMC in /*) ;; *) PLATFORMC=$PWD/$PLATFORMC ;; esac
EXPECTED=9
PY=${PYTHON:-python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { echo "ok   cost/$1"; pass=$((pass + 1)); }
bad() { echo "FAIL cost/$1"; shift; printf '%s\n' "$@" | sed 's/^/     /'; fail=$((fail + 1)); }

"$PLATFORMC" cost examples/company/platform.yaml >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 0 ] && grep -q 'warning\[W0340\]: the estimates use us-east-1 list prices (2025-06-01), not eu-west-1 ones' "$TMP/err" &&
	grep -q 'team total' "$TMP/out"; then ok region-warning-names-region-and-prices; else bad region-warning-names-region-and-prices "exit $rc" "$(cat "$TMP/err")"; fi
"$PLATFORMC" cost tests/catalog/params/platform.yaml >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 0 ] && [ ! -s "$TMP/err" ] && grep -q 'team total' "$TMP/out"; then ok no-warning-in-the-prices-region; else bad no-warning-in-the-prices-region "exit $rc" "$(cat "$TMP/err")"; fi

# a kind with its own prices for the platform's region (cost.regions): used, and no W0340 for it
# (fixture figures, not AWS prices: a redis kind whose eu-west-1 table prices cache.t4g.small
# at 0.1 an hour and its AUTH secret at 0.5 a month)
cp -r tests/catalog/params "$TMP/region"
mkdir -p "$TMP/region/kinds/redis"
cp catalog/redis/kind.yaml "$TMP/region/kinds/redis/"
printf '  regions:\n    eu-west-1:\n      source: fixture prices\n      date: "2026-01-01"\n      tables:\n        hourly: {cache.t4g.small: 0.1}\n        monthly: {secret: 0.5}\n' >>"$TMP/region/kinds/redis/kind.yaml"
sed -i 's/region: us-east-1/region: eu-west-1/; s|^  gitops:|  catalog: [./kinds]\n  gitops:|' "$TMP/region/platform.yaml"
"$PLATFORMC" cost "$TMP/region/platform.yaml" >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 0 ] && grep -q 'W0340' "$TMP/err" && ! grep -q '`redis`' "$TMP/err" &&
	grep -Eq '^  cache-single +redis +73\.50 +146\.50 +220\.00$' "$TMP/out" &&
	grep -q '^  redis: fixture prices (2026-01-01)$' "$TMP/out"; then
	ok region-prices-used-without-warning
else
	bad region-prices-used-without-warning "exit $rc" "$(cat "$TMP/err")" "$(grep -E 'cache-single|redis:' "$TMP/out")"
fi

# over budget: a copy of the company with a small budget for backend
cp -r examples/company "$TMP/over"
sed -i 's/budget: 4000/budget: 100/' "$TMP/over/platform.yaml"
"$PLATFORMC" cost "$TMP/over/platform.yaml" --fail-over-budget >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 1 ] && grep -q "W0310.*team \`backend\`" "$TMP/err" && grep -q 'team total' "$TMP/out"; then ok fail-over-budget-exits-1; else bad fail-over-budget-exits-1 "exit $rc" "$(cat "$TMP/err")"; fi
"$PLATFORMC" cost "$TMP/over/platform.yaml" >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 0 ] && grep -q "W0310" "$TMP/err" && grep -q 'team total' "$TMP/out"; then ok over-budget-without-flag-exits-0; else bad over-budget-without-flag-exits-0 "exit $rc"; fi
"$PLATFORMC" cost examples/company/platform.yaml --fail-over-budget --format json >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 0 ] && grep -q '"over_budget": false' "$TMP/out"; then ok within-budget-with-flag-exits-0; else bad within-budget-with-flag-exits-0 "exit $rc"; fi
# compute counted in the budget: a budget between resources and resources+compute fails
cp -r examples/company "$TMP/compute"
sed -i 's/budget: 1200/budget: 200/' "$TMP/compute/platform.yaml"   # growth: 193.84 resources + 50.63 compute
"$PLATFORMC" cost "$TMP/compute/platform.yaml" --fail-over-budget >"$TMP/out" 2>"$TMP/err"; rc=$?
if [ $rc -eq 1 ] && grep -q "team \`growth\` is estimated at \$244.47" "$TMP/err"; then ok compute-counts-in-the-budget; else bad compute-counts-in-the-budget "exit $rc" "$(head -12 "$TMP/err")"; fi

# compute figures recomputed from platform.yaml
for variant in defaults given; do
	cp -r examples/company "$TMP/c-$variant"
	if [ $variant = given ]; then
		sed -i 's/^  cloud:$/  cloud:\n    nodes: {instance_type: m7i.2xlarge, vcpu: 8, memory: 32Gi, hourly: 0.4032}/' "$TMP/c-$variant/platform.yaml"
	fi
	if out=$("$PLATFORMC" cost "$TMP/c-$variant/platform.yaml" --format json 2>/dev/null) &&
		d=$("$PY" tests/cost/compute.py "$TMP/c-$variant/platform.yaml" <<<"$out" 2>&1); then
		ok "compute-equals-requests-times-replicas-$variant ($d)"
	else
		bad "compute-equals-requests-times-replicas-$variant" "${d:-no output}"
	fi
done
if [ $((pass + fail)) -lt $EXPECTED ]; then
	echo "FAIL cost/case-count: ran $((pass + fail)) cases, expected $EXPECTED"
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
