#!/usr/bin/env bash
# ---- rollouts: canaries: Rollout and AnalysisTemplate on the SLO burn rate (promtool), VPA, budget alerts (tests/rollouts/run.sh)
. "$(dirname "$0")/../lib.sh"

relay -S -n 14 rollouts/runner bash tests/rollouts/run.sh

finish
