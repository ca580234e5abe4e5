//! The Convex functions the examples call, declared once: one line per function, with typed args and result.
//!
//! In a real app this module mirrors your `convex/` folder. `#[convex::query("posts:list")]` turns the
//! bodyless `async fn` into a function returning a [`convex::Call`]: set options (`.on(&client)`,
//! `.auth(token)`, `.timeout(…)`) and `.await` it. It also declares the args struct (`ListPostsQuery`), which
//! `convex::fetch_query(url, ListPostsQuery { status }, options)` takes, as `fetchQuery` does in server routes.

use convex::value::{Document, Id, Int64};
use serde::{Deserialize, Serialize};

/// The publication status of a post (`v.union(v.literal("draft"), v.literal("published"))`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not visible yet.
    Draft,
    /// Visible to everyone.
    Published,
}

/// A document of the `posts` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// The title.
    pub title: String,
    /// Draft or published.
    pub status: Status,
    /// The author's name.
    pub author: String,
}

/// A document of the `tasks` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// What is to be done.
    pub text: String,
    /// Whether it is done.
    pub is_completed: bool,
}

/// What `reports:generate` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The month reported on, 1 to 12.
    pub month: u8,
    /// The year reported on.
    pub year: u16,
    /// How many posts are published.
    pub posts_published: u64,
    /// How many tasks are completed.
    pub tasks_completed: u64,
}

/// The signed-in user, as `users:me` returns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The user's id at the auth provider (the JWT's `sub`).
    pub subject: String,
    /// The user's display name.
    pub name: String,
}

/// An issue to store, as `issues:importMany` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewIssue {
    /// GitHub's id of the issue (`v.int64()`).
    pub github_id: Int64,
    /// The issue number within its repository.
    pub number: u64,
    /// The title.
    pub title: String,
    /// The text; left out of the args when GitHub has none (`v.optional(v.string())`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// Lists the posts, all of them or those with `status`.
#[convex::query("posts:list")]
pub async fn list_posts(status: Option<Status>) -> Vec<Document<Post>>;

/// The signed-in user's profile; needs `.auth(jwt)`.
#[convex::query("users:me")]
pub async fn me() -> Profile;

/// Creates a task; throws a `ConvexError` with `{ code: "EMPTY_TEXT" }` when `text` is blank.
#[convex::mutation("tasks:create")]
pub async fn create_task(text: String) -> Id<Task>;

/// Marks a task as done; throws a `ConvexError` with `{ code: "TASK_NOT_FOUND" }` for an unknown id.
#[convex::mutation("tasks:complete")]
pub async fn complete_task(task_id: Id<Task>) -> ();

/// Builds the monthly report.
#[convex::action("reports:generate")]
pub async fn generate_report(month: u8, year: u16) -> Report;

/// Activates the subscription a Stripe checkout created.
#[convex::mutation("subscriptions:activate")]
pub async fn activate_subscription(user_id: String, stripe_subscription_id: String) -> ();

/// Cancels a subscription Stripe deleted.
#[convex::mutation("subscriptions:cancel")]
pub async fn cancel_subscription(stripe_subscription_id: String) -> ();

/// Sends the daily digest emails; returns how many were sent.
#[convex::action("notifications:sendDailyDigests")]
pub async fn send_daily_digests() -> u64;

/// Records one page view.
#[convex::mutation("analytics:recordPageView")]
pub async fn record_page_view(path: String, user_agent: String, timestamp: u64) -> ();

/// Stores issues imported from a repository (replacing those with the same `githubId`); returns how many.
#[convex::mutation("issues:importMany")]
pub async fn import_issues(repo_url: String, issues: Vec<NewIssue>) -> u64;
