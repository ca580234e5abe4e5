use convex::axum::SharedSecret;

#[convex::query("users:me")]
pub async fn me() -> Option<String>;

fn main() {
    // A shared secret guards a route; it is not sent to Convex.
    let secret = SharedSecret::cron("from-the-env");
    let _call = me().auth(secret);
}
