#!/bin/bash
# Mounted into /docker-entrypoint-initdb.d: the postgres image runs it once, when the data volume is
# empty. It adds the warehouse next to Airflow's metadata database: a `hkai` role (password from
# HKAI_WAREHOUSE_PASSWORD) that owns a `warehouse` database. To change the password later, use
# ALTER ROLE: this script will not run again on an existing volume.
set -euo pipefail

psql --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     --set warehouse_password="$HKAI_WAREHOUSE_PASSWORD" <<'SQL'
CREATE ROLE hkai LOGIN PASSWORD :'warehouse_password';
CREATE DATABASE warehouse OWNER hkai;
-- read-only role for BI tools: NOLOGIN, granted SELECT by migration 0010 (see the README)
CREATE ROLE hkai_reader NOLOGIN;
SQL
