//! `api!`'s `returns { … }` for a function that has a returns validator: the application's own type replaces
//! the generated one, so that the call and the rest of the code share it.

use convex::pagination::PaginationOptions;
use convex::value::Id;
use convex_fetch_testing::{Ctx, TestDeployment};
use serde_json::{Value, json};

/// The application's own page of messages (the spec's `messages:list` returns a validated page).
#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    /// The messages' ids.
    pub page: Vec<Message>,
    /// Whether this is the last page.
    pub is_done: bool,
}

/// A message, as the application reads it.
#[derive(Debug, PartialEq, serde::Deserialize)]
pub struct Message {
    /// Its id.
    #[serde(rename = "_id")]
    pub id: String,
}

convex::api!("specs/shapes.json", returns { "messages:list" => MessagePage });

#[tokio::test]
async fn a_validated_output_is_replaced_by_the_applications_type() {
    let deployment = TestDeployment::builder()
        .query("messages:list", |_ctx: Ctx, _args: Value| async move {
            Ok(json!({
                "page": [{ "_id": "m1", "_creationTime": 1.0, "priority": 1.0, "status": "read" }],
                "isDone": true,
                "continueCursor": "end",
            }))
        })
        .start()
        .await;
    // The annotation is the check: the call's output is `MessagePage`, not the generated page type.
    let page: MessagePage = api::messages::list(api::messages::ListArgs {
        channel: Id::new("channels|1"),
        pagination_opts: PaginationOptions::first(10),
    })
    .on(deployment.client())
    .await
    .unwrap();
    assert_eq!(
        page,
        MessagePage {
            page: vec![Message { id: "m1".into() }],
            is_done: true
        }
    );
}
