#!/bin/sh
# Run once by the postgres image, as its superuser, when the db container starts on an empty
# data directory (compose.yaml mounts this folder at /docker-entrypoint-initdb.d).
#
# ro_owner owns the database and runs the migrations but is NOT a superuser: forced
# row-level security applies to it and it has no power beyond the objects it owns.
# CREATEROLE is needed because the migrations create ro_app and ro_directory (since
# PostgreSQL 16 it only lets ro_owner manage the roles it created). pgvector is not a
# trusted extension, so the superuser creates it here, once. Passwords come from the
# environment; psql reads them with \getenv, so they never appear in a command line.
set -e

: "${POSTGRES_USER:?the postgres image sets POSTGRES_USER}"
: "${RO_OWNER_DB_PASSWORD:?set RO_OWNER_DB_PASSWORD, the password of role ro_owner}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\getenv owner_password RO_OWNER_DB_PASSWORD
CREATE ROLE ro_owner WITH LOGIN NOSUPERUSER NOCREATEDB CREATEROLE NOBYPASSRLS NOREPLICATION
  PASSWORD :'owner_password';
CREATE DATABASE ro_assistant OWNER ro_owner;
\connect ro_assistant
CREATE EXTENSION IF NOT EXISTS vector;
SQL
