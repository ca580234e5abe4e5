//! A query's updates streamed to browsers as server-sent events: `GET /posts/live` subscribes to
//! `posts:list` over the client's WebSocket and sends the published posts' titles each time they change.
//!
//! A browser listens with `new EventSource("/posts/live")`; each `message` event's data is a JSON array of
//! titles, and a failed query is an `error` event with its status's reason (the details go to the log), after
//! which updates go on.
//! The subscription lives as long as the response: when the browser goes away, the stream is dropped and
//! the query unsubscribed.

use crate::api::{self, Status};
use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::{Stream, StreamExt};
use std::convert::Infallible;

/// The routes, on the client of the deployment whose posts are streamed.
pub fn router(client: convex::Client) -> Router {
    Router::new()
        .route("/posts/live", get(live_posts))
        .with_state(client)
}

async fn live_posts(
    State(client): State<convex::Client>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let updates = api::list_posts(Some(Status::Published))
        .on(&client)
        .subscribe()
        .map(|posts| {
            Ok(match posts {
                Ok(posts) => {
                    let titles: Vec<&str> = posts.iter().map(|p| p.fields.title.as_str()).collect();
                    Event::default()
                        .json_data(titles)
                        .unwrap_or_else(|_| Event::default().event("error"))
                }
                // As for a failed request: the status's reason to the browser, the whole error to the log.
                Err(error) => {
                    tracing::warn!(%error, "the live posts query failed");
                    let reason = error.status_code().canonical_reason().unwrap_or("Error");
                    Event::default().event("error").data(reason)
                }
            })
        });
    Sse::new(updates).keep_alive(KeepAlive::default())
}
