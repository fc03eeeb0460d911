#!/usr/bin/env bash
# tests/valgrind.sh — memcheck over the verbs on the examples and every error
# case: no invalid read or write, no use of uninitialised memory, nothing
# definitely or indirectly lost. `make valgrind` runs it (minutes; the asan
# group of `make test` covers the same ground faster, valgrind also sees
# uninitialised reads). Prints "ok"/"FAIL" per run and "N passed, N failed".
# Each run must also give its expected exit code (0 for the examples, the
# case's `exit: N` for the error cases), and a render must write a tree.
set -u
cd "$(dirname "$0")/.."
BIN=${PLATFORMC:-build/platformc}
# the tests' "today" (tests/lib.sh): the error cases about expiry dates
# give their expected exit codes on that day only
SOURCE_DATE_EPOCH=$(sed -n 's/^export SOURCE_DATE_EPOCH=\([0-9]*\).*/\1/p' tests/lib.sh)
export SOURCE_DATE_EPOCH
SUPP=$PWD/tests/valgrind.supp
command -v valgrind >/dev/null || { echo "valgrind is missing: sudo apt-get install -y valgrind"; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0
vg() { # name, expected exit code, args...
	local name=$1 want=$2; shift 2
	valgrind --quiet --suppressions="$SUPP" --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --track-origins=yes "$BIN" "$@" >/dev/null 2>"$TMP/vg" </dev/null
	local rc=$?
	if [ $rc -eq 99 ] || grep -q '^==[0-9]*== ' "$TMP/vg"; then
		echo "FAIL valgrind/$name"; grep '^==' "$TMP/vg" | head -30 | sed 's/^/     /'
		[ -z "${IN_SUBSHELL:-}" ] && failed=$((failed + 1))
		return 1
	fi
	if [ $rc -ne "$want" ]; then
		echo "FAIL valgrind/$name (exit $rc, expected $want)"; head -5 "$TMP/vg" | sed 's/^/     /'
		[ -z "${IN_SUBSHELL:-}" ] && failed=$((failed + 1))
		return 1
	fi
	echo "ok   valgrind/$name"
	[ -z "${IN_SUBSHELL:-}" ] && passed=$((passed + 1))
	return 0
}
for ex in examples/*/platform.yaml; do
	n=$(basename "$(dirname "$ex")")
	vg "$n/check" 0 check "$ex"
	if vg "$n/render" 0 render "$ex" -o "$TMP/out-$n" && [ ! -f "$TMP/out-$n/README.md" ]; then
		echo "FAIL valgrind/$n/render-wrote-a-tree (exit 0 but no README.md)"; failed=$((failed + 1))
	fi
	vg "$n/render-noop" 0 render "$ex" -o "$TMP/out-$n"
	vg "$n/render-check" 0 render "$ex" -o "$TMP/out-$n" --check
	vg "$n/diff" 0 diff "$ex" -o "out/$n"
	vg "$n/cost" 0 cost "$ex" --format json
	vg "$n/graph" 0 graph "$ex" --format mermaid
done
vg schema 0 schema
vg explain 0 explain E0201
# the watcher, stopped by SIGTERM (exit 0) after renders that change a file and none
valgrind --quiet --suppressions="$SUPP" --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --track-origins=yes "$BIN" watch -o "$TMP/out-minimal" >/dev/null 2>"$TMP/vg-watch" </dev/null &
wpid=$!
for _ in $(seq 300); do [ -S "$TMP/.out-minimal.platformc-watch" ] && break; sleep 0.1; done
rm -f "$TMP/out-minimal/README.md"
vg minimal/render-watched 0 render examples/minimal/platform.yaml -o "$TMP/out-minimal"
vg minimal/render-watched-noop 0 render examples/minimal/platform.yaml -o "$TMP/out-minimal"
kill -TERM "$wpid"
wait "$wpid"
rc=$?
if [ $rc -ne 0 ] || grep -q '^==[0-9]*== ' "$TMP/vg-watch"; then
	echo "FAIL valgrind/minimal/watch (exit $rc)"; grep '^==' "$TMP/vg-watch" | head -30 | sed 's/^/     /'
	failed=$((failed + 1))
else
	echo "ok   valgrind/minimal/watch"; passed=$((passed + 1))
fi
ABS=$(realpath "$BIN")
for dir in tests/errors/*/; do
	c=$(basename "$dir")
	args="check input.yaml"
	[ -f "$dir/args" ] && args=$(cat "$dir/args")
	rm -rf "$TMP/case"; cp -r "$dir" "$TMP/case"
	[ -f "$dir/setup" ] && (cd "$TMP/case" && sh ./setup)
	want=$(tail -1 "$dir/expected" | sed -n 's/^exit: //p')
	# shellcheck disable=SC2086
	(cd "$TMP/case" && BIN=$ABS IN_SUBSHELL=1 vg "errors/$c" "${want:-0}" $args)
	[ $? -eq 0 ] && passed=$((passed + 1)) || failed=$((failed + 1))
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
