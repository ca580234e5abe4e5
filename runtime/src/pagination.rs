//! Convex paginated queries (`paginationOpts` in, `{page, isDone, continueCursor}` out) as streams.

use crate::call::{Call, CallFuture};
use crate::error::Error;
use crate::function::Query;
use futures_core::Stream;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// The `paginationOpts` argument of a Convex paginated query (`paginationOptsValidator`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginationOptions {
    /// How many items the page should hold.
    pub num_items: u32,
    /// Where the page starts: `None` (sent as `null`) for the first page, then the previous `continue_cursor`.
    pub cursor: Option<String>,
    /// Where the page ends, to re-fetch a page with the same bounds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_cursor: Option<String>,
    /// A cap on the documents the query may read for this page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_rows_read: Option<u32>,
    /// A cap on the bytes the query may read for this page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_bytes_read: Option<u32>,
}

impl PaginationOptions {
    /// The first page, of `num_items` items.
    pub fn first(num_items: u32) -> Self {
        PaginationOptions {
            num_items,
            cursor: None,
            end_cursor: None,
            maximum_rows_read: None,
            maximum_bytes_read: None,
        }
    }
}

/// What a Convex paginated query returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginationResult<T> {
    /// The items of this page.
    pub page: Vec<T>,
    /// Whether this is the last page.
    pub is_done: bool,
    /// The cursor of the next page.
    pub continue_cursor: String,
    /// Where the backend suggests splitting this page, if it grew too large.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_cursor: Option<String>,
    /// `"SplitRecommended"` or `"SplitRequired"` when the page should be split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_status: Option<String>,
}

type PageCall<T> = Box<dyn FnMut(PaginationOptions) -> CallFuture<PaginationResult<T>> + Send>;

/// The pages of a paginated query, fetched one after another as the stream is polled.
///
/// Built by [`paginate`]. After an error the stream ends.
pub struct Pages<T> {
    call: PageCall<T>,
    page_size: u32,
    cursor: Option<String>,
    done: bool,
    pending: Option<CallFuture<PaginationResult<T>>>,
}

/// Streams the pages of a Convex paginated query, `page_size` items at a time.
///
/// `call` builds the call of one page from its `paginationOpts`; the stream follows `continueCursor` until
/// `isDone`. [`Pages::next_page`] reads it without any stream library; [`Pages::items`] flattens it.
///
/// ```no_run
/// use convex_fetch::pagination::{PaginationOptions, PaginationResult, paginate};
/// use convex_fetch::Untyped;
/// use convex_fetch::value::Value;
/// use serde_json::json;
///
/// # async fn demo() -> Result<(), convex_fetch::Error> {
/// let mut pages = paginate(50, |opts: PaginationOptions| {
///     convex_fetch::Call::new(Untyped::<_, PaginationResult<Value>>::query(
///         "messages:list",
///         json!({ "channel": "general", "paginationOpts": opts }),
///     ))
/// });
/// while let Some(page) = pages.next_page().await {
///     for message in page? {
///         println!("{message}");
///     }
/// }
/// # Ok(()) }
/// ```
pub fn paginate<Q, T, R>(
    page_size: u32,
    mut call: impl FnMut(PaginationOptions) -> Call<Q, R> + Send + 'static,
) -> Pages<T>
where
    Q: Query<Output = PaginationResult<T>>,
    T: Send + 'static,
{
    Pages {
        call: Box::new(move |opts| call(opts).boxed()),
        page_size,
        cursor: None,
        done: false,
        pending: None,
    }
}

impl<T> Pages<T> {
    /// The next page, `None` after the last one.
    pub async fn next_page(&mut self) -> Option<Result<Vec<T>, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The items of every page, one by one.
    pub fn items(self) -> Items<T> {
        Items {
            pages: self,
            buffered: VecDeque::new(),
        }
    }
}

impl<T> Stream for Pages<T> {
    type Item = Result<Vec<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.pending.is_none() {
            if this.done {
                return Poll::Ready(None);
            }
            let opts = PaginationOptions {
                cursor: this.cursor.clone(),
                ..PaginationOptions::first(this.page_size)
            };
            this.pending = Some((this.call)(opts));
        }
        let Some(pending) = this.pending.as_mut() else {
            return Poll::Ready(None);
        };
        let result = ready!(pending.as_mut().poll(cx));
        this.pending = None;
        Poll::Ready(Some(match result {
            Ok(page) => {
                this.done = page.is_done;
                this.cursor = Some(page.continue_cursor);
                Ok(page.page)
            }
            Err(err) => {
                this.done = true;
                Err(err)
            }
        }))
    }
}

impl<T> fmt::Debug for Pages<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("page_size", &self.page_size)
            .field("cursor", &self.cursor)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// The items of a paginated query, one by one: [`Pages::items`].
#[derive(Debug)]
pub struct Items<T> {
    pages: Pages<T>,
    buffered: VecDeque<T>,
}

// Items are only moved in and out of the buffer, never pinned: the stream is `Unpin` whatever `T` is.
impl<T> Unpin for Items<T> {}
impl<T> Unpin for Pages<T> {}

impl<T> Items<T> {
    /// The next item, `None` after the last one.
    pub async fn next_item(&mut self) -> Option<Result<T, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<T> Stream for Items<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.buffered.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            match ready!(Pin::new(&mut this.pages).poll_next(cx)) {
                Some(Ok(page)) => this.buffered.extend(page),
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                None => return Poll::Ready(None),
            }
        }
    }
}
