#!/usr/bin/env bash
# ---- CLI --------------------------------------------------------------------
. "$(dirname "$0")/../lib.sh"

"$PLATFORMC" --version | grep -q '^libfyaml ' && ok cli/version-lists-libraries || fail cli/version-lists-libraries
"$PLATFORMC" --help | grep -q 'render' && ok cli/help || fail cli/help
"$PLATFORMC" bogus >/dev/null 2>&1; [ $? -eq 2 ] && ok cli/unknown-command-exit-2 || fail cli/unknown-command-exit-2
"$PLATFORMC" check --nope >/dev/null 2>&1; [ $? -eq 2 ] && ok cli/unknown-option-exit-2 || fail cli/unknown-option-exit-2
"$PLATFORMC" check "$TMP/does-not-exist.yaml" >/dev/null 2>&1; [ $? -eq 2 ] && ok cli/missing-file-exit-2 || fail cli/missing-file-exit-2
out=$("$PLATFORMC" explain e0201); [[ $out == E0201:* ]] && ok cli/explain || fail cli/explain "$out"
"$PLATFORMC" explain E9999 >/dev/null 2>&1; [ $? -eq 2 ] && ok cli/explain-unknown-exit-2 || fail cli/explain-unknown-exit-2
bad="" n=0
for c in $("$PY" -c 'import json;[print(c["code"]) for c in json.load(open("stdlib/diagnostics.json"))]'); do
	n=$((n + 1))
	out=$("$PLATFORMC" explain "$c" 2>&1) && [[ $out == "$c: "* ]] || bad+="$c "
done
[ -z "$bad" ] && [ $n -gt 0 ] && ok cli/explain-every-code || fail cli/explain-every-code "no explanation for: ${bad:-(no codes)}"
"$PLATFORMC" schema >"$TMP/schema.json"
if out=$("$PY" - "$TMP/schema.json" examples <<'PY' 2>&1
import json, sys, glob, yaml, jsonschema
s = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(s)
v = jsonschema.Draft7Validator(s)
# every example's root file validates against the editor schema (read as YAML 1.2-ish strings)
class L(yaml.SafeLoader): pass
for ex in sorted(glob.glob(sys.argv[2] + "/*/platform.yaml")):
    doc = yaml.load(open(ex), Loader=L)
    errs = [e for e in v.iter_errors(doc)]
    # YAML 1.1 readers turn some scalars into numbers/bools; only report structural errors
    errs = [e for e in errs if e.validator not in ("type", "pattern")]
    if errs:
        print(ex, errs[0].message); sys.exit(1)
PY
); then ok cli/schema-is-valid-draft7; else fail cli/schema-is-valid-draft7 "$out"; fi
cmp -s "$TMP/schema.json" docs/platform.schema.json && ok cli/schema-published-current || \
	fail cli/schema-published-current "docs/platform.schema.json differs from \`platformc schema\` (regenerate it)"
"$PLATFORMC" check examples/minimal/platform.yaml --diagnostics json >/dev/null 2>"$TMP/j"
[ "$(cat "$TMP/j")" = "[]" ] && ok cli/json-diagnostics-empty || fail cli/json-diagnostics-empty "$(cat "$TMP/j")"
# an option the verb does not use is an error naming it, not silently ignored
for args in "graph -o x" "check --check" "diff --dump files" "cost -o x" "render --format json" "schema extra" \
	"explain E0201 --format text"; do
	name=cli/rejects-$(tr ' ' '-' <<<"$args" | tr -d .)
	out=$("$PLATFORMC" $args examples/minimal/platform.yaml 2>&1 >/dev/null); rc=$?
	if [ $rc -eq 2 ] && grep -q "does not take\|unexpected argument" <<<"$out"; then ok "$name"; else fail "$name" "exit $rc: $out"; fi
done
for v in check render cost diff graph schema explain completion; do
	"$PLATFORMC" "$v" --help | grep -q "^usage: platformc $v" && ok "cli/help-$v" || fail "cli/help-$v"
done
"$PLATFORMC" -h cost | grep -q "^usage: platformc cost" && ok cli/help-before-verb || fail cli/help-before-verb
# the bash completion is what `platformc completion bash` prints (from the verb table of
# compiler/main.c): a script bash accepts, which defines _platformc for `platformc`
"$PLATFORMC" completion bash >"$TMP/completion.bash" 2>&1
if [ -s "$TMP/completion.bash" ] && bash -n "$TMP/completion.bash" 2>/dev/null &&
	[ "$(bash -c 'source "$1"; complete -p platformc' _ "$TMP/completion.bash" 2>&1)" = "complete -F _platformc platformc" ]; then
	ok cli/completion-script
else
	fail cli/completion-script "$(head -5 "$TMP/completion.bash")"
fi
comp() { # words... -> completions of the last word, one line
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _platformc; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$TMP/completion.bash" "$@" | sort | tr '\n' ' '
}
# every verb of --help is in the man page and the guide, and the completion offers
# exactly the verbs of --help (and --help, --version)
missing="" n=0
verbs=$("$PLATFORMC" --help | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p')
for v in $verbs; do
	n=$((n + 1))
	grep -q "^\.B platformc $v" docs/platformc.1 || missing="$missing man:$v"
	grep -q "platformc $v" docs/guide.md || missing="$missing guide:$v"
done
[ $n -lt 8 ] && missing+=" (--help lists $n verbs, expected at least 8)"
want=$(printf '%s\n' $verbs --help --version | sort -u | tr '\n' ' ')
got=$(comp platformc '')
[ "$want" = "$got" ] || missing+=" completion(wants '$want', has '$got')"
[ -z "$missing" ] && ok cli/every-verb-documented || fail cli/every-verb-documented "missing:$missing"
# the verb table (compiler/main.c) is the one source: each verb's usage line
# lists its options and --format values; the completion offers exactly those
# (and --help), and the man page documents each option
missing="" n=0
for v in $("$PLATFORMC" --help | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p' | uniq); do
	line=$("$PLATFORMC" "$v" --help | head -1)
	opts=$(grep -o -- '\[-[-a-z]*' <<<"$line" | tr -d '[' | sed 's/^-o$/-o --output/' | tr ' ' '\n')
	want=$(printf '%s\n' $opts --help | sort | tr '\n' ' ')
	got=$(comp platformc "$v" -)
	[ "$want" = "$got" ] || missing+=" completion:$v(wants '$want', has '$got')"
	for o in $opts; do
		n=$((n + 1))
		grep -qF -- "$(sed 's/-/\\-/g' <<<"$o")" docs/platformc.1 || missing+=" man:$o"
	done
	formats=$(sed -n 's/.*\[--format \([a-z|]*\)\].*/\1/p' <<<"$line" | tr '|' '\n' | sort | tr '\n' ' ')
	[ -z "$formats" ] || [ "$(comp platformc "$v" --format '')" = "$formats" ] || missing+=" completion:$v--format"
done
[ $n -lt 10 ] && missing+=" (the usage lines list $n options, expected at least 10)"
[ -z "$missing" ] && ok cli/completion-and-man-match-verb-table || fail cli/completion-and-man-match-verb-table "differ:$missing"
# ... and what an argument or an option's value completes to: explain's built-in kinds
# (catalog/, not internal), completion's shell, --diagnostics' and --dump's values, folders
# after -o; `platformc completion` takes exactly bash
kinds=$(grep -L '^internal: true' catalog/*/kind.yaml | sed 's|catalog/\(.*\)/kind.yaml|\1|' | sort | tr '\n' ' ')
missing=""
[ "$(comp platformc explain '')" = "$kinds" ] || missing+=" explain:'$(comp platformc explain '')'"
[ "$(comp platformc completion '')" = "bash " ] || missing+=" completion:'$(comp platformc completion '')'"
[ "$(comp platformc check --diagnostics '')" = "github human json " ] || missing+=" --diagnostics"
[ "$(comp platformc render --dump f)" = "files " ] || missing+=" --dump"
mkdir -p "$TMP/compdir/out-here"
[ "$(cd "$TMP/compdir" && comp platformc render -o out)" = "out-here " ] || missing+=" -o"
[ "$(comp platformc --output x render --ch)" = "--check " ] || missing+=" verb-after-valued-option"
"$PLATFORMC" completion zsh >/dev/null 2>&1; [ $? = 2 ] || missing+=" zsh-not-usage-error"
"$PLATFORMC" completion >/dev/null 2>&1; [ $? = 2 ] || missing+=" no-shell-not-usage-error"
[ -z "$missing" ] && ok cli/completion-values || fail cli/completion-values "differ:$missing"
# an option's name must be whole: `--dumpx` is unknown, not `--dump` without a value
out=$("$PLATFORMC" check --dumpx examples/minimal/platform.yaml 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'unknown option `--dumpx`' <<<"$out" && ok cli/option-name-whole || fail cli/option-name-whole "exit $rc: $out"
"$PLATFORMC" render examples/minimal/platform.yaml --output="$TMP/eq-out" 2>/dev/null && [ -f "$TMP/eq-out/README.md" ] &&
	ok cli/output-equals-form || fail cli/output-equals-form

finish
