#!/usr/bin/env bash
# Pathological inputs (guide §3.1, §5): each must be rejected or handled in
# well under a second, within bounded memory, never crash: each input has
# its expected exit code (1, a coded diagnostic, for all but three that
# are valid platforms).
# Prints "ok   hostile/<name> (<ms> ms, <KiB> KiB)" or "FAIL ..." lines (25
# cases), also to $1/hostile.log, and exits 1 when one failed. Limits: 1 s
# of CPU time (user + system: what the input costs, whatever else the
# machine runs beside it; the test groups run two at a time), 10 s wall
# (timeout: a hang), 512 MiB address space; for a sanitizer build 5 s of CPU
# and 30 s wall per case, no address-space limit.
# HOSTILE_CASES="NAME...": only these inputs (the quick form of the group).
# HOSTILE_GENERATE_ONLY=1: only writes the inputs, $1/hostile/<name>.yaml,
# each with its expected exit code in <name>.want (the asan group runs them).
set -u
T=$1/hostile
mkdir -p "$T"
LOG=$1/hostile.log
: >"$LOG"
P=${PLATFORMC:-}
[ -n "${HOSTILE_GENERATE_ONLY:-}" ] || [ -n "$P" ] || { echo "FAIL hostile/setup (PLATFORMC is not set)"; exit 1; }
# A sanitizer build reserves terabytes of address space for its shadow
# memory and runs several times slower: no address-space limit, and 5x time.
VLIMIT="ulimit -v 524288;" MAX_MS=1000 TIMEOUT=10
if [ -n "$P" ] && grep -qa __asan_init "$P" 2>/dev/null; then
	VLIMIT="" MAX_MS=5000 TIMEOUT=30
fi

base() {
	cat <<'Y'
platform:
  name: acme
  domain: acme.dev
  owner: platform
  cloud: {provider: aws, region: us-west-2, account: "123456789012"}
  gitops: {repo: https://github.com/acme/gitops}
  registries: [ghcr.io/acme]
environments:
  - {name: dev, tier: nonprod}
teams:
  - name: platform
    quota: {cpu: 2, memory: 4Gi}
Y
}

gen() {
	local name=$1
	case $name in
	alias-bomb)
		python3 -c "
print('a: &a [x, x, x, x, x, x, x, x, x, x]')
for i in range(1, 12):
    print(f'a{i}: &a{i} [' + ', '.join([f'*a{i-1}' if i > 1 else '*a'] * 10) + ']')" ;;
	open-brackets) python3 -c "print('[' * 100000)" ;;
	open-braces) python3 -c "print('{a: ' * 50000)" ;;
	open-brackets-lines) python3 -c "print('[\n' * 100000)" ;;
	huge-scalar-lines) python3 -c "print('platform:\n  name: \"' + ('a' * 60000 + '\n    ') * 60 + '\"')" ;;
	literal-block) python3 -c "print('platform:\n  name: |\n' + ('    ' + 'a' * 1000 + '\n') * 3000)" ;;
	deep-block) python3 -c "
for i in range(40): print('  ' * i + f'k{i}:')
print('  ' * 40 + 'v')" ;;
	many-keys) base; python3 -c "
print('services:')
print('  - name: s')
print('    team: platform')
print('    image: ghcr.io/acme/s')
print('    env:')
for i in range(20000): print(f'      K{i}: v')" ;;
	many-services) base; python3 -c "
print('services:')
for i in range(3000): print(f'  - {{name: s{i}, team: platform, image: ghcr.io/acme/s, resources: {{cpu: 1m, memory: 1Mi}}}}')" ;;
	many-unknown-keys) base; python3 -c "
for i in range(20000): print(f'bogus{i}: 1')" ;;
	many-errors) base; python3 -c "
print('services:')
for i in range(5000): print(f'  - {{name: s{i}, team: nobody, image: docker.io/x/y}}')" ;;
	quota-grid) python3 -c "
# quotas are summed per (team, environment) in one pass over the services
print('platform: {name: acme, domain: acme.dev, owner: t0, cloud: {provider: aws, region: us-west-2, account: \'123456789012\'}, gitops: {repo: https://github.com/acme/gitops}, registries: [ghcr.io/acme]}')
print('environments:')
for e in range(30): print(f'  - {{name: e{e}, tier: nonprod}}')
print('teams:')
for t in range(300): print(f'  - {{name: t{t}, quota: {{cpu: 1, memory: 1Gi}}}}')
print('services:')
for i in range(20000): print(f'  - {{name: s{i}, team: t{i % 300}, image: ghcr.io/acme/s, resources: {{cpu: 1m, memory: 1Mi}}}}')" ;;
	big-env-override) base; python3 -c "
print('services:')
print('  - name: s')
print('    team: platform')
print('    image: ghcr.io/acme/s')
print('    env:')
for i in range(20000): print(f'      K{i}: v')
print('    overrides:')
print('      dev:')
print('        env:')
for i in range(20000): print(f'          K{i}: w')" ;;
	many-unknown-refs) base; python3 -c "
print('services:')
for i in range(20000): print(f'  - {{name: service-{i}, team: platform, image: ghcr.io/acme/s, calls: [servise-{i}]}}')" ;;
	many-secrets) base; python3 -c "
print('services:')
print('  - name: s')
print('    team: platform')
print('    image: ghcr.io/acme/s')
print('    env:')
for i in range(20000): print(f'      K{i}: AKIA{i:016d}  # AKIA{i:016d}')" ;;
	huge-file) python3 -c "
import sys
sys.stdout.write('# ' + 'x' * (4 * 1024 * 1024 + 10) + '\n')" ;;
	long-line) python3 -c "print('platform: {name: ' + 'a' * 1000000 + '}')" ;;
	huge-scalar) python3 -c "print('platform:\n  name: \"' + 'a' * 3000000 + '\"')" ;;
	long-key) python3 -c "print('k' * 1000000 + ': v')" ;;
	invalid-utf8-hang) printf '%%\xfb' ;;
	nul) printf 'platform:\n  name: a\0b\n' ;;
	only-bom) printf '\xef\xbb\xbf' ;;
	empty) printf '' ;;
	garbage) head -c 100000 /dev/urandom | tr -d '\0' ;;
	tabs) printf 'platform:\n\tname: x\n' ;;
	esac
}

status=0
report() { echo "$1" | tee -a "$LOG"; case $1 in FAIL*) status=1 ;; esac; }
# NAME:EXIT, EXIT the expected exit code of `platformc check`
for case in alias-bomb:1 open-brackets:1 open-braces:1 open-brackets-lines:1 huge-scalar-lines:1 literal-block:1 deep-block:1 \
	many-keys:0 many-services:1 many-unknown-keys:1 many-errors:1 quota-grid:0 big-env-override:0 many-unknown-refs:1 \
	many-secrets:1 huge-file:1 long-line:1 huge-scalar:1 long-key:1 invalid-utf8-hang:1 nul:1 only-bom:1 empty:1 garbage:1 tabs:1; do
	name=${case%:*} want=${case#*:}
	[ -z "${HOSTILE_CASES:-}" ] || [[ " $HOSTILE_CASES " == *" $name "* ]] || continue
	gen "$name" >"$T/$name.yaml"
	echo "$want" >"$T/$name.want"
	[ -n "${HOSTILE_GENERATE_ONLY:-}" ] && continue
	start=$(date +%s%N)
	/usr/bin/time -f '%M %U %S' -o "$T/$name.rss" bash -c "$VLIMIT exec timeout $TIMEOUT \"$P\" check \"$T/$name.yaml\"" \
		>/dev/null 2>"$T/$name.err"
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	read -r kib usr sys < <(tail -1 "$T/$name.rss" 2>/dev/null)
	cpu_ms=$(awk -v u="${usr:-0}" -v s="${sys:-0}" 'BEGIN { printf "%d", (u + s) * 1000 }')
	if [ $rc -ne "$want" ]; then
		report "FAIL hostile/$name (exit $rc after $ms ms, expected $want: $(grep -v '^ ' "$T/$name.err" | head -2 | tr '\n' ' ' | cut -c1-200))"
	elif [ "$cpu_ms" -ge $MAX_MS ]; then
		report "FAIL hostile/$name (took $cpu_ms ms of CPU, $ms ms wall)"
	elif [ $rc -eq 1 ] && ! grep -qE '^error\[E[0-9]{4}\]' "$T/$name.err"; then
		report "FAIL hostile/$name (exit 1 without a coded diagnostic)"
	else
		report "ok   hostile/$name ($cpu_ms ms CPU, $ms ms wall, ${kib} KiB, exit $rc)"
	fi
done
exit $status
