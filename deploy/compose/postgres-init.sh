#!/bin/bash
# PostgreSQL's first start on an empty volume (docker-entrypoint-initdb.d; never again
# afterwards): Temporal's role and its two databases (temporal, temporal_visibility), and
# the application's role and database (fulfilment), each role owning only its databases.
# Passwords come from the env file through compose.yaml.
set -euo pipefail
: "${TEMPORAL_DB_PASSWORD:?set TEMPORAL_DB_PASSWORD in .env}"
: "${FULFILMENT_DB_PASSWORD:?set FULFILMENT_DB_PASSWORD in .env}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v temporal_pw="$TEMPORAL_DB_PASSWORD" -v app_pw="$FULFILMENT_DB_PASSWORD" <<'SQL'
create role temporal login password :'temporal_pw';
create database temporal owner temporal;
create database temporal_visibility owner temporal;
create role fulfilment login password :'app_pw';
create database fulfilment owner fulfilment;
-- Temporal's visibility schema needs btree_gin; created here as the superuser.
\connect temporal_visibility
create extension if not exists btree_gin;
SQL
