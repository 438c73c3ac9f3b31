#!/usr/bin/env bash
# The full test suite: ensures MariaDB, NATS and a local S3 (moto) are installed and running, then runs every test
# of the workspace against them. Extra arguments go to `cargo test` (e.g. `-p platform`).
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/lib.sh

ensure_mariadb
ensure_nats
ensure_s3
export TEST_S3_ENDPOINT="${TEST_S3_ENDPOINT:-http://127.0.0.1:${S3_TEST_PORT:-9300}}"
say "running the test suite (build cache: $CARGO_TARGET_DIR)"
exec cargo test --workspace --locked "$@"
