//! claimtrail: a trustworthy record of claims, each linked to the exact passage of the exact
//! version of the source it came from.
//!
//! Layers: [`domain`] (plain Rust, no I/O) under [`app`] (use cases) over [`store`] (SQLite or
//! PostgreSQL); [`http`] and the command line are thin front ends over [`app`].

pub mod app;
pub mod cli;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod http;
pub mod import;
pub mod metrics;
pub mod store;
