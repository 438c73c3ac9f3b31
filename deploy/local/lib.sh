# Shared by run.sh and test.sh: make sure NATS (with JetStream) and MariaDB are installed and
# running on this machine, installing them from the OS package manager (apt) when missing.
# shellcheck shell=bash

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sahasrahbot/target}"
STATE_DIR="${SAHASRAHBOT_STATE_DIR:-$HOME/.cache/sahasrahbot}"
mkdir -p "$STATE_DIR"

say() { printf '==> %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 what=$2
  for _ in $(seq 1 100); do
    port_open "$port" && return 0
    sleep 0.2
  done
  say "$what did not open port $port; see its log above or in $STATE_DIR"
  return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  if ! command -v apt-get >/dev/null; then
    say "cannot install $* automatically (no apt-get); install it and run again"
    return 1
  fi
  say "installing $* (apt-get)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

find_binary() {
  local name
  for name in "$@"; do
    command -v "$name" 2>/dev/null && return 0
    [ -x "/usr/sbin/$name" ] && { echo "/usr/sbin/$name"; return 0; }
  done
  return 1
}

ensure_nats() {
  if port_open 4222; then return 0; fi
  local bin
  bin=$(find_binary nats-server) || { apt_install nats-server && bin=$(find_binary nats-server); }
  say "starting nats-server with JetStream on 127.0.0.1:4222 (store $STATE_DIR/nats)"
  mkdir -p "$STATE_DIR/nats"
  nohup "$bin" -a 127.0.0.1 -p 4222 -js -sd "$STATE_DIR/nats" >"$STATE_DIR/nats-server.log" 2>&1 &
  wait_port 4222 nats-server
}

# A local S3-compatible server for spoiler-log and patch uploads (moto from PyPI; MinIO is
# not packaged in Debian). Port 9300 unless S3_TEST_PORT says otherwise.
ensure_s3() {
  local port="${S3_TEST_PORT:-9300}"
  if port_open "$port"; then return 0; fi
  local bin
  bin=$(command -v moto_server) || {
    say "installing moto[server] from PyPI"
    python3 -m pip install --quiet 'moto[server]>=5,<6' >&2
    bin=$(command -v moto_server)
  }
  say "starting moto S3 on 127.0.0.1:$port"
  mkdir -p "$STATE_DIR"
  nohup "$bin" -H 127.0.0.1 -p "$port" >"$STATE_DIR/moto.log" 2>&1 &
  wait_port "$port" moto_server
}

ensure_mariadb() {
  if ! port_open 3306; then
    local bin
    bin=$(find_binary mariadbd mysqld) || { apt_install mariadb-server && bin=$(find_binary mariadbd mysqld); }
    if [ ! -d /var/lib/mysql/mysql ]; then
      say "initialising the MariaDB data directory"
      as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    as_root mkdir -p /run/mysqld
    as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    say "starting MariaDB on 127.0.0.1:3306"
    as_root sh -c "nohup '$bin' --user=mysql --bind-address=127.0.0.1 >'$STATE_DIR/mariadb.log' 2>&1 &"
    wait_port 3306 MariaDB
  fi
  # Tests connect as root with an empty password over TCP (TEST_DATABASE_URL overrides that).
  if [ -z "${TEST_DATABASE_URL:-}" ] && ! mariadb -h127.0.0.1 -uroot -e 'SELECT 1' >/dev/null 2>&1; then
    say "allowing root@localhost with an empty password over TCP (test machine setup)"
    as_root mariadb -uroot -e "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket; FLUSH PRIVILEGES;"
  fi
}

# Debian's Chromium and its WebDriver for the website's browser tests (TEST_CHROMEDRIVER and
# TEST_CHROMIUM point the tests at them).
ensure_chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    apt_install chromium chromium-driver
  fi
  export TEST_CHROMIUM="${TEST_CHROMIUM:-$(command -v chromium)}"
  export TEST_CHROMEDRIVER="${TEST_CHROMEDRIVER:-$(command -v chromedriver)}"
}
