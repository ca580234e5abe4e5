#!/usr/bin/env bash
# Runs every benchmark and prints ratios against baselines measured in the same run.
# Usage: bash bench/run.sh            (needs wrk for the loopback limit: apt-get install -y wrk)
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), rustc $(rustc --version | cut -d' ' -f2)"

echo "== per-call cost and codec (speed ratio > 1: convex-fetch is faster)"
cargo bench -q -p convex-fetch-bench --bench call --bench codec 2>/dev/null

echo "== live queries against the test deployment (10,000 subscriptions, 1,000 subscribers, reconnect)"
cargo bench -q -p convex-fetch-bench --bench live 2>/dev/null

echo "== heap allocations a call (a counting allocator; the in-process server's included)"
cargo build -q --release -p convex-fetch-bench --bins
target/release/allocs

echo "== peak memory of 10,000 sequential calls"
target/release/rss baseline
target/release/rss convex

echo "== loopback limit (wrk, 2 threads, 64 connections, 10 s, same endpoint and body)"
if command -v wrk >/dev/null 2>&1; then
    target/release/server > /tmp/convex-bench-server.url &
    server=$!
    trap 'kill $server' EXIT
    sleep 1
    url=$(cat /tmp/convex-bench-server.url)
    cat > /tmp/convex-bench.lua <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Convex-Client"] = "npm-1.48.0"
wrk.body = '{"path":"posts:list","format":"convex_encoded_json","args":{"status":"published","limit":20}}'
LUA
    wrk -t2 -c64 -d10s -s /tmp/convex-bench.lua "$url/api/query" | grep -E 'Requests/sec|Latency'
else
    echo "wrk is not installed: apt-get install -y wrk"
fi

echo "== compile time of 300 stubs against hand-written equivalents"
bash bench/compile-time.sh
