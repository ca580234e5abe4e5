//! `api!` over a spec that uses every validator, called against the test deployment.

use std::collections::BTreeMap;

use convex::value::{self, Bytes, Id, Int64};
use convex_fetch_testing::{Auth, Ctx, TestDeployment};
use serde_json::{Value, json};

convex::api!("convex/function_spec.json");

use api::posts::{ListArgs, ListStatus};
use convex::pagination::PaginationOptions;

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .query("posts:list", |_ctx: Ctx, args: Value| async move {
            Ok(json!({
                "page": [{ "_id": "p1", "_creationTime": 1.5, "title": "Hello", "views": 7, "type": "post",
                           "echo": args }],
                "isDone": true,
                "continueCursor": "end",
            }))
        })
        .mutation("tasks:complete", |_ctx: Ctx, _args: Value| async move { Ok(()) })
        .internal_mutation("tasks:purgeOld", |_ctx: Ctx, args: Value| async move {
            Ok(args["olderThan"].clone())
        })
        .action("tasks:stats", |_ctx: Ctx, args: value::Value| async move {
            Ok(convex::value!({ got: args }))
        })
        .action("admin/files:upload", |_ctx: Ctx, _args: Value| async move {
            Ok(json!({ "size": 3, "stamp": 42, "tags": ["a"] }))
        })
        .query("stats:default", |_ctx: Ctx, _args: Value| async move { Ok(json!([1, 2])) })
        .query("users:me", |ctx: Ctx, _args: Value| async move {
            Ok(ctx.identity().map(|_| json!({ "name": "Ada" })))
        })
        .token("t", json!({ "subject": "u1" }))
        .start()
        .await
}

#[tokio::test]
async fn generated_stubs_send_what_the_validators_declare() {
    let deployment = deployment().await;
    let client = deployment.client();

    // Two or more args are given by name; `paginationOpts` is the runtime's pagination options.
    let page = api::posts::list(ListArgs {
        pagination_opts: PaginationOptions::first(10),
        status: Some(ListStatus::Published),
    })
    .on(&client)
    .await
    .unwrap();
    assert!(page.is_done);
    let post = &page.page[0];
    assert_eq!(post.id, Id::new("p1"));
    assert_eq!(post.creation_time, 1.5);
    assert_eq!((post.title.as_str(), post.views), ("Hello", 7));
    assert_eq!(post.r#type, api::posts::ListOutputPageItemType::Post);

    api::tasks::complete(api::tasks::CompleteArgs {
        id: Id::new("t1"),
        note: Some(None),
    })
    .on(&client)
    .await
    .unwrap();
    let purged = internal::tasks::purge_old(Int64(30))
        .on(&client)
        .admin_key(deployment.admin_key())
        .await
        .unwrap();
    assert_eq!(purged, 30.0);
    // No returns validator: the answer is a `value::Value`, with its Convex types.
    let stats = api::tasks::stats(json!({ "any": "thing", "n": Int64(i64::MIN) }))
        .on(&client)
        .await
        .unwrap();
    assert_eq!(
        stats,
        convex::value!({ got: { any: "thing", n: i64::MIN } })
    );

    let upload = api::admin::files::upload(api::admin::files::UploadArgs {
        blob: Bytes(vec![1, 2]),
        file: None,
        flag: Some(true),
        meta: BTreeMap::from([("k".to_owned(), convex::value!(1))]),
        score: api::admin::files::UploadScore::Object(api::admin::files::UploadScoreObject {
            exact: Int64(5),
        }),
    })
    .on(&client)
    .await
    .unwrap();
    assert_eq!(
        (upload.size, upload.stamp, upload.tags.as_slice()),
        (3.0, 42, &["a".to_owned()][..])
    );

    assert_eq!(
        api::stats::default_().on(&client).await.unwrap(),
        convex::value!([1, 2])
    );
    assert_eq!(api::users::me().on(&client).await.unwrap(), None);
    let me = api::users::me().on(&client).auth("t").await.unwrap();
    assert_eq!(me.map(|m| m.name).as_deref(), Some("Ada"));

    let calls = deployment.calls();
    assert_eq!(
        calls[0].args,
        convex::value!({ "status": "published", "paginationOpts": { "numItems": 10.0, "cursor": null } }),
        "the options the runtime sends leave out what is `None`"
    );
    assert_eq!(
        calls[1].args,
        convex::value!({ "id": "t1", "note": null }),
        "an optional nullable field set to null is sent"
    );
    assert_eq!(calls[2].args, convex::value!({ "olderThan": 30i64 }));
    assert!(matches!(calls[2].auth, Auth::Admin));
    assert_eq!(
        calls[4].args,
        convex::value!({ "blob": Bytes(vec![1, 2]), "meta": { "k": 1 }, "score": { "exact": 5i64 }, "flag": true })
    );
}

#[test]
fn http_routes_and_table_markers_are_listed() {
    assert_eq!(
        http::POST_WEBHOOK,
        convex::HttpRoute {
            method: "POST",
            path: "/webhook"
        }
    );
    assert!(http::GET_FILES_PREFIX.is_prefix());
    // Stored files are the runtime's type, the one `Client::upload` returns.
    let _: Id<convex::Storage> = Id::new("s1");
    let _: Id<tables::Tasks> = Id::new("t1");
}
