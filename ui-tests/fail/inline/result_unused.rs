async fn handler() -> Result<(), convex::Error> {
    convex::convex_fetch!(mutation "posts:touch", {}).await?;
    Ok(())
}

fn main() {
    let _ = handler();
}
