#!/usr/bin/env bash
# ---- determinism: locale, time zone, umask, CRLF, checkout path -------------
. "$(dirname "$0")/../lib.sh"

name="" details=""
while IFS= read -r line; do
	case $line in
	"ok   "*) ok "${line#ok   }" ;;
	"FAIL "*) [ -n "$name" ] && fail "$name" "$details"; name=${line#FAIL } details="" ;;
	*) details+="${line#     }"$'\n' ;;
	esac
done < <(ROOT=$ROOT bash tests/threads.sh "$TMP" 2>&1)
[ -n "$name" ] && fail "$name" "$details"

finish
