//! `api!` over the shapes real specs hold (tagged unions, mixed unions, literal unions, paginated queries,
//! colliding names), called against the test deployment: what the stubs send and how they decode.

use convex::pagination::{PaginationOptions, paginate};
use convex::value::{self, Id};
use convex_fetch_testing::{Ctx, TestDeployment};
use serde_json::{Value, json};

/// A type of the caller's, set as the output of a function that declares none.
#[derive(Debug, PartialEq, serde::Deserialize)]
pub struct Stats {
    /// How many.
    pub count: i64,
}

convex::api!("specs/shapes.json", returns { "stats:default" => Stats });

/// 2^60 + 1: a float64 cannot hold it.
const BIG: i64 = 1_152_921_504_606_846_977;

async fn deployment() -> TestDeployment {
    TestDeployment::builder()
        .internal_mutation("auth:store", |_ctx: Ctx, args: value::Value| async move {
            let kind = args.get("args").and_then(|a| a.get("type")).cloned();
            Ok(match kind.as_ref().and_then(value::Value::as_str) {
                Some("signIn") => value::Value::Int64(BIG),
                Some("signOut") => value::Value::Float64(2.5),
                _ => value::Value::String("u1".into()),
            })
        })
        .query("values:pick", |_ctx: Ctx, args: Value| async move {
            Ok(match args["which"].as_f64() {
                Some(1.0) => convex::value!(BIG),
                Some(2.0) => convex::value!("users|1"),
                _ => value::Value::Bytes(vec![1, 2]),
            })
        })
        .query("messages:list", |_ctx: Ctx, args: Value| async move {
            let cursor = args["paginationOpts"]["cursor"].as_str().map(str::to_owned);
            let (n, next, done) = match cursor.as_deref() {
                None => (1.0, "c1", false),
                _ => (2.0, "end", true),
            };
            Ok(json!({
                "page": [{ "_id": format!("m{n}"), "_creationTime": n, "priority": n, "status": "read" }],
                "isDone": done,
                "continueCursor": next,
            }))
        })
        .query("stats:default", |_ctx: Ctx, _args: Value| async move {
            Ok(convex::value!({ count: BIG }))
        })
        .mutation("values:sendMessage", |_ctx: Ctx, _args: Value| async move { Ok(()) })
        .mutation("values:send", |_ctx: Ctx, _args: Value| async move { Ok(()) })
        .start()
        .await
}

#[tokio::test]
async fn unions_decode_without_losing_the_type() {
    use internal::auth::{StoreArgs2, StoreArgsRefreshSession, StoreArgsSignIn, StoreOutput};
    let deployment = deployment().await;
    let client = deployment.client();
    let admin = deployment.admin_key();

    let sign_in = StoreArgs2::SignIn(StoreArgsSignIn {
        session_id: None,
        user_id: Id::new("u1"),
    });
    let out = internal::auth::store(sign_in)
        .on(&client)
        .admin_key(admin)
        .await
        .unwrap();
    assert_eq!(out, Some(StoreOutput::Int64(BIG)), "the int64 is exact");
    let out = internal::auth::store(StoreArgs2::SignOut)
        .on(&client)
        .admin_key(admin)
        .await
        .unwrap();
    assert_eq!(out, Some(StoreOutput::Number(2.5)));
    let refresh = StoreArgs2::RefreshSession(StoreArgsRefreshSession {
        refresh_token: "r".into(),
    });
    let out = internal::auth::store(refresh)
        .on(&client)
        .admin_key(admin)
        .await
        .unwrap();
    assert_eq!(out, Some(StoreOutput::String("u1".into())));

    let calls = deployment.calls();
    assert_eq!(
        calls[0].args,
        convex::value!({ args: { type: "signIn", userId: "u1" } })
    );
    assert_eq!(calls[1].args, convex::value!({ args: { type: "signOut" } }));
    assert_eq!(
        calls[2].args,
        convex::value!({ args: { type: "refreshSession", refreshToken: "r" } })
    );

    use api::values::{PickOutput, PickWhich};
    let picked = api::values::pick(PickWhich::V1).on(&client).await.unwrap();
    assert_eq!(picked, PickOutput::Int64(BIG));
    let picked = api::values::pick(PickWhich::V2).on(&client).await.unwrap();
    assert_eq!(picked, PickOutput::Id(Id::new("users|1")));
    let picked = api::values::pick(PickWhich::V3).on(&client).await.unwrap();
    assert_eq!(
        picked,
        PickOutput::Bytes(value::Bytes(vec![1, 2])),
        "bytes are not an array"
    );
    // The literals go out as the numbers they are.
    assert_eq!(deployment.calls()[3].args, convex::value!({ which: 1.0 }));
}

#[tokio::test]
async fn paginated_queries_stream_through_the_runtimes_paginate() {
    let deployment = deployment().await;
    let client = deployment.client();
    let channel: Id<tables::Channels> = Id::new("general");
    let mut items = paginate(1, move |opts: PaginationOptions| {
        api::messages::list(api::messages::ListArgs {
            channel: channel.clone(),
            pagination_opts: opts,
        })
        .on(&client)
    })
    .items();
    let mut seen = Vec::new();
    while let Some(item) = items.next_item().await {
        let item = item.unwrap();
        assert_eq!(
            item.status,
            Some(api::messages::ListOutputPageItemStatus::Read)
        );
        seen.push((item.id.as_str().to_owned(), item.priority));
    }
    use api::messages::ListOutputPageItemPriority as P;
    assert_eq!(seen, [("m1".to_owned(), P::V1), ("m2".to_owned(), P::V2)]);
    let calls = deployment.calls();
    assert_eq!(
        calls[1].args.get("paginationOpts").unwrap(),
        &convex::value!({ numItems: 1.0, cursor: "c1" })
    );
}

#[tokio::test]
async fn outputs_set_in_the_call_and_colliding_names() {
    let deployment = deployment().await;
    let client = deployment.client();
    let stats: Stats = api::stats::default_().on(&client).await.unwrap();
    assert_eq!(stats, Stats { count: BIG });

    // `send({message})` beside `sendMessage`: the args struct is `SendMessageArgs`, the field's `SendMessage`.
    api::values::send(api::values::SendMessage { body: "hi".into() })
        .on(&client)
        .await
        .unwrap();
    // `userId` beside `user_id`, a name with a space and one with a leading digit: the wire names are kept.
    api::values::send_message(api::values::SendMessageArgs {
        field_2fa: "123456".into(),
        first_name: Some("Ada".into()),
        user_id: 7.0,
        user_id_2: "u1".into(),
    })
    .on(&client)
    .await
    .unwrap();
    assert_eq!(
        deployment.calls()[2].args,
        convex::value!({ "2fa": "123456", "first name": "Ada", "userId": "u1", "user_id": 7.0 })
    );
}
