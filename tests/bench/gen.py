#!/usr/bin/env python3
"""gen.py N OUTDIR — generate a valid, deterministic platform of N services.

Writes OUTDIR/platform.yaml (platform, 3 environments, all teams, defaults,
policies, `include: [teams/*.yaml]`) and one OUTDIR/teams/<team>.yaml per team
holding that team's services and resources. Above 1000 teams (N > ~20,000)
consecutive teams share a file, because platformc accepts at most 1000
included files (E0154).

Shape (no randomness; everything is a function of the index):
  * environments dev, staging (nonprod) and production (prod)
  * max(2, N // 20) teams, services dealt round-robin (~20 per team)
  * N // 2 resources (at least one per team), each team cycling through all 8 built-in
    kinds: aurora-postgresql, aurora-mysql, dynamodb, redis, sqs, sns, secret,
    s3-bucket; every sns topic subscribes to an sqs queue of its own team
  * services: image under the first registry, port, api, resources, replicas
    range, env vars, slo, calls to up to 2 services of the same team, uses of
    up to 2 of the team's own resources, ingress on every 4th service,
    per-environment overrides
  * quotas sized from the services (sum of min replicas x requests per env,
    production min >= 2) with 50% headroom, so every team fits.
"""
import os
import sys

CPUS = [(100, "100m"), (250, "250m"), (500, "500m"), (200, "200m")]     # millicores
MEMS = [(256, "256Mi"), (512, "512Mi"), (1024, "1Gi"), (384, "384Mi")]  # MiB
LANGS = ["python", "node", "go", "java", "ruby", "rust", "other"]
APIS = ["rest", "grpc", "graphql", "none"]
PORTS = {"python": 8080, "node": 3000, "go": 8080, "java": 9090, "ruby": 3000,
         "rust": 9090, "other": 8000}
KINDS = ["aurora-postgresql", "sqs", "redis", "sns", "dynamodb", "secret",
         "s3-bucket", "aurora-mysql"]
ENVS = ["dev", "staging", "production"]
MAX_INCLUDE_FILES = 1000   # platformc rejects more included files than this (E0154)


def team_name(t):
    return "team-%04d" % t


def svc_name(team, i):
    return "%s-svc-%02d" % (team, i)


def res_params(kind, name, idx, team_sqs):
    """Minimal valid params for each kind, as YAML flow text."""
    if kind == "aurora-postgresql":
        return '{version: "16", min_acu: 0.5, max_acu: %d}' % (4 << (idx % 3))
    if kind == "aurora-mysql":
        if idx % 2:
            return '{version: "8.0", mode: provisioned, instance_class: db.r6g.large}'
        return '{version: "8.0", min_acu: 0.5, max_acu: 8}'
    if kind == "dynamodb":
        return ('{partition_key: {name: id, type: "S"}, sort_key: {name: ts, type: "N"}, '
                'ttl_attribute: expires_at}')
    if kind == "redis":
        return "{node_type: cache.t4g.small, engine_version: \"7.1\"}"
    if kind == "sqs":
        return "{visibility_timeout: 30s, retention: 4d, dlq: {max_receive: 5}}"
    if kind == "sns":
        if team_sqs:
            return "{subscriptions: [{protocol: sqs, resource: %s}]}" % team_sqs
        return "{subscriptions: [{protocol: email, endpoint: alerts@fasti.sh}]}"
    if kind == "secret":
        return "{description: Credentials for %s, generate: {length: 32}, rotation_days: 90}" % name
    if kind == "s3-bucket":
        return "{versioning: true, expire_after: 400d}"
    raise ValueError(kind)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: gen.py N OUTDIR\n")
        return 2
    n = int(sys.argv[1])
    out = sys.argv[2]
    if n < 1:
        sys.stderr.write("gen.py: N must be >= 1\n")
        return 2
    nteams = max(2, n // 20)
    nres = max(n // 2, nteams)
    os.makedirs(os.path.join(out, "teams"), exist_ok=True)

    # Deal services and resources round-robin over teams.
    svcs = [[] for _ in range(nteams)]   # per team: list of global service index
    for s in range(n):
        svcs[s % nteams].append(s)
    res = [[] for _ in range(nteams)]
    for r in range(nres):
        res[r % nteams].append(r)

    team_docs = []
    quotas = []
    for t in range(nteams):
        team = team_name(t)
        # resources first so services can refer to them by name
        rnames, rlines = [], []
        kinds = [KINDS[(t + j) % len(KINDS)] for j in range(len(res[t]))]
        names = ["%s-%s-%02d" % (team, k.replace("aurora-", ""), j) for j, k in enumerate(kinds)]
        team_sqs = next((nm for nm, k in zip(names, kinds) if k == "sqs"), None)
        for j, r in enumerate(res[t]):
            kind, name = kinds[j], names[j]
            rnames.append(name)
            rlines += ["  - name: %s" % name,
                       "    kind: %s" % kind,
                       "    team: %s" % team,
                       "    params: %s" % res_params(kind, name, r, team_sqs if kind == "sns" else None)]
            if kind == "aurora-postgresql":
                rlines.append("    overrides: {production: {params: {min_acu: 1, backup_retention_days: 14}}}")
        cpu_env = {e: 0 for e in ENVS}   # millicores at min replicas
        mem_env = {e: 0 for e in ENVS}   # MiB
        pods_env = {e: 0 for e in ENVS}  # at max replicas
        slines = []
        nsv = len(svcs[t])
        for i, s in enumerate(svcs[t]):
            name = svc_name(team, i)
            lang = LANGS[s % len(LANGS)]
            api = APIS[s % len(APIS)]
            cpu_m, cpu = CPUS[s % len(CPUS)]
            mem_m, mem = MEMS[(s // 3) % len(MEMS)]
            rmin = 1 + (s % 2)
            rmax = rmin + 2 + (s % 5)
            pmin = max(2, rmin + 1)
            pmax = max(rmax, pmin + 4)
            slines += [
                "  - name: %s" % name,
                "    team: %s" % team,
                "    description: Generated service %d of %s" % (i, team),
                "    repo: https://github.com/fastish/%s" % name,
                "    lifecycle: %s" % ("experimental" if s % 17 == 0 else "production"),
                "    language: %s" % lang,
                "    image: ghcr.io/fastish/%s" % name,
                "    port: %d" % PORTS[lang],
                "    api: %s" % api,
                "    resources: {cpu: %s, memory: %s}" % (cpu, mem),
                "    replicas: {min: %d, max: %d, cpu: %d}" % (rmin, rmax, 60 + s % 20),
                '    env: {LOG_LEVEL: info, SERVICE_INDEX: "%d", FEATURE_FLAGS: "a,b,c"}' % s,
            ]
            uses = [rnames[k % len(rnames)] for k in (i, i + 1)] if rnames else []
            uses = sorted(set(uses))
            if uses:
                slines.append("    uses: [%s]" % ", ".join(uses))
            # workers (api: none) serve nothing to call (E0261)
            calls = [svc_name(team, (i + k) % nsv) for k in (1, 2)
                     if (i + k) % nsv != i and APIS[svcs[t][(i + k) % nsv] % len(APIS)] != "none"]
            calls = sorted(set(calls))
            if calls:
                slines.append("    calls: [%s]" % ", ".join(calls))
            if s % 4 == 0:
                slines.append("    ingress: {host: %s.fasti.sh, path: /}" % name)
            if api == "none":
                slines.append("    health: {command: [/app/healthcheck]}")   # exec probes (W0280)
            if api != "none":
                slines += ["    slo:",
                           "      availability: %s" % ("99.9" if s % 3 else "99.95"),
                           "      latency: {threshold: %dms, percent: 99}" % (100 + 50 * (s % 8))]
            ov = ["    overrides:",
                  "      dev: {replicas: 1, env: {LOG_LEVEL: debug}%s}" %
                  (", ingress: {host: %s.dev.fasti.sh}" % name if s % 4 == 0 else "")]
            if s % 4 == 0:
                ov.append("      staging: {ingress: {host: %s.staging.fasti.sh}}" % name)
            ov.append("      production: {replicas: {min: %d, max: %d}}" % (pmin, pmax))
            slines += ov
            for e, mn, mx in (("dev", 1, 1), ("staging", rmin, rmax), ("production", pmin, pmax)):
                cpu_env[e] += mn * cpu_m
                mem_env[e] += mn * mem_m
                pods_env[e] += mx
        team_docs.append((team, slines, rlines))
        cpu_need = max(cpu_env.values())
        mem_need = max(mem_env.values())
        pods_need = max(pods_env.values())
        # 50% headroom, rounded up to whole cores / GiB
        quotas.append(((cpu_need * 3 // 2 + 999) // 1000 + 1,
                       (mem_need * 3 // 2 + 1023) // 1024 + 1,
                       pods_need * 2 + 10))

    root = ["# Generated by tests/bench/gen.py: %d services, %d teams, %d resources." % (n, nteams, nres),
            "platform:",
            "  name: fastish",
            "  domain: fasti.sh",
            "  owner: %s" % team_name(0),
            '  cloud: {provider: aws, region: eu-west-1, account: "123456789012"}',
            "  gitops: {repo: https://github.com/fastish/aws-idp-gitops, revision: main, path: out}",
            "  registries: [ghcr.io/fastish, 123456789012.dkr.ecr.eu-west-1.amazonaws.com]",
            "  grafana: {url: https://grafana.fasti.sh}",
            "  backstage: {url: https://backstage.fasti.sh}",
            "",
            "environments:",
            "  - {name: dev,        tier: nonprod}",
            "  - {name: staging,    tier: nonprod}",
            "  - {name: production, tier: prod, cluster: prod-eu}",
            "",
            "teams:"]
    for t in range(nteams):
        team = team_name(t)
        cpu, mem, pods = quotas[t]
        root += ["  - name: %s" % team,
                 "    title: Team %d" % t,
                 "    email: %s@fasti.sh" % team,
                 '    slack: "#%s"' % team,
                 "    members: [user-%d-a, user-%d-b]" % (t, t),
                 "    quota: {cpu: %d, memory: %dGi, pods: %d}" % (cpu, mem, pods),
                 "    budget: %d" % (20000 + 1000 * (t % 10))]
    root += ["",
             "defaults:",
             "  service:",
             "    health: {liveness: /healthz, readiness: /readyz}",
             "    env: {LOG_FORMAT: json}",
             "  resources:",
             "    redis: {node_type: cache.t4g.small}",
             "",
             "policies:",
             "  action: Enforce",
             "  disable: [require-read-only-root-fs]",
             "",
             "include: [teams/*.yaml]",
             ""]
    with open(os.path.join(out, "platform.yaml"), "w") as f:
        f.write("\n".join(root))
    # One file per team, unless that would exceed platformc's include limit
    # (E0154: more than MAX_INCLUDE_FILES included files); then consecutive teams
    # share a file named after the first of them.
    per_file = -(-len(team_docs) // MAX_INCLUDE_FILES)
    for k in range(0, len(team_docs), per_file):
        group = team_docs[k:k + per_file]
        names = [g[0] for g in group]
        lines = ["# %s — generated by tests/bench/gen.py" % ", ".join(names), ""]
        slines = [ln for g in group for ln in g[1]]
        rlines = [ln for g in group for ln in g[2]]
        if slines:
            lines += ["services:"] + slines + [""]
        if rlines:
            lines += ["resources:"] + rlines + [""]
        with open(os.path.join(out, "teams", names[0] + ".yaml"), "w") as f:
            f.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
