#!/usr/bin/env bash
# Group `integration`: the hooks of .pre-commit-hooks.yaml and the GitHub Action's steps.
#   - each hook's command, run exactly as pre-commit runs it (shlex.split(entry) + args,
#     no file names, in the repository root) in a scratch git repository holding the
#     company example (PLATFORMC is the binary the hook script runs);
#   - the action's check, diff and render --check steps (action_step.py);
#   - the real `pre-commit` (Debian package; installed with apt-get when missing and
#     root) with both configurations of docs/guide.md §5, taken from the guide:
#     `repo:` a temporary clone of this project (pre-commit builds platformc in its
#     cache with `make`) and `repo: local` with the binary on PATH; a good commit passes
#     with out/ rendered, a bad one is refused with the diagnostic.
#
# usage: tests/integration/run.sh [WORKDIR]   (PLATFORMC: the binary, default build/platformc)
# Prints "ok   integration/<name>" or "FAIL integration/<name>" followed by indented
# detail lines, then "N passed, N failed"; exits 1 when a case failed or fewer ran
# than expected.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
if [ $# -gt 0 ]; then W=$1/integration; else W=$(mktemp -d)/integration; trap 'rm -rf "$(dirname "$W")"' EXIT; fi
PY=${PY:-python3}
"$PY" -c 'import yaml' 2>/dev/null || PY=/usr/bin/python3
P=${PLATFORMC:-build/platformc}
case $P in /*) ;; *) P=$ROOT/$P ;; esac
HOOKS=$ROOT/.pre-commit-hooks.yaml
EXPECTED=29
rm -rf "$W"; mkdir -p "$W/bin"
ln -s "$P" "$W/bin/platformc"
export PATH="$W/bin:$PATH"
export GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@example.invalid GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@example.invalid
export GIT_CONFIG_NOSYSTEM=1 HOME=$W/home NO_COLOR=1
unset GITHUB_ACTIONS
mkdir -p "$HOME"

PASSED=0 FAILED=0
ok() { printf 'ok   integration/%s\n' "$1"; PASSED=$((PASSED + 1)); }
fail() { printf 'FAIL integration/%s\n' "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -30 | sed 's/^/     /'; FAILED=$((FAILED + 1)); }
finish() {
	local ran=$((PASSED + FAILED))
	[ $ran -ge $EXPECTED ] || fail case-count "ran $ran cases, expected $EXPECTED"
	echo "$PASSED passed, $FAILED failed"
	[ $FAILED -eq 0 ]
	exit
}
apt_install() { # PACKAGE: as root, when its command is missing
	[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
	apt-get install -y -qq --no-install-recommends "$1" >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "$1" >/dev/null 2>&1; }
}

command -v git >/dev/null 2>&1 || apt_install git
command -v git >/dev/null 2>&1 || { fail setup "git is not installed (apt-get install git)"; finish; }
"$PY" -c 'import yaml' 2>/dev/null || apt_install python3-yaml

# hook ID: run the hook's command in the scratch repository; sets OUT (stdout
# and stderr together) and RC
REPO=$W/repo
hook() {
	local argv
	mapfile -d '' -t argv < <("$PY" "$ROOT/tests/integration/hook_argv.py" "$HOOKS" "$@") || true
	if [ ${#argv[@]} -eq 0 ]; then OUT="no command for hook $1"; RC=99; return; fi
	OUT=$(cd "$REPO" && PLATFORMC=$P timeout 60 "${argv[@]}" 2>&1); RC=$?
}
dirty() { git -C "$REPO" status --porcelain; }

# ---- the manifest itself -------------------------------------------------------
if out=$("$PY" - "$HOOKS" <<'PY' 2>&1
import os, re, sys, yaml
hooks = {h["id"]: h for h in yaml.safe_load(open(sys.argv[1]))}
want = ["platformc-check", "platformc-render-check", "platformc-render"]
assert sorted(hooks) == sorted(want), f"hook ids: {sorted(hooks)}"
for h in hooks.values():
    for k in ("name", "entry", "language"):
        assert k in h, f"{h['id']}: no {k}"
    # from the Git URL: a script of this repository, which builds platformc (guide §5)
    assert h["language"] == "script" and h["pass_filenames"] is False, h["id"]
    script = h["entry"].split()[0]
    assert os.access(os.path.join(os.path.dirname(sys.argv[1]), script), os.X_OK), f"{script} is not executable"
    r = re.compile(h["files"])
    for f in ("platform.yaml", "platform.d/a.yml", "out/x/y.yaml"):
        assert r.search(f), f"{h['id']}: files does not match {f}"
    for f in ("README.md", "main.c", "x.yaml.orig"):
        assert not r.search(f), f"{h['id']}: files matches {f}"
PY
); then ok hooks-manifest; else fail hooks-manifest "$out"; fi

# ---- a scratch repository: the company example, rendered and committed ---------
mkdir -p "$REPO"
cp -r "$ROOT/examples/company/." "$REPO/"
(cd "$REPO" && git init -q && platformc render >/dev/null 2>&1 && [ -f out/README.md ] && git add -A && git commit -qm init) ||
	{ fail setup "could not create the scratch repository"; finish; }

# clean tree: every hook passes and changes nothing
for id in platformc-check platformc-render-check platformc-render; do
	hook "$id"
	if [ $RC -ne 0 ]; then fail "clean-tree/$id" "exit $RC: $OUT"
	elif [ -n "$(dirty)" ]; then fail "clean-tree/$id" "changed files: $(dirty)"
	else ok "clean-tree/$id"; fi
done

# a user's `args:` (another input and output folder) reach the command
mkdir -p "$REPO/deploy" && cp "$ROOT/examples/minimal/platform.yaml" "$REPO/deploy/"
hook platformc-render-check deploy/platform.yaml -o deploy/out
if [ $RC -eq 3 ] && grep -q 'added: README.md' <<<"$OUT"; then
	hook platformc-render deploy/platform.yaml -o deploy/out; r1=$RC
	hook platformc-render-check deploy/platform.yaml -o deploy/out; r2=$RC
	[ $r1 -eq 3 ] && [ $r2 -eq 0 ] && [ -f "$REPO/deploy/out/README.md" ] && ok hook-args ||
		fail hook-args "render exit $r1, then render --check exit $r2: $OUT"
else
	fail hook-args "render --check of a new folder: exit $RC: $OUT"
fi
rm -rf "$REPO/deploy"

# stale output: a hand-edited rendered file
f=teams/backend/dev/namespace.yaml
echo "# edited by hand" >>"$REPO/out/$f"
hook platformc-check
[ $RC -eq 0 ] && ok stale-edit/check-ignores-output || fail stale-edit/check-ignores-output "exit $RC: $OUT"
hook platformc-render-check
if [ $RC -eq 3 ] && grep -qF "changed: $f" <<<"$OUT" && [ "$(dirty)" = " M out/$f" ]; then ok stale-edit/render-check-exit-3-names-file
else fail stale-edit/render-check-exit-3-names-file "exit $RC (want 3), git status: $(dirty)
$OUT"; fi
hook platformc-render
if [ $RC -eq 3 ] && grep -qF "changed: $f" <<<"$OUT" && [ -z "$(dirty)" ]; then ok stale-edit/render-fixes-and-exits-3
else fail stale-edit/render-fixes-and-exits-3 "exit $RC (want 3), git status: $(dirty)
$OUT"; fi
hook platformc-render
[ $RC -eq 0 ] && ok stale-edit/render-again-passes || fail stale-edit/render-again-passes "exit $RC: $OUT"

# stale output: a rendered file deleted, a stale file left behind
rm "$REPO/out/$f"
hook platformc-render-check
if [ $RC -eq 3 ] && grep -qF "added: $f" <<<"$OUT"; then ok stale-deleted/render-check-exit-3-names-file
else fail stale-deleted/render-check-exit-3-names-file "exit $RC (want 3): $OUT"; fi
git -C "$REPO" checkout -q -- out

# stale output: the input changed (a new environment) but out/ was not re-rendered
sed -i 's/^  - {name: staging, *tier: nonprod}/&\n  - {name: qa, tier: nonprod}/' "$REPO/platform.yaml"
hook platformc-check
if [ $RC -ne 0 ]; then fail stale-input/setup "the edited example does not check: $OUT"
else
	hook platformc-render-check
	if [ $RC -eq 3 ] && grep -qE '^added: .*/qa/' <<<"$OUT" && [ "$(dirty)" = " M platform.yaml" ]; then ok stale-input/render-check-exit-3-names-files
	else fail stale-input/render-check-exit-3-names-files "exit $RC (want 3), git status: $(dirty)
$OUT"; fi
	hook platformc-render
	if [ $RC -eq 3 ] && [ -n "$(git -C "$REPO" status --porcelain --untracked-files=all out | grep '/qa/')" ]; then ok stale-input/render-writes-and-exits-3
	else fail stale-input/render-writes-and-exits-3 "exit $RC (want 3): $OUT"; fi
fi
git -C "$REPO" checkout -q -- . && git -C "$REPO" clean -qfd

# bad input: every hook exits 1 with a coded diagnostic and writes nothing
printf 'bogus_key: 1\n' >>"$REPO/platform.yaml"
for id in platformc-check platformc-render-check platformc-render; do
	hook "$id"
	if [ $RC -eq 1 ] && grep -qE '^error\[E0101\]' <<<"$OUT" && grep -qF 'platform.yaml:' <<<"$OUT" &&
		[ "$(dirty)" = " M platform.yaml" ]; then ok "bad-input/$id-exit-1"
	else fail "bad-input/$id-exit-1" "exit $RC (want 1), git status: $(dirty)
$OUT"; fi
done
git -C "$REPO" checkout -q -- .

# ---- the GitHub Action's check and render --check steps ------------------------
step() { OUT=$(cd "$REPO" && GITHUB_ACTIONS=true timeout 60 "$PY" "$ROOT/tests/integration/action_step.py" "$ROOT/action.yml" "$@" 2>&1); RC=$?; }
step 'platformc check'; r1=$RC o1=$OUT
step 'platformc render --check'
[ $r1 -eq 0 ] && [ $RC -eq 0 ] && ok action/clean-tree-passes || fail action/clean-tree-passes "check exit $r1, render --check exit $RC: $o1 $OUT"
echo "# edited by hand" >>"$REPO/out/$f"
step 'platformc render --check'
if [ $RC -eq 3 ] && grep -qF "changed: $f" <<<"$OUT" && grep -q '^::error title=platformc: output out of date::.*make render.*commit' <<<"$OUT"; then
	ok action/stale-output-fails-with-exit-3-and-message
else fail action/stale-output-fails-with-exit-3-and-message "exit $RC: $OUT"; fi
export GITHUB_STEP_SUMMARY="$W/step-summary.md"; : >"$GITHUB_STEP_SUMMARY"
step 'platformc diff summary'
if [ $RC -eq 0 ] && grep -q '^### platformc diff' "$GITHUB_STEP_SUMMARY" &&
	grep -q "^1 file differs in comments or layout only" "$GITHUB_STEP_SUMMARY" && grep -qF -- "- \`$f\`" "$GITHUB_STEP_SUMMARY"; then
	ok action/diff-summary-written
else fail action/diff-summary-written "exit $RC: $OUT $(cat "$GITHUB_STEP_SUMMARY")"; fi
unset GITHUB_STEP_SUMMARY
git -C "$REPO" checkout -q -- .
mv "$REPO/platform.yaml" "$REPO/root.yaml" && rm -rf "$REPO/out" && (cd "$REPO" && platformc render root.yaml -o gitops 2>/dev/null)
step 'platformc render --check' file=root.yaml output=gitops
[ $RC -eq 0 ] && ok action/inputs-file-and-output || fail action/inputs-file-and-output "exit $RC: $OUT"
git -C "$REPO" checkout -q -- . && git -C "$REPO" clean -qfd
printf 'bogus_key: 1\n' >>"$REPO/platform.yaml"
step 'platformc check'
if [ $RC -eq 1 ] && grep -q '^::error file=platform.yaml,line=[0-9]*,.*E0101' <<<"$OUT"; then ok action/bad-input-annotated-exit-1
else fail action/bad-input-annotated-exit-1 "exit $RC: $OUT"; fi
git -C "$REPO" checkout -q -- .


# ---- the real pre-commit, with the guide's two configurations --------------------------
command -v pre-commit >/dev/null 2>&1 || apt_install pre-commit
command -v pre-commit >/dev/null 2>&1 || { fail pre-commit/installed "pre-commit is not installed: apt-get install pre-commit"; finish; }
export PRE_COMMIT_HOME=$W/pre-commit-home
# guide_config WHICH > FILE: the yaml block of guide §5 whose first line names WHICH
guide_config() {
	"$PY" - "$ROOT/docs/guide.md" "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
want = "# .pre-commit-config.yaml in the GitOps repository: " + sys.argv[2]
found = [b for b in blocks if b.startswith(want + "\n")]
if len(found) != 1:
    sys.exit(f"docs/guide.md: {len(found)} yaml blocks start with {want!r}")
sys.stdout.write(found[0])
PY
}
# scratch REPO: a new git repository holding the minimal example's platform.yaml
scratch() { rm -rf "$1" && mkdir -p "$1" && cp "$ROOT/examples/minimal/platform.yaml" "$1/" && git -C "$1" init -q; }
# commit REPO MESSAGE [ENV...]: stage everything and commit; sets OUT and RC
commit() { local r=$1 m=$2; shift 2; OUT=$(cd "$r" && git add -A && env "$@" timeout 900 git commit -qm "$m" 2>&1); RC=$?; }
commits() { git -C "$1" rev-list --count HEAD 2>/dev/null || echo 0; }

# -- from the Git URL: `repo:` a temporary clone of this project (its working tree as
# it is now, without out/ and tests/), `rev:` its commit; pre-commit clones it and the
# first hook run builds platformc there with make. PLATFORMC is unset, as for a user.
H=$W/platformc-clone
mkdir -p "$H"
if (git -C "$ROOT" ls-files -co --exclude-standard -z | grep -zv '^out/\|^tests/' |
	xargs -0 tar -C "$ROOT" -cf - | tar -C "$H" -xf -) && [ -x "$H/compiler/tools/pre-commit-hook" ] &&
	(cd "$H" && git init -q && git add -A && git commit -qm clone); then
	rev=$(git -C "$H" rev-parse HEAD)
	U=$W/url-repo
	scratch "$U"
	if cfg=$(guide_config "platformc from its Git URL") && grep -q '^  - repo: https://github.com/<owner>/platformc$' <<<"$cfg" &&
		grep -q '^    rev: <ref>$' <<<"$cfg"; then
		sed -e "s|https://github.com/<owner>/platformc|file://$H|" -e "s|<ref>|$rev|" <<<"$cfg" >"$U/.pre-commit-config.yaml"
		ok pre-commit-url/config-from-guide
	else
		fail pre-commit-url/config-from-guide "$cfg"
	fi
	(cd "$U" && env -u PLATFORMC pre-commit install >/dev/null 2>&1) || fail pre-commit-url/install "pre-commit install failed"
	# the first commit of platform.yaml alone: the render hook (built from the clone)
	# writes out/ and stops the commit so the new files can be reviewed and staged
	commit "$U" 'platform' -u PLATFORMC
	built=$(find "$PRE_COMMIT_HOME" -path '*/build/platformc' -type f -perm -u+x 2>/dev/null | head -1)
	if [ $RC -ne 0 ] && [ "$(commits "$U")" = 0 ] && [ -n "$built" ] && [ -f "$U/out/README.md" ] &&
		grep -q 'platformc render.*Failed' <<<"$OUT" && grep -qF 're-rendered the files listed above' <<<"$OUT"; then
		ok pre-commit-url/builds-platformc-and-renders-out
	else
		fail pre-commit-url/builds-platformc-and-renders-out "git commit exit $RC, commits $(commits "$U"), built: ${built:-none}, out/README.md: $(ls "$U/out/README.md" 2>&1)
$OUT"
	fi
	# staged with out/: the hooks pass, the commit is made
	commit "$U" 'platform and its render' -u PLATFORMC
	if [ $RC -eq 0 ] && [ "$(commits "$U")" = 1 ] && git -C "$U" cat-file -e HEAD:out/README.md 2>/dev/null &&
		grep -q 'platformc check.*Passed' <<<"$OUT" && grep -q 'platformc render.*Passed' <<<"$OUT"; then
		ok pre-commit-url/good-commit-passes
	else
		fail pre-commit-url/good-commit-passes "git commit exit $RC: $OUT"
	fi
	# a bad platform.yaml: refused with the diagnostic, nothing committed
	printf 'bogus_key: 1\n' >>"$U/platform.yaml"
	commit "$U" 'bad input' -u PLATFORMC
	if [ $RC -ne 0 ] && [ "$(commits "$U")" = 1 ] && grep -qE '^error\[E0101\]' <<<"$OUT" &&
		grep -qF -- '--> platform.yaml:' <<<"$OUT" && grep -q 'platformc check.*Failed' <<<"$OUT"; then
		ok pre-commit-url/bad-commit-refused-with-diagnostic
	else
		fail pre-commit-url/bad-commit-refused-with-diagnostic "git commit exit $RC: $OUT"
	fi
	git -C "$U" reset -q --hard
	# a hand-edited rendered file: refused, and the render hook has put it back
	echo "# edited by hand" >>"$U/out/clusters/dev/kustomization.yaml"
	commit "$U" 'edit output' -u PLATFORMC
	if [ $RC -ne 0 ] && [ "$(commits "$U")" = 1 ] && grep -qF 'changed: clusters/dev/kustomization.yaml' <<<"$OUT" &&
		! grep -q 'edited by hand' "$U/out/clusters/dev/kustomization.yaml"; then
		ok pre-commit-url/stale-output-refused-and-fixed
	else
		fail pre-commit-url/stale-output-refused-and-fixed "git commit exit $RC: $OUT"
	fi
	git -C "$U" reset -q --hard
else
	fail pre-commit-url/setup "could not make a clone of the project in $H"
fi

# -- `repo: local` with an installed binary: the binary under test, on PATH as platformc
L=$W/local-repo
scratch "$L"
if cfg=$(guide_config "an installed platformc") && grep -q '^  - repo: local$' <<<"$cfg"; then
	printf '%s' "$cfg" >"$L/.pre-commit-config.yaml"
	ok pre-commit-local/config-from-guide
else
	fail pre-commit-local/config-from-guide "$cfg"
fi
(cd "$L" && pre-commit install >/dev/null 2>&1) || fail pre-commit-local/install "pre-commit install failed"
(cd "$L" && platformc render >/dev/null 2>&1); r=$?
commit "$L" 'platform and its render'
if [ $r -eq 0 ] && [ $RC -eq 0 ] && [ "$(commits "$L")" = 1 ] && git -C "$L" cat-file -e HEAD:out/README.md 2>/dev/null &&
	grep -q 'platformc check.*Passed' <<<"$OUT" && grep -q 'platformc render --check.*Passed' <<<"$OUT"; then
	ok pre-commit-local/good-commit-passes
else
	fail pre-commit-local/good-commit-passes "render exit $r, git commit exit $RC: $OUT"
fi
printf 'bogus_key: 1\n' >>"$L/platform.yaml"
commit "$L" 'bad input'
if [ $RC -ne 0 ] && [ "$(commits "$L")" = 1 ] && grep -qE '^error\[E0101\]' <<<"$OUT" &&
	grep -qF -- '--> platform.yaml:' <<<"$OUT" && grep -q 'platformc check.*Failed' <<<"$OUT"; then
	ok pre-commit-local/bad-commit-refused-with-diagnostic
else
	fail pre-commit-local/bad-commit-refused-with-diagnostic "git commit exit $RC: $OUT"
fi
git -C "$L" reset -q --hard
# the input changed but out/ was not re-rendered: refused, naming the files
sed -i 's/^  - {name: dev, *tier: nonprod}/&\n  - {name: qa, tier: nonprod}/' "$L/platform.yaml"
commit "$L" 'new environment, no render'
if [ $RC -ne 0 ] && [ "$(commits "$L")" = 1 ] && grep -qE '^added: .*qa' <<<"$OUT" && grep -q 'platformc render --check.*Failed' <<<"$OUT"; then
	ok pre-commit-local/stale-output-refused
else
	fail pre-commit-local/stale-output-refused "git commit exit $RC: $(git -C "$L" diff | head -5)
$OUT"
fi
git -C "$L" reset -q --hard
finish
