//! A session's query set and its updates, kept as the backend's sync worker keeps them: a `ModifyQuerySet`
//! or an `Authenticate` only records the change; an update takes every change received so far when it
//! begins, runs the queries it must at the latest timestamp on a future of its own while the session goes on
//! receiving messages, and ends in one Transition. Changes received meanwhile wait for the next update, so
//! one Transition can answer several `ModifyQuerySet`s and its `endVersion.querySet` then jumps by more
//! than one.

use super::auth::Caller;
use super::outcome::{Ran, Threw};
use super::path::FunctionPath;
use super::server::execute;
use super::shared::{Shared, now_ns};
use base64::Engine as _;
use convex_fetch::FunctionKind;
use convex_fetch::value::Value as ConvexValue;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// How many times a live update's queries are run for them to read one state, at the most.
const MAX_CONSISTENT_ATTEMPTS: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Version {
    query_set: u32,
    identity: u32,
    ts: u64,
}

impl Version {
    fn json(self) -> Value {
        json!({
            "querySet": self.query_set,
            "identity": self.identity,
            "ts": encode_ts(self.ts),
        })
    }
}

/// A timestamp as the protocol sends it: its 8 little-endian bytes in base64.
pub(crate) fn encode_ts(ts: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(ts.to_le_bytes())
}

/// What a session last sent for a query, to send only changes.
#[derive(PartialEq)]
enum Sent {
    Value(Value, Vec<String>),
    /// The error text without its request id (new at each run), and the data.
    Failed(String, Option<Value>, Vec<String>),
}

/// A subscribed query.
pub(crate) struct Query {
    path: FunctionPath,
    args: Result<ConvexValue, String>,
    last: Option<Sent>,
}

impl Query {
    pub(crate) fn new(path: FunctionPath, args: Result<ConvexValue, String>) -> Query {
        Query {
            path,
            args,
            last: None,
        }
    }
}

/// One modification of a `ModifyQuerySet`.
pub(crate) enum Change {
    Add(u32, Query),
    Remove(u32),
}

/// Why the client's versions are refused.
pub(crate) enum Refused {
    /// A `ModifyQuerySet` whose base is not the last version received: the backend's `BaseVersionMismatch`,
    /// a `FatalError` with this text.
    BaseVersion(String),
    /// Any other inconsistency (a new version not above the base, a duplicate or unknown query id, an
    /// `Authenticate` on the wrong base): an internal error on the backend, close 1011.
    Internal,
}

/// An update in flight: its queries' outcomes, and the Transition's end version.
struct Update {
    results: BoxFuture<'static, Vec<(u32, Result<Ran, Threw>)>>,
    end: Version,
    removed: Vec<u32>,
    force: bool,
}

/// A session's queries and versions.
#[derive(Default)]
pub(crate) struct QuerySet {
    /// The last Transition's end version.
    version: Version,
    received_query_set: u32,
    received_identity: u32,
    queries: BTreeMap<u32, Query>,
    /// Changes received since the last update began.
    pending: Vec<Change>,
    /// An update to begin once none is in flight; `true` if its Transition is sent even when empty.
    scheduled: Option<bool>,
    in_flight: Option<Update>,
}

impl QuerySet {
    /// Folds a `ModifyQuerySet` into the pending changes.
    pub(crate) fn modify(
        &mut self,
        base: u64,
        new: u64,
        changes: Vec<Change>,
    ) -> Result<(), Refused> {
        let current = self.received_query_set;
        if base != u64::from(current) {
            return Err(Refused::BaseVersion(format!(
                "Base version {base} passed up doesn't match the current version {current}"
            )));
        }
        let new = u32::try_from(new)
            .ok()
            .filter(|new| *new > current)
            .ok_or(Refused::Internal)?;
        self.pending.extend(changes);
        self.received_query_set = new;
        self.schedule(true);
        Ok(())
    }

    /// Checks an `Authenticate`'s base version: the identity version last received.
    pub(crate) fn check_identity_base(&self, base: Option<u64>) -> Result<(), Refused> {
        if base == Some(u64::from(self.received_identity)) {
            Ok(())
        } else {
            Err(Refused::Internal)
        }
    }

    /// An `Authenticate` was accepted: the next update runs every query under the new identity.
    pub(crate) fn authenticated(&mut self) {
        self.received_identity += 1;
        self.schedule(true);
    }

    /// The identity version of the last Transition, as an `AuthError` carries it.
    pub(crate) fn identity_version(&self) -> u32 {
        self.version.identity
    }

    /// Asks for an update; `force` sends its Transition even when nothing changed, as the backend answers
    /// every query set change, authentication, mutation and action.
    pub(crate) fn schedule(&mut self, force: bool) {
        self.scheduled = Some(self.scheduled.unwrap_or(false) || force);
    }

    /// The outcomes of the update in flight, once they are all in (never, when none is in flight).
    pub(crate) async fn in_flight(&mut self) -> Vec<(u32, Result<Ran, Threw>)> {
        match self.in_flight.as_mut() {
            Some(update) => (&mut update.results).await,
            None => std::future::pending().await,
        }
    }

    /// Begins the scheduled update, unless one is in flight: takes the pending changes and runs, at the
    /// latest timestamp, the new queries, and all of them if a commit or an identity came since the last
    /// Transition.
    pub(crate) fn begin(&mut self, shared: &Arc<Shared>, caller: &Caller) -> Result<(), Refused> {
        if self.in_flight.is_some() {
            return Ok(());
        }
        let Some(force) = self.scheduled.take() else {
            return Ok(());
        };
        let mut removed = Vec::new();
        for change in std::mem::take(&mut self.pending) {
            match change {
                Change::Add(id, query) => {
                    if self.queries.insert(id, query).is_some() {
                        // "Duplicate query ID" on the backend.
                        return Err(Refused::Internal);
                    }
                }
                Change::Remove(id) => {
                    // "Nonexistent query id" on the backend.
                    self.queries.remove(&id).ok_or(Refused::Internal)?;
                    removed.push(id);
                }
            }
        }
        let ts = shared.ts.load(Ordering::SeqCst).max(self.version.ts);
        let end = Version {
            query_set: self.received_query_set,
            identity: self.received_identity,
            ts,
        };
        // As the backend: with no commit and the same identity since the last Transition, a query already
        // answered is still valid and is not run again; only new ones are.
        let still_valid = ts == self.version.ts && end.identity == self.version.identity;
        let runs: Vec<_> = self
            .queries
            .iter()
            .filter(|(_, query)| !(still_valid && query.last.is_some()))
            .map(|(id, query)| (*id, query.path.clone(), query.args.clone()))
            .collect();
        let shared = shared.clone();
        let caller = caller.clone();
        let results = async move {
            // The queries read one state, as the backend's read one snapshot: run again while a writer
            // locked a state (or a mutation committed, on a deployment behind this one) during the runs.
            let moment = || (shared.states.writes(), shared.ts.load(Ordering::SeqCst));
            let mut attempts = 0;
            loop {
                let before = moment();
                let mut results = Vec::with_capacity(runs.len());
                for (id, path, args) in &runs {
                    let outcome = execute(
                        &shared,
                        path,
                        Some(FunctionKind::Query),
                        args.clone(),
                        caller.clone(),
                    )
                    .await;
                    results.push((*id, outcome));
                }
                attempts += 1;
                // A deployment written to without pause is read as it is, rather than never.
                if runs.len() < 2 || moment() == before || attempts == MAX_CONSISTENT_ATTEMPTS {
                    return results;
                }
            }
        }
        .boxed();
        self.in_flight = Some(Update {
            results,
            end,
            removed,
            force,
        });
        Ok(())
    }

    /// Ends the update in flight with its queries' outcomes: the Transition to send, if anything changed
    /// (or the update was forced).
    pub(crate) fn finish(
        &mut self,
        results: Vec<(u32, Result<Ran, Threw>)>,
        skew: Option<i64>,
    ) -> Option<Value> {
        let update = self.in_flight.take()?;
        // By query id, as the backend orders them.
        let mut modifications: BTreeMap<u32, Value> = update
            .removed
            .iter()
            .map(|id| (*id, json!({ "type": "QueryRemoved", "queryId": id })))
            .collect();
        for (id, outcome) in results {
            let (sent, modification) = match outcome {
                Ok(Ran {
                    value, log_lines, ..
                }) => (
                    Sent::Value(value.clone(), log_lines.clone()),
                    json!({ "type": "QueryUpdated", "queryId": id, "value": value, "logLines": log_lines, "journal": null }),
                ),
                Err(Threw {
                    message,
                    data,
                    log_lines,
                }) => {
                    let text = message
                        .split_once("] ")
                        .map_or(message.as_str(), |(_, rest)| rest)
                        .to_owned();
                    let mut failed = json!({ "type": "QueryFailed", "queryId": id, "errorMessage": message, "logLines": log_lines, "journal": null });
                    if let Some(data) = &data {
                        failed["errorData"] = data.clone();
                    }
                    (Sent::Failed(text, data, log_lines), failed)
                }
            };
            // Changes received while the update ran are pending, so every query run is still subscribed.
            if let Some(query) = self.queries.get_mut(&id)
                && query.last.as_ref() != Some(&sent)
            {
                query.last = Some(sent);
                modifications.insert(id, modification);
            }
        }
        if modifications.is_empty() && !update.force && update.end == self.version {
            return None;
        }
        let transition = json!({
            "type": "Transition",
            "startVersion": self.version.json(),
            "endVersion": update.end.json(),
            "modifications": modifications.into_values().collect::<Vec<_>>(),
            "clientClockSkew": skew,
            "serverTs": now_ns(),
        });
        self.version = update.end;
        Some(transition)
    }
}
