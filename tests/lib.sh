# tests/lib.sh — sourced by tests/run.sh and by every group script
# (tests/groups/<group>.sh). See tests/README.md for the contract.
#
# What it gives a group:
#   - the environment: ROOT (the repository, also the working directory),
#     PLATFORMC and UNIT (absolute paths), PY (a Python with jsonschema and
#     PyYAML), SOURCE_DATE_EPOCH, NO_COLOR, EXAMPLES, TMP (a scratch folder
#     removed at exit), SHARED (a scratch folder shared by the groups of one
#     tests/run.sh; a group run on its own gets its own);
#   - ok NAME / fail NAME [DETAIL] / skip NAME WHY: one line per case, counted;
#   - relay: runs a child script or command and turns its `ok`/`FAIL` lines
#     into cases of this group; the group fails when the child exits non-zero,
#     reports no case, or fewer cases than declared;
#   - render_to / render_example: a render whose exit code and output folder
#     are checked (never compare or hash a folder that may not exist);
#   - finish: the last line `N passed, N failed`, exit status 1 when anything
#     failed or no case ran.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
PLATFORMC=${PLATFORMC:-$ROOT/build/platformc}
UNIT=${UNIT:-$ROOT/build/unit}
case $PLATFORMC in /*) ;; *) PLATFORMC=$ROOT/$PLATFORMC ;; esac
case $UNIT in /*) ;; *) UNIT=$ROOT/$UNIT ;; esac
export PLATFORMC UNIT ROOT
export SOURCE_DATE_EPOCH=1767225600   # 2026-01-01: "today" for expiry checks
export NO_COLOR=1
unset GITHUB_ACTIONS

# Python with jsonschema and PyYAML for the validators: the one on PATH, else
# Debian's (installed when missing and running as root). Done once per run:
# tests/run.sh exports PY to its groups.
if [ -z "${PY:-}" ]; then
	PY=python3
	if ! python3 -c 'import jsonschema, yaml' 2>/dev/null; then
		if ! /usr/bin/python3 -c 'import jsonschema, yaml' 2>/dev/null && [ "$(id -u)" = 0 ]; then
			apt-get install -y -qq --no-install-recommends python3-jsonschema python3-yaml >/dev/null 2>&1 ||
				{ apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-jsonschema python3-yaml >/dev/null; }
		fi
		PY=/usr/bin/python3
	fi
fi
export PY

EXAMPLES=$(ls examples/*/platform.yaml | xargs -n1 dirname | xargs -n1 basename)

# Scratch space on tmpfs when there is room: renders syncfs() their output,
# which costs seconds each on a busy disk and nothing on tmpfs. TMPDIR points
# there too, for the children (mktemp, Python's tempfile, the unit tests).
if [ -z "${TESTS_TMPDIR:-}" ]; then
	TESTS_TMPDIR=${TMPDIR:-/tmp}
	if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')" -gt 2000000 ] 2>/dev/null; then
		TESTS_TMPDIR=/dev/shm
	fi
fi
export TESTS_TMPDIR
export TMPDIR=$TESTS_TMPDIR
TMP=$(mktemp -d "$TESTS_TMPDIR/platformc-test.XXXXXX")
_OWN_SHARED=""
if [ -z "${SHARED:-}" ] || [ ! -d "$SHARED" ]; then
	SHARED=$(mktemp -d "$TESTS_TMPDIR/platformc-shared.XXXXXX") _OWN_SHARED=$SHARED
fi
export SHARED
CLEANUP=("$TMP")
[ -n "$_OWN_SHARED" ] && CLEANUP+=("$_OWN_SHARED")
trap 'rm -rf "${CLEANUP[@]}"' EXIT

PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()

ok() { printf 'ok   %s\n' "$1"; PASSED=$((PASSED + 1)); }
fail() {
	printf 'FAIL %s\n' "$1"
	[ $# -gt 1 ] && [ -n "$2" ] && printf '%s\n' "$2" | head -40 | sed 's/^/     /'
	FAILED=$((FAILED + 1)); FAILURES+=("$1")
}
skip() { printf 'skip %s (%s)\n' "$1" "$2"; SKIPPED=$((SKIPPED + 1)); }

# finish: the group's last line; exit 1 when a case failed or none ran
finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] && [ $((PASSED + SKIPPED)) -gt 0 ]
	exit $?
}

# relay [-n MIN] [-p PREFIX] [-S] [-q] LABEL COMMAND...
# Runs COMMAND (stdin from /dev/null, stderr with stdout) and relays its lines:
#   "ok   NAME..." / "ok NAME..."  -> a passed case (PREFIX put before NAME)
#   "FAIL NAME..."                 -> a failed case; the lines up to the next
#                                     case are its details
#   "skip NAME..."                 -> printed, counted as a visible skip
#   "N passed, N failed"           -> the child's own count: must agree
#   anything else                  -> printed indented, as detail
# and adds a failed case LABEL when the child exits non-zero without
# reporting a failure, reports no case at all, reports fewer than MIN cases
# (skips count: they are visible), or its summary disagrees with its lines
# (-S: a summary line is required). -q: details are not printed.
# Sets RELAY_PASSED, RELAY_FAILED, RELAY_SKIPPED, RELAY_RC.
RELAY_MARK="@@relay-exit-status@@"
relay() {
	local min=1 prefix="" need_summary=0 quiet=0
	while [ $# -gt 0 ]; do
		case $1 in
		-n) min=$2; shift 2 ;;
		-p) prefix=$2; shift 2 ;;
		-S) need_summary=1; shift ;;
		-q) quiet=1; shift ;;
		*) break ;;
		esac
	done
	local label=$1; shift
	local line rc="" summary="" np=0 nf=0 ns=0 name
	RELAY_DETAIL=""
	while IFS= read -r line; do
		case $line in
		"$RELAY_MARK "*) rc=${line#"$RELAY_MARK "} ;;
		"ok "*)
			line=${line#ok}; line=${line#"${line%%[! ]*}"}
			printf 'ok   %s%s\n' "$prefix" "$line"; np=$((np + 1)); PASSED=$((PASSED + 1)) ;;
		"FAIL "*)
			line=${line#FAIL}; line=${line#"${line%%[! ]*}"}
			printf 'FAIL %s%s\n' "$prefix" "$line"; nf=$((nf + 1)); FAILED=$((FAILED + 1))
			name=$prefix$line; FAILURES+=("${name%% (*}") ;;
		"skip "*)
			printf 'skip %s%s\n' "$prefix" "${line#skip }"; ns=$((ns + 1)); SKIPPED=$((SKIPPED + 1)) ;;
		[0-9]*" passed, "[0-9]*" failed") summary=$line ;;
		"") ;;
		*)
			[ $quiet = 1 ] && continue
			case $line in "     "*) printf '%s\n' "$line" ;; *) printf '     %s\n' "$line" ;; esac ;;
		esac
	done < <("$@" </dev/null 2>&1; printf '\n%s %d\n' "$RELAY_MARK" $?)
	RELAY_PASSED=$np RELAY_FAILED=$nf RELAY_SKIPPED=$ns RELAY_RC=${rc:-255}
	local why=""
	if [ "$RELAY_RC" != 0 ] && [ $nf -eq 0 ]; then why="exited with status $RELAY_RC without reporting a failed case"
	elif [ $((np + nf + ns)) -eq 0 ]; then why="reported no case"
	elif [ $((np + nf + ns)) -lt "$min" ]; then why="reported $((np + nf + ns)) cases, expected at least $min"
	elif [ -n "$summary" ] && [ "$summary" != "$np passed, $nf failed" ]; then why="says \"$summary\" but reported $np passed, $nf failed"
	elif [ -z "$summary" ] && [ $need_summary = 1 ]; then why="ended without its \"N passed, N failed\" line"
	fi
	if [ -n "$why" ]; then fail "$label ($why)"; return 1; fi
	[ $nf -eq 0 ]
}

# render_to INPUT OUTDIR [ARGS...]: a render that must exit 0 and leave
# OUTDIR with a README.md; on failure, RENDER_ERR says why and it returns 1.
render_to() {
	local input=$1 out=$2; shift 2
	local err
	err=$("$PLATFORMC" render "$input" -o "$out" "$@" 2>&1 >/dev/null); local rc=$?
	if [ $rc -ne 0 ]; then RENDER_ERR="exit $rc: $err"; return 1; fi
	if [ ! -f "$out/README.md" ]; then RENDER_ERR="exit 0 but no $out/README.md: ${err:-(no output)}"; return 1; fi
	RENDER_ERR=""
}

# render_example EX: examples/EX rendered once per binary and run, into
# $RENDERED; read-only for the groups that use it.
render_example() {
	local key
	key=$(printf '%s' "$PLATFORMC" | cksum | cut -d' ' -f1)
	RENDERED=$SHARED/render-$key/$1
	[ -f "$RENDERED.ok" ] && return 0
	mkdir -p "$(dirname "$RENDERED")"
	# groups run side by side (tests/run.sh): the first renders, the others wait
	(
		flock 9
		[ -f "$RENDERED.ok" ] && exit 0
		rm -rf "$RENDERED"
		render_to "examples/$1/platform.yaml" "$RENDERED" || { printf '%s' "$RENDER_ERR" >"$RENDERED.err"; exit 1; }
		: >"$RENDERED.ok"
	) 9>"$RENDERED.lock" || { RENDER_ERR=$(cat "$RENDERED.err" 2>/dev/null); return 1; }
}

# tree_hash DIR: one hash over every file's path and bytes (without the
# manifest); fails (empty output) when DIR is missing or holds no file.
# NUL-separated: generated names may hold spaces (`${{ values.name }}.yaml.njk`)
tree_hash() {
	[ -d "$1" ] && [ -n "$(find "$1" -type f ! -name .platformc-manifest -print -quit)" ] || return 1
	(cd "$1" && find . -type f ! -name .platformc-manifest -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}

# TESTS_QUICK=1: each group's smallest form (tests/README.md), still running
# the binary; the meta group runs the groups so.
want_quick() { [ -n "${TESTS_QUICK:-}" ] && [ "${TESTS_QUICK}" != 0 ]; }
# the hostile inputs of the quick forms of the hostile and asan groups
HOSTILE_QUICK_CASES="alias-bomb many-keys nul empty tabs"

# validate OUTVAR PATH...: tests/tools/validate_tree.py --quiet over PATHs;
# fails when it fails or validated no object at all (an empty or missing
# tree is not a valid one). The tool's output goes to the variable OUTVAR.
validate() {
	local __var=$1; shift
	local __out __rc
	__out=$("$PY" tests/tools/validate_tree.py --quiet "$@" 2>&1); __rc=$?
	if [ $__rc -eq 0 ] && grep -q '^validated 0 objects' <<<"$__out"; then
		__out+=$'\n'"(no object to validate in: $*)"; __rc=1
	fi
	printf -v "$__var" '%s' "$__out"
	return $__rc
}
