//! The JS deployment against the examples' functions and the Node server's fixtures. These need Node.js
//! and `npm ci --prefix testing/js`; without them they fail with the error that says so.

use super::*;
use crate::{Auth, Fault};
use convex_fetch::FunctionKind;
use serde_json::{Value, json};
use std::time::Instant;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/convex")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("js/test/fixtures")
        .join(name)
}

/// A fresh folder under the system's temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "convex-fetch-testing-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// An executable shell script standing in for `node`.
    #[cfg(unix)]
    fn fake_node(&self, script: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.0.join("node");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn examples() -> JsDeployment {
    JsDeployment::builder(examples_dir())
        .run("init")
        .token(
            "ada-token",
            json!({ "subject": "user_1", "name": "Ada", "issuer": "https://auth.example.com" }),
        )
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn serves_the_typescript_functions_and_records_the_calls() {
    let deployment = examples().await;
    let client = deployment.client();

    let posts: Value = client
        .query("posts:list", json!({ "status": "published" }))
        .await
        .unwrap();
    let titles: Vec<&str> = posts
        .as_array()
        .unwrap()
        .iter()
        .map(|post| post["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Hello, Convex", "Typed calls from Rust"]);

    let me: Value = client
        .query("users:me", json!({}))
        .auth("ada-token")
        .await
        .unwrap();
    assert_eq!(me, json!({ "subject": "user_1", "name": "Ada" }));
    // A token it was not given is refused before the function runs.
    let refused = client
        .query::<_, Value>("users:me", json!({}))
        .auth("forged")
        .await
        .unwrap_err();
    assert_eq!(refused.status_code(), 401, "{refused}");

    // Internal functions answer to the admin key only.
    let admin = convex_fetch::Client::builder(deployment.url())
        .admin_key(deployment.admin_key())
        .build()
        .unwrap();
    let counts: Value = admin.query("reports:counts", json!({})).await.unwrap();
    assert_eq!(counts, json!({ "postsPublished": 2, "tasksCompleted": 0 }));
    assert!(
        client
            .query::<_, Value>("reports:counts", json!({}))
            .await
            .is_err()
    );

    let calls = deployment.calls();
    let paths: Vec<&str> = calls.iter().map(|call| call.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "posts:list",
            "users:me",
            "users:me",
            "reports:counts",
            "reports:counts"
        ]
    );
    assert_eq!(calls[0].kind, FunctionKind::Query);
    assert_eq!(
        calls[0].args,
        convex_fetch::value!({ "status": "published" })
    );
    assert_eq!(calls[1].auth.identity().unwrap()["subject"], "user_1");
    assert!(matches!(
        &calls[2].auth,
        Auth::Bearer { identity: None, .. }
    ));
    assert_eq!(calls[3].auth, Auth::Admin);
    deployment.clear_calls();
    assert!(deployment.calls().is_empty());
}

#[tokio::test]
async fn the_http_routes_are_on_the_site_url() {
    let deployment = examples().await;
    let answer = reqwest::get(format!("{}/posts?status=draft", deployment.site_url()))
        .await
        .unwrap();
    let posts: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    assert_eq!(posts[0]["title"], "Webhooks, the hard way");
}

#[tokio::test]
async fn faults_and_latency_strike_in_front_of_the_functions() {
    let deployment = examples().await;
    let client = deployment.client();

    deployment.fail_next(1, Fault::system(503, "Overloaded", "try again later"));
    deployment.fail_next(1, Fault::DropConnection);
    assert_eq!(deployment.pending_faults(), 2);
    // A mutation is not retried: each fault fails one call.
    let overloaded = client
        .mutation::<_, Value>("tasks:create", json!({ "text": "a" }))
        .await
        .unwrap_err();
    assert_eq!(overloaded.status_code(), 503, "{overloaded}");
    assert!(
        client
            .mutation::<_, Value>("tasks:create", json!({ "text": "b" }))
            .await
            .is_err()
    );
    assert_eq!(deployment.pending_faults(), 0);

    // Neither ran: the tasks are still the two the folder starts with.
    let admin = convex_fetch::Client::builder(deployment.url())
        .admin_key(deployment.admin_key())
        .build()
        .unwrap();
    let page: Value = admin
        .query(
            "tasks:list",
            json!({ "paginationOpts": { "numItems": 10, "cursor": null } }),
        )
        .await
        .unwrap();
    assert_eq!(page["page"].as_array().unwrap().len(), 2);

    // After the run: the mutation ran, its answer is lost.
    deployment.fail_next(1, Fault::DropAfterRun);
    assert!(
        client
            .mutation::<_, Value>("tasks:create", json!({ "text": "c" }))
            .await
            .is_err()
    );
    let page: Value = admin
        .query(
            "tasks:list",
            json!({ "paginationOpts": { "numItems": 10, "cursor": null } }),
        )
        .await
        .unwrap();
    assert_eq!(page["page"].as_array().unwrap().len(), 3);

    deployment.set_latency(Duration::from_millis(300));
    let started = Instant::now();
    let _: Value = client.query("posts:list", json!({})).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn the_node_server_stops_with_its_handle() {
    let deployment = examples().await;
    let upstream = deployment.upstream.clone();
    let http = reqwest::Client::new();
    let alive = |http: reqwest::Client, url: String| async move {
        http.post(format!("{url}/api/query"))
            .header("content-type", "application/json")
            .body(r#"{"path":"posts:list","args":{}}"#)
            .send()
            .await
            .is_ok()
    };
    assert!(alive(http.clone(), upstream.clone()).await);
    drop(deployment);
    let started = Instant::now();
    while alive(http.clone(), upstream.clone()).await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the Node server still answers after the handle was dropped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_module_that_fails_to_load_is_named_with_its_cause() {
    let err = JsDeployment::builder(fixture("throws-at-import"))
        .start()
        .await
        .unwrap_err();
    match &err {
        JsError::ModuleLoad { file, cause, .. } => {
            assert_eq!(file, "broken.ts");
            assert!(cause.contains("the module refuses to load"), "{cause}");
        }
        other => panic!("{other:?}"),
    }

    let err = function_spec(fixture("syntax-error")).await.unwrap_err();
    match &err {
        JsError::ModuleLoad { file, cause, .. } => {
            assert_eq!(file, "typo.ts");
            assert!(cause.contains("typo.ts:3:77"), "{cause}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_missing_folder_is_said_before_node_runs() {
    let err = JsDeployment::builder("/no/such/convex")
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, JsError::MissingConvexDir { .. }), "{err:?}");
    assert!(err.to_string().contains("/no/such/convex"), "{err}");
}

#[tokio::test]
async fn a_failing_run_function_fails_the_start() {
    let err = JsDeployment::builder(examples_dir())
        .run("nope:missing")
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, JsError::Failed { .. }), "{err:?}");
    assert!(
        err.to_string().contains("--run nope:missing failed"),
        "{err}"
    );
}

#[tokio::test]
async fn node_absent_is_said_with_what_to_set() {
    let err = JsDeployment::builder(examples_dir())
        .node("/no/such/node")
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, JsError::NodeNotFound { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("/no/such/node") && message.contains(NODE_ENV),
        "{message}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn an_old_node_is_named_with_its_version() {
    let dir = TempDir::new("old-node");
    let node = dir.fake_node("echo v18.19.0");
    let err = JsDeployment::builder(examples_dir())
        .node(&node)
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, JsError::NodeTooOld { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("v18.19.0") && message.contains("20.6 or later"),
        "{message}"
    );
}

#[tokio::test]
async fn missing_packages_name_the_install_command() {
    let dir = TempDir::new("no-packages");
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    std::fs::create_dir_all(dir.0.join("src")).unwrap();
    std::fs::copy(js.join("package.json"), dir.0.join("package.json")).unwrap();
    std::fs::copy(js.join("src/main.js"), dir.0.join("src/main.js")).unwrap();
    let err = JsDeployment::builder(examples_dir())
        .js_dir(&dir.0)
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, JsError::PackagesMissing { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("npm ci --prefix {}", dir.0.display())),
        "{message}"
    );

    let err = JsDeployment::builder(examples_dir())
        .js_dir(dir.0.join("elsewhere"))
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, JsError::ServerMissing { .. }), "{err:?}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_server_that_never_answers_times_out_with_its_stderr() {
    let dir = TempDir::new("silent-node");
    // Answers the version check, then says nothing.
    let node = dir.fake_node(
        "if [ \"$1\" = --version ]; then echo v20.6.0; exit 0; fi\necho loading >&2\nexec sleep 30",
    );
    let started = Instant::now();
    let err = JsDeployment::builder(examples_dir())
        .node(&node)
        .startup_timeout(Duration::from_millis(500))
        .start()
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    match &err {
        JsError::StartupTimeout { timeout, stderr } => {
            assert_eq!(*timeout, Duration::from_millis(500));
            assert!(stderr.contains("loading"), "{stderr}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_debug_forms_hide_the_credentials() {
    let deployment = JsDeployment::builder(examples_dir())
        .admin_key("secret-admin-key-123")
        .token("secret-token-456", json!({ "subject": "u" }))
        .start()
        .await
        .unwrap();
    assert_eq!(deployment.admin_key(), "secret-admin-key-123");
    let shown = format!("{deployment:?}");
    assert!(
        !shown.contains("secret-admin-key") && !shown.contains("secret-token"),
        "{shown}"
    );
    let builder = JsDeployment::builder(examples_dir())
        .admin_key("secret-admin-key-123")
        .token("secret-token-456", json!({ "subject": "u" }));
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("secret-admin-key") && !shown.contains("secret-token"),
        "{shown}"
    );
}

/// The admin key reaches the server in a file only this user can read, never among its arguments (which
/// every local user can read in `/proc/<pid>/cmdline`); so do the tokens.
#[cfg(unix)]
#[tokio::test]
async fn the_admin_key_and_tokens_are_not_on_the_command_line() {
    let dir = TempDir::new("secret-args");
    let out = dir.0.display().to_string();
    let node = dir.fake_node(&format!(
        r#"if [ "$1" = --version ]; then echo v20.6.0; exit 0; fi
echo "$@" > {out}/args
while [ $# -gt 0 ]; do
  case "$1" in
    --admin-key-file) cat "$2" > {out}/key; stat -c %a "$2" > {out}/key-mode ;;
    --identities) stat -c %a "$2" > {out}/identities-mode ;;
  esac
  shift
done
echo '{{"url":"http://127.0.0.1:9","siteUrl":"http://127.0.0.1:9","adminKey":"k"}}'
exec sleep 30"#
    ));
    let deployment = JsDeployment::builder(examples_dir())
        .node(&node)
        .admin_key("secret-admin-key-123")
        .token("secret-token-456", json!({ "subject": "u" }))
        .start()
        .await
        .unwrap();
    let read = |name: &str| std::fs::read_to_string(dir.0.join(name)).unwrap();
    let args = read("args");
    assert!(args.contains("--admin-key-file"), "{args}");
    assert!(
        !args.contains("secret-admin-key-123") && !args.contains("secret-token-456"),
        "{args}"
    );
    assert_eq!(read("key"), "secret-admin-key-123");
    assert_eq!(read("key-mode").trim(), "600");
    assert_eq!(read("identities-mode").trim(), "600");
    drop(deployment);
}

/// A folder without `_generated/`, as a fresh app has it: its imports of `./_generated/server`,
/// `./_generated/api` (and `../_generated/server` from a subfolder) are served by the Node server's stand-ins.
#[tokio::test]
async fn a_folder_without_generated_code_is_served() {
    let dir = fixture("no-generated");
    assert!(
        !dir.join("_generated").exists(),
        "the fixture must have no _generated/"
    );
    let deployment = JsDeployment::builder(&dir).start().await.unwrap();
    let client = deployment.client();
    let _id: String = client
        .mutation("notes:add", json!({ "text": "milk" }))
        .await
        .unwrap();
    let total: f64 = client
        .action("notes:addTwice", json!({ "text": "eggs" }))
        .await
        .unwrap();
    assert_eq!(total, 3.0);
    let notes: Vec<String> = client.query("notes:list", json!({})).await.unwrap();
    assert_eq!(notes, ["milk", "eggs", "eggs again"]);
    let count: f64 = client.query("admin/stats:count", json!({})).await.unwrap();
    assert_eq!(count, 3.0);
    // An internal function stays internal.
    assert!(
        client
            .query::<_, Value>("admin/stats:secret", json!({}))
            .await
            .is_err()
    );
    // `httpAction` from the stand-in serves the folder's route, on the client's site URL.
    assert_eq!(client.site_url(), deployment.site_url());
    let listed = reqwest::get(format!("{}/notes", deployment.site_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(listed, r#"["milk","eggs","eggs again"]"#);
    // The spec is printed without a deployment too.
    let spec = function_spec(&dir).await.unwrap();
    assert!(spec.contains(r#""identifier": "notes.js:add""#), "{spec}");
}
