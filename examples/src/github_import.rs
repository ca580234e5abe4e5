//! Data fetched from another API and stored with one mutation.
//!
//! `POST /api/import/github` with `{"repoUrl": "https://github.com/<owner>/<repo>"}` fetches the repository's
//! open issues from `GET {GITHUB_API_URL}/repos/{owner}/{repo}/issues` (pull requests left out), stores them
//! with the mutation `issues:importMany`, and answers `{"imported": n}`.
//!
//! The owner and repository names are checked before they go into a URL, so that a crafted `repoUrl` cannot
//! reach another GitHub endpoint. A repository GitHub does not know is answered 404; GitHub failing, 502.

use crate::api::{self, NewIssue};
use crate::error_handling::reject;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use convex::value::Int64;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;

/// GitHub's REST API, unless `GITHUB_API_URL` says otherwise.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// What the route needs.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The Convex deployment.
    pub convex: convex::Client,
    /// The client for GitHub; give it a timeout.
    pub http: reqwest::Client,
    /// GitHub's API, [`DEFAULT_API_URL`] (`GITHUB_API_URL`).
    pub api_url: String,
    /// A GitHub token, for private repositories and a higher rate limit (`GITHUB_TOKEN`).
    pub token: Option<convex::Secret>,
}

/// The route: `POST /api/import/github`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/import/github", post(import))
        .with_state(state)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportBody {
    repo_url: String,
}

/// An issue as GitHub's API returns it.
#[derive(Deserialize)]
struct GithubIssue {
    id: i64,
    number: u64,
    title: String,
    body: Option<String>,
    /// Present on pull requests, which the issues endpoint lists too.
    pull_request: Option<IgnoredAny>,
}

async fn import(
    State(state): State<AppState>,
    Json(body): Json<ImportBody>,
) -> Result<Response, convex::Error> {
    let Some((owner, repo)) = parse_repo_url(&body.repo_url) else {
        return Ok(reject(
            StatusCode::BAD_REQUEST,
            "repoUrl must look like https://github.com/<owner>/<repo>",
        ));
    };
    let issues = match fetch_issues(&state, owner, repo).await {
        Ok(issues) => issues,
        Err(status) => {
            return Ok(reject(
                status,
                "the issues could not be fetched from GitHub",
            ));
        }
    };
    let issues = issues
        .into_iter()
        .filter(|issue| issue.pull_request.is_none())
        .map(|issue| NewIssue {
            github_id: Int64(issue.id),
            number: issue.number,
            title: issue.title,
            body: issue.body,
        })
        .collect();
    let imported = api::import_issues(body.repo_url, issues)
        .on(&state.convex)
        .await?;
    Ok(Json(json!({ "imported": imported })).into_response())
}

/// The open issues of `owner/repo`, or the status to answer with.
async fn fetch_issues(
    state: &AppState,
    owner: &str,
    repo: &str,
) -> Result<Vec<GithubIssue>, StatusCode> {
    let url = format!(
        "{}/repos/{owner}/{repo}/issues",
        state.api_url.trim_end_matches('/')
    );
    let mut request = state
        .http
        .get(url)
        .query(&[("state", "open"), ("per_page", "100")])
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28");
    if let Some(token) = &state.token {
        request = request.bearer_auth(token.expose());
    }
    let response = request.send().await.map_err(|err| {
        tracing::error!(error = %err, "GitHub could not be reached");
        StatusCode::BAD_GATEWAY
    })?;
    match response.status() {
        status if status.is_success() => {}
        reqwest::StatusCode::NOT_FOUND => return Err(StatusCode::NOT_FOUND),
        status => {
            tracing::error!(%status, "GitHub refused the request");
            return Err(StatusCode::BAD_GATEWAY);
        }
    }
    response.json().await.map_err(|err| {
        tracing::error!(error = %err, "GitHub's answer is not a list of issues");
        StatusCode::BAD_GATEWAY
    })
}

/// `https://github.com/<owner>/<repo>` (a trailing `/` or `.git` allowed) → `(owner, repo)`, both made of
/// the characters GitHub allows in names.
fn parse_repo_url(url: &str) -> Option<(&str, &str)> {
    let path = url.trim().strip_prefix("https://github.com/")?;
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, repo) = path.split_once('/')?;
    let valid = |name: &str| {
        !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (valid(owner) && valid(repo)).then_some((owner, repo))
}

#[cfg(test)]
mod tests {
    use super::parse_repo_url;

    #[test]
    fn reads_owner_and_repo() {
        assert_eq!(
            parse_repo_url("https://github.com/get-convex/convex-js"),
            Some(("get-convex", "convex-js"))
        );
        assert_eq!(
            parse_repo_url("https://github.com/a/b.rs.git/"),
            Some(("a", "b.rs"))
        );
    }

    #[test]
    fn refuses_what_could_leave_the_issues_endpoint() {
        for url in [
            "https://github.com/a",
            "https://github.com/a/b/pulls",
            "https://github.com/../b",
            "https://github.com/a/b?x=1",
            "https://gitlab.com/a/b",
            "https://github.com/a/%2e%2e",
        ] {
            assert_eq!(parse_repo_url(url), None, "{url}");
        }
    }
}
