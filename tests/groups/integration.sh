#!/usr/bin/env bash
# ---- integration: the pre-commit hooks in a scratch git repository -----------
# tests/integration/run.sh: the hooks as pre-commit runs them, the GitHub
# Action's steps, and the real pre-commit (4 cases, or one skip line when it
# cannot be installed).
. "$(dirname "$0")/../lib.sh"

relay -n 29 integration/runner bash tests/integration/run.sh "$TMP"

finish
