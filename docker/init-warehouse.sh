#!/bin/bash
# Runs once, when the PostgreSQL volume is first created: a separate database and role for the warehouse.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v pw="$HKAI_WAREHOUSE_PASSWORD" <<-'SQL'
	CREATE ROLE hkai LOGIN PASSWORD :'pw';
	CREATE DATABASE warehouse OWNER hkai;
SQL
