//! End to end: the file-storage example: an upload streamed through the server to Convex, and back.

use examples::file_upload::{AppState, MAX_FILE_BYTES, client, local_deployment, router};
use serde_json::Value;

#[tokio::test]
async fn a_file_goes_up_for_a_storage_id_and_comes_back() {
    let deployment = local_deployment().await;
    let convex = client(deployment.url()).unwrap();
    let app = examples::spawn(router(AppState { convex })).await.unwrap();
    let http = reqwest::Client::new();
    let png: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();

    let response = http
        .post(format!("{app}/api/files"))
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let answer: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let id = answer["storageId"].as_str().unwrap().to_owned();
    assert_eq!(deployment.stored_file(&id).unwrap(), png);
    assert_eq!(
        deployment.stored_content_type(&id).as_deref(),
        Some("image/png")
    );

    let response = http
        .get(format!("{app}/api/files/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.unwrap().to_vec(), png);

    let response = http
        .get(format!("{app}/api/files/unknown"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
}

#[tokio::test]
async fn a_file_over_the_limit_is_a_413_and_is_not_stored() {
    let deployment = local_deployment().await;
    let convex = client(deployment.url()).unwrap();
    let app = examples::spawn(router(AppState { convex })).await.unwrap();
    let response = reqwest::Client::new()
        .post(format!("{app}/api/files"))
        .body(vec![0u8; MAX_FILE_BYTES as usize + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(deployment.stored_files(), 0);
}
