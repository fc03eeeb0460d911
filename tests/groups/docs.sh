#!/usr/bin/env bash
# ---- docs that are tests: every yaml block and walkthrough step of the guide --
. "$(dirname "$0")/../lib.sh"

# tests/docs/run_guide.py: one case per block of docs/guide.md, exit 1 on a failure
relay -n 15 docs/runner "$PY" tests/docs/run_guide.py "$PLATFORMC" docs/guide.md "$TMP/docs"
# the runner fails on a bad example, a wrong expected output and an unmarked block
mkdir -p "$TMP/docs-neg"
printf '%s\n' '<!-- check: ok -->' '```yaml' 'platform: {name: x}' '```' \
	'<!-- walk: run -->' '```console' '$ echo hello' 'goodbye' '```' '```yaml' 'a: 1' '```' >"$TMP/docs-neg/neg.md"
n=$("$PY" tests/docs/run_guide.py "$PLATFORMC" "$TMP/docs-neg/neg.md" "$TMP/docs-neg" 2>&1 | grep -c '^FAIL ')
[ "$n" = 3 ] && ok docs/runner-can-fail || fail docs/runner-can-fail "expected 3 failures, got $n"

# no function of compiler/*.c over 120 lines without a `/* one piece: why */`
# above it (tests/tools/long_functions.py); the check itself can fail
out=$("$PY" tests/tools/long_functions.py 2>&1) && ok docs/long-functions-say-why || fail docs/long-functions-say-why "$out"
printf '%s\n' 'static int f(void)' '{' '	return 0;' '}' >"$TMP/long.c"
"$PY" tests/tools/long_functions.py --limit 2 "$TMP/long.c" >/dev/null 2>&1
[ $? = 1 ] && ok docs/long-functions-can-fail || fail docs/long-functions-can-fail

# docs/architecture.md §3 has a heading naming every file of compiler/ (*.c,
# *.h, tools/*), and names no file that is gone (embed.c is generated)
arch_files() { # architecture.md, compiler dir -> what is missing or stale
	local heads missing="" f r
	heads=$(sed -n '/^## 3\./,/^## 4\./p' "$1" | grep '^### ')
	for f in "$2"/*.c "$2"/*.h "$2"/tools/*; do
		[ -e "$f" ] || continue
		r=${f#"$2"/}
		grep -qF "\`$r\`" <<<"$heads" || missing+=" missing:$r"
	done
	for r in $(grep -o '`[a-z0-9_/-]*\(\.[ch]\|-hook\)`' <<<"$heads" | tr -d '`'); do
		[ -e "$2/$r" ] || [ "$r" = embed.c ] || missing+=" gone:$r"
	done
	echo "$missing"
}
m=$(arch_files docs/architecture.md compiler)
[ -z "$m" ] && ok docs/architecture-names-every-file || fail docs/architecture-names-every-file "$m"
mkdir -p "$TMP/arch/tools" && : >"$TMP/arch/new_file.c" && : >"$TMP/arch/tools/x"
m=$(arch_files docs/architecture.md "$TMP/arch")
[[ $m == *missing:new_file.c* && $m == *missing:tools/x* && $m == *gone:main.c* ]] && \
	ok docs/architecture-check-can-fail || fail docs/architecture-check-can-fail "$m"

# compiler/ files call into each other without circles (tests/tools/include_graph.py derives
# who calls whom): a function two files both need lives in the file that owns its concept,
# which calls neither. Any circle fails.
if out=$("$PY" tests/tools/include_graph.py compiler 2>&1); then
	ok docs/no-import-circles
else
	fail docs/no-import-circles "$(printf '%s\n' "$out" | grep '^circle:')"
fi
# ... and the tool finds a circle: two files calling each other (calls in comments and
# strings, and static functions, do not count)
mkdir -p "$TMP/circle"
printf '%s\n' 'int fb(void);' 'int fa(void) { return fb(); }' >"$TMP/circle/a.c"
printf '%s\n' 'int fa(void);' 'int fb(void) { return fa(); }' >"$TMP/circle/b.c"
printf '%s\n' 'static int fa(void) { return 1; }' '/* fb() */' 'int fc(void) { return fa() + (int)sizeof "fb()"; }' \
	>"$TMP/circle/c.c"
out=$("$PY" tests/tools/include_graph.py "$TMP/circle" 2>&1)
rc=$?
[ $rc = 1 ] && printf '%s\n' "$out" | grep -qx 'circle: a.c -> b.c; b.c -> a.c' && printf '%s\n' "$out" | grep -qx 'c.c: ' &&
	ok docs/import-circle-found || fail docs/import-circle-found "exit $rc: $out"

# an exported function whose prefix names a file of compiler/ is defined in that file
# (tests/tools/prefixes.py; the longest matching file name decides)
out=$("$PY" tests/tools/prefixes.py compiler 2>&1) && ok docs/prefixes-name-files || fail docs/prefixes-name-files "$out"
# ... and the check fails on a function moved to another file: monitoring_x in dash.c,
# catalog_y in catalog_load.c (catalog_load_z there is right; statics do not count)
mkdir -p "$TMP/prefix"
printf '%s\n' 'int dash_new(void) { return 0; }' 'int monitoring_x(void) { return 1; }' >"$TMP/prefix/dash.c"
printf '%s\n' 'static int dash_row(void) { return 0; }' 'int monitoring_y(void) { return dash_row(); }' >"$TMP/prefix/monitoring.c"
printf '%s\n' 'int catalog_kind(void) { return 0; }' >"$TMP/prefix/catalog.c"
printf '%s\n' 'int catalog_load_z(void) { return 0; }' 'int catalog_y(void) { return 0; }' >"$TMP/prefix/catalog_load.c"
out=$("$PY" tests/tools/prefixes.py "$TMP/prefix" 2>&1)
rc=$?
want=$(printf '%s\n' 'catalog_load.c:2: catalog_y is defined here, but its prefix names catalog.c' \
	'dash.c:2: monitoring_x is defined here, but its prefix names monitoring.c')
[ $rc = 1 ] && [ "$out" = "$want" ] && ok docs/prefixes-can-fail || fail docs/prefixes-can-fail "exit $rc: $out"

finish
