//! The grammar of Convex function paths and object field names, as the Convex backend reads them.
//!
//! A function path is `"<module path>:<export>"`, e.g. `"admin/users:remove"`:
//! - The module path is the path of the module's file under `convex/`, directories separated by `/`.
//!   A directory name holds ASCII letters, digits, `_` and `.`, with at least one letter or digit, in at most
//!   64 bytes (`v1.api`). The file name holds letters, digits and `_`, may end in `.js` (`posts.js:list` is
//!   `posts:list`), and is at most 64 bytes with that `.js`. It holds no other dot: the backend would read
//!   `posts.v2` as a file with the extension `.v2`, which it refuses, and as the Convex CLI deploys no file
//!   whose name has more than one dot, no deployment holds a `posts.v2.js` either.
//! - The export is an identifier: ASCII letters, digits and `_`, starting with a letter or `_`, not made only
//!   of `_`, at most 64 bytes (`list`, `_1a`). A module path alone (`posts`) names its export `default`.
//!
//! The backend (`crates/convex/sync_types/src/{udf_path,module_path,path,identifier}.rs`) reads the module
//! path as a file system path, so it also tolerates `a//b`, `a/./b` and a trailing `/`; those are refused here,
//! with the path that names the same function suggested instead.
//!
//! The canonical form of a path is `module:export` with neither `.js` nor an implied export:
//! `posts.js:list` and `posts:list` are `posts:list`, and `posts` is `posts:default`, as the backend
//! canonicalises a path without an export to its `default` export.
//!
//! This file uses std only and names nothing crate-relative, so that every crate of the workspace that checks
//! paths or field names can compile this same file.

use std::fmt;

/// The most bytes in a directory name of a module path, and in its file name with the `.js`.
pub(crate) const MAX_SEGMENT_LEN: usize = 64;
/// The most bytes in an identifier: an export name, a table name, a field of an object validator.
pub(crate) const MAX_IDENTIFIER_LEN: usize = 64;
/// The most bytes (all printable ASCII, so also characters) in an object field name.
pub(crate) const MAX_FIELD_NAME_LEN: usize = 1024;

const FORM: &str =
    "a function path is \"module:export\", e.g. \"posts:list\" or \"admin/users:remove\"";

/// What the Convex CLI bundles into a module besides `.js`: a path naming the source file is one mistake away
/// from naming the module.
const SOURCE_EXTENSIONS: [&str; 7] = ["ts", "tsx", "mts", "cts", "jsx", "mjs", "cjs"];

/// How deep a suggested fix is itself checked and fixed (`posts.ts::list` → `posts.ts:list` → `posts:list`).
const MAX_FIX_DEPTH: u8 = 3;

/// A valid function path: a module path and an export.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FunctionPath {
    module: String,
    export: String,
}

impl FunctionPath {
    /// Reads `path` as the backend does, or says what is wrong with it in the user's terms.
    pub(crate) fn parse(path: &str) -> Result<FunctionPath, PathError> {
        parse(path, 0)
    }

    /// The module path without `.js`: `admin/users`.
    pub(crate) fn module(&self) -> &str {
        &self.module
    }

    /// The export: `remove`, or `default` for a path naming a module alone.
    pub(crate) fn export(&self) -> &str {
        &self.export
    }

    /// `module:export`, the one form of every path naming this function.
    pub(crate) fn canonical(&self) -> String {
        format!("{}:{}", self.module, self.export)
    }

    /// `module.js:export`, the form the backend names a function by in its own messages.
    #[allow(dead_code, reason = "the macros do not quote the backend's form")]
    pub(crate) fn with_js(&self) -> String {
        format!("{}.js:{}", self.module, self.export)
    }
}

impl fmt::Display for FunctionPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.module, self.export)
    }
}

/// Why a string is not a function path. Its message ends in `write "<path>"` when there is a path that names
/// the function meant; that path is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathError {
    message: String,
    suggestion: Option<String>,
}

impl PathError {
    fn new(message: impl Into<String>) -> PathError {
        PathError {
            message: message.into(),
            suggestion: None,
        }
    }

    /// `problem: write "<fix>"` when `candidate` (or the fix of its own error) is a valid path; otherwise
    /// `problem` followed by `otherwise`.
    fn fixed_by(problem: &str, candidate: Option<String>, otherwise: &str, depth: u8) -> PathError {
        match candidate.and_then(|c| confirm(c, depth)) {
            Some(fix) => PathError {
                message: format!("{problem}: write \"{fix}\""),
                suggestion: Some(fix),
            },
            None => PathError::new(format!("{problem}{otherwise}")),
        }
    }

    /// The valid path the message suggests, if any.
    #[allow(dead_code, reason = "the macros report the whole message")]
    pub(crate) fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PathError {}

/// `candidate` if it is a valid path, else the fix its own error suggests: a suggestion is never invalid.
fn confirm(candidate: String, depth: u8) -> Option<String> {
    if depth >= MAX_FIX_DEPTH {
        return None;
    }
    match parse(&candidate, depth + 1) {
        Ok(_) => Some(candidate),
        Err(e) => e.suggestion,
    }
}

fn parse(path: &str, depth: u8) -> Result<FunctionPath, PathError> {
    if path.is_empty() {
        return Err(PathError::new(format!(
            "the function path is empty; {FORM}"
        )));
    }
    if let Some(c) = path.chars().find(|c| !c.is_ascii()) {
        return Err(PathError::new(format!(
            "the function path contains the non-ASCII character {c:?}; {FORM}"
        )));
    }
    if let Some(c) = path.chars().find(char::is_ascii_whitespace) {
        return Err(PathError::fixed_by(
            &format!("the function path contains whitespace ({c:?})"),
            without_loose_whitespace(path),
            &format!("; {FORM}"),
            depth,
        ));
    }
    if let Some(c) = path.chars().find(char::is_ascii_control) {
        return Err(PathError::new(format!(
            "the function path contains the control character {c:?}; {FORM}"
        )));
    }
    if path.contains("::") {
        return Err(PathError::fixed_by(
            "`::` is Rust's separator; Convex uses a single `:` before the export and `/` between \
             directories",
            from_rust_style(path),
            "",
            depth,
        ));
    }
    let (module, export) = match path.split_once(':') {
        Some((module, export)) => (module, Some(export)),
        None => (path, None),
    };
    if export.is_some_and(|e| e.contains(':')) {
        return Err(PathError::new(format!(
            "the function path has more than one `:`; {FORM}"
        )));
    }
    if module.is_empty() {
        return Err(PathError::new(format!(
            "the module path is missing before `:`; {FORM}"
        )));
    }
    if export == Some("") {
        return Err(PathError::new(
            "the export name is missing after `:`: write it there, or leave out the `:` to name the \
             module's default export",
        ));
    }
    let module = module_path(module, export, depth)?;
    let export = match export {
        Some(export) => {
            if let Some(why) = identifier_problem(export) {
                return Err(PathError::new(format!(
                    "`{}` is not a valid export name: {why}",
                    short(export)
                )));
            }
            export
        }
        None => "default",
    };
    Ok(FunctionPath {
        module,
        export: export.to_owned(),
    })
}

/// Checks the module path as written (`admin/users.js`) and returns it without `.js` (`admin/users`).
fn module_path(written: &str, export: Option<&str>, depth: u8) -> Result<String, PathError> {
    let then_export = export.map(|e| format!(":{e}")).unwrap_or_default();
    if let Some(c) = written
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/')))
    {
        // `-` is the likeliest: a file named `my-posts.ts` bundles, but the backend refuses to deploy it.
        let deploy = if c == '-' {
            " (Convex refuses to deploy a module named with `-`)"
        } else {
            ""
        };
        return Err(PathError::new(format!(
            "the module path `{}` contains {c:?}: module paths are made of letters, digits, `_` and `.`, \
             with `/` between directories{deploy}",
            short(written)
        )));
    }
    let segments: Vec<&str> = written.split('/').collect();
    // The path the backend reads for `a//b`, `a/./b` or `a/`: the same segments without the empty and `.` ones.
    let tidied = || {
        let kept: Vec<&str> = segments
            .iter()
            .copied()
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        (!kept.is_empty()).then(|| format!("{}{then_export}", kept.join("/")))
    };
    if segments.contains(&"..") {
        return Err(PathError::new(
            "a module path cannot contain `..`: it names a file inside the `convex/` directory",
        ));
    }
    if written.starts_with('/') {
        return Err(PathError::fixed_by(
            "module paths are relative to the `convex/` directory, without a leading `/`",
            tidied(),
            "",
            depth,
        ));
    }
    if segments.iter().any(|s| s.is_empty()) {
        return Err(PathError::fixed_by(
            &format!(
                "the module path `{}` has an empty segment (a doubled or trailing `/`)",
                short(written)
            ),
            tidied(),
            "",
            depth,
        ));
    }
    if segments.contains(&".") {
        return Err(PathError::fixed_by(
            &format!("the module path `{}` has a `.` segment", short(written)),
            tidied(),
            "",
            depth,
        ));
    }
    let Some((file, dirs)) = segments.split_last() else {
        // `split` yields at least one segment; an empty path was refused above.
        return Err(PathError::new(FORM));
    };
    for dir in dirs {
        if !dir.bytes().any(|b| b.is_ascii_alphanumeric()) {
            return Err(PathError::new(format!(
                "the directory name `{dir}` needs a letter or digit"
            )));
        }
        if dir.len() > MAX_SEGMENT_LEN {
            return Err(PathError::new(format!(
                "the directory name `{}` is {} bytes; Convex allows at most {MAX_SEGMENT_LEN}",
                short(dir),
                dir.len()
            )));
        }
    }
    let stem = file_stem(file, dirs, &then_export, depth)?;
    let len = stem.len() + ".js".len();
    if len > MAX_SEGMENT_LEN {
        return Err(PathError::new(format!(
            "the module file name `{}.js` is {len} bytes; Convex allows at most {MAX_SEGMENT_LEN}",
            short(stem)
        )));
    }
    Ok(match dirs {
        [] => stem.to_owned(),
        _ => format!("{}/{stem}", dirs.join("/")),
    })
}

/// The file name without `.js`: `posts.js` and `posts` are `posts`. Any other dot is an error.
fn file_stem<'a>(
    file: &'a str,
    dirs: &[&str],
    then_export: &str,
    depth: u8,
) -> Result<&'a str, PathError> {
    // As the backend reads extensions, a leading dot starts the name, not an extension: `.js` is no `.js`.
    let stem = match file.strip_suffix(".js") {
        Some(stem) if !stem.is_empty() => stem,
        _ => file,
    };
    let Some((before, after)) = stem.rsplit_once('.') else {
        return Ok(stem);
    };
    if before.is_empty() {
        return Err(PathError::new(format!(
            "the module file name `{}` starts with `.`: the Convex CLI does not deploy such files",
            short(file)
        )));
    }
    if stem == file && SOURCE_EXTENSIONS.contains(&after) {
        let dirs: String = dirs.iter().map(|d| format!("{d}/")).collect();
        return Err(PathError::fixed_by(
            &format!("functions are named by module path, without the source file's `.{after}`"),
            Some(format!("{dirs}{before}{then_export}")),
            "",
            depth,
        ));
    }
    const DIRECTORIES: &str = "(a directory name may hold dots, as in `v1.api/posts`)";
    if stem != file {
        return Err(PathError::new(format!(
            "the module file name `{}` has a dot besides its `.js`: Convex deploys no file whose name has more \
             than one dot {DIRECTORIES}",
            short(file)
        )));
    }
    // `posts.list`: the dot of a JavaScript member access, where Convex names the export after a `:`.
    if then_export.is_empty() && identifier_problem(after).is_none() {
        let dirs: String = dirs.iter().map(|d| format!("{d}/")).collect();
        return Err(PathError::fixed_by(
            "Convex separates the module from its export with `:`, not `.`",
            Some(format!("{dirs}{before}:{after}")),
            "",
            depth,
        ));
    }
    let export_hint = if then_export.is_empty() {
        "; an export is named after a `:`"
    } else {
        ""
    };
    Err(PathError::new(format!(
        "the module file name `{}` has a dot: Convex reads `.{after}` as its extension, which can only be \
         `.js`, and deploys no file whose name has more than one dot {DIRECTORIES}{export_hint}",
        short(file)
    )))
}

/// `path` without the whitespace at its ends or beside a `:` or `/`; `None` when whitespace stands inside a
/// name, where removing it could name another function.
fn without_loose_whitespace(path: &str) -> Option<String> {
    let chars: Vec<char> = path.chars().collect();
    let loose = |c: Option<&char>| c.is_none_or(|&c| c == ':' || c == '/');
    let mut out = String::with_capacity(path.len());
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_whitespace() {
            out.push(c);
            continue;
        }
        let before = chars[..i].iter().rev().find(|c| !c.is_ascii_whitespace());
        let after = chars[i + 1..].iter().find(|c| !c.is_ascii_whitespace());
        if !(loose(before) || loose(after)) {
            return None;
        }
    }
    Some(out)
}

/// `admin::users::remove` → `admin/users:remove`: Rust's `::` read as Convex's separators.
fn from_rust_style(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    let (export, modules) = parts.split_last()?;
    if parts.iter().any(|p| p.contains(':')) {
        return None;
    }
    Some(format!("{}:{export}", modules.join("/")))
}

/// Why `name` is not an identifier (an export, a table name, a field of an object validator), or `None`.
fn identifier_problem(name: &str) -> Option<String> {
    let Some(first) = name.chars().next() else {
        return Some("it is empty".to_owned());
    };
    if first.is_ascii_digit() {
        return Some(
            "it starts with a digit; it must start with a letter or `_`, then letters, digits and `_`"
                .to_owned(),
        );
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '_'))
    {
        return Some(format!(
            "it contains {c:?}; it must be made of letters, digits and `_`, starting with a letter or `_`"
        ));
    }
    if name.len() > MAX_IDENTIFIER_LEN {
        return Some(format!(
            "it is {} bytes; Convex allows at most {MAX_IDENTIFIER_LEN}",
            name.len()
        ));
    }
    if name.bytes().all(|b| b == b'_') {
        return Some("Convex refuses a name made only of `_`".to_owned());
    }
    None
}

/// Checks an identifier as the backend does (export names, table names, the fields of an object validator);
/// `what` names it in the error: "table name".
#[allow(
    dead_code,
    reason = "the macros accept any name a deployment's spec holds"
)]
pub(crate) fn check_identifier(name: &str, what: &str) -> Result<(), String> {
    match identifier_problem(name) {
        None => Ok(()),
        Some(why) => Err(format!("`{}` is not a valid {what}: {why}", short(name))),
    }
}

/// Checks the name of a field of a Convex object, such as a key of the args: not empty, not starting with `$`,
/// printable ASCII, at most 1024 characters.
pub(crate) fn check_field_name(name: &str) -> Result<(), String> {
    // The common case in one pass over the bytes: it runs for every field of every object a client encodes.
    let bytes = name.as_bytes();
    if bytes.first().is_some_and(|&b| b != b'$')
        && bytes.len() <= MAX_FIELD_NAME_LEN
        && bytes.iter().all(|b| (b' '..=b'~').contains(b))
    {
        return Ok(());
    }
    if name.is_empty() {
        return Err("a field name cannot be empty".to_owned());
    }
    if name.starts_with('$') {
        return Err(format!(
            "field name `{}` starts with `$`, which Convex reserves",
            short(name)
        ));
    }
    if name.len() > MAX_FIELD_NAME_LEN {
        return Err(format!(
            "field name `{}` is longer than Convex's limit of {MAX_FIELD_NAME_LEN} characters",
            short(name)
        ));
    }
    match name.chars().find(|c| !(' '..='~').contains(c)) {
        Some(c) => Err(format!(
            "field name {name:?} has the character {c:?}; Convex field names are printable ASCII"
        )),
        None => Ok(()),
    }
}

/// A name as quoted in a message: whole up to 32 characters, else its start and `…`.
fn short(name: &str) -> String {
    const SHOWN: usize = 32;
    if name.chars().count() <= SHOWN {
        name.to_owned()
    } else {
        format!("{}…", name.chars().take(SHOWN).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(path: &str) -> FunctionPath {
        FunctionPath::parse(path).unwrap_or_else(|e| panic!("{path:?} was refused: {e}"))
    }

    fn err(path: &str) -> PathError {
        match FunctionPath::parse(path) {
            Ok(p) => panic!("{path:?} was accepted as {p}"),
            Err(e) => e,
        }
    }

    /// Every `write "…"` of a message.
    fn written_fixes(message: &str) -> Vec<String> {
        message
            .match_indices("write \"")
            .map(|(at, w)| {
                let rest = &message[at + w.len()..];
                rest[..rest.find('"').expect("a closing quote")].to_owned()
            })
            .collect()
    }

    #[test]
    fn accepts_every_form_of_the_protocol_notes() {
        for (path, module, export) in [
            ("posts:list", "posts", "list"),
            ("admin/users:remove", "admin/users", "remove"),
            ("posts.js:list", "posts", "list"),
            ("admin/users.js:remove", "admin/users", "remove"),
            ("posts", "posts", "default"),
            ("posts.js", "posts", "default"),
            ("foo.js:default", "foo", "default"),
            ("messages:list", "messages", "list"),
            ("tasks:purgeOld", "tasks", "purgeOld"),
            (
                "notifications:sendDailyDigests",
                "notifications",
                "sendDailyDigests",
            ),
            ("v1.api/posts:list", "v1.api/posts", "list"),
            ("posts.v2/list:x", "posts.v2/list", "x"),
            ("x:_private", "x", "_private"),
            ("x:_1a", "x", "_1a"),
            ("_:list", "_", "list"),
            ("a_b/c1/D:e_1", "a_b/c1/D", "e_1"),
            (".well/known:x", ".well/known", "x"),
        ] {
            let parsed = ok(path);
            assert_eq!(
                (parsed.module(), parsed.export()),
                (module, export),
                "{path}"
            );
        }
    }

    #[test]
    fn canonical_forms() {
        for (path, canonical) in [
            ("posts.js:list", "posts:list"),
            ("posts:list", "posts:list"),
            ("posts", "posts:default"),
            ("posts.js", "posts:default"),
            ("v1.api/posts.js:list", "v1.api/posts:list"),
        ] {
            let parsed = ok(path);
            assert_eq!(parsed.canonical(), canonical, "{path}");
            assert_eq!(parsed.to_string(), canonical, "{path}");
            assert_eq!(ok(&parsed.canonical()), parsed, "{path}");
            assert_eq!(ok(&parsed.with_js()), parsed, "{path}");
        }
        assert_eq!(ok("admin/users:remove").with_js(), "admin/users.js:remove");
    }

    #[test]
    fn segment_lengths_are_counted_as_the_backend_counts_them() {
        let name = |n: usize| "a".repeat(n);
        // A directory name: at most 64 bytes.
        ok(&format!("{}/posts:list", name(64)));
        assert!(
            err(&format!("{}/posts:list", name(65)))
                .to_string()
                .contains("65 bytes")
        );
        // The file name with its `.js`: at most 64 bytes, written with or without the `.js`.
        ok(&format!("{}:list", name(61)));
        ok(&format!("{}.js:list", name(61)));
        assert!(
            err(&format!("{}:list", name(62)))
                .to_string()
                .contains("65 bytes")
        );
        assert!(
            err(&format!("{}:list", name(65)))
                .to_string()
                .contains("68 bytes")
        );
        // The export: at most 64 bytes.
        ok(&format!("posts:{}", name(64)));
        assert!(
            err(&format!("posts:{}", name(65)))
                .to_string()
                .contains("65 bytes")
        );
    }

    #[test]
    fn refuses_malformed_paths_saying_why() {
        for (path, expected) in [
            ("", "the function path is empty"),
            (
                "posts:li-st",
                "`li-st` is not a valid export name: it contains '-'",
            ),
            ("my-posts:list", "contains '-'"),
            ("my-posts:list", "refuses to deploy"),
            ("posts: list", "whitespace (' ')"),
            ("my posts:list", "whitespace (' '); a function path is"),
            ("posts::list", "`::` is Rust's separator"),
            (":list", "the module path is missing before `:`"),
            ("posts:", "the export name is missing after `:`"),
            ("pöstś:list", "non-ASCII character 'ö'"),
            ("posts\u{7}:list", "control character"),
            ("posts.ts:list", "without the source file's `.ts`"),
            ("a/b.tsx", "without the source file's `.tsx`"),
            ("posts:1st", "it starts with a digit"),
            ("posts:_", "made only of `_`"),
            ("posts:__", "made only of `_`"),
            ("/posts:list", "without a leading `/`"),
            ("posts/:list", "empty segment"),
            ("a//b:c", "empty segment"),
            ("a/./b:c", "a `.` segment"),
            ("../posts:list", "cannot contain `..`"),
            ("a:b:c", "more than one `:`"),
            ("po$ts:list", "contains '$'"),
            ("posts.v2:list", "reads `.v2` as its extension"),
            ("posts.v2.js:list", "has a dot besides its `.js`"),
            ("posts.list", "with `:`, not `.`: write \"posts:list\""),
            ("posts.1st", "an export is named after a `:`"),
            ("posts.:list", "has a dot"),
            (".hidden:list", "starts with `.`"),
            (".js:list", "starts with `.`"),
            (
                "_/posts:list",
                "the directory name `_` needs a letter or digit",
            ),
            ("posts:list.js", "it contains '.'"),
        ] {
            let message = err(path).to_string();
            assert!(message.contains(expected), "{path:?}: {message}");
        }
    }

    /// Each bad path with the canonical form of the function its suggestion must name, or `None` where no path
    /// names what was meant.
    const BAD: &[(&str, Option<&str>)] = &[
        ("posts::list", Some("posts:list")),
        ("admin::users::remove", Some("admin/users:remove")),
        ("posts.ts::list", Some("posts:list")),
        ("posts:: list", Some("posts:list")),
        ("posts.ts:list", Some("posts:list")),
        ("admin/users.tsx:remove", Some("admin/users:remove")),
        ("a/b.tsx", Some("a/b:default")),
        ("v1.api/posts.mts:list", Some("v1.api/posts:list")),
        ("posts: list", Some("posts:list")),
        (" posts:list\t", Some("posts:list")),
        ("admin / users : remove", Some("admin/users:remove")),
        ("/posts:list", Some("posts:list")),
        ("//admin//users:remove", Some("admin/users:remove")),
        ("posts/:list", Some("posts:list")),
        ("a/./b:c", Some("a/b:c")),
        ("./posts", Some("posts:default")),
        ("posts.list", Some("posts:list")),
        ("admin/users.remove", Some("admin/users:remove")),
        ("/posts.ts:list", Some("posts:list")),
        ("my posts:list", None),
        ("posts.v2.ts:list", None),
        ("my-posts.ts:list", None),
        ("posts::", None),
        ("::list", None),
        ("/:list", None),
        ("", None),
        (":list", None),
        ("posts:", None),
        ("posts:li-st", None),
        ("posts.v2:list", None),
        ("a:b:c", None),
        ("../posts:list", None),
    ];

    #[test]
    fn every_suggestion_is_a_valid_path_naming_the_same_function() {
        for &(path, meant) in BAD {
            let error = err(path);
            let message = error.to_string();
            let fixes = written_fixes(&message);
            assert_eq!(
                fixes.iter().map(String::as_str).collect::<Vec<_>>(),
                error.suggestion().into_iter().collect::<Vec<_>>(),
                "{path:?}: {message}"
            );
            let named = fixes.first().map(|fix| ok(fix).canonical());
            assert_eq!(named.as_deref(), meant, "{path:?}: {message}");
        }
    }

    /// Paths built from every sequence of up to four of these pieces.
    fn generated() -> impl Iterator<Item = String> {
        const PIECES: [&str; 14] = [
            "a", "B", "1", "_", ".", "/", ":", "-", " ", "js", ".js", ".ts", "::", "x.y",
        ];
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|p| PIECES.iter().map(move |piece| format!("{p}{piece}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all.into_iter()
    }

    #[test]
    fn generated_paths_keep_the_grammar_s_promises() {
        for path in generated() {
            match FunctionPath::parse(&path) {
                Ok(parsed) => {
                    assert_eq!(ok(&parsed.canonical()), parsed, "{path:?}");
                    assert_eq!(ok(&parsed.with_js()), parsed, "{path:?}");
                }
                Err(e) => {
                    for fix in written_fixes(&e.to_string()) {
                        ok(&fix);
                    }
                }
            }
        }
    }

    /// The backend's reading of a path, written from `udf_path.rs`, `module_path.rs`, `path.rs` and
    /// `identifier.rs` of `crates/convex/sync_types`: the module path is a file system path whose components
    /// are checked after a missing `.js` is added. Answers the canonical `module.js:export`, its components
    /// joined by `/`.
    #[cfg(unix)]
    fn backend(path: &str) -> Option<String> {
        use std::path::{Component, Path};
        let (module, export) = match path.rsplit_once(':') {
            Some((module, export)) => (module, Some(export)),
            None => (path, None),
        };
        if let Some(export) = export {
            identifier_problem(export).is_none().then_some(())?;
        }
        let module = Path::new(module);
        module.file_name()?;
        if module.extension().is_some_and(|e| e != "js") {
            return None;
        }
        let mut canonical = module.to_path_buf();
        if canonical.extension().is_none() {
            canonical.set_extension("js");
        }
        let mut components = Vec::new();
        for component in canonical.components() {
            let Component::Normal(c) = component else {
                return None;
            };
            let c = c.to_str()?;
            let valid = c.len() <= MAX_SEGMENT_LEN
                && c.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                && c.chars().any(|c| c.is_ascii_alphanumeric());
            valid.then_some(())?;
            components.push(c.to_owned());
        }
        Some(format!(
            "{}:{}",
            components.join("/"),
            export.unwrap_or("default")
        ))
    }

    /// What the grammar refuses on purpose although the backend reads it: a file name with a dot besides its
    /// `.js`, which no deployment holds.
    #[cfg(unix)]
    fn dotted_file_name(path: &str) -> bool {
        let module = path.rsplit_once(':').map_or(path, |(m, _)| m);
        let file = module
            .rsplit('/')
            .find(|s| !s.is_empty() && *s != ".")
            .unwrap_or("");
        let stem = file
            .strip_suffix(".js")
            .filter(|s| !s.is_empty())
            .unwrap_or(file);
        stem.contains('.')
    }

    #[cfg(unix)]
    #[test]
    fn generated_paths_are_read_as_the_backend_reads_them() {
        for path in generated() {
            let backend = backend(&path);
            match FunctionPath::parse(&path) {
                Ok(parsed) => {
                    assert_eq!(backend, Some(parsed.with_js()), "{path:?}");
                }
                Err(e) => match (&backend, e.suggestion()) {
                    (Some(read), Some(fix)) => {
                        assert_eq!(&ok(fix).with_js(), read, "{path:?}: {e}");
                    }
                    (Some(_), None) => {
                        assert!(
                            dotted_file_name(&path),
                            "{path:?} is valid for the backend: {e}"
                        );
                    }
                    (None, _) => {}
                },
            }
        }
    }

    #[test]
    fn identifiers() {
        for name in ["posts", "_storage", "_1a", "a_", "Type", "x9"] {
            assert_eq!(check_identifier(name, "table name"), Ok(()), "{name}");
        }
        for (name, expected) in [
            ("", "is empty"),
            ("_", "only of `_`"),
            ("1a", "starts with a digit"),
            ("a-b", "contains '-'"),
            ("a b", "contains ' '"),
            ("é", "contains 'é'"),
        ] {
            let message = check_identifier(name, "table name").unwrap_err();
            assert!(message.contains("is not a valid table name"), "{message}");
            assert!(message.contains(expected), "{name:?}: {message}");
        }
        let long = "a".repeat(65);
        assert!(
            check_identifier(&long, "field")
                .unwrap_err()
                .contains("65 bytes")
        );
        assert_eq!(check_identifier(&long[..64], "field"), Ok(()));
    }

    #[test]
    fn field_names() {
        for name in [
            "a",
            "max-rows",
            "_id",
            "with space",
            "~",
            "type",
            &"x".repeat(1024),
        ] {
            assert_eq!(check_field_name(name), Ok(()), "{name}");
        }
        for (name, expected) in [
            ("", "cannot be empty"),
            ("$id", "starts with `$`"),
            ("$", "starts with `$`"),
            ("café", "has the character 'é'"),
            ("a\nb", "has the character '\\n'"),
            ("del\u{7f}", "has the character '\\u{7f}'"),
        ] {
            let message = check_field_name(name).unwrap_err();
            assert!(message.contains(expected), "{name:?}: {message}");
        }
        let long = check_field_name(&"x".repeat(1025)).unwrap_err();
        assert!(long.contains("limit of 1024"), "{long}");
        assert!(
            long.len() < 100,
            "the message quotes only the start: {long}"
        );
    }
}
