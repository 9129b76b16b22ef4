#!/bin/sh
# Compose one-shot (temporalio/admin-tools): creates Temporal's tables in the databases
# temporal and temporal_visibility (made by postgres-init.sh), or brings them up to the
# schema of this Temporal version. Both steps are idempotent, so it runs on every
# `docker compose up`. temporal-sql-tool reads the connection from SQL_PLUGIN, SQL_HOST,
# SQL_PORT, SQL_USER and SQL_PASSWORD (compose.yaml).
set -eu
schema=/etc/temporal/schema/postgresql/v12
for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  dir=${pair#*:}
  echo "Temporal schema: database $db"
  SQL_DATABASE=$db temporal-sql-tool setup-schema -v 0.0
  SQL_DATABASE=$db temporal-sql-tool update-schema -d "$schema/$dir/versioned"
done
