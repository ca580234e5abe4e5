fn main() {
    let _call = convex::convex_fetch!(query "posts:list", serde_json::json!({ "status": "published" }));
}
