#!/usr/bin/env bash
# ---- the rendered trees against the upstream JSON Schemas ---------------------
# Every object of each example's render (by this binary: out/<ex> when the
# golden group passes) validates (tests/tools/validate_tree.py,
# tests/schemas/); the validator itself rejects each file of tests/validate/bad
# (not in the quick form, TESTS_QUICK=1: it does not run the compiler).
. "$(dirname "$0")/../lib.sh"

for ex in $EXAMPLES; do
	render_example "$ex" || { fail "validate/$ex-renders" "$RENDER_ERR"; continue; }
	if validate out "$RENDERED"; then ok "validate/$ex ($(tail -1 <<<"$out"))"; else fail "validate/$ex" "$out"; fi
done
# (tests/validate/run.sh: "ok"/"FAIL" per file, then its count; a good
# folder and at least one bad file)
if want_quick; then
	skip validate/validator-self-test "TESTS_QUICK"
elif out=$(bash tests/validate/run.sh 2>&1) && [[ $(tail -1 <<<"$out") =~ ^([0-9]+)\ passed,\ 0\ failed$ ]] &&
	[ "${BASH_REMATCH[1]}" -ge 2 ]; then
	ok "validate/validator-self-test ($(tail -1 <<<"$out"))"
else
	fail validate/validator-self-test "$out"
fi

finish
