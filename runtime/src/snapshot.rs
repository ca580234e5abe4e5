//! Consistent snapshots: several queries that read the database at one timestamp.

use crate::call::Call;
use crate::client::Client;
use crate::error::Error;
use crate::function::Query;
use crate::wire;
use std::sync::Arc;
use std::time::Instant;

/// A timestamp of the deployment at which queries see one consistent view of the database.
///
/// A snapshot lives about [`SNAPSHOT_LIFETIME`](crate::SNAPSHOT_LIFETIME) on the deployment: a query at an
/// older one fails with [`ErrorKind::SnapshotExpired`](crate::ErrorKind::SnapshotExpired), and is not retried.
///
/// ```no_run
/// # use convex_fetch::{Client, Untyped};
/// # async fn demo(client: Client) -> Result<(), convex_fetch::Error> {
/// let snapshot = client.snapshot().await?;
/// let posts: Vec<convex_fetch::value::Value> =
///     snapshot.query(Untyped::query("posts:list", serde_json::json!({}))).await?;
/// let count: f64 = snapshot.query(Untyped::query("posts:count", serde_json::json!({}))).await?;
/// // Both answers describe the same moment: `count` is the length of `posts`.
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Snapshot {
    client: Client,
    /// The timestamp exactly as `/api/query_ts` gave it: it goes back verbatim.
    ts: Arc<str>,
    taken: Instant,
}

impl Snapshot {
    /// A call of `query` at this snapshot.
    pub fn query<F: Query>(&self, query: F) -> Call<F> {
        Call::new(query).at(self)
    }

    /// The timestamp, as JSON text in the deployment's own encoding.
    pub fn timestamp(&self) -> &str {
        &self.ts
    }
}

impl<F: Query, R> Call<F, R> {
    /// Runs the query at `snapshot`'s timestamp, on the snapshot's client, so that several queries read one
    /// consistent view of the database.
    pub fn at(self, snapshot: &Snapshot) -> Self {
        self.at_snapshot(&snapshot.client, snapshot.ts.clone(), snapshot.taken)
    }
}

impl Client {
    /// Takes a snapshot: the deployment's latest timestamp (`POST /api/query_ts`), at which
    /// [`Snapshot::query`] or [`Call::at`] run queries.
    pub async fn snapshot(&self) -> Result<Snapshot, Error> {
        // Before the request: the timestamp is at least this old, so an expiry is never underestimated.
        let taken = Instant::now();
        let ts = wire::query_ts(self).await?;
        Ok(Snapshot {
            client: self.clone(),
            ts,
            taken,
        })
    }
}
