//! The corpus: function specs of real public Convex apps (`tests/specs/real/`, sources in its SOURCES.md), each
//! compiled by `api!` here (under `deny(missing_docs)` and, through the workspace lints, clippy), and a few of
//! their generated calls checked on the wire against the test deployment.
#![deny(missing_docs)]

/// `ai-town.json`.
pub mod ai_town {
    convex::api!("specs/real/ai-town.json");
}

/// `aurawrite.json`.
pub mod aurawrite {
    convex::api!("specs/real/aurawrite.json");
}

/// `campaignion.json`.
pub mod campaignion {
    convex::api!("specs/real/campaignion.json");
}

/// `cognify.json`.
pub mod cognify {
    convex::api!("specs/real/cognify.json");
}

/// `convex-demos-pagination.json`.
pub mod convex_demos_pagination {
    /// A message of the demo's `messages` table; its paginated query declares no returns validator.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    pub struct Message {
        /// Who wrote it.
        pub author: String,
        /// What it says.
        pub body: String,
    }

    convex::api!("specs/real/convex-demos-pagination.json", returns {
        "messages:list" => convex::pagination::PaginationResult<Message>,
    });
}

/// `convex-demos-sessions.json`.
pub mod convex_demos_sessions {
    convex::api!("specs/real/convex-demos-sessions.json");
}

/// `convex-demos-system-tables.json`.
pub mod convex_demos_system_tables {
    convex::api!("specs/real/convex-demos-system-tables.json");
}

/// `convex-demos-users-and-clerk-webhooks.json`.
pub mod convex_demos_users_and_clerk_webhooks {
    convex::api!("specs/real/convex-demos-users-and-clerk-webhooks.json");
}

/// `convex-demos-vector-search.json`.
pub mod convex_demos_vector_search {
    convex::api!("specs/real/convex-demos-vector-search.json");
}

/// `convex-helpers-example.json`.
pub mod convex_helpers_example {
    convex::api!("specs/real/convex-helpers-example.json");
}

/// `message-ai.json`.
pub mod message_ai {
    convex::api!("specs/real/message-ai.json");
}

/// `shop-talk.json`.
pub mod shop_talk {
    convex::api!("specs/real/shop-talk.json");
}

/// `slacky.json`.
pub mod slacky {
    convex::api!("specs/real/slacky.json");
}

use convex::pagination::paginate;
use convex::value::Id;
use convex_fetch_testing::{Ctx, TestDeployment};
use serde_json::{Value, json};

#[tokio::test]
async fn generated_calls_of_real_specs_on_the_wire() {
    let deployment = TestDeployment::builder()
        .mutation("decks:createDeck", |_ctx: Ctx, _args: Value| async move { Ok("d1") })
        .query("decks:getDeckById", |_ctx: Ctx, args: Value| async move {
            Ok(json!({ "_id": args["deckId"], "_creationTime": 17.5, "cardCount": 3, "description": "verbs",
                       "name": "German", "userId": "u1" }))
        })
        .mutation("messages:writeMessage", |_ctx: Ctx, _args: Value| async move { Ok(()) })
        .query("counter:getCounter", |_ctx: Ctx, _args: Value| async move { Ok(5) })
        .query("messages:list", |_ctx: Ctx, args: Value| async move {
            let first = args["paginationOpts"]["cursor"].is_null();
            Ok(json!({
                "page": [{ "author": "ada", "body": if first { "one" } else { "two" } }],
                "isDone": !first,
                "continueCursor": "c",
            }))
        })
        .start()
        .await;
    let client = deployment.client();

    // A mutation of two string args takes them by name.
    let deck: Id<cognify::tables::Decks> =
        cognify::api::decks::create_deck(cognify::api::decks::CreateDeckArgs {
            description: "verbs".into(),
            name: "German".into(),
        })
        .on(&client)
        .await
        .unwrap();
    let found = cognify::api::decks::get_deck_by_id(deck.clone())
        .on(&client)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id, found.creation_time, found.card_count),
        (deck, 17.5, 3.0)
    );

    ai_town::api::messages::write_message(ai_town::api::messages::WriteMessageArgs {
        conversation_id: Id::new("c1"),
        player_id: Id::new("p1"),
        text: "hi".into(),
    })
    .on(&client)
    .await
    .unwrap();
    let count: f64 = convex_helpers_example::api::counter::get_counter("clicks".into())
        .on(&client)
        .await
        .unwrap();
    assert_eq!(count, 5.0);

    // The demo's untyped paginated query, typed by the `returns` override, through `paginate`.
    let client2 = client.clone();
    let mut items = paginate(1, move |opts| {
        convex_demos_pagination::api::messages::list(opts).on(&client2)
    })
    .items();
    let mut bodies = Vec::new();
    while let Some(item) = items.next_item().await {
        bodies.push(item.unwrap().body);
    }
    assert_eq!(bodies, ["one", "two"]);

    let calls = deployment.calls();
    assert_eq!(
        calls[0].args,
        convex::value!({ description: "verbs", name: "German" })
    );
    assert_eq!(
        calls[2].args,
        convex::value!({ conversationId: "c1", playerId: "p1", text: "hi" })
    );
    assert_eq!(calls[3].args, convex::value!({ counterName: "clicks" }));
    assert_eq!(
        calls[4].args,
        convex::value!({ paginationOpts: { numItems: 1.0, cursor: null } })
    );
}

/// A paginated query without a returns validator (and no `returns` override) is typed from the result its
/// TypeScript gives (`inferredReturns`, a page of `{author, body}`), so `paginate` takes it as generated and
/// yields typed items.
#[tokio::test]
async fn an_undeclared_paginated_query_pages_with_its_inferred_items() {
    let deployment = TestDeployment::builder()
        .query(
            "messages:listWithTransformation",
            |_ctx: Ctx, args: Value| async move {
                let first = args["paginationOpts"]["cursor"].is_null();
                Ok(json!({
                    "page": [{ "author": "A", "body": if first { "ONE" } else { "TWO" } }],
                    "isDone": !first,
                    "continueCursor": "c",
                }))
            },
        )
        .start()
        .await;
    let client = deployment.client();
    let mut items = paginate(1, move |opts| {
        convex_demos_pagination::api::messages::list_with_transformation(opts).on(&client)
    })
    .items();
    let mut bodies = Vec::new();
    while let Some(item) = items.next_item().await {
        let item = item.unwrap();
        assert_eq!(item.author, "A");
        bodies.push(item.body);
    }
    assert_eq!(bodies, ["ONE", "TWO"]);
}

/// Every spec of the corpus is compiled above: a spec added to the folder without a module here fails.
#[test]
fn every_spec_of_the_corpus_is_compiled() {
    let this = include_str!("api_corpus.rs");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/specs/real");
    let mut specs = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            specs += 1;
            let call = format!("convex::api!(\"specs/real/{name}\"");
            assert!(
                this.contains(&call),
                "{name} is not compiled: add a module with `{call});`"
            );
        }
    }
    assert!(specs >= 10, "{specs} specs");
}

/// The real 12-member union of @convex-dev/auth's `auth:store` (as the AuraWrite app deploys it): one enum
/// told apart by `type`, each variant sent with its tag.
#[tokio::test]
async fn the_auth_libraries_store_union_is_one_enum_sent_by_its_tag() {
    use aurawrite::internal::auth::{StoreArgs2, StoreArgsRefreshSession, StoreArgsSignIn, store};
    let deployment = TestDeployment::builder()
        .internal_mutation(
            "auth:store",
            |_ctx: Ctx, _args: Value| async move { Ok(()) },
        )
        .start()
        .await;
    let client = deployment.client();
    let admin = deployment.admin_key().to_owned();
    let sign_in = StoreArgs2::SignIn(StoreArgsSignIn {
        generate_tokens: true,
        session_id: None,
        user_id: Id::new("u1"),
    });
    for args in [
        sign_in,
        StoreArgs2::SignOut,
        StoreArgs2::RefreshSession(StoreArgsRefreshSession {
            refresh_token: "r1".into(),
        }),
    ] {
        store(args).on(&client).admin_key(&admin).await.unwrap();
    }
    let sent: Vec<_> = deployment.calls().into_iter().map(|c| c.args).collect();
    assert_eq!(
        sent,
        [
            convex::value!({ args: { type: "signIn", generateTokens: true, userId: "u1" } }),
            convex::value!({ args: { type: "signOut" } }),
            convex::value!({ args: { type: "refreshSession", refreshToken: "r1" } }),
        ]
    );
    // And it reads back by the tag, as a handler of the test deployment or a log would.
    let read: StoreArgs2 = deployment.calls()[2]
        .args
        .get("args")
        .unwrap()
        .deserialize_into()
        .unwrap();
    assert_eq!(
        read,
        StoreArgs2::RefreshSession(StoreArgsRefreshSession {
            refresh_token: "r1".into()
        })
    );
}
