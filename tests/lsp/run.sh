#!/usr/bin/env bash
# tests/lsp/run.sh — `platformc lsp` driven through scripted sessions by
# vscode-languageserver-protocol (pinned by package-lock.json; `npm ci` when
# node_modules is missing) on a scratch copy of examples/company: diagnostics
# (the same as `check`, unsaved buffers, related locations in other files,
# syntax errors), definition, references, completion, hover, rename, shutdown.
# Prints "ok   lsp/CASE" / "FAIL lsp/CASE" and "N passed, N failed".
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PLATFORMC:-$root/build/platformc}
case $bin in /*) ;; */*) bin=$PWD/$bin ;; esac
here=$root/tests/lsp
expected=25
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -d "$here/node_modules" ]; then
	if ! (cd "$here" && npm ci --no-audit --no-fund >"$tmp/npm.log" 2>&1); then
		echo "FAIL lsp/npm-ci"
		tail -20 "$tmp/npm.log" | sed 's/^/     /'
		echo "0 passed, 1 failed"
		exit 1
	fi
fi
cp -r "$root/examples/company" "$tmp/company"
timeout 120 node "$here/session.js" "$bin" "$tmp/company" >"$tmp/out" 2>&1
rc=$?
grep -v '^[0-9]* passed, [0-9]* failed$' "$tmp/out"
passed=$(grep -c '^ok   ' "$tmp/out")
failed=$(grep -c '^FAIL ' "$tmp/out")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "FAIL lsp/session-exit"
	echo "     node exited $rc"
	failed=$((failed + 1))
fi
if [ $((passed + failed)) -lt $expected ]; then
	echo "FAIL lsp/case-count"
	echo "     ran $((passed + failed)) cases, expected $expected"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
