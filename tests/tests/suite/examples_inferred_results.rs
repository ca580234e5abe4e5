//! The examples' functions that declare no returns validator (`examples/convex/undeclared.ts`): their result
//! types are inferred from the TypeScript (`inferredReturns` in the committed spec), and the types `api!` makes
//! of them decode what the functions really return.

use convex::pagination::{PaginationOptions, PaginationResult};
use convex::value::Id;
use examples::generated::{api, tables};

#[tokio::test]
async fn undeclared_results_decode_into_their_inferred_types() {
    let deployment = examples::local::start().await.unwrap();
    let client = deployment.client();

    // A `Doc<"posts">`: the table's fields and the system fields.
    let first = api::undeclared::first_post().on(&client).await.unwrap();
    let first_id: Id<tables::Posts> = first.id.clone();
    assert!(!first.title.is_empty());
    assert!(first.creation_time > 0.0);

    // An `Id<"tasks">`, then the document it names and one that is gone (a nullable `Doc<"tasks">`).
    let added: Id<tables::Tasks> = api::undeclared::add_task("inferred".into())
        .on(&client)
        .await
        .unwrap();
    let task = api::undeclared::find_task(added.clone())
        .on(&client)
        .await
        .unwrap()
        .expect("the task just added");
    assert_eq!(
        (task.id, task.text.as_str(), task.is_completed),
        (added, "inferred", false)
    );

    // A `PaginationResult<Doc<"posts">>`: the runtime's page type, so `paginate` takes it.
    let page: PaginationResult<_> = api::undeclared::page_posts(PaginationOptions::first(2))
        .on(&client)
        .await
        .unwrap();
    assert_eq!(page.page.len(), 2);
    assert_eq!(page.page[0].id, first_id);
    assert!(!page.is_done);

    // A union of objects told apart by `kind`.
    let described = api::undeclared::describe_post(first_id)
        .on(&client)
        .await
        .unwrap();
    let title = match described {
        api::undeclared::DescribePostOutput::Draft(draft) => draft.title,
        api::undeclared::DescribePostOutput::Published(post) => post.title,
        other => panic!("the first post exists: {other:?}"),
    };
    assert_eq!(title, first.title);

    // A `bigint` arrives as an `i64`, a `number` as an `f64`.
    let counts = api::undeclared::count_tasks().on(&client).await.unwrap();
    let total: i64 = counts.total;
    let done: f64 = counts.done;
    assert_eq!(total, 3, "init's two tasks and the one added");
    assert!(done <= 3.0);
}
