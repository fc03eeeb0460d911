#!/usr/bin/env bash
# ---- argocd: the app-of-apps per cluster: one owner per object, prune per tier, sync windows, health checks (tests/argocd/run.sh)
. "$(dirname "$0")/../lib.sh"

relay -S -n 18 argocd/runner bash tests/argocd/run.sh

finish
