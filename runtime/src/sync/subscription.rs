//! The typed stream of a live query.

use super::latest::Latest;
use super::worker::{Command, Outcome};
use super::{Connection, ConnectionState, stopped};
use crate::error::{Error, FunctionName};
use futures_core::Stream;
use serde::de::DeserializeOwned;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::{oneshot, watch};

/// A live query: a [`Stream`] of its current value, then of each change. Made by
/// [`Call::subscribe`](crate::Call::subscribe); dropping it unsubscribes.
///
/// A consumer slower than the changes sees the latest value, not every intermediate one. An item is
/// `Err` when the query failed (a thrown `ConvexError` keeps its data: [`Error::data`]), when its result
/// does not decode as `T`, or when the deployment refused the credential or the socket itself
/// ([`ErrorKind::Live`](crate::ErrorKind::Live)); the stream goes on after it.
pub struct Subscription<T> {
    function: FunctionName,
    /// The connection it is (or will be) served by, shared with the stream, which may move it to another
    /// connection of the same credential when it starts.
    connection: Option<Shared>,
    inner: Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>,
}

/// A subscription's connection, as the stream and the handle both see it.
type Shared = Arc<Mutex<Arc<Connection>>>;

/// How a stream turns its query's latest result into an item: [`Latest::decode_shared`] (once per result
/// and type, for every subscriber) or [`Latest::decode_own`].
pub(crate) type Decode<T> = fn(&Latest, &FunctionName) -> Result<T, Error>;

/// Where a subscription's stream stands.
enum Step {
    Start {
        connection: Shared,
        path: String,
        args: super::Args,
    },
    Live {
        results: watch::Receiver<Latest>,
        _guard: Unsubscribe,
        first: bool,
    },
    Failed(Error),
    Done,
}

/// Sends `Remove` for the query when the last of its subscriptions goes.
pub(crate) struct Unsubscribe {
    pub(crate) connection: Arc<Connection>,
    pub(crate) query_id: u32,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        let _ = self.connection.commands.send(Command::Unsubscribe {
            query_id: self.query_id,
        });
    }
}

impl<T: DeserializeOwned + Clone + Send + Sync + 'static> Subscription<T> {
    /// A subscription whose items are decoded once per result and type and shared with the other
    /// subscribers of the query.
    pub(crate) fn new(function: FunctionName, start: super::Opened) -> Subscription<T> {
        Subscription::with_decode(function, start, Latest::decode_shared::<T>)
    }
}

impl<T: DeserializeOwned + Send + 'static> Subscription<T> {
    /// A subscription whose items it decodes itself: for a one-off read, whose type need not be `Clone`.
    pub(crate) fn own(function: FunctionName, start: super::Opened) -> Subscription<T> {
        Subscription::with_decode(function, start, Latest::decode_own::<T>)
    }

    fn with_decode(
        function: FunctionName,
        start: super::Opened,
        decode: Decode<T>,
    ) -> Subscription<T> {
        let (connection, step) = match start {
            Ok((connection, args)) => {
                let connection = Arc::new(Mutex::new(connection));
                (
                    Some(connection.clone()),
                    Step::Start {
                        connection,
                        path: function.path.clone(),
                        args,
                    },
                )
            }
            Err(error) => (None, Step::Failed(error)),
        };
        // Shared by the items' futures (a reference count per item, not a copy of the path).
        let name = Arc::new(function.clone());
        let inner = futures_util::stream::unfold(step, move |step| {
            let function = name.clone();
            async move { next::<T>(&function, decode, step).await }
        });
        Subscription {
            function,
            connection,
            inner: Box::pin(inner),
        }
    }
}

impl<T> Subscription<T> {
    /// The query subscribed to.
    pub fn function(&self) -> &FunctionName {
        &self.function
    }

    /// The state of the connection this subscription is served by; `None` when it could not start (its
    /// first item is then the reason).
    pub fn connection_state(&self) -> Option<watch::Receiver<ConnectionState>> {
        self.connection
            .as_ref()
            .map(|c| super::lock(c).state.subscribe())
    }
}

async fn next<T>(
    function: &FunctionName,
    decode: Decode<T>,
    mut step: Step,
) -> Option<(Result<T, Error>, Step)> {
    loop {
        match step {
            Step::Done => return None,
            Step::Failed(error) => return Some((Err(error), Step::Done)),
            Step::Start {
                connection,
                path,
                args,
            } => {
                let (reply, subscribed) = oneshot::channel();
                let mut current = super::lock(&connection).clone();
                let sent = Connection::send(&mut current, Command::Subscribe { path, args, reply });
                *super::lock(&connection) = current.clone();
                let connection = current;
                let subscribed = match (sent, subscribed.await) {
                    (Ok(()), Ok(subscribed)) => subscribed,
                    _ => return Some((Err(stopped(function)), Step::Done)),
                };
                step = Step::Live {
                    results: subscribed.results,
                    _guard: Unsubscribe {
                        connection,
                        query_id: subscribed.query_id,
                    },
                    first: true,
                };
            }
            Step::Live {
                mut results,
                _guard,
                first,
            } => {
                if !first && results.changed().await.is_err() {
                    return Some((Err(stopped(function)), Step::Done));
                }
                // Cloned (two reference counts) rather than decoded under the borrow, which would hold off the
                // worker's next publish.
                let latest = results.borrow_and_update().clone();
                let item = match latest.outcome {
                    Outcome::Pending => None,
                    _ => Some(decode(&latest, function)),
                };
                let next = Step::Live {
                    results,
                    _guard,
                    first: false,
                };
                match item {
                    Some(item) => return Some((item, next)),
                    None => step = next,
                }
            }
        }
    }
}

impl<T> Stream for Subscription<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T> Unpin for Subscription<T> {}

impl<T> fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("function", &self.function)
            .field(
                "connection",
                &self
                    .connection
                    .as_ref()
                    .map(|c| super::lock(c).state.borrow().clone()),
            )
            .finish_non_exhaustive()
    }
}
