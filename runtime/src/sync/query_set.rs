//! A consistent view of several live queries: every item holds the results of all of them after the same
//! Transition, never some from before a change and some from after it.
//!
//! The worker applies a Transition's results under the write half of its connection's `Views` lock and
//! then bumps a counter; a set waits on the counter and reads all its queries under the read half.

use super::latest::Latest;
use super::stopped;
use super::subscription::Unsubscribe;
use super::worker::{Command, Outcome, Subscribed};
use super::{Connection, Subscribable, auth_of, connect, encode_args};
use crate::call::Call;
use crate::client::Client;
use crate::error::{Error, FunctionName};
use futures_core::Stream;
use serde::de::DeserializeOwned;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::{oneshot, watch};

/// Several live queries read together, made by [`Client::watch_all`]: a [`Stream`] of [`View`]s, each
/// holding the results of every query of the set at one moment of the deployment (after one Transition of
/// the sync protocol), so that a mutation changing two of them is seen in both at once or in neither.
///
/// A view is yielded once every query has a first result, then after each change of any of them. The
/// queries share one live connection: they must run on one client with one credential, or
/// [`insert`](QuerySet::insert) refuses them. Dropping the set unsubscribes them all.
///
/// ```no_run
/// use convex_fetch::StreamExt;
/// # #[convex_fetch::query("posts:list")] async fn list_posts() -> Vec<String>;
/// # #[convex_fetch::query("posts:count")] async fn count_posts() -> f64;
/// # async fn demo(client: convex_fetch::Client) -> Result<(), convex_fetch::Error> {
/// let mut set = client.watch_all();
/// let posts = set.insert(list_posts().on(&client))?;
/// let count = set.insert(count_posts().on(&client))?;
/// while let Some(view) = set.next().await {
///     let view = view?;
///     println!("{} posts, {} counted", view.get(&posts)?.len(), view.get(&count)?);
/// }
/// # Ok(()) }
/// ```
pub struct QuerySet {
    client: Client,
    connection: Option<Arc<Connection>>,
    entries: Vec<Entry>,
    /// The counter of applied Transitions, as last read.
    applied: Option<watch::Receiver<u64>>,
    /// A wait for the next Transition after the last read.
    waiting: Option<Wait>,
    /// The results of the last view yielded, to skip Transitions that changed none of them.
    last: Vec<Outcome>,
    done: bool,
}

/// A wait for a change of the counter.
type Wait = Pin<Box<dyn Future<Output = Result<(), watch::error::RecvError>> + Send>>;

enum Entry {
    Starting {
        function: FunctionName,
        reply: oneshot::Receiver<Subscribed>,
    },
    Live {
        function: FunctionName,
        results: watch::Receiver<Latest>,
        _guard: Unsubscribe,
    },
}

/// Names one query of a [`QuerySet`] and the type its results decode as; [`View::get`] takes it.
pub struct QueryKey<T> {
    index: usize,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for QueryKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for QueryKey<T> {}

impl<T> fmt::Debug for QueryKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("QueryKey").field(&self.index).finish()
    }
}

/// The results of every query of a [`QuerySet`] at one moment.
#[derive(Clone)]
pub struct View {
    results: Vec<(FunctionName, Latest)>,
}

impl View {
    /// The result of one query, decoded: `Err` if the query failed, its result does not decode as `T`, or
    /// the credential was refused (as a [`Subscription`](crate::Subscription) item would be), or if `key`
    /// is of another set.
    ///
    /// A result is decoded once per type and shared, with the subscriptions and the other sets of the same
    /// query too: `T` is cloned from it.
    pub fn get<T: DeserializeOwned + Clone + Send + Sync + 'static>(
        &self,
        key: &QueryKey<T>,
    ) -> Result<T, Error> {
        match self.results.get(key.index) {
            Some((function, latest)) => latest.decode_shared(function),
            None => Err(Error::config(format!(
                "query {} is not in this set, which has {}",
                key.index,
                self.results.len()
            ))),
        }
    }

    /// How many queries the view holds.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether the view holds no query.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }
}

impl fmt::Debug for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.results.iter().map(|(function, _)| &function.path))
            .finish()
    }
}

impl QuerySet {
    pub(crate) fn new(client: Client) -> QuerySet {
        QuerySet {
            client,
            connection: None,
            entries: Vec::new(),
            applied: None,
            waiting: None,
            last: Vec::new(),
            done: false,
        }
    }

    /// Adds a query to the set (on the call's client, else the set's), subscribed at once; the next view
    /// includes it once it has a result. `Err` if the call cannot start (bad args) or needs another
    /// connection than the set's (another client or credential).
    pub fn insert<F: Subscribable, R>(
        &mut self,
        call: Call<F, R>,
    ) -> Result<QueryKey<F::Output>, Error> {
        let (function, client, options) = call.into_parts();
        let name = FunctionName {
            kind: F::KIND,
            path: function.path().to_owned(),
        };
        let args = encode_args(&name, &function)?;
        let client = client.unwrap_or_else(|_| self.client.clone());
        let mut connection = connect(&client, auth_of(&client, &options)?)?;
        if let Some(set) = &self.connection {
            // The set's connection stays the hub's while the set holds a query on it.
            if !Arc::ptr_eq(set, &connection) {
                return Err(Error::config(format!(
                    "`{}` needs another live connection than the set's: the queries of a QuerySet must share \
                     one client and one credential, the only way their results are read at one moment",
                    name.path
                )));
            }
        }
        let (reply, subscribed) = oneshot::channel();
        let path = name.path.clone();
        if Connection::send(&mut connection, Command::Subscribe { path, args, reply }).is_err() {
            return Err(stopped(&name));
        }
        if self.connection.is_none() {
            self.applied = Some(connection.views.applied.subscribe());
            self.connection = Some(connection);
        }
        self.entries.push(Entry::Starting {
            function: name,
            reply: subscribed,
        });
        Ok(QueryKey {
            index: self.entries.len() - 1,
            _type: PhantomData,
        })
    }

    /// How many queries the set holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set holds no query.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The results of every query if all have one and any changed since the last view.
    fn read(&mut self) -> Option<View> {
        let connection = self.connection.as_ref()?;
        let results: Vec<(FunctionName, Latest)> = {
            let _reading = connection
                .views
                .lock
                .read()
                .unwrap_or_else(|e| e.into_inner());
            self.entries
                .iter()
                .filter_map(|entry| match entry {
                    Entry::Live {
                        function, results, ..
                    } => Some((function.clone(), results.borrow().clone())),
                    Entry::Starting { .. } => None,
                })
                .collect()
        };
        if results.len() < self.entries.len()
            || results
                .iter()
                .any(|(_, latest)| matches!(latest.outcome, Outcome::Pending))
        {
            return None;
        }
        let unchanged = results.len() == self.last.len()
            && results
                .iter()
                .zip(&self.last)
                .all(|((_, a), b)| a.outcome.same(b));
        if unchanged {
            return None;
        }
        self.last = results
            .iter()
            .map(|(_, latest)| latest.outcome.clone())
            .collect();
        Some(View { results })
    }
}

impl Stream for QuerySet {
    type Item = Result<View, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done || this.entries.is_empty() {
            return Poll::Ready(None);
        }
        // Queries still being subscribed: their ids come back from the worker.
        let mut starting = false;
        let mut started = false;
        for entry in &mut this.entries {
            let Entry::Starting { function, reply } = entry else {
                continue;
            };
            match Pin::new(reply).poll(cx) {
                Poll::Pending => starting = true,
                Poll::Ready(Err(_)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(stopped(function))));
                }
                Poll::Ready(Ok(subscribed)) => {
                    let Some(connection) = this.connection.clone() else {
                        continue;
                    };
                    started = true;
                    *entry = Entry::Live {
                        function: function.clone(),
                        results: subscribed.results,
                        _guard: Unsubscribe {
                            connection,
                            query_id: subscribed.query_id,
                        },
                    };
                }
            }
        }
        if starting {
            return Poll::Pending;
        }
        if started {
            // A query shared with an earlier subscription may have its result already: read now.
            this.waiting = None;
        }
        loop {
            if let Some(waiting) = this.waiting.as_mut() {
                let Poll::Ready(changed) = waiting.as_mut().poll(cx) else {
                    return Poll::Pending;
                };
                this.waiting = None;
                if changed.is_err() {
                    this.done = true;
                    let function = match &this.entries[0] {
                        Entry::Live { function, .. } | Entry::Starting { function, .. } => function,
                    };
                    return Poll::Ready(Some(Err(stopped(function))));
                }
            }
            let Some(applied) = this.applied.as_mut() else {
                return Poll::Ready(None);
            };
            // Marked seen before reading, so that a Transition applied during the read wakes the next wait.
            applied.borrow_and_update();
            let mut next = applied.clone();
            let view = this.read();
            this.waiting = Some(Box::pin(async move { next.changed().await }));
            if let Some(view) = view {
                return Poll::Ready(Some(Ok(view)));
            }
        }
    }
}

impl Unpin for QuerySet {}

impl fmt::Debug for QuerySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let paths: Vec<&str> = self
            .entries
            .iter()
            .map(|entry| match entry {
                Entry::Live { function, .. } | Entry::Starting { function, .. } => {
                    function.path.as_str()
                }
            })
            .collect();
        f.debug_struct("QuerySet")
            .field("queries", &paths)
            .finish_non_exhaustive()
    }
}
