//! Integration tests: the real server on a loopback port, on SQLite and on PostgreSQL.
//! Every test in a module listed in `both_backends!` runs once per backend.

mod helpers;

mod audit;
mod auth;
mod claims;
mod cms;
mod corpus;
mod desk;
mod errors;
mod idempotency;
mod lifecycle;
mod markup;
mod newsroom;
mod openapi;
mod operations;
mod passages;
mod people;
mod placements;
mod records;
mod reviews;
mod search;
mod sources;
mod statistics;
mod tlog;
mod webhooks;
