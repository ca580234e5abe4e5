//! Function paths as the deployment reads them: `dir/module:export`, `.js` optional, a module alone meaning
//! its `default` export.

/// A valid function path, split into its module and export.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FunctionPath {
    /// The module path without `.js`: `admin/users`.
    pub(crate) module: String,
    /// The export: `remove`, or `default`.
    pub(crate) export: String,
}

impl FunctionPath {
    /// Parses a path the way the deployment does; `None` when it is not a valid path.
    pub(crate) fn parse(path: &str) -> Option<FunctionPath> {
        let (module, export) = match path.split_once(':') {
            Some((module, export)) => (module, export),
            None => (path, "default"),
        };
        let module = module.strip_suffix(".js").unwrap_or(module);
        if module.is_empty() || !module.split('/').all(is_module_segment) || !is_identifier(export)
        {
            return None;
        }
        Some(FunctionPath {
            module: module.to_owned(),
            export: export.to_owned(),
        })
    }

    /// The function path a URL under `/api/run/` names: module segments, then the export as the last
    /// segment (`messages/list` is `messages:list`).
    pub(crate) fn run_path(url_path: &str) -> String {
        match url_path.rsplit_once('/') {
            Some((module, export)) => format!("{module}:{export}"),
            None => url_path.to_owned(),
        }
    }

    /// `module:export`, the form paths are registered, recorded and reported under.
    pub(crate) fn canonical(&self) -> String {
        format!("{}:{}", self.module, self.export)
    }

    /// `module.js:export`, the form Convex names a function in "wrong kind" errors.
    pub(crate) fn with_js(&self) -> String {
        format!("{}.js:{}", self.module, self.export)
    }
}

/// A directory or file name of a module path: letters, digits, `_`, `-` and `.`, not starting with `.`.
fn is_module_segment(segment: &str) -> bool {
    !segment.is_empty()
        && !segment.starts_with('.')
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// An export name: letters, digits and `_`, not starting with a digit.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::FunctionPath;

    #[test]
    fn valid_paths_normalize() {
        for (path, canonical) in [
            ("posts:list", "posts:list"),
            ("posts.js:list", "posts:list"),
            ("posts", "posts:default"),
            ("posts.js", "posts:default"),
            ("admin/users:remove", "admin/users:remove"),
        ] {
            let parsed = FunctionPath::parse(path).unwrap();
            assert_eq!(parsed.canonical(), canonical, "{path}");
        }
        assert_eq!(
            FunctionPath::parse("posts:list").unwrap().with_js(),
            "posts.js:list"
        );
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
        ] {
            assert!(FunctionPath::parse(path).is_none(), "{path}");
        }
    }

    #[test]
    fn run_paths_take_the_last_segment_as_export() {
        let run = |p: &str| FunctionPath::parse(&FunctionPath::run_path(p));
        assert_eq!(
            run("admin/users/remove").unwrap().canonical(),
            "admin/users:remove"
        );
        assert_eq!(run("messages").unwrap().canonical(), "messages:default");
        assert_eq!(FunctionPath::run_path("messages/"), "messages:");
        assert!(run("").is_none());
        assert!(run("messages/").is_none());
    }
}
