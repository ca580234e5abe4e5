//! Encodes the same posts repeatedly with plain serde_json or through the Convex encoder, for an instruction
//! count under callgrind, which the machine's load does not move: `encode serde|convex <posts> <times>`.
//! Subtracting a run with 0 times leaves the cost of the encoding alone.

use convex_fetch_bench::posts;
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let parse = |i: usize| args.get(i).and_then(|n| n.parse::<usize>().ok());
    let (Some(who), Some(n), Some(times)) = (args.get(1), parse(2), parse(3)) else {
        eprintln!("usage: encode serde|convex <posts> <times>");
        std::process::exit(2);
    };
    let value = posts(n);
    let mut total = 0;
    for _ in 0..times {
        let bytes = match who.as_str() {
            "serde" => serde_json::to_vec(black_box(&value)).expect("JSON encodes"),
            _ => convex::value::to_vec(black_box(&value)).expect("posts encode"),
        };
        total += black_box(bytes).len();
    }
    println!("{who}: {total} bytes");
}
