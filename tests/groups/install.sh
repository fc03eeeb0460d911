#!/usr/bin/env bash
# ---- cli extras: --help per verb, man page, bash completion, make install ----
. "$(dirname "$0")/../lib.sh"

for v in check render diff graph schema explain; do
	out=$("$PLATFORMC" $v --help 2>&1); rc=$?
	[ $rc -eq 0 ] && [[ $out == "usage: platformc $v"* ]] && ok "install/help-$v" || fail "install/help-$v" "$out"
done
"$PLATFORMC" --help | grep -q '^  diff ' && "$PLATFORMC" --help | grep -q '^  graph ' && \
	ok install/usage-lists-diff-graph || fail install/usage-lists-diff-graph
if command -v groff >/dev/null 2>&1; then
	w=$(LC_ALL=C.UTF-8 groff -Tutf8 -man -ww -z docs/platformc.1 2>&1)
	[ -z "$w" ] && ok install/man-page-no-warnings || fail install/man-page-no-warnings "$w"
else
	skip install/man-page-no-warnings "groff not installed"
fi
missing=""
for v in check render cost diff graph schema explain lsp watch completion; do
	grep -q "^\.B platformc $v" docs/platformc.1 || missing+=" $v"
done
[ -z "$missing" ] && ok install/man-page-synopsis || fail install/man-page-synopsis "no synopsis for:$missing"
"$PLATFORMC" completion bash >"$TMP/completion.bash" 2>/dev/null
comp() { # words... -> completions of the last word
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _platformc; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$TMP/completion.bash" "$@"
}
[ "$(comp platformc '' | tr '\n' ' ')" = "check render cost diff graph schema explain lsp watch completion --help --version " ] && \
	ok install/completion-verbs || fail install/completion-verbs "$(comp platformc '')"
[ "$(comp platformc d | tr '\n' ' ')" = "diff " ] && ok install/completion-prefix || fail install/completion-prefix "$(comp platformc d)"
[ "$(comp platformc graph --format '' | tr '\n' ' ')" = "dot mermaid " ] && \
	ok install/completion-graph-format || fail install/completion-graph-format "$(comp platformc graph --format '')"
[ "$(comp platformc diff --format m)" = "markdown" ] && ok install/completion-diff-format || fail install/completion-diff-format
[ "$(comp platformc render --ch)" = "--check" ] && ok install/completion-render-option || fail install/completion-render-option
make --no-print-directory -s install PREFIX=/opt/pc DESTDIR="$TMP/inst" >"$TMP/i" 2>&1
if [ -x "$TMP/inst/opt/pc/bin/platformc" ] && [ -f "$TMP/inst/opt/pc/share/man/man1/platformc.1" ] && \
   cmp -s "$TMP/inst/opt/pc/share/bash-completion/completions/platformc" "$TMP/completion.bash" && \
   "$TMP/inst/opt/pc/bin/platformc" --version >/dev/null; then
	ok install/make-install-prefix-destdir
else
	fail install/make-install-prefix-destdir "$(cat "$TMP/i"; find "$TMP/inst")"
fi

finish
