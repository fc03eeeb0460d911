#!/usr/bin/env bash
# ---- monitoring: rules pass promtool, SLO alerts fire when they must -------
# promtool comes from Debian's `prometheus` package (installed when missing
# and running as root; nothing is started). tests/tools/check_monitoring.py
# says what each check proves; tests/monitoring/ holds inputs that exercise
# the settings the examples leave at their defaults.
. "$(dirname "$0")/../lib.sh"

if ! command -v promtool >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1; }
fi
if ! command -v promtool >/dev/null 2>&1; then
	fail monitoring/promtool "promtool is missing; run: sudo apt-get install -y --no-install-recommends prometheus"
else
	mon_inputs=""
	for ex in $EXAMPLES; do
		render_example "$ex" || { fail "monitoring/$ex-renders" "$RENDER_ERR"; continue; }
		mon_inputs="$mon_inputs examples/$ex/platform.yaml:$RENDERED"
	done
	for dir in tests/monitoring/*/; do
		name=$(basename "$dir")
		render_to "$dir/platform.yaml" "$TMP/mon-$name" || { fail "monitoring/$name-renders" "$RENDER_ERR"; continue; }
		mon_inputs="$mon_inputs $dir/platform.yaml:$TMP/mon-$name"
		# (the examples' trees are validated by the validate group)
		if validate out "$TMP/mon-$name/monitoring" "$TMP/mon-$name/platform/monitoring"; then
			ok "monitoring/$name/validate ($(tail -1 <<<"$out"))"
		else
			fail "monitoring/$name/validate" "$out"
		fi
		if [ -x "$dir/expect.sh" ]; then
			if out=$(cd "$TMP/mon-$name" && bash "$ROOT/$dir/expect.sh" 2>&1); then ok "monitoring/$name/expect"; else fail "monitoring/$name/expect" "$out"; fi
		fi
	done
	# tests/tools/check_monitoring.py: "ok CHECK (...)" / "FAIL CHECK" and its
	# details for each of its five checks
	for pair in $mon_inputs; do
		input=${pair%%:*} tree=${pair#*:}
		label=$(basename "$(dirname "$input")")
		relay -n 5 -p "monitoring/$label/" "monitoring/$label" "$PY" tests/tools/check_monitoring.py "$input" "$tree" "$TMP/mon-work-$label"
		# the promtool suites the render ships (tests/promtool/) cover every alert, pass, and have teeth
		relay -n 3 -p "monitoring/$label/" "monitoring/$label/promtool-suites" "$PY" tests/monitoring/promtool_suites.py "$tree"
	done
fi

finish
