//! The quickstart's calls through the stubs `api!` generates from the committed function spec, against the
//! TypeScript functions that spec was printed from: the generated types decode what the functions really
//! return, and the generated path and the hand-written one reach the same functions with the same args.
//! (`examples_function_spec` checks that the committed spec is still the one the functions give.)

use convex::value::Id;
use examples::generated::api;

#[tokio::test]
async fn the_quickstart_runs_on_generated_stubs() {
    let deployment = examples::local::start().await.unwrap();
    let client = deployment.client();

    let posts = api::posts::list(Some(api::posts::ListStatus::Published))
        .on(&client)
        .await
        .unwrap();
    assert!(!posts.is_empty());
    assert!(
        posts
            .iter()
            .all(|p| p.status == api::posts::ListOutputItemStatus::Published)
    );

    let task: Id<examples::generated::tables::Tasks> = api::tasks::create("write docs".into())
        .on(&client)
        .await
        .unwrap();
    api::tasks::complete(task.clone())
        .on(&client)
        .await
        .unwrap();
    let report = api::reports::generate(api::reports::GenerateArgs {
        month: 6.0,
        year: 2025.0,
    })
    .on(&client)
    .await
    .unwrap();
    assert_eq!((report.month, report.year), (6.0, 2025.0));
    let me = api::users::me()
        .on(&client)
        .auth(examples::demo::DEMO_USER_TOKEN)
        .await
        .unwrap();
    assert_eq!(me.subject, "user_1");

    // The same wire args as the hand-written stubs send.
    let hand = examples::api::complete_task(Id::new(task.as_str()))
        .on(&client)
        .await;
    assert!(hand.is_ok());
    let calls = deployment.calls();
    let completes: Vec<_> = calls
        .iter()
        .filter(|c| c.path == "tasks:complete")
        .map(|c| c.args.clone())
        .collect();
    assert_eq!(completes[0], completes[1]);
    assert_eq!(completes[0], convex::value!({ "taskId": task.as_str() }));
}
