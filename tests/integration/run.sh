#!/usr/bin/env bash
# Integration: the hooks of .pre-commit-hooks.yaml in a scratch git repository
# holding an example platform, run exactly as pre-commit runs them
# (shlex.split(entry) + args, no file names, in the repository root, with
# `platformc` found on PATH), and through the real `pre-commit` when it is
# installed (as root it is installed from Debian when missing).
#
# usage: tests/integration/run.sh WORKDIR   (PLATFORMC and PY from tests/run.sh)
# Prints "ok   integration/<name>", "FAIL integration/<name>" followed by
# indented detail lines, or "skip integration/<name> (why)".
set -u
W=$1/integration
ROOT=${ROOT:-$PWD}
PY=${PY:-python3}
P=${PLATFORMC:?}
HOOKS=$ROOT/.pre-commit-hooks.yaml
rm -rf "$W"; mkdir -p "$W/bin"
ln -s "$P" "$W/bin/platformc"
export PATH="$W/bin:$PATH"
export GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@example.invalid GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@example.invalid
export GIT_CONFIG_NOSYSTEM=1 HOME=$W/home
mkdir -p "$HOME"

ok() { printf 'ok   integration/%s\n' "$1"; }
fail() { printf 'FAIL integration/%s\n' "$1"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -30 | sed 's/^/     /'; }
skip() { printf 'skip integration/%s (%s)\n' "$1" "$2"; }

if ! command -v git >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	apt-get install -y -qq --no-install-recommends git >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends git >/dev/null; }
fi
command -v git >/dev/null 2>&1 || { fail setup "git is not installed"; exit 0; }

# hook ID: run the hook's command in the scratch repository; sets OUT (stdout
# and stderr together) and RC
REPO=$W/repo
hook() {
	local argv
	mapfile -d '' -t argv < <("$PY" "$ROOT/tests/integration/hook_argv.py" "$HOOKS" "$@") || true
	if [ ${#argv[@]} -eq 0 ]; then OUT="no command for hook $1"; RC=99; return; fi
	OUT=$(cd "$REPO" && timeout 60 "${argv[@]}" 2>&1); RC=$?
}
dirty() { git -C "$REPO" status --porcelain; }

# ---- the manifest itself -------------------------------------------------------
if out=$("$PY" - "$HOOKS" <<'PY' 2>&1
import re, sys, yaml
hooks = {h["id"]: h for h in yaml.safe_load(open(sys.argv[1]))}
want = ["platformc-check", "platformc-render-check", "platformc-render"]
assert sorted(hooks) == sorted(want), f"hook ids: {sorted(hooks)}"
for h in hooks.values():
    for k in ("name", "entry", "language"):
        assert k in h, f"{h['id']}: no {k}"
    assert h["language"] == "system" and h["pass_filenames"] is False, h["id"]
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
(cd "$REPO" && git init -q && platformc render >/dev/null 2>&1 && git add -A && git commit -qm init) ||
	{ fail setup "could not create the scratch repository"; exit 0; }

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

# ---- the real pre-commit ------------------------------------------------------------
if ! command -v pre-commit >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	apt-get install -y -qq --no-install-recommends pre-commit >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends pre-commit >/dev/null 2>&1; }
fi
if ! command -v pre-commit >/dev/null 2>&1; then
	skip pre-commit "pre-commit is not installed: apt-get install pre-commit"
	exit 0
fi
export PRE_COMMIT_HOME=$W/pre-commit-home
# the hooks repository as pre-commit clones it: this working tree's manifest
H=$W/hooks-repo
mkdir -p "$H" && cp "$HOOKS" "$H/" && (cd "$H" && git init -q && git add -A && git commit -qm hooks) ||
	{ fail pre-commit/setup "hooks repository"; exit 0; }
rev=$(git -C "$H" rev-parse HEAD)
cat >"$REPO/.pre-commit-config.yaml" <<Y
repos:
  - repo: $H
    rev: $rev
    hooks:
      - id: platformc-check
      - id: platformc-render-check
      - id: platformc-render
Y
(cd "$REPO" && git add .pre-commit-config.yaml && git commit -qm 'pre-commit config' && pre-commit install >/dev/null) ||
	{ fail pre-commit/setup "could not install the hooks"; exit 0; }
pc() { OUT=$(cd "$REPO" && timeout 120 pre-commit "$@" 2>&1); RC=$?; }

pc run --all-files
[ $RC -eq 0 ] && ok pre-commit/clean-tree-passes || fail pre-commit/clean-tree-passes "exit $RC: $OUT"

# a commit of a hand-edited rendered file is refused, naming the file; the
# render hook has fixed it in the working tree
echo "# edited by hand" >>"$REPO/out/$f"
OUT=$(cd "$REPO" && git add -A && timeout 120 git commit -qm 'edit output' 2>&1); RC=$?
if [ $RC -ne 0 ] && grep -qF "changed: $f" <<<"$OUT" && grep -q 'platformc render --check.*Failed' <<<"$OUT" &&
	[ "$(git -C "$REPO" rev-list --count HEAD)" = 2 ]; then ok pre-commit/commit-of-stale-output-refused
else fail pre-commit/commit-of-stale-output-refused "git commit exit $RC: $OUT"; fi
if [ -z "$(git -C "$REPO" diff --stat)" ] || ! grep -q 'edited by hand' "$REPO/out/$f"; then ok pre-commit/render-hook-fixed-the-file
else fail pre-commit/render-hook-fixed-the-file "$(git -C "$REPO" diff | head)"; fi
git -C "$REPO" reset -q --hard

# a commit of a bad input is refused with the diagnostic
printf 'bogus_key: 1\n' >>"$REPO/platform.yaml"
OUT=$(cd "$REPO" && git add -A && timeout 120 git commit -qm 'bad input' 2>&1); RC=$?
if [ $RC -ne 0 ] && grep -qE 'error\[E0101\]' <<<"$OUT" && grep -q 'platformc check.*Failed' <<<"$OUT"; then ok pre-commit/commit-of-bad-input-refused
else fail pre-commit/commit-of-bad-input-refused "git commit exit $RC: $OUT"; fi
git -C "$REPO" reset -q --hard
exit 0
