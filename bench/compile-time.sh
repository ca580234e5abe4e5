#!/usr/bin/env bash
# Builds a crate declaring 300 stubs with the macros and the same crate written by hand (args struct with
# serde derive, ConvexFunction impl, calling fn), and prints both build times and their ratio.
# Dependencies are built first and not counted: the times are the crates' own.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/target/compile-bench
N=${N:-300}
mkdir -p "$work"

gen() { # gen NAME KIND
    local dir=$work/$1
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "compile-bench-$1"
version = "0.0.0"
edition = "2024"
publish = false
[dependencies]
convex = { package = "convex-fetch", path = "$root/runtime" }
serde = { version = "1", features = ["derive"] }
[workspace]
TOML
    {
        echo 'use serde::{Deserialize, Serialize};'
        echo '#[derive(Serialize, Deserialize)] pub struct Post { pub title: String, pub views: f64 }'
        for i in $(seq 1 "$N"); do
            if [ "$2" = stubs ]; then
                echo "#[convex::query(\"posts:list$i\")] pub async fn list_posts_$i(author_id: String, limit: Option<u32>) -> Vec<Post>;"
            else
                cat <<RS
#[derive(Serialize)] #[serde(rename_all = "camelCase")]
pub struct ListPosts$i { pub author_id: String, #[serde(skip_serializing_if = "Option::is_none")] pub limit: Option<u32> }
impl convex::ConvexFunction for ListPosts$i {
    const KIND: convex::FunctionKind = convex::FunctionKind::Query;
    type Output = Vec<Post>;
    fn path(&self) -> &str { "posts:list$i" }
}
impl convex::Query for ListPosts$i {}
pub fn list_posts_$i(author_id: String, limit: Option<u32>) -> convex::Call<ListPosts$i> { convex::Call::new(ListPosts$i { author_id, limit }) }
RS
            fi
        done
    } > "$dir/src/lib.rs"
}

build_time() { # build_time NAME -> seconds of a rebuild of the crate alone
    local dir=$work/$1
    CARGO_TARGET_DIR=$work/target cargo build -q --manifest-path "$dir/Cargo.toml"
    touch "$dir/src/lib.rs"
    local start end
    start=$(date +%s.%N)
    CARGO_TARGET_DIR=$work/target cargo build -q --manifest-path "$dir/Cargo.toml"
    end=$(date +%s.%N)
    awk "BEGIN { print $end - $start }"
}

gen stubs stubs
gen manual manual
best() { local b=999999 t; for _ in 1 2 3; do t=$(build_time "$1"); b=$(awk "BEGIN { print ($t < $b) ? $t : $b }"); done; echo "$b"; }
manual=$(best manual)
stubs=$(best stubs)
printf '%s stubs: %.2f s   hand-written: %.2f s   ratio: %.2fx (best of 3 debug rebuilds)\n' "$N" "$stubs" "$manual" "$(awk "BEGIN { print $stubs / $manual }")"
