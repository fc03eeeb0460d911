#!/usr/bin/env bash
# ---- integration: the pre-commit hooks in a scratch git repository -----------
. "$(dirname "$0")/../lib.sh"

details=""; name=""
flush_fail() { [ -n "$name" ] && fail "$name" "$details"; name=""; details=""; }
while IFS= read -r line; do
	case $line in
	"ok   "*) flush_fail; ok "${line#ok   }" ;;
	"FAIL "*) flush_fail; name=${line#FAIL } ;;
	"skip "*) flush_fail; printf '%s\n' "$line" ;;
	*) [ -n "$name" ] && details+="${line#     }"$'\n' ;;
	esac
done < <(bash tests/integration/run.sh "$TMP" 2>&1)
flush_fail

finish
