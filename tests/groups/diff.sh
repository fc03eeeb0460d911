#!/usr/bin/env bash
# ---- diff: pinned object diffs for edits of examples/company ----------------
. "$(dirname "$0")/../lib.sh"

# tests/diff/run.sh: one case per folder of tests/diff/ (exit 1 on a failure);
# TESTS_QUICK=1: the add-service case only
if want_quick; then
	relay -n 1 diff/runner bash tests/diff/run.sh add-service
else
	relay -n "$(ls -d tests/diff/*/ | wc -l)" diff/runner bash tests/diff/run.sh
fi
"$PLATFORMC" diff examples/minimal/platform.yaml -o out/minimal --format html >/dev/null 2>&1
[ $? -eq 2 ] && ok diff/unknown-format-exit-2 || fail diff/unknown-format-exit-2
# writes nothing: the stale tree stays stale
cp -r out/minimal "$TMP/diff-stale"; rm "$TMP/diff-stale/README.md"
"$PLATFORMC" diff examples/minimal/platform.yaml -o "$TMP/diff-stale" >"$TMP/d" 2>&1
[ $? -eq 0 ] && [ ! -e "$TMP/diff-stale/README.md" ] && grep -q '^    + file  (README.md)$' "$TMP/d" && \
	ok diff/writes-nothing || fail diff/writes-nothing "$(cat "$TMP/d")"
# an empty output folder: everything is added
mkdir -p "$TMP/diff-empty"
"$PLATFORMC" diff examples/minimal/platform.yaml -o "$TMP/diff-empty" >"$TMP/d" 2>&1
n=$(find out/minimal -type f ! -name .platformc-manifest | wc -l)
grep -q "added, 0 changed, 0 removed objects" "$TMP/d" && [ "$(grep -c '^    + ' "$TMP/d")" -ge "$n" ] && \
	ok diff/empty-tree-all-added || fail diff/empty-tree-all-added "$(head "$TMP/d")"

finish
