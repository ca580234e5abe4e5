//! The Convex HTTP API on the wire: a request's bytes, one HTTP exchange, the reading of an answer, and the
//! retry loop that ties them together.
//!
//! Imports go one way: `execute` uses `exchange`, `request` and `response`; `exchange` and `response` know
//! the request they answer; `request` uses none of them.

mod exchange;
mod execute;
mod request;
mod response;

pub(crate) use exchange::{retry_after, transport_failure};
pub(crate) use execute::{call, query_ts};
pub(crate) use request::{At, Request};
pub(crate) use response::{excerpt, function_failure};
