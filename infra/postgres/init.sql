-- PostgreSQL for the scale-out deployment: one database, two schemas (events, read models),
-- one login role. Run as a superuser: psql -f infra/postgres/init.sql
CREATE ROLE timebank LOGIN PASSWORD 'change-me';
CREATE DATABASE timebank OWNER timebank;
\connect timebank
CREATE SCHEMA events AUTHORIZATION timebank;
CREATE SCHEMA reads AUTHORIZATION timebank;
