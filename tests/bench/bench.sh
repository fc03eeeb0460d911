#!/usr/bin/env bash
# tests/bench/bench.sh N... — benchmark platformc on generated platforms of N services.
#
# Usage:
#   bash tests/bench/bench.sh 1000 10000          (make bench BENCH_N="1000 10000")
#   BENCH_CHECK_ONLY=1 bash tests/bench/bench.sh 50000
#
# For each N it generates a platform with tests/bench/gen.py (N services, N/20 teams,
# N/2 resources, 3 environments) and times, as the median of 5 runs (3 runs when
# N >= 10000):
#   check            platformc check
#   render (fresh)   platformc render -o <new empty dir>            (a new dir every run)
#   render (no-op)   platformc render -o <up-to-date dir>           (nothing to write)
#   render --check   platformc render -o <up-to-date dir> --check   (compare only)
#   render (1 changed)   platformc render -o <up-to-date dir> after one service's `env`
#                        changed (it flips between two values run after run: 3 files differ)
#   render (1/3 changed) the same after the `env` of every third service changed
#   render (no-op, watched)   the no-op with `platformc watch -o <up-to-date dir>` running
#                        (started, then asked until its socket answers, one untimed render
#                        to store its token, the timed runs, then stopped)
#                        (a platform unchanged since a render that changed nothing:
#                        answered by the platform's key, without the backends)
#   render (next no-op, watched)   the no-op right after a render that wrote
#                        files (untimed: one service changed): it looks at those files and
#                        renews the stat cache, so it runs the backends
#   render (1 changed, watched)   one service changed, with the watcher running
# The up-to-date folder is made by one more (untimed) render into it, so that its stat
# cache is there as after any render a user makes (docs/decisions.md).
#   floor: tar x     tar xf of a tar of the rendered tree into a new empty dir
#   floor: lstat all find <up-to-date dir> -printf '%C@ %s': one lstat of every file and
#                    folder, the least a render that proves the tree up to date on disk
#                    (not from a watcher) can add to `check`
# The fresh renders and the floor runs alternate (render, tar, render, tar ...), with the
# up-to-date folder and the tar present for all of them: the same file system state and
# the same drift in the machine's load for both sides of the ratio.
# and prints the ratios the targets are stated in: render/floor, and no-op, --check,
# one service changed and a third changed, each to check and to the fresh render
# (docs/performance.md).
# The "floor" is what it costs this machine and filesystem just to create the same
# files with the same bytes from one process; "x floor" = operation wall / floor wall.
#
# Environment:
#   BENCH_DIR         scratch folder (default: a fresh mktemp -d under $TMPDIR or /tmp,
#                     removed at the end). /tmp may be tmpfs (RAM) or a disk filesystem
#                     depending on the machine: file-creation numbers differ a lot between
#                     the two, so the filesystem type is printed with the results.
#   BENCH_RUNS        override the number of runs per operation.
#   BENCH_CHECK_ONLY  1 = generate and time `check` only (no renders, no floor).
#   BENCH_LSP_ONLY    1 = generate and measure only the language server's latency.
#   BENCH_LSP         0 = skip the language server's latency (default: measured when
#                     Node.js is installed; `npm ci` in tests/lsp when its modules are missing).
#
# Language server: tests/lsp/latency.js opens a team file in `platformc lsp` and sends
# 40 edits one at a time (a valid one, then one with an unknown team, alternately); the
# latency of each is the time from the didChange notification to the publishDiagnostics
# it causes (a whole check of the platform); p50 and p95 are printed.
#   BENCH_KEEP        1 = keep the scratch folder.
#   PLATFORMC         binary to benchmark (default: build/platformc, built with make if missing).
#
# Wall time is measured with bash's $EPOCHREALTIME around `/usr/bin/time -f '%e %M'`
# (%e has only 10 ms resolution; the EPOCHREALTIME wall includes ~1 ms of fork/exec of
# /usr/bin/time itself). Peak RSS is /usr/bin/time's %M, the largest over the runs.
# platformc render ends with syncfs() (durable output) and tar does not, so on a disk
# filesystem the render pays for writeback that the floor leaves to the kernel.
# Page cache is warm (the input was just written); nothing is dropped between runs.
# Exits non-zero if any platformc invocation fails: a benchmark of a failing run is
# meaningless.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PLATFORMC=${PLATFORMC:-$root/build/platformc}
CHECK_ONLY=${BENCH_CHECK_ONLY:-0}
LSP_ONLY=${BENCH_LSP_ONLY:-0}
LSP=${BENCH_LSP:-1}
[ "$LSP_ONLY" = 1 ] && CHECK_ONLY=1

[ $# -gt 0 ] || set -- 1000 10000
for n in "$@"; do
  case $n in ''|*[!0-9]*) echo "bench.sh: N must be a positive integer, got '$n'" >&2; exit 2;; esac
done
[ -x /usr/bin/time ] || { echo "bench.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "bench.sh: python3 not found" >&2; exit 2; }
[ -n "${EPOCHREALTIME:-}" ] || { echo "bench.sh: needs bash >= 5 (EPOCHREALTIME)" >&2; exit 2; }
if [ ! -x "$PLATFORMC" ]; then
  make -s -C "$root" >&2 || { echo "bench.sh: building platformc failed" >&2; exit 2; }
fi
PLATFORMC=$(cd "$(dirname "$PLATFORMC")" && pwd)/$(basename "$PLATFORMC")

own_dir=0
if [ -n "${BENCH_DIR:-}" ]; then
  mkdir -p "$BENCH_DIR"; scratch=$(cd "$BENCH_DIR" && pwd)
else
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/platformc-bench.XXXXXX"); own_dir=1
fi
cleanup() {
  [ "${BENCH_KEEP:-0}" = 1 ] && { echo "scratch kept in $scratch"; return; }
  if [ $own_dir = 1 ]; then rm -rf "$scratch"; else rm -rf "$scratch"/bench-n*; fi
}
trap cleanup EXIT

fail() { echo "bench.sh: FAILED: $*" >&2; exit 1; }

# flip WHICH STATE — sets FEATURE_FLAGS of the services gen.py numbered 0 (WHICH=one)
# or of every third one (WHICH=third) to "a,b,c" (STATE=0, as generated) or "a,b,x" (1),
# in the team files of the current folder.
flip() {
  python3 - "$1" "$2" <<'PY'
import glob, re, sys
which, state = sys.argv[1], sys.argv[2]
pat = re.compile(r'(SERVICE_INDEX: "(\d+)", FEATURE_FLAGS: ")([^"]*)"')
for path in sorted(glob.glob("teams/*.yaml")):
    text = open(path).read()
    def sub(m):
        i = int(m.group(2))
        hit = i == 0 if which == "one" else i % 3 == 0
        return m.group(1) + ("a,b,x" if hit and state == "1" else "a,b,c") + '"'
    new = pat.sub(sub, text)
    if new != text:
        open(path, "w").write(new)
PY
}

# timed LABEL CMD... — run once; append "wall rss" to $samples/LABEL; the command's
# stderr goes to $work/last.err. Returns the command's exit status.
timed() {
  local label=$1; shift
  local t0 t1 rc=0
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%e %M' -o "$work/time.out" "$@" >"$work/last.out" 2>"$work/last.err" || rc=$?
  t1=$EPOCHREALTIME
  [ $rc = 0 ] || return $rc
  local rss; rss=$(awk 'END{print $2}' "$work/time.out")
  awk -v a="$t0" -v b="$t1" -v r="$rss" 'BEGIN{printf "%.6f %d\n", b-a, r}' >>"$samples/$label"
}

# median wall, max rss, min wall, max wall of a label
median() { sort -g "$samples/$1" | awk '{w[NR]=$1; if ($2>m) m=$2} END{printf "%.4f %d %.4f %.4f\n", (NR%2 ? w[(NR+1)/2] : (w[NR/2]+w[NR/2+1])/2), m, w[1], w[NR]}'; }

fstype=$(stat -f -c %T "$scratch")
echo "platformc benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  binary:     $PLATFORMC ($("$PLATFORMC" --version 2>&1 | head -1 || true))"
echo "  machine:    nproc=$(nproc), kernel $(uname -r), $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || echo '?'), $(awk '/^MemTotal/{printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo 2>/dev/null || true)"
echo "  scratch:    $scratch (filesystem: $fstype$( [ "$fstype" = tmpfs ] && echo ', in RAM: no disk I/O is measured' ))"
echo "  page cache: warm; times are wall clock; RSS is the largest peak over the runs"

for n in "$@"; do
  runs=${BENCH_RUNS:-$([ "$n" -ge 10000 ] && echo 3 || echo 5)}
  work="$scratch/bench-n$n"; rm -rf "$work"; mkdir -p "$work"
  samples="$work/samples"; mkdir -p "$samples"
  in="$work/in"
  g0=$EPOCHREALTIME
  python3 "$here/gen.py" "$n" "$in" || fail "gen.py $n"
  g1=$EPOCHREALTIME
  in_files=$(find "$in" -name '*.yaml' | wc -l)
  read -r in_lines in_bytes < <(find "$in" -name '*.yaml' -print0 | xargs -0 cat | wc -lc)
  nteams=$((n / 20 > 2 ? n / 20 : 2))   # as gen.py computes it

  echo
  echo "== N=$n services, $nteams teams, $((n / 2 > nteams ? n / 2 : nteams)) resources, 3 environments"
  printf '   input: %d files, %d lines, %.2f MB (generated in %.2f s)\n' \
    "$in_files" "$in_lines" "$(awk -v b="$in_bytes" 'BEGIN{print b/1e6}')" "$(awk -v a="$g0" -v b="$g1" 'BEGIN{print b-a}')"

  if [ "$LSP" = 1 ] && command -v node >/dev/null 2>&1; then
    if [ -d "$root/tests/lsp/node_modules" ] || (cd "$root/tests/lsp" && npm ci --no-audit --no-fund >/dev/null 2>&1); then
      printf '   '
      node "$root/tests/lsp/latency.js" "$PLATFORMC" "$in" 40 || fail "platformc lsp latency (N=$n)"
    else
      echo "   lsp latency: skipped (npm ci in tests/lsp failed)"
    fi
  fi
  [ "$LSP_ONLY" = 1 ] && continue

  cd "$in"
  for ((i = 1; i <= runs; i++)); do
    timed check "$PLATFORMC" check platform.yaml || { cat "$work/last.err" >&2; fail "platformc check (N=$n)"; }
  done

  ops=(check)
  files=0; bytes=0
  if [ "$CHECK_ONLY" != 1 ]; then
    ref="$work/ref"
    # The up-to-date folder, rendered where it stays (its stat cache,
    # .ref.platformc-cache beside it, is named after it, as for a user's
    # out/), and the tar of it that the floor extracts. Both exist before
    # any timed run, so the fresh renders and the floor run on the same
    # file system state; and they alternate, so drift in the machine's
    # load or memory affects both alike.
    "$PLATFORMC" render platform.yaml -o "$ref" 2>"$work/last.err" ||
      { cat "$work/last.err" >&2; fail "platformc render (N=$n)"; }
    files=$(find "$ref" -type f | wc -l)
    bytes=$(find "$ref" -type f -printf '%s\n' | awk '{s+=$1} END{printf "%d", s}')
    tar cf "$work/ref.tar" -C "$ref" .
    for ((i = 1; i <= runs; i++)); do
      rm -rf "$work/fresh" "$work/.fresh.platformc-cache"; mkdir "$work/fresh"
      timed render "$PLATFORMC" render platform.yaml -o "$work/fresh" ||
        { cat "$work/last.err" >&2; fail "platformc render (N=$n)"; }
      rm -rf "$work/fresh" "$work/.fresh.platformc-cache"; mkdir "$work/fresh"
      timed floor tar xf "$work/ref.tar" -C "$work/fresh" || fail "tar xf (N=$n)"
    done
    rm -rf "$work/fresh" "$work/.fresh.platformc-cache" "$work/ref.tar"
    for ((i = 1; i <= runs; i++)); do
      timed noop "$PLATFORMC" render platform.yaml -o "$ref" ||
        { cat "$work/last.err" >&2; fail "platformc no-op render (N=$n)"; }
    done
    # what it costs just to look at every file and folder of the tree once
    # (one lstat each, as find does): the least an up-to-date answer that
    # checks the disk can cost beyond `check`
    for ((i = 1; i <= runs; i++)); do
      timed statfloor find "$ref" -printf '%C@ %s\n' -fprint /dev/null || fail "find (N=$n)"
    done
    rc=0
    for ((i = 1; i <= runs; i++)); do
      timed rcheck "$PLATFORMC" render platform.yaml -o "$ref" --check || rc=$?
      if [ $rc != 0 ]; then
        cat "$work/last.err" >&2
        fail "platformc render --check on an up-to-date tree exited $rc (N=$n)"
      fi
    done
    # incremental renders: each run changes what the previous one rendered
    for which in one third; do
      for ((i = 1; i <= runs; i++)); do
        flip "$which" $((i % 2)) || fail "flip $which"
        timed "$which" "$PLATFORMC" render platform.yaml -o "$ref" ||
          { cat "$work/last.err" >&2; fail "platformc render, $which changed (N=$n)"; }
      done
      flip "$which" 0
      "$PLATFORMC" render platform.yaml -o "$ref" 2>"$work/last.err" ||
        { cat "$work/last.err" >&2; fail "platformc render (N=$n)"; }
    done
    # the same folder watched (platformc watch): its socket answers once
    # every folder is watched
    "$PLATFORMC" watch -o "$ref" 2>"$work/watch.err" &
    wpid=$!
    python3 - "$work/.ref.platformc-watch" <<'PY' || { kill "$wpid" 2>/dev/null; cat "$work/watch.err" >&2; fail "platformc watch (N=$n)"; }
import socket, sys, time
for _ in range(1200):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(sys.argv[1])
        s.sendall(b"since 0:0\n")
        if s.recv(4).startswith(b"all"):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
    "$PLATFORMC" render platform.yaml -o "$ref" 2>"$work/last.err" ||
      { kill "$wpid"; cat "$work/last.err" >&2; fail "platformc render, watched (N=$n)"; }
    for ((i = 1; i <= runs; i++)); do
      timed noopw "$PLATFORMC" render platform.yaml -o "$ref" ||
        { kill "$wpid"; cat "$work/last.err" >&2; fail "platformc no-op render, watched (N=$n)"; }
    done
    for ((i = 1; i <= runs; i++)); do
      flip one $((i % 2)) || fail "flip one"
      "$PLATFORMC" render platform.yaml -o "$ref" 2>"$work/last.err" ||
        { kill "$wpid"; cat "$work/last.err" >&2; fail "platformc render, watched (N=$n)"; }
      timed noopw1 "$PLATFORMC" render platform.yaml -o "$ref" ||
        { kill "$wpid"; cat "$work/last.err" >&2; fail "platformc no-op render after a change, watched (N=$n)"; }
    done
    for ((i = 1; i <= runs; i++)); do
      flip one $(((i + 1) % 2)) || fail "flip one"
      timed onew "$PLATFORMC" render platform.yaml -o "$ref" ||
        { kill "$wpid"; cat "$work/last.err" >&2; fail "platformc render, 1 changed, watched (N=$n)"; }
    done
    flip one 0
    kill "$wpid"
    wait "$wpid" || fail "platformc watch exited $? (N=$n)"
    ops+=(render noop rcheck one third noopw noopw1 onew floor statfloor)
  fi
  cd "$scratch"

  [ "$CHECK_ONLY" = 1 ] && echo "   (BENCH_CHECK_ONLY=1: check only; median of $runs runs)" ||
  printf '   output: %d files, %.2f MB; median of %d runs each\n' "$files" "$(awk -v b="$bytes" 'BEGIN{print b/1e6}')" "$runs"
  floor_wall=$([ "$CHECK_ONLY" != 1 ] && median floor | cut -d' ' -f1 || echo 0)
  printf '   %-28s %8s %15s %8s %7s %8s %6s %7s\n' operation "wall s" "(min-max)" "RSS MiB" files "files/s" "MB/s" "x floor"
  printf '   %-28s %8s %15s %8s %7s %8s %6s %7s\n' ---------------------------- -------- --------------- -------- ------- -------- ------ -------
  for op in "${ops[@]}"; do
    read -r wall rss wmin wmax < <(median "$op")
    case $op in
      check)  name="check";               f=-;;
      render) name="render (fresh dir)";  f=$files;;
      noop)   name="render (no-op)";      f=$files;;
      rcheck) name="render --check";      f=$files;;
      one)    name="render (1 changed)";  f=$files;;
      third)  name="render (1/3 changed)"; f=$files;;
      noopw)  name="render (no-op, watched)"; f=$files;;
      noopw1) name="render (next no-op, watched)"; f=$files;;
      onew)   name="render (1 changed, watched)"; f=$files;;
      floor)  name="floor: tar xf";       f=$files;;
      statfloor) name="floor: lstat all";  f=$files;;
    esac
    awk -v name="$name" -v w="$wall" -v lo="$wmin" -v hi="$wmax" -v r="$rss" -v f="$f" -v b="$bytes" -v fl="$floor_wall" -v op="$op" 'BEGIN{
      if (f == "-") { fs = "-"; mbs = "-" } else { fs = sprintf("%.0f", w > 0 ? f / w : 0); mbs = sprintf("%.1f", w > 0 ? b / 1e6 / w : 0) }
      x = (op == "check" || op == "floor" || op == "statfloor" || fl <= 0) ? "-" : sprintf("%.1f", w / fl)
      printf "   %-28s %8.3f %15s %8.1f %7s %8s %6s %7s\n", name, w, sprintf("(%.3f-%.3f)", lo, hi), r / 1024, f, fs, mbs, x }'
  done
  if [ "$CHECK_ONLY" != 1 ] && awk -v r="$(median render | cut -d' ' -f1)" -v f="$floor_wall" 'BEGIN{exit !(r < f)}'; then
    echo "   note: the fresh render beat the tar floor: file creation on this filesystem is noisy"
    echo "         (see the min-max spread); BENCH_DIR on a tmpfs gives the CPU-bound view"
  fi
  read -r cw _ < <(median check)
  awk -v w="$cw" -v n="$n" 'BEGIN{printf "   check: %.2f us per service\n", w * 1e6 / n}'
  if [ "$CHECK_ONLY" != 1 ]; then
    read -r rw _ < <(median render)
    read -r nw _ < <(median noop)
    read -r kw _ < <(median rcheck)
    awk -v w="$rw" -v n="$n" -v f="$files" 'BEGIN{printf "   render (fresh dir): %.2f us per service, %.2f us per file\n", w * 1e6 / n, f ? w * 1e6 / f : 0}'
    read -r ow _ < <(median one)
    read -r tw _ < <(median third)
    read -r sw _ < <(median statfloor)
    read -r nww _ < <(median noopw)
    read -r oww _ < <(median onew)
    read -r n1w _ < <(median noopw1)
    # the targets: fresh render <= 1.0x floor; no-op and --check <= 2x check; one
    # service changed <= 3x check
    awk -v r="$rw" -v f="$floor_wall" -v c="$cw" -v nw="$nw" -v kw="$kw" -v ow="$ow" -v tw="$tw" -v sw="$sw" -v nww="$nww" -v oww="$oww" -v n1w="$n1w" 'BEGIN{
      printf "   ratios: render/floor %.2f (target <= 1.0)\n", f > 0 ? r / f : 0
      printf "           %-14s %8s %8s\n", "", "x check", "x render"
      printf "           %-14s %8.2f %8.2f   (target <= 2x check)\n", "no-op", nw / c, nw / r
      printf "           %-14s %8.2f %8.2f   (target <= 2x check)\n", "--check", kw / c, kw / r
      printf "           %-14s %8.2f %8.2f   (target <= 3x check)\n", "1 changed", ow / c, ow / r
      printf "           %-14s %8.2f %8.2f\n", "1/3 changed", tw / c, tw / r
      printf "           %-14s %8.2f %8.2f   (target <= 2x check)\n", "no-op, watched", nww / c, nww / r
      printf "           %-14s %8.2f %8.2f\n", "next no-op, w.", n1w / c, n1w / r
      printf "           %-14s %8.2f %8.2f   (target <= 3x check)\n", "1 ch., watched", oww / c, oww / r
      printf "   lstat floor: %.3f s = %.2fx check; no-op beyond check: %.3f s = %.2fx the lstat floor\n", sw, sw / c, nw - c, (sw > 0 ? (nw - c) / sw : 0) }'
  fi
  rm -rf "$work/ref" "$work/.ref.platformc-cache"
done
