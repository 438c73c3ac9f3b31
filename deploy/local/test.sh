#!/usr/bin/env bash
# The full test suite: ensures MariaDB and NATS are installed and running, then runs every test
# of the workspace against them. Extra arguments go to `cargo test` (e.g. `-p platform`).
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/lib.sh

ensure_mariadb
ensure_nats
say "running the test suite (build cache: $CARGO_TARGET_DIR)"
exec cargo test --workspace --locked "$@"
