#!/usr/bin/env python3
"""Docs that are tests: runs the code blocks of a Markdown file.

usage: run_guide.py PLATFORMC FILE.md SCRATCH

A fenced ```yaml block after an HTML comment marker is executed:

  <!-- check: ok -->            written alone to a scratch folder; `platformc check`
                                 must exit 0 with no output
  <!-- fragment -->              skipped (part of a file, shown for reading)
  <!-- walk: PATH -->            written to PATH in the walkthrough repository
                                 (SCRATCH/walk); `platformc check` must pass after it
  <!-- walk-append: PATH -->     appended to PATH, then checked
  <!-- walk: run -->             (before a ```console block) each `$ COMMAND` line runs
                                 with bash in the walkthrough repository, platformc on
                                 PATH; the lines after it are its expected stdout+stderr;
                                 a line `...` stands for any number of lines, `...`
                                 inside a line for any text

A ```yaml block with no marker is an error, so no example goes untested.
Prints "ok   docs/NAME" or "FAIL docs/NAME" with details, one per block.
"""
import os, re, subprocess, sys

platformc, md, scratch = sys.argv[1], sys.argv[2], sys.argv[3]
bindir = os.path.join(scratch, "bin")
os.makedirs(bindir, exist_ok=True)
link = os.path.join(bindir, "platformc")
if not os.path.exists(link):
    os.symlink(os.path.abspath(platformc), link)
walk = os.path.join(scratch, "walk")
os.makedirs(walk, exist_ok=True)
env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
           GIT_AUTHOR_NAME="docs", GIT_AUTHOR_EMAIL="docs@example.com",
           GIT_COMMITTER_NAME="docs", GIT_COMMITTER_EMAIL="docs@example.com", NO_COLOR="1")
env.pop("GITHUB_ACTIONS", None)

lines = open(md, encoding="utf-8").read().split("\n")
base = os.path.basename(md).rsplit(".", 1)[0]
failed = 0


def report(name, ok, detail=""):
    global failed
    print(("ok   " if ok else "FAIL ") + "docs/" + name)
    if not ok:
        failed += 1
        for d in detail.rstrip().split("\n")[:30]:
            print("     " + d)


def check(path, name):
    r = subprocess.run([platformc, "check", path], capture_output=True, text=True, env=env)
    report(name, r.returncode == 0 and not r.stderr, r.stderr + "exit %d" % r.returncode)


def same(e, g):
    """a line; `...` inside a line stands for any text"""
    if "..." not in e:
        return e == g
    return re.fullmatch(".*".join(re.escape(x) for x in e.split("...")), g) is not None


def matches(expected, got):
    """expected lines, with `...` for any run of lines, against got lines."""
    def m(i, j):
        if i == len(expected):
            return j == len(got)
        if expected[i] == "...":
            return any(m(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and same(expected[i], got[j]) and m(i + 1, j + 1)
    return m(0, 0)


i = 0
marker = None
while i < len(lines):
    line = lines[i]
    mk = re.match(r"^<!--\s*(check: ok|fragment|walk(?:-append)?:\s*\S+)\s*-->$", line.strip())
    if mk:
        marker = mk.group(1)
        i += 1
        continue
    fence = re.match(r"^```(\w*)$", line)
    if not fence:
        if line.strip():
            marker = None
        i += 1
        continue
    lang = fence.group(1)
    start = i + 1
    j = start
    while j < len(lines) and lines[j] != "```":
        j += 1
    body = "\n".join(lines[start:j]) + "\n"
    name = "%s-line-%d" % (base, start)
    i = j + 1
    m, marker = marker, None
    if lang == "yaml":
        if m is None:
            report(name, False, "a yaml block without <!-- check: ok -->, <!-- fragment --> or <!-- walk: PATH -->")
        elif m == "fragment":
            continue
        elif m == "check: ok":
            d = os.path.join(scratch, name)
            os.makedirs(d, exist_ok=True)
            p = os.path.join(d, "platform.yaml")
            open(p, "w").write(body)
            check(p, name)
        elif m.startswith("walk"):
            path = m.split(":", 1)[1].strip()
            p = os.path.join(walk, path)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "a" if m.startswith("walk-append") else "w") as f:
                f.write(body)
            r = subprocess.run(["platformc", "check"], cwd=walk, capture_output=True, text=True, env=env)
            report("%s-walk-%s" % (name, path.replace("/", "_")), r.returncode == 0 and not r.stderr,
                   r.stderr + "exit %d" % r.returncode)
    elif lang == "console" and m == "walk: run":
        cmds = []
        for l in body.rstrip("\n").split("\n"):
            if l.startswith("$ "):
                cmds.append([l[2:], []])
            elif cmds:
                cmds[-1][1].append(l)
        for k, (cmd, expected) in enumerate(cmds):
            r = subprocess.run(["bash", "-c", cmd + " 2>&1"], cwd=walk, capture_output=True, text=True, env=env)
            got = r.stdout.rstrip("\n").split("\n") if r.stdout.strip() else []
            ok = matches(expected, got)
            report("%s-run-%d" % (name, k + 1), ok,
                   "$ %s\nexpected:\n%s\ngot:\n%s" % (cmd, "\n".join(expected), "\n".join(got)))
sys.exit(1 if failed else 0)
