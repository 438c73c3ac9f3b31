#!/usr/bin/env bash
# Run once by the MariaDB image on an empty data directory (/docker-entrypoint-initdb.d):
# one database and one user per service, each user granted only its own database.
set -euo pipefail

create() {
  local service=$1 password=$2
  mariadb -uroot -p"${MARIADB_ROOT_PASSWORD}" <<SQL
CREATE DATABASE IF NOT EXISTS \`sahasrahbot_${service}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '${service}'@'%' IDENTIFIED BY '${password}';
GRANT ALL PRIVILEGES ON \`sahasrahbot_${service}\`.* TO '${service}'@'%';
SQL
}

create seedgen "${SEEDGEN_DB_PASSWORD}"
create racetime "${RACETIME_DB_PASSWORD}"
create tournament "${TOURNAMENT_DB_PASSWORD}"
create gateway "${GATEWAY_DB_PASSWORD}"
create api "${API_DB_PASSWORD}"
mariadb -uroot -p"${MARIADB_ROOT_PASSWORD}" -e "FLUSH PRIVILEGES"
