//! A request's endpoint and body, encoded before anything is sent.

use crate::error::{Error, ErrorKind, FunctionName};
use crate::function::ConvexFunction;
use crate::value;
use std::time::Instant;

/// What precedes the args in every function body we build; verbose output finds the args after it.
pub(super) const ARGS_PREFIX: &str = ",\"format\":\"convex_encoded_json\",\"args\":";

/// Runs a query at a timestamp from `/api/query_ts`.
const QUERY_AT_TS: &str = "/api/query_at_ts";

/// Answers the deployment's latest timestamp.
const QUERY_TS: &str = "/api/query_ts";

/// One request on the wire: what it is for, which endpoint, and the body already encoded.
pub(crate) struct Request {
    pub(crate) function: FunctionName,
    pub(crate) endpoint: &'static str,
    /// Shared by every attempt without a copy.
    pub(crate) body: bytes::Bytes,
    /// When the snapshot a query runs at was taken: its answer may say that the snapshot expired.
    pub(crate) snapshot_taken: Option<Instant>,
}

/// A snapshot timestamp as `/api/query_ts` gave it, and when it was taken.
pub(crate) struct At<'a> {
    pub(crate) ts: &'a str,
    pub(crate) taken: Instant,
}

impl Request {
    /// `{"path":…,"format":"convex_encoded_json","args":{…}}` (plus `"ts":…` for a query at a snapshot),
    /// written straight to bytes, for the endpoint of the function's kind or `/api/query_at_ts`.
    pub(crate) fn function<F: ConvexFunction>(
        function: FunctionName,
        args: &F,
        at: Option<At<'_>>,
    ) -> Result<Request, Error> {
        let invalid = |message: String| Error::call(&function, ErrorKind::InvalidArgs { message });
        let mut body = Vec::with_capacity(128);
        body.extend_from_slice(b"{\"path\":");
        serde_json::to_writer(&mut body, &function.path).map_err(|e| invalid(e.to_string()))?;
        if let Some(at) = &at {
            body.extend_from_slice(b",\"ts\":");
            body.extend_from_slice(at.ts.as_bytes());
        }
        body.extend_from_slice(ARGS_PREFIX.as_bytes());
        value::encode_args(args, &mut body).map_err(|e| invalid(e.to_string()))?;
        body.push(b'}');
        Ok(Request {
            endpoint: if at.is_some() {
                QUERY_AT_TS
            } else {
                function.kind.endpoint()
            },
            function,
            body: body.into(),
            snapshot_taken: at.map(|at| at.taken),
        })
    }

    /// `POST /api/query_ts`, which takes no args.
    pub(crate) fn query_ts() -> Request {
        Request {
            function: FunctionName {
                kind: crate::FunctionKind::Query,
                path: QUERY_TS.to_owned(),
            },
            endpoint: QUERY_TS,
            body: bytes::Bytes::from_static(b"{}"),
            snapshot_taken: None,
        }
    }

    /// The args as sent, for verbose output: the tail of the body we built, `…"args":{…}}`.
    pub(super) fn args_text(&self) -> &[u8] {
        let body = &self.body[..];
        body.windows(ARGS_PREFIX.len())
            .position(|w| w == ARGS_PREFIX.as_bytes())
            .map_or(b"{}", |at| &body[at + ARGS_PREFIX.len()..body.len() - 1])
    }
}
