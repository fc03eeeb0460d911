#!/usr/bin/env bash
# tests/progress/run.sh — the status line of a long check or render: shown on
# a terminal (run under a pseudo-terminal with script(1), with
# PLATFORMC_PROGRESS_AFTER_MS=0 so it appears at once), erased before the
# summary; never on a pipe, with CI set, or with --diagnostics json/github.
# Prints "ok   progress/CASE" / "FAIL progress/CASE" and "N passed, N failed".
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${PLATFORMC:-$root/build/platformc}
case $bin in /*) ;; */*) bin=$PWD/$bin ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { echo "ok   progress/$1"; passed=$((passed + 1)); }
fail() { echo "FAIL progress/$1"; shift; [ $# -gt 0 ] && printf '%s\n' "$@" | head -5 | sed 's/^/     /'; failed=$((failed + 1)); }
if ! command -v script >/dev/null 2>&1; then
	[ "$(id -u)" = 0 ] && apt-get install -y -qq --no-install-recommends bsdutils >/dev/null 2>&1
fi
ex=$root/examples/company/platform.yaml
esc=$(printf '\033')
# pty ARGS... — runs platformc under a pseudo-terminal; the terminal's bytes in $tmp/tty
pty() {
	local cmd="PLATFORMC_PROGRESS_AFTER_MS=0 $*"
	script -qec "$cmd" /dev/null >"$tmp/tty" 2>&1 </dev/null
}
q() { printf '%q ' "$@"; }

# render on a terminal: the line appears, is redrawn in place, is erased before the summary
unset CI GITHUB_ACTIONS
pty env -u CI -u GITHUB_ACTIONS TERM=xterm "$(q "$bin")" render "$(q "$ex")" -o "$(q "$tmp/out1")"
rc=$?
if [ $rc -eq 0 ] && grep -q "${esc}\[Kplatformc: rendering .* files, .* files/s" "$tmp/tty" &&
	grep -q "${esc}\[Kplatformc: wrote " "$tmp/tty"; then
	pass render-on-terminal
else
	fail render-on-terminal "exit $rc" "$(cat -v "$tmp/tty" | head -3)"
fi
# the line is erased: after the last erase nothing but the summary
last=$(tr '\r' '\n' <"$tmp/tty" | grep -v '^$' | tail -1)
case $last in
"${esc}[Kplatformc: wrote "*) pass erased-before-summary ;;
*) fail erased-before-summary "$(printf '%s' "$last" | cat -v)" ;;
esac
# check on a terminal
pty env -u CI -u GITHUB_ACTIONS TERM=xterm "$(q "$bin")" check "$(q "$ex")"
rc=$?
if [ $rc -eq 0 ] && grep -q "${esc}\[Kplatformc: checking " "$tmp/tty"; then
	pass check-on-terminal
else
	fail check-on-terminal "exit $rc" "$(cat -v "$tmp/tty" | head -3)"
fi
# never on a pipe
PLATFORMC_PROGRESS_AFTER_MS=0 "$bin" render "$ex" -o "$tmp/out2" >"$tmp/pipe" 2>&1
rc=$?
if [ $rc -eq 0 ] && ! grep -q "$esc" "$tmp/pipe" && ! grep -q 'rendering' "$tmp/pipe" && grep -q '^platformc: wrote' "$tmp/pipe"; then
	pass not-on-a-pipe
else
	fail not-on-a-pipe "exit $rc" "$(cat -v "$tmp/pipe" | head -3)"
fi
# never in CI, nor with machine-readable diagnostics, even on a terminal
pty env CI=true TERM=xterm "$(q "$bin")" render "$(q "$ex")" -o "$(q "$tmp/out3")"
rc=$?
if [ $rc -eq 0 ] && ! grep -q 'rendering' "$tmp/tty" && grep -q 'platformc: wrote' "$tmp/tty"; then
	pass not-in-ci
else
	fail not-in-ci "exit $rc" "$(cat -v "$tmp/tty" | head -3)"
fi
pty env -u CI -u GITHUB_ACTIONS TERM=xterm "$(q "$bin")" render "$(q "$ex")" -o "$(q "$tmp/out4")" --diagnostics json
rc=$?
if [ $rc -eq 0 ] && ! grep -q 'rendering' "$tmp/tty" && grep -q '^\[\]' "$tmp/tty"; then
	pass not-with-json-diagnostics
else
	fail not-with-json-diagnostics "exit $rc" "$(cat -v "$tmp/tty" | head -3)"
fi
# the tree is the same with and without the line
if diff -r "$tmp/out1" "$tmp/out2" >/dev/null 2>&1; then
	pass same-output
else
	fail same-output "the render on a terminal differs from the one on a pipe"
fi
[ $((passed + failed)) -eq 7 ] || fail case-count "ran $((passed + failed)) cases, expected 7"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
