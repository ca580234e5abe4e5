//! What running a function gives: a success or a failure as the backend reports them, kept by the sessions
//! of the sync protocol for the mutations they deduplicate.

use serde_json::Value;

/// A function's success: its Convex-encoded value, log lines and, for a mutation, its commit timestamp.
#[derive(Debug, Clone)]
pub(crate) struct Ran {
    pub(crate) value: Value,
    pub(crate) log_lines: Vec<String>,
    pub(crate) ts: Option<u64>,
}

/// A function's failure: the backend's `errorMessage`, the Convex-encoded `ConvexError` data, log lines.
#[derive(Debug, Clone)]
pub(crate) struct Threw {
    pub(crate) message: String,
    pub(crate) data: Option<Value>,
    pub(crate) log_lines: Vec<String>,
}
