//! The domain: plain Rust with no I/O. Validation, records, quote anchoring.

pub mod access;
pub mod anchor;
pub mod audit;
pub mod changes;
pub mod checked;
pub mod claimreview;
pub mod events;
pub mod filters;
pub mod idempotency;
pub mod ids;
pub mod model;
pub mod public;
pub mod review;
pub mod search;
pub mod statistics;
pub mod tlog;
pub mod urls;
pub mod validate;
pub mod webhooks;

pub use ids::*;
pub use model::*;
pub use validate::{FieldError, Validator};
