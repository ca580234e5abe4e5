//! The integration tests of convex-fetch, one module per area, in one test binary: cargo links a binary per
//! file of `tests/`, each with tokio, reqwest, axum, rustls and the crates, so one binary builds in a third of
//! the time and a tiny fraction of the disk. `support` holds what several areas share.
//!
//! The other files of `tests/` are binaries of their own, each because its test needs a process to itself
//! (it says why in its first line). `cargo test -p convex-fetch-tests --test suite AREA::` runs one area.

mod support;

mod any_values;
mod api;
// Public, so that `deny(missing_docs)` in it checks the docs `api!` generates.
pub mod api_corpus;
mod api_returns_any;
mod api_shapes;
mod architecture;
mod axum_integration;
mod call_future;
mod conformance;
mod default_client_scope;
mod examples_analytics_middleware;
mod examples_authenticated_route;
mod examples_cron_trigger;
mod examples_error_handling;
mod examples_file_upload;
mod examples_function_spec;
mod examples_github_import;
mod examples_http_actions;
mod examples_inferred_results;
mod examples_live_updates;
mod examples_posts;
mod examples_quickstart;
mod examples_quickstart_api;
mod examples_stripe_webhook;
mod fidelity;
mod fuzz;
mod hostile;
mod http_actions;
mod live;
mod live_commit;
mod live_conformance;
mod live_lifecycle;
mod live_proxy;
mod missing_env;
mod official_features;
mod production;
mod reliability;
mod runtime;
mod secrets;
mod secrets_trace;
mod site_url_env;
mod storage;
mod stubs;
mod values_js;
