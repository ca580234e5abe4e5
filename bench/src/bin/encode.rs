//! Encodes (or decodes) the same posts repeatedly with plain serde_json or through the Convex codec, for an
//! instruction count under callgrind, which the machine's load does not move:
//! `encode serde|convex|serde-decode|convex-decode <posts> <times>`. Subtracting a run with 0 times leaves the
//! cost of the encoding alone.

use convex_fetch_bench::{Post, posts};
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let parse = |i: usize| args.get(i).and_then(|n| n.parse::<usize>().ok());
    let (Some(who), Some(n), Some(times)) = (args.get(1), parse(2), parse(3)) else {
        eprintln!("usage: encode serde|convex <posts> <times>");
        std::process::exit(2);
    };
    let value = posts(n);
    let plain = serde_json::to_vec(&value).expect("JSON encodes");
    let encoded = convex::value::to_vec(&value).expect("posts encode");
    let mut total = 0;
    for _ in 0..times {
        total += match who.as_str() {
            "serde" => {
                black_box(serde_json::to_vec(black_box(&value)).expect("JSON encodes")).len()
            }
            "serde-decode" => {
                let posts: Vec<Post> = serde_json::from_slice(black_box(&plain)).expect("decodes");
                black_box(posts).len()
            }
            "convex-decode" => {
                let posts: Vec<Post> =
                    convex::value::from_slice(black_box(&encoded)).expect("decodes");
                black_box(posts).len()
            }
            _ => black_box(convex::value::to_vec(black_box(&value)).expect("posts encode")).len(),
        };
    }
    println!("{who}: {total} bytes");
}
