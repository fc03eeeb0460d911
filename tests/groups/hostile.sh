#!/usr/bin/env bash
# ---- hostile input runs under a time and memory bound ------------------------
. "$(dirname "$0")/../lib.sh"

bash tests/hostile.sh "$TMP" && true
while IFS= read -r line; do
	case $line in "ok   "*) ok "${line#ok   }" ;; "FAIL "*) fail "${line#FAIL }" ;; esac
done <"$TMP/hostile.log"

finish
