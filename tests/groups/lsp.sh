#!/usr/bin/env bash
# ---- lsp: the language server driven by vscode-languageserver-protocol (tests/lsp/run.sh)
. "$(dirname "$0")/../lib.sh"

relay -S -n 25 lsp/runner bash tests/lsp/run.sh

finish
