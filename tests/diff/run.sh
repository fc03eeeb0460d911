#!/usr/bin/env bash
# tests/diff/run.sh [--update] [CASE...] — golden tests of `platformc diff`.
# Each case copies examples/company and its committed render (out/company)
# into a scratch directory, runs the case's edit.sh there, and compares
# `platformc diff -o out` (text and markdown) with expected.txt / expected.md.
# Prints "ok   diff/CASE" or "FAIL diff/CASE" per case, then "N passed, N failed";
# exit 1 on a failure. Cases: an edit must show what a reviewer needs (a patch
# never taken for its base; destructive changes in a section of their own).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PLATFORMC:-$root/build/platformc}
case $bin in /*) ;; */*) bin=$PWD/$bin ;; esac
update=0
[ "${1:-}" = --update ] && { update=1; shift; }
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=($(cd "$root/tests/diff" && ls -d */ | tr -d /))
fail=0 passed=0 failed=0
for c in "${cases[@]}"; do
	d=$root/tests/diff/$c
	tmp=$(mktemp -d)
	cp -r "$root/examples/company/." "$tmp/"
	cp -r "$root/out/company" "$tmp/out"
	ok=1
	(cd "$tmp" && bash "$d/edit.sh") || ok=0
	(cd "$tmp" && "$bin" diff -o out >"$tmp/got.txt" 2>&1; echo "exit: $?" >>"$tmp/got.txt")
	(cd "$tmp" && "$bin" diff -o out --format markdown >"$tmp/got.md" 2>&1; echo "exit: $?" >>"$tmp/got.md")
	if [ $update = 1 ]; then
		cp "$tmp/got.txt" "$d/expected.txt"
		cp "$tmp/got.md" "$d/expected.md"
	fi
	cmp -s "$tmp/got.txt" "$d/expected.txt" || { ok=0; diff -u "$d/expected.txt" "$tmp/got.txt" | head -20; }
	cmp -s "$tmp/got.md" "$d/expected.md" || { ok=0; diff -u "$d/expected.md" "$tmp/got.md" | head -20; }
	if [ $ok = 1 ]; then
		echo "ok   diff/$c"; passed=$((passed + 1))
	else
		echo "FAIL diff/$c"; fail=1; failed=$((failed + 1))
	fi
	rm -rf "$tmp"
done
# every case directory ran (a whole run, not a chosen few)
if [ $# -eq 0 ] && [ $((passed + failed)) -lt 10 ]; then
	echo "FAIL diff/case-count"
	echo "     ran $((passed + failed)) cases, expected at least 10"
	fail=1 failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
exit $fail
