#!/usr/bin/env bash
# ---- secrets: every credential pattern anywhere is rejected, redacted; no Secret out
. "$(dirname "$0")/../lib.sh"

name="" details=""
while IFS= read -r line; do
	case $line in
	"ok   "*) ok "${line#ok   }" ;;
	"FAIL "*) [ -n "$name" ] && fail "$name" "$details"; name=${line#FAIL } details="" ;;
	*) details+="${line#     }"$'\n' ;;
	esac
done < <(ROOT=$ROOT bash tests/secrets.sh "$TMP" 2>&1)
[ -n "$name" ] && fail "$name" "$details"

finish
