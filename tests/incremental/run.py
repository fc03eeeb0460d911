#!/usr/bin/env python3
"""tests/incremental/run.py PLATFORMC TMP — a render that keeps units of output
gives the tree a fresh render gives, byte for byte, after each kind of change.

A copy of examples/company is rendered into one folder (with its stat cache
beside it), then changed one input at a time, cumulatively: a service field, a
team quota, the members of the platform's owner team, a resource parameter, a
resource another names (an sns topic's queue), a service's calls, the resources a
service uses, the access modes of one use, the environments a service runs in, a platform
default, a policy exception, an included file added and one removed, a service
added and one removed. After each change the folder is rendered again (with
PLATFORMC_STATS=1, which reports how many units of output were kept) and
compared with a fresh render of the same input into an empty folder: every
file's path and bytes, the manifest included. A change local to a few units
must keep most of the others (else the keys are ignored); a no-op render
keeps them all; a change every unit reads keeps none (else a key misses it).
The root file named by another path (from its own folder) changes no key.
Prints one `ok`/`FAIL incremental/<case>` line per case; exit 1 on a failure.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys

PLATFORMC, TMP = sys.argv[1], sys.argv[2]
QUICK = os.environ.get("TESTS_QUICK", "0") not in ("", "0")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(TMP, "in")
OUT = os.path.join(TMP, "out")
passed = failed = 0


def ok(name):
    global passed
    passed += 1
    print(f"ok   incremental/{name}", flush=True)


def fail(name, why):
    global failed
    failed += 1
    print(f"FAIL incremental/{name}", flush=True)
    for line in str(why).splitlines()[:30]:
        print(f"    {line}", flush=True)


def render(out, check=False, relative=False):
    """(exit code, stderr, stats) of a render; stats: (units, kept) or None.
    relative: run in the input folder, naming the root file `platform.yaml`."""
    root = "platform.yaml" if relative else os.path.join(SRC, "platform.yaml")
    cmd = [PLATFORMC, "render", root, "-o", os.path.abspath(out)]
    if check:
        cmd.append("--check")
    env = dict(os.environ, PLATFORMC_STATS="1", SOURCE_DATE_EPOCH="1767225600")
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       cwd=SRC if relative else None)
    m = re.search(r"stats: (\d+) units, (\d+) kept", p.stderr)
    return p.returncode, p.stderr, (int(m.group(1)), int(m.group(2))) if m else None


def tree(out):
    """path -> sha256 of every file under out (the manifest included); None
    when out holds no manifest or no file besides it."""
    files = {}
    for d, _, names in os.walk(out):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, out)] = hashlib.sha256(f.read()).hexdigest()
    if ".platformc-manifest" not in files or len(files) < 2:
        return None
    return files


def diff(a, b):
    lines = [f"only incremental: {p}" for p in sorted(set(a) - set(b))]
    lines += [f"only fresh: {p}" for p in sorted(set(b) - set(a))]
    lines += [f"differs: {p}" for p in sorted(set(a) & set(b)) if a[p] != b[p]]
    return "\n".join(lines[:20]) + (f"\n... {len(lines) - 20} more" if len(lines) > 20 else "")


def edit(rel, old, new):
    path = os.path.join(SRC, rel)
    with open(path) as f:
        text = f.read()
    if text.count(old) != 1:
        raise SystemExit(f"tests/incremental/run.py: `{old}` is not once in {rel}: the example changed")
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def write(rel, text):
    with open(os.path.join(SRC, rel), "w") as f:
        f.write(text)


EXTRA = """services:
  - name: extra-service
    team: growth
    description: A service in a file of its own
    repo: https://github.com/fastish/extra-service
    language: go
    image: ghcr.io/fastish/extra-service
    port: 8080
    api: rest
    uses: [extra-queue]
resources:
  - name: extra-queue
    kind: sqs
    team: growth
"""

ADDED = """
  - name: added-service
    team: growth
    description: A service added at the end of a file
    repo: https://github.com/fastish/added-service
    language: python
    image: ghcr.io/fastish/added-service
    port: 8000
    api: rest
"""

# (case, what it changes, local: most units must be kept)
CHANGES = [
    ("service-field", lambda: edit("teams/payments.yaml", "PSP_MODE: sandbox}", "PSP_MODE: test}"), True),
    ("team-quota", lambda: edit("platform.yaml", "quota: {cpu: 10, memory: 20Gi, pods: 100}",
                                "quota: {cpu: 12, memory: 20Gi, pods: 100}"), True),
    ("owner-team-members", lambda: edit("platform.yaml", "members: [alice, dmitri-k, Priya-Nair]",
                                        "members: [alice, dmitri-k, Priya-Nair, zoe]"), False),
    ("resource-param", lambda: edit("teams/payments.yaml", "backup_retention_days: 14",
                                    "backup_retention_days: 21"), True),
    ("named-resource", lambda: edit("teams/payments.yaml", "visibility_timeout: 60s", "visibility_timeout: 90s"),
     True),
    ("service-calls", lambda: edit("teams/payments.yaml", "calls: [billing-service]",
                                   "calls: [billing-service, ledger-service]"), True),
    ("platform-default", lambda: edit("platform.yaml", "env: {LOG_FORMAT: json}", "env: {LOG_FORMAT: logfmt}"),
     False),
    ("policy-exception", lambda: edit("platform.yaml", "expires: 2027-03-31", "expires: 2027-06-30"), False),
    ("include-added", lambda: write("teams/extra.yaml", EXTRA), True),
    ("include-removed", lambda: os.remove(os.path.join(SRC, "teams/extra.yaml")), True),
    # the connection stores change with both: a store for a service that now reads a
    # secret's values, none for one whose only use that read values is narrowed
    ("service-uses", lambda: edit("teams/payments.yaml", "uses: [ledger-table, billing-events-queue]",
                                  "uses: [ledger-table, billing-events-queue, psp-api-credentials]"), True),
    ("service-uses-access", lambda: edit("teams/payments.yaml", "uses: [billing-db]\n",
                                         "uses: [{resource: billing-db, access: [iam]}]\n"), True),
    ("service-environments", lambda: edit("teams/growth.yaml", "environments: [dev, staging]\n    overrides:",
                                          "environments: [staging]\n    overrides:"), True),
    ("service-added", lambda: edit("teams/growth.yaml", "\nresources:", ADDED + "\nresources:"), True),
    ("service-removed", lambda: edit("teams/growth.yaml", ADDED + "\nresources:", "\nresources:"), True),
]
if QUICK:
    CHANGES = [c for c in CHANGES if c[0] in ("service-field", "platform-default")]


def compare(name, local, relative=False):
    """Renders SRC into OUT (incrementally) and into a new folder (fresh); one case."""
    rc, err, stats = render(OUT, relative=relative)
    if rc != 0 or stats is None:
        return fail(name, f"incremental render: exit {rc}\n{err}")
    fresh = os.path.join(TMP, f"fresh-{name}")
    frc, ferr, _ = render(fresh)
    if frc != 0:
        return fail(name, f"fresh render: exit {frc}\n{ferr}")
    a, b = tree(OUT), tree(fresh)
    shutil.rmtree(fresh, ignore_errors=True)
    if a is None or b is None:
        return fail(name, "a render left no manifest or no file")
    if a != b:
        return fail(name, "the incremental tree is not the fresh one:\n" + diff(a, b))
    units, kept = stats
    if os.environ.get("INCREMENTAL_VERBOSE"):
        print(f"    {name}: kept {kept} of {units}", flush=True)
    if units == 0:
        return fail(name, "no unit of output reported")
    if local is True and kept * 2 < units:
        return fail(name, f"a local change kept {kept} of {units} units: keys ignored?")
    if local is False and kept != 0:
        # every unit reads the root file's settings and the owner team
        return fail(name, f"{kept} of {units} units kept after a change every unit reads")
    if local == "all" and kept != units:
        return fail(name, f"a render that changes nothing kept {kept} of {units} units")
    ok(name)


def main():
    shutil.rmtree(TMP, ignore_errors=True)
    os.makedirs(TMP)
    shutil.copytree(os.path.join(ROOT, "examples/company"), SRC)
    rc, err, stats = render(OUT)
    if rc != 0 or tree(OUT) is None:
        fail("first-render", f"exit {rc}\n{err}")
    else:
        ok("first-render")
        compare("no-op", "all")
        # the root file named by another path: the same file, nothing to build
        compare("no-op-other-path", "all", relative=True)
        rc, err, stats = render(OUT, check=True)
        if rc != 0 or stats is None or stats[1] != stats[0] or stats[0] == 0:
            fail("check-up-to-date", f"exit {rc}, stats {stats}\n{err}")
        else:
            ok("check-up-to-date")
        for name, change, local in CHANGES:
            change()
            compare(name, local)
        # --check after a change: out of date, and says which file
        edit("teams/payments.yaml", "PSP_MODE: test}", "PSP_MODE: check}")
        p = subprocess.run([PLATFORMC, "render", os.path.join(SRC, "platform.yaml"), "-o", OUT, "--check"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 3 or "changed: services/billing-service/" not in p.stdout:
            fail("check-out-of-date", f"exit {p.returncode} (want 3)\n{p.stdout}{p.stderr}")
        else:
            ok("check-out-of-date")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
