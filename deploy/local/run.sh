#!/usr/bin/env bash
# Runs the whole system locally on its embedded defaults: SQLite files under ./data/ and a local
# nats-server (installed and started if needed). Ctrl-C stops all five services cleanly.
# Configure with the variables of README "Configuration", e.g. GATEWAY_DISCORD__TOKEN.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/lib.sh

ensure_nats
say "building the services"
cargo build --locked --bin seedgen --bin racetime --bin tournament --bin gateway --bin api
mkdir -p data

services=(seedgen racetime tournament gateway api)
pids=()
stop() {
  trap - INT TERM EXIT
  say "stopping"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT
for service in "${services[@]}"; do
  "$CARGO_TARGET_DIR/debug/$service" &
  pids+=($!)
done

admin_port=9101
for service in "${services[@]}"; do
  ready=no
  for _ in $(seq 1 100); do
    if "$CARGO_TARGET_DIR/debug/$service" healthcheck 2>/dev/null; then ready=yes; break; fi
    sleep 0.1
  done
  say "$service: $( [ $ready = yes ] && echo ready || echo NOT READY) (admin http://127.0.0.1:$admin_port/readyz)"
  admin_port=$((admin_port + 1))
done
say "all services running; Ctrl-C to stop"
wait
