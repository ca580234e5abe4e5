//! What the official clients offer beyond single calls: paginated queries as streams, consistent snapshots,
//! and the admin key acting as a user.

use convex::pagination::{PaginationOptions, PaginationResult, paginate};
use convex::{Call, Untyped};
use convex_fetch_testing::{Auth, Ctx, TestDeployment};
use serde::Deserialize;
use serde_json::{Value, json};

const MESSAGES: usize = 25;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListArgs {
    channel: String,
    pagination_opts: PaginationOptions,
}

#[convex::query("messages:count")]
pub async fn count_messages(channel: String) -> u32;

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        // A paginated query over 25 messages; the cursor is the index of the next one.
        .query("messages:list", |_ctx: Ctx, args: ListArgs| async move {
            let start: usize = args
                .pagination_opts
                .cursor
                .as_deref()
                .map_or(Ok(0), str::parse)
                .map_err(|_| "bad cursor")?;
            let end = (start + args.pagination_opts.num_items as usize).min(MESSAGES);
            Ok(PaginationResult {
                page: (start..end)
                    .map(|i| format!("{} #{i}", args.channel))
                    .collect(),
                is_done: end == MESSAGES,
                continue_cursor: end.to_string(),
                split_cursor: None,
                page_status: None,
            })
        })
        .query("messages:count", |_ctx: Ctx, _args: Value| async move {
            Ok(MESSAGES)
        })
        .query("users:me", |ctx: Ctx, _args: Value| async move {
            Ok(ctx.identity().cloned())
        })
        .start()
        .await
}

#[tokio::test]
async fn paginated_queries_stream_pages_and_items_following_the_cursor() {
    let deployment = deployment().await;
    let url = deployment.url().to_owned();
    let mut pages = paginate(10, move |opts| {
        Call::new(Untyped::<_, PaginationResult<String>>::query(
            "messages:list",
            json!({ "channel": "general", "paginationOpts": opts }),
        ))
        .url(&url)
    });
    let mut sizes = Vec::new();
    while let Some(page) = pages.next_page().await {
        sizes.push(page.unwrap().len());
    }
    assert_eq!(sizes, [10, 10, 5]);

    let cursors: Vec<_> = deployment
        .calls()
        .iter()
        .map(|c| {
            c.args
                .get("paginationOpts")
                .and_then(|o| o.get("cursor"))
                .cloned()
        })
        .collect();
    assert_eq!(
        cursors,
        [
            Some(convex::value!(null)),
            Some("10".into()),
            Some("20".into())
        ],
        "the first page asks with a null cursor"
    );

    let url = deployment.url().to_owned();
    let mut items = paginate(7, move |opts| {
        Call::new(Untyped::<_, PaginationResult<String>>::query(
            "messages:list",
            json!({ "channel": "dev", "paginationOpts": opts }),
        ))
        .url(&url)
    })
    .items();
    let mut all = Vec::new();
    while let Some(item) = items.next_item().await {
        all.push(item.unwrap());
    }
    assert_eq!(all.len(), MESSAGES);
    assert_eq!((all[0].as_str(), all[24].as_str()), ("dev #0", "dev #24"));
}

#[tokio::test]
async fn a_snapshot_runs_several_queries_at_one_timestamp() {
    let deployment = deployment().await;
    let client = deployment.client();
    let snapshot = client.snapshot().await.unwrap();
    assert!(!snapshot.timestamp().is_empty());

    let count = count_messages("general".into())
        .on(&client)
        .at(&snapshot)
        .await
        .unwrap();
    assert_eq!(count, 25);
    let page = snapshot
        .query(Untyped::<_, PaginationResult<String>>::query(
            "messages:list",
            json!({ "channel": "general", "paginationOpts": PaginationOptions::first(3) }),
        ))
        .await
        .unwrap();
    assert_eq!(page.page.len(), 3);

    let endpoints: Vec<_> = deployment.calls().into_iter().map(|c| c.endpoint).collect();
    assert_eq!(endpoints, ["/api/query_at_ts", "/api/query_at_ts"]);
}

#[tokio::test]
async fn the_admin_key_can_act_as_a_user() {
    let deployment = deployment().await;
    let identity =
        json!({ "subject": "user_42", "issuer": "https://auth.example.com", "name": "Ada" });
    let me: Option<Value> = deployment
        .client()
        .query("users:me", json!({}))
        .admin_key_acting_as(deployment.admin_key(), &identity)
        .await
        .unwrap();
    assert_eq!(me, Some(identity.clone()));
    assert!(matches!(&deployment.calls()[0].auth, Auth::ActingAs(seen) if *seen == identity));
}
