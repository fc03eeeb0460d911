#!/usr/bin/env bash
# ---- targeted checks of the Kustomize and Argo CD backends ----------------
# tests/model/check.py renders tests/model/platform.yaml and checks what the
# backends made of it, one case per check; its exit status counts failures.
. "$(dirname "$0")/../lib.sh"

relay -n 46 model/checker "$PY" tests/model/check.py "$PLATFORMC" "$TMP/model"

finish
