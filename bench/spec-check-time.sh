#!/usr/bin/env bash
# The cost of checking stubs against a function spec at compile time: a crate declaring a stub for each of the
# first N functions of a real app's spec (Campaignion, 310 functions; every arg a parameter of type
# `convex::value::Value`, so that every check runs and passes) is rebuilt with CONVEX_FUNCTION_SPEC set and
# unset, alternately, ROUNDS times each; prints the medians and their ratio. Dependencies are built first and
# not counted. Needs Node.js (it writes the stubs from the spec). OPT_MACROS=1 builds the macros and serde_json optimised, as the README suggests for a large spec.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/target/spec-check-bench
spec=${SPEC:-$root/tests/specs/real/campaignion.json}
N=${N:-300}
ROUNDS=${ROUNDS:-5}
dir=$work/crate
mkdir -p "$dir/src"
cat > "$dir/Cargo.toml" <<TOML
[package]
name = "spec-check-bench"
version = "0.0.0"
edition = "2024"
publish = false
[dependencies]
convex = { package = "convex-fetch", path = "$root/runtime" }
[workspace]
TOML
# OPT_MACROS=1: the macros and the JSON parser they read the spec with, optimised.
if [ "${OPT_MACROS:-0}" = 1 ]; then
    printf '[profile.dev.package.convex-fetch-macros]\nopt-level = 3\n[profile.dev.package.serde_json]\nopt-level = 3\n' >> "$dir/Cargo.toml"
fi
node - "$spec" "$N" > "$dir/src/lib.rs" <<'JS'
const fs = require("node:fs");
const [spec, n] = process.argv.slice(2);
let functions = JSON.parse(fs.readFileSync(spec, "utf8"));
functions = (Array.isArray(functions) ? functions : functions.functions)
  .filter((f) => ["Query", "Mutation", "Action"].includes(f.functionType))
  .slice(0, Number(n));
console.log("#![allow(unused)]");
functions.forEach((f, i) => {
  const path = f.identifier.replace(/\.js:/, ":").replace(/\.js$/, "");
  const args = f.args && f.args.type === "object" ? Object.entries(f.args.value) : [];
  const params = args.map(([name, field], j) => {
    const ty = field.optional ? "Option<convex::value::Value>" : "convex::value::Value";
    return `#[convex(rename = ${JSON.stringify(name)})] p${j}: ${ty}`;
  });
  const attr = f.functionType.toLowerCase();
  console.log(`#[convex::${attr}(${JSON.stringify(path)})] pub async fn f${i}(${params.join(", ")}) -> convex::value::Value;`);
});
JS
build() { CARGO_TARGET_DIR=$work/target cargo build -q --manifest-path "$dir/Cargo.toml"; }
build
export CONVEX_FUNCTION_SPEC=$spec
build
time_one() { # time_one checked|unchecked -> "wall cpu" seconds of a rebuild of the crate alone
    touch "$dir/src/lib.rs"
    local TIMEFORMAT='%R %U %S' times
    if [ "$1" = checked ]; then
        times=$( { time CONVEX_FUNCTION_SPEC=$spec build; } 2>&1 | tail -1)
    else
        times=$( { time CONVEX_FUNCTION_SPEC= build; } 2>&1 | tail -1)
    fi
    awk '{ print $1, $2 + $3 }' <<<"$times"
}
checked=() unchecked=() checked_cpu=() unchecked_cpu=()
for _ in $(seq 1 "$ROUNDS"); do
    read -r wall cpu < <(time_one unchecked)
    unchecked+=("$wall") unchecked_cpu+=("$cpu")
    read -r wall cpu < <(time_one checked)
    checked+=("$wall") checked_cpu+=("$cpu")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
u=$(median "${unchecked[@]}") c=$(median "${checked[@]}")
uc=$(median "${unchecked_cpu[@]}") cc=$(median "${checked_cpu[@]}")
echo "$(grep -c '^#\[convex::' "$dir/src/lib.rs") stubs, spec $(basename "$spec"), $ROUNDS rounds each, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "unchecked: ${unchecked[*]} s (median $u; CPU median $uc s)"
echo "checked:   ${checked[*]} s (median $c; CPU median $cc s)"
# CPU time (user + system of cargo and rustc) moves less than wall time on a shared machine.
awk "BEGIN { printf \"checked / unchecked: %.3f wall, %.3f CPU\n\", $c / $u, $cc / $uc }"
