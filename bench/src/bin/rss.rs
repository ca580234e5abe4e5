//! Peak resident memory of 10,000 sequential calls, in this process: `rss convex` or `rss baseline`.
//! Run each mode in its own process (bench/run.sh does) so the peaks do not mix.

use convex_fetch_bench::{hand_written_call, serve_fixed, success_body, typed_call};

const CALLS: usize = 10_000;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let url = format!("http://{}", serve_fixed(success_body(20)).await);
        match mode.as_str() {
            "convex" => {
                let client = convex::Client::new(&url).expect("a loopback URL is valid");
                for _ in 0..CALLS {
                    typed_call(&client).await;
                }
            }
            "baseline" => {
                let http = reqwest::Client::new();
                for _ in 0..CALLS {
                    hand_written_call(&http, &url).await;
                }
            }
            _ => {
                eprintln!("usage: rss convex|baseline");
                std::process::exit(2);
            }
        }
    });
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: unknown");
    println!(
        "{mode}: {CALLS} sequential calls, peak RSS {}",
        peak.trim_start_matches("VmHWM:").trim()
    );
}
