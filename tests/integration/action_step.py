#!/usr/bin/env python3
"""Run one `run:` step of the composite action in action.yml the way the
runner does: `bash --noprofile --norc -eo pipefail` on the script, with the
step's `env:` after `${{ inputs.NAME }}` is replaced by the given input or
its default.

usage: action_step.py ACTION_YML STEP_NAME [NAME=VALUE...]   (in the workspace)
Exits with the step's exit status.
"""
import os
import re
import subprocess
import sys

import yaml

action = yaml.safe_load(open(sys.argv[1]))
given = dict(a.split("=", 1) for a in sys.argv[3:])
inputs = {k: given.get(k, v.get("default", "")) for k, v in action["inputs"].items()}
steps = [s for s in action["runs"]["steps"] if s.get("name") == sys.argv[2]]
if len(steps) != 1:
    sys.exit(f"no step named {sys.argv[2]!r}")
step = steps[0]
assert step["shell"] == "bash"


def expand(v):
    return re.sub(r"\$\{\{\s*inputs\.([A-Za-z_-]+)\s*\}\}", lambda m: inputs[m.group(1)], str(v))


assert "${{" not in step["run"], "expressions belong in env:, not in the script"
env = dict(os.environ, **{k: expand(v) for k, v in step.get("env", {}).items()})
sys.exit(subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], env=env).returncode)
