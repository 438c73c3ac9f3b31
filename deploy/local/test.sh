#!/usr/bin/env bash
# The full test suite: ensures MariaDB, NATS and a local S3 (moto) are installed and running, builds
# the service binaries (the smoke test starts them as run.sh does), then runs every test of the
# workspace twice: on MariaDB (production's database) and on SQLite (the embedded default).
# Extra arguments go to both `cargo test` runs (e.g. `-p seedgen`); TEST_DATABASE=mariadb or
# sqlite runs only that pass.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/lib.sh

ensure_mariadb
ensure_nats
ensure_s3
ensure_chromium
# The smoke test starts the system on its fixed ports (50051–50055, 8080), which sit in Linux's
# ephemeral range: keep them out of it so no test's outgoing connection holds one (best effort;
# needs root in the machine's network namespace).
if [ -w /proc/sys/net/ipv4/ip_local_reserved_ports ]; then
  echo "8080,50051-50055" > /proc/sys/net/ipv4/ip_local_reserved_ports || true
fi
export TEST_S3_ENDPOINT="${TEST_S3_ENDPOINT:-http://127.0.0.1:${S3_TEST_PORT:-9300}}"
say "building the service binaries (build cache: $CARGO_TARGET_DIR)"
cargo build --locked --bins
for backend in ${TEST_DATABASE:-mariadb sqlite}; do
  say "running the test suite on $backend"
  TEST_DATABASE=$backend cargo test --workspace --locked "$@"
done
