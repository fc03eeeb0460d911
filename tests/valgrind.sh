#!/usr/bin/env bash
# tests/valgrind.sh — memcheck over the verbs on the examples and every error
# case: no invalid read or write, no use of uninitialised memory, nothing
# definitely or indirectly lost. `make valgrind` runs it (minutes; the asan
# group of `make test` covers the same ground faster, valgrind also sees
# uninitialised reads). Prints "ok"/"FAIL" per run and "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BIN=${PLATFORMC:-build/platformc}
SUPP=$PWD/tests/valgrind.supp
command -v valgrind >/dev/null || { echo "valgrind is missing: sudo apt-get install -y valgrind"; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0
vg() { # name, args...
	local name=$1; shift
	valgrind --quiet --suppressions="$SUPP" --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --track-origins=yes "$BIN" "$@" >/dev/null 2>"$TMP/vg" </dev/null
	if [ $? -eq 99 ] || grep -q '^==[0-9]*== ' "$TMP/vg"; then
		echo "FAIL valgrind/$name"; grep '^==' "$TMP/vg" | head -30 | sed 's/^/     /'
		[ -z "${IN_SUBSHELL:-}" ] && failed=$((failed + 1))
		return 1
	fi
	echo "ok   valgrind/$name"
	[ -z "${IN_SUBSHELL:-}" ] && passed=$((passed + 1))
	return 0
}
for ex in examples/*/platform.yaml; do
	n=$(basename "$(dirname "$ex")")
	vg "$n/check" check "$ex"
	vg "$n/render" render "$ex" -o "$TMP/out-$n"
	vg "$n/render-noop" render "$ex" -o "$TMP/out-$n"
	vg "$n/render-check" render "$ex" -o "$TMP/out-$n" --check
	vg "$n/diff" diff "$ex" -o "out/$n"
	vg "$n/cost" cost "$ex" --format json
	vg "$n/graph" graph "$ex" --format mermaid
done
vg schema schema
vg explain explain E0201
ABS=$(realpath "$BIN")
for dir in tests/errors/*/; do
	c=$(basename "$dir")
	args="check input.yaml"
	[ -f "$dir/args" ] && args=$(cat "$dir/args")
	rm -rf "$TMP/case"; cp -r "$dir" "$TMP/case"
	[ -f "$dir/setup" ] && (cd "$TMP/case" && sh ./setup)
	# shellcheck disable=SC2086
	(cd "$TMP/case" && BIN=$ABS IN_SUBSHELL=1 vg "errors/$c" $args)
	[ $? -eq 0 ] && passed=$((passed + 1)) || failed=$((failed + 1))
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
