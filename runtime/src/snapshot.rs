//! Consistent snapshots: several queries that read the database at one timestamp.

use crate::call::{Call, FetchOptions};
use crate::client::Client;
use crate::error::{Error, FunctionName};
use crate::function::{FunctionKind, Query};
use crate::wire;
use std::sync::Arc;

/// A timestamp of the deployment at which queries see one consistent view of the database.
///
/// ```no_run
/// # use convex_fetch::{Client, Untyped};
/// # async fn demo(client: Client) -> Result<(), convex_fetch::Error> {
/// let snapshot = client.snapshot().await?;
/// let posts: Vec<serde_json::Value> =
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

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn ts(&self) -> Arc<str> {
        self.ts.clone()
    }
}

#[derive(serde::Deserialize)]
struct QueryTs<'a> {
    #[serde(borrow)]
    ts: &'a serde_json::value::RawValue,
}

impl Client {
    /// Takes a snapshot: the deployment's latest timestamp (`POST /api/query_ts`), at which
    /// [`Snapshot::query`] or [`Call::at`] run queries.
    pub async fn snapshot(&self) -> Result<Snapshot, Error> {
        let function = FunctionName {
            kind: FunctionKind::Query,
            path: "/api/query_ts".to_owned(),
        };
        let options = FetchOptions::new().or(&self.inner.defaults);
        let authorization = options.authorization()?;
        let timeout = options.timeout_or(self.inner.timeout);
        let ts = wire::with_retries(self, &function, timeout, || async {
            let (_, body) = wire::post(
                self,
                &function,
                "/api/query_ts",
                b"{}",
                authorization.as_ref(),
            )
            .await?;
            let parsed: QueryTs<'_> = serde_json::from_slice(&body).map_err(|e| {
                let error = Error::Decode {
                    function: function.clone(),
                    message: format!("not a timestamp answer ({e})"),
                    excerpt: wire::excerpt(&body),
                };
                (error, None)
            })?;
            Ok(Arc::<str>::from(parsed.ts.get()))
        })
        .await?;
        Ok(Snapshot {
            client: self.clone(),
            ts,
        })
    }
}
