//! One kind of call in a loop, for a profiler: `calls convex|hand 1|20 [calls]` runs that many sequential calls
//! (default 20,000) of the typed call or the careful hand-written one, on the one- or 20-document answer.
//! `perf record -g target/release/calls convex 20` then shows where a call's time goes.

use convex_fetch_bench::{
    HandClient, hand_typed_get, hand_typed_list, serve_fixed, success_body, success_body_one,
    typed_call, typed_get,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (who, docs) = match (
        args.get(1).map(String::as_str),
        args.get(2).map(String::as_str),
    ) {
        (Some(who @ ("convex" | "hand")), Some(docs @ ("1" | "20"))) => {
            (who.to_owned(), docs == "20")
        }
        _ => {
            eprintln!("usage: calls convex|hand 1|20 [calls]");
            std::process::exit(2);
        }
    };
    let calls: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let body = if docs {
            success_body(20)
        } else {
            success_body_one()
        };
        let url = format!("http://{}", serve_fixed(body).await);
        let client = convex::Client::new(&url).expect("a loopback URL is valid");
        let hand = HandClient::new(&url);
        let started = std::time::Instant::now();
        for _ in 0..calls {
            match (who.as_str(), docs) {
                ("convex", false) => drop(typed_get(&client).await),
                ("convex", true) => drop(typed_call(&client).await),
                (_, false) => drop(hand_typed_get(&hand).await),
                (_, true) => drop(hand_typed_list(&hand).await),
            }
        }
        let each = started.elapsed().as_secs_f64() * 1e6 / calls as f64;
        println!("{who}: {calls} calls, {each:.1} µs a call");
    });
}
