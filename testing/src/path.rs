//! Function paths as the deployment reads them. The rules are the backend's, in the one file the macros and
//! the runtime compile too (`grammar.rs`, a symlink to macros/src/grammar.rs), so that a path the macros
//! accept is one the test deployment serves, and one they refuse it refuses.

pub(crate) use crate::grammar::FunctionPath;

/// The function path a URL under `/api/run/` names: module segments, then the export as the last segment
/// (`messages/list` is `messages:list`).
pub(crate) fn run_path(url_path: &str) -> String {
    match url_path.rsplit_once('/') {
        Some((module, export)) => format!("{module}:{export}"),
        None => url_path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{FunctionPath, run_path};

    fn parse(path: &str) -> Option<FunctionPath> {
        FunctionPath::parse(path).ok()
    }

    #[test]
    fn valid_paths_normalize() {
        for (path, canonical) in [
            ("posts:list", "posts:list"),
            ("posts.js:list", "posts:list"),
            ("posts", "posts:default"),
            ("posts.js", "posts:default"),
            ("admin/users:remove", "admin/users:remove"),
            ("v1.api/posts:list", "v1.api/posts:list"),
        ] {
            let parsed = parse(path).unwrap();
            assert_eq!(parsed.canonical(), canonical, "{path}");
        }
        assert_eq!(parse("posts:list").unwrap().with_js(), "posts.js:list");
    }

    #[test]
    fn invalid_paths_are_refused() {
        for path in [
            "",
            "posts::list",
            ":list",
            "posts:",
            "a b:c",
            "posts:li st",
            "/posts:list",
            "posts/:list",
            "posts:1list",
            ".js:list",
            "my-posts:list",
            "posts.v2:list",
        ] {
            assert!(parse(path).is_none(), "{path}");
        }
    }

    #[test]
    fn run_paths_take_the_last_segment_as_export() {
        let run = |p: &str| parse(&run_path(p));
        assert_eq!(
            run("admin/users/remove").unwrap().canonical(),
            "admin/users:remove"
        );
        assert_eq!(run("messages").unwrap().canonical(), "messages:default");
        assert_eq!(run_path("messages/"), "messages:");
        assert!(run("").is_none());
        assert!(run("messages/").is_none());
    }
}
