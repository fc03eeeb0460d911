#!/usr/bin/env bash
# Regenerates tests/errors/<case>/expected from the current binary.
# Review the diff before committing: the expected files ARE the spec of
# platformc's diagnostics. Usage: tests/errors/update.sh [CASE...]
set -u
cd "$(dirname "$0")"
PLATFORMC=${PLATFORMC:-$(cd ../.. && pwd)/build/platformc}
export SOURCE_DATE_EPOCH=1767225600 NO_COLOR=1
unset GITHUB_ACTIONS
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=(*/)
for c in "${cases[@]}"; do
	c=${c%/}
	args="check input.yaml"
	[ -f "$c/args" ] && args=$(cat "$c/args")
	run=$c
	if [ -f "$c/setup" ]; then
		run=$(mktemp -d)/$c
		cp -r "$c" "$run" && (cd "$run" && sh ./setup)
	fi
	# shellcheck disable=SC2086
	(cd "$run" && timeout 10 "$PLATFORMC" $args 2>&1 >/dev/null; echo "exit: $?") >"$c/expected"
	[ "$run" != "$c" ] && rm -rf "$(dirname "$run")"
done
