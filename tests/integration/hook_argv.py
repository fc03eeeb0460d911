#!/usr/bin/env python3
"""Print the command pre-commit runs for a hook of .pre-commit-hooks.yaml.

usage: hook_argv.py HOOKS_FILE HOOK_ID [EXTRA_ARG...]
Writes shlex.split(entry) + args (+ EXTRA_ARGs, as a user's `args:` would
add), NUL-terminated, for `mapfile -d ''`. That is what pre-commit does for
`language: script` hooks with `pass_filenames: false` (the entry's first word
is a path inside the hooks repository, the folder of HOOKS_FILE; no file names
follow) and for `language: system` ones (the first word is found on PATH).
Exits 1 with a message if the hook is missing or is not of that shape.
"""
import os
import shlex
import sys

import yaml

hooks_file, hook_id, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
hooks = {h["id"]: h for h in yaml.safe_load(open(hooks_file))}
h = hooks.get(hook_id)
if h is None:
    sys.exit(f"{hooks_file}: no hook `{hook_id}` (have: {', '.join(hooks)})")
if h.get("language") not in ("script", "system") or h.get("pass_filenames", True) is not False:
    sys.exit(f"{hook_id}: expected language: script or system and pass_filenames: false")
argv = shlex.split(h["entry"]) + [str(a) for a in h.get("args", [])] + extra
if h["language"] == "script":
    argv[0] = os.path.join(os.path.dirname(os.path.abspath(hooks_file)), argv[0])
sys.stdout.write("".join(a + "\0" for a in argv))
