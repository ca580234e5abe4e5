//! Codec cost: encoding and decoding through the Convex JSON rules against plain `serde_json`, to and from the
//! same Rust types, at 1 KB, 100 KB and 10 MB.

use convex_fetch_bench::{Post, compare, full_run, posts, report};
use std::hint::black_box;

fn main() {
    // About 330 bytes a post: 3 posts ≈ 1 KB, 300 ≈ 100 KB, 30,000 ≈ 10 MB.
    for (label, n) in [("1 KB", 3), ("100 KB", 300), ("10 MB", 30_000)] {
        let value = posts(n);
        let plain = serde_json::to_vec(&value).expect("JSON encodes");
        let convex_bytes = convex::value::to_vec(&value).expect("posts encode for Convex");
        let iterations = if !full_run() {
            1
        } else {
            (2_000_000 / plain.len()).clamp(3, 2_000)
        };
        let rounds = if full_run() { 11 } else { 1 };

        let (b, c) = compare(
            rounds,
            iterations,
            || {
                black_box(serde_json::to_vec(black_box(&value)).expect("JSON encodes"));
            },
            || {
                black_box(convex::value::to_vec(black_box(&value)).expect("posts encode"));
            },
        );
        report(
            &format!("encode {label} ({} bytes)", plain.len()),
            "serde_json",
            b,
            c,
        );

        let (b, c) = compare(
            rounds,
            iterations,
            || {
                black_box(
                    serde_json::from_slice::<Vec<Post>>(black_box(&plain)).expect("JSON decodes"),
                );
            },
            || {
                black_box(
                    convex::value::from_slice::<Vec<Post>>(black_box(&convex_bytes))
                        .expect("posts decode"),
                );
            },
        );
        report(
            &format!("decode {label} ({} bytes)", plain.len()),
            "serde_json",
            b,
            c,
        );
    }
}
