//! The JS deployment against the examples' functions and the Node server's fixtures. These need Node.js
//! with npm and the npm registry (or npm's cache) for the first install of the server's packages; without
//! them they fail with the error that says so.

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

/// A copy of the Node server's folder without its packages: what cargo's registry holds.
fn server_without_packages(dir: &Path) {
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(js.join(file), dir.join(file)).unwrap();
    }
    for entry in std::fs::read_dir(js.join("src")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("src").join(entry.file_name())).unwrap();
    }
}

#[tokio::test]
async fn a_forbidden_install_names_the_command() {
    let dir = TempDir::new("no-packages");
    server_without_packages(&dir.0);
    let cache = TempDir::new("no-packages-cache");
    let err = install::prepare(&dir.0, Some(&cache.0), false).unwrap_err();
    assert!(matches!(err, JsError::PackagesMissing { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("npm ci --prefix {}", dir.0.display()))
            && message.contains(NO_INSTALL_ENV),
        "{message}"
    );
    assert_eq!(std::fs::read_dir(&cache.0).unwrap().count(), 0);

    let err = JsDeployment::builder(examples_dir())
        .js_dir(dir.0.join("elsewhere"))
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, JsError::ServerMissing { .. }), "{err:?}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_missing_npm_says_what_to_do() {
    let dir = TempDir::new("no-npm");
    server_without_packages(&dir.0);
    let err = install::npm_ci_with(&dir.0, Path::new("/nonexistent/npm")).unwrap_err();
    assert!(
        err.contains("npm was not found") && err.contains(JS_DIR_ENV),
        "{err}"
    );
}

/// Eight deployments started at once on an empty cache: one `npm ci`, and every one serves.
#[tokio::test]
async fn eight_deployments_on_an_empty_cache_share_one_install() {
    let dir = TempDir::new("eight-server");
    server_without_packages(&dir.0);
    let cache = TempDir::new("eight-cache");
    let starts = (0..8).map(|_| {
        JsDeployment::builder(examples_dir())
            .run("init")
            .js_dir(&dir.0)
            .package_cache(&cache.0)
            .start()
    });
    let deployments = futures_util::future::join_all(starts).await;
    for deployment in deployments {
        let deployment = deployment.unwrap();
        let posts: Value = deployment
            .client()
            .query("posts:list", json!({}))
            .await
            .unwrap();
        assert!(
            posts.as_array().is_some_and(|posts| !posts.is_empty()),
            "{posts}"
        );
    }
    let installs = crate::lock(&install::INSTALLS)
        .iter()
        .filter(|installed| installed.starts_with(&cache.0))
        .count();
    assert_eq!(installs, 1);
    let names: Vec<String> = std::fs::read_dir(&cache.0)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|name| name.contains(".partial-")),
        "{names:?}"
    );
    // The server's folder was not written to.
    assert!(!dir.0.join("node_modules").exists());
}

/// A project with a `convex/` folder whose one query says whether the app's own `convex-test` runs it, and
/// a `node_modules` with the real `convex` and a `convex-test` at `version` that re-exports the real one
/// and marks itself.
#[cfg(unix)]
fn app_with_own_packages(root: &Path, version: &str) -> PathBuf {
    let server = install::prepare(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("js"),
        None,
        true,
    )
    .unwrap();
    let real = server
        .ancestors()
        .map(|dir| dir.join("node_modules"))
        .find(|modules| modules.join("convex-test").is_dir())
        .unwrap();
    let convex = root.join("convex");
    std::fs::create_dir_all(&convex).unwrap();
    std::fs::write(
        convex.join("probe.ts"),
        "import { queryGeneric } from \"convex/server\";\n\
         export const which = queryGeneric({ args: {}, handler: async () => \
         (globalThis as any).__convexTestOfTheApp === true });\n",
    )
    .unwrap();
    let modules = root.join("node_modules");
    std::fs::create_dir_all(modules.join("convex-test")).unwrap();
    std::os::unix::fs::symlink(real.join("convex"), modules.join("convex")).unwrap();
    std::fs::write(
        modules.join("convex-test/package.json"),
        json!({ "name": "convex-test", "version": version, "type": "module", "exports": "./index.js" })
            .to_string(),
    )
    .unwrap();
    let entry = real.join("convex-test");
    std::fs::write(
        modules.join("convex-test/index.js"),
        format!(
            "globalThis.__convexTestOfTheApp = true;\nexport * from {:?};\n",
            url_of_package(&entry)
        ),
    )
    .unwrap();
    convex
}

/// The file URL of a package's main module, from its `package.json`.
#[cfg(unix)]
fn url_of_package(dir: &Path) -> String {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("package.json")).unwrap()).unwrap();
    let main = manifest["exports"]["."]["import"]
        .as_str()
        .or_else(|| manifest["exports"]["."]["default"].as_str())
        .or_else(|| manifest["module"].as_str())
        .or_else(|| manifest["main"].as_str())
        .unwrap_or("index.js");
    format!("file://{}", dir.join(main).display())
}

#[cfg(unix)]
#[tokio::test]
async fn the_apps_own_convex_test_runs_the_functions_when_its_version_is_supported() {
    for (version, used) in [("0.0.99", true), ("0.0.5", false), ("0.1.0", false)] {
        let root = TempDir::new(&format!("own-packages-{version}"));
        let convex = app_with_own_packages(&root.0, version);
        let deployment = JsDeployment::builder(&convex).start().await.unwrap();
        let which: bool = deployment
            .client()
            .query("probe:which", json!({}))
            .await
            .unwrap();
        assert_eq!(which, used, "convex-test {version}");
    }
}

/// The environment variable that makes [`install_in_a_child`] install (into its value, a cache folder).
const CHILD_CACHE_ENV: &str = "CONVEX_TEST_CHILD_INSTALL_CACHE";

/// Run by [`an_install_killed_halfway_is_started_anew`] in a process of its own, which it kills.
#[test]
#[ignore = "run as a child process by an_install_killed_halfway_is_started_anew"]
fn install_in_a_child() {
    let Some(cache) = std::env::var_os(CHILD_CACHE_ENV) else {
        return;
    };
    let server = PathBuf::from(std::env::var_os("CONVEX_TEST_CHILD_SERVER").unwrap());
    install::prepare(&server, Some(Path::new(&cache)), true).unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn an_install_killed_halfway_is_started_anew() {
    use std::os::unix::process::CommandExt;
    let dir = TempDir::new("killed-server");
    server_without_packages(&dir.0);
    let cache = TempDir::new("killed-cache");
    // In a process group of its own, so that npm dies with it as it would with a killed terminal.
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["js::tests::install_in_a_child", "--exact", "--ignored"])
        .env(CHILD_CACHE_ENV, &cache.0)
        .env("CONVEX_TEST_CHILD_SERVER", &dir.0)
        .stdout(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    // Halfway: npm has begun writing node_modules into the partial folder.
    let started = Instant::now();
    let partial_modules = || {
        std::fs::read_dir(&cache.0).unwrap().flatten().any(|entry| {
            entry.file_name().to_string_lossy().contains(".partial-")
                && entry.path().join("node_modules").is_dir()
        })
    };
    while !partial_modules() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the install ended before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "npm never began"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // `-s KILL -- -<group>`: procps' `kill -KILL -<group>` reads the group as a signal option.
    let killed = std::process::Command::new("kill")
        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    // Nothing looks installed, and the next start installs anew.
    let installed: Vec<_> = std::fs::read_dir(&cache.0)
        .unwrap()
        .flatten()
        .filter(|entry| entry.path().is_dir() && !entry.file_name().to_string_lossy().contains('.'))
        .collect();
    assert!(installed.is_empty(), "{installed:?}");
    let deployment = JsDeployment::builder(examples_dir())
        .js_dir(&dir.0)
        .package_cache(&cache.0)
        .start()
        .await
        .unwrap();
    let _: Value = deployment
        .client()
        .query("posts:list", json!({}))
        .await
        .unwrap();
    let names: Vec<String> = std::fs::read_dir(&cache.0)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|name| name.contains(".partial-")),
        "{names:?}"
    );
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

#[tokio::test]
async fn live_queries_get_the_404_of_the_missing_sync_endpoint_as_an_error_item() {
    use convex_fetch::{Error, ErrorKind, LiveProblem};
    use futures_util::StreamExt;
    let deployment = examples().await;
    let client = deployment.client();
    // No `/api/sync` in front of the Node server (js/README.md): the refusal is the stream's item, and a
    // socket call's answer, rather than a silent stream.
    let mut posts = client
        .query::<_, Value>("posts:list", json!({}))
        .subscribe();
    let item = tokio::time::timeout(Duration::from_secs(10), posts.next())
        .await
        .expect("an item within 10 s")
        .expect("the stream goes on");
    assert!(
        matches!(item.as_ref().map_err(Error::kind), Err(ErrorKind::Live { problem: LiveProblem::SocketRefused { status, .. }, .. }) if status.as_u16() == 404),
        "{item:?}"
    );
    let call = client
        .mutation::<_, Value>("tasks:create", json!({ "text": "over the socket" }))
        .over_socket()
        .await;
    assert!(
        matches!(
            call.as_ref().map_err(Error::kind),
            Err(ErrorKind::Live {
                problem: LiveProblem::SocketRefused { .. },
                ..
            })
        ),
        "{call:?}"
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

#[tokio::test]
async fn the_spec_infers_undeclared_results_unless_told_not_to() {
    let spec = |json: String| -> Value { serde_json::from_str(&json).unwrap() };
    let entry = |spec: &Value, id: &str| -> Value {
        spec["functions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["identifier"] == id)
            .unwrap_or_else(|| panic!("no {id}"))
            .clone()
    };
    let inferred = spec(
        function_spec_with(
            fixture("infer"),
            &SpecOptions::new().url("https://x.convex.cloud"),
        )
        .await
        .unwrap(),
    );
    assert_eq!(inferred["url"], "https://x.convex.cloud");
    let maybe = entry(&inferred, "results.js:maybe");
    assert_eq!(maybe["returns"], Value::Null);
    assert_eq!(
        maybe["inferredReturns"],
        json!({ "type": "union", "value": [{ "type": "literal", "value": "yes" }, { "type": "null" }] })
    );
    assert!(
        entry(&inferred, "results.js:declared")
            .get("inferredReturns")
            .is_none()
    );

    let plain = spec(
        function_spec_with(fixture("infer"), &SpecOptions::new().infer_returns(false))
            .await
            .unwrap(),
    );
    assert_eq!(plain["url"], DEFAULT_SPEC_URL);
    for f in plain["functions"].as_array().unwrap() {
        assert!(f.get("inferredReturns").is_none(), "{f}");
    }
}
