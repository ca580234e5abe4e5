//! Compile-time check of a Convex function path: `dir/module:export`, `module` alone for the default export, an
//! optional `.js` suffix on the module.

/// Why `path` is not a Convex function path, in the user's terms.
pub(crate) fn check(path: &str) -> Result<(), String> {
    const FORM: &str =
        "a function path is \"module:export\", e.g. \"posts:list\" or \"admin/users:remove\"";
    if path.is_empty() {
        return Err(format!("the function path is empty; {FORM}"));
    }
    if let Some(c) = path.chars().find(|c| !c.is_ascii()) {
        return Err(format!(
            "the function path contains the non-ASCII character {c:?}; {FORM}"
        ));
    }
    if let Some(c) = path
        .chars()
        .find(|c| c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err(format!(
            "the function path contains whitespace ({c:?}); {FORM}"
        ));
    }
    if path.contains("::") {
        return Err(format!(
            "`::` is Rust's separator; Convex uses a single colon: write \"{}\"",
            path.replacen("::", ":", 1)
        ));
    }
    let (module, export) = match path.split_once(':') {
        Some((module, export)) => (module, Some(export)),
        None => (path, None),
    };
    if module.is_empty() {
        return Err(format!("the module is missing before `:`; {FORM}"));
    }
    check_module(module, export)?;
    match export {
        None => Ok(()),
        Some("") => Err(format!(
            "the export name is missing after `:`; write \"{module}:name\", or \"{module}\" for its default export"
        )),
        Some(export) if export.contains(':') => {
            Err(format!("the path has more than one `:`; {FORM}"))
        }
        Some(export) if !is_identifier(export) => Err(format!(
            "`{export}` is not a valid export name: use letters, digits and `_`, not starting with a digit"
        )),
        Some(_) => Ok(()),
    }
}

fn check_module(module: &str, export: Option<&str>) -> Result<(), String> {
    let without_js = module.strip_suffix(".js").unwrap_or(module);
    for segment in without_js.split('/') {
        if segment.is_empty() {
            return Err(format!(
                "the module path \"{module}\" has an empty segment (a leading, trailing or doubled `/`)"
            ));
        }
        if let Some((stem, ext)) = segment.rsplit_once('.') {
            let export = export.map(|e| format!(":{e}")).unwrap_or_default();
            let stem_path = format!("{}{stem}", &without_js[..without_js.len() - segment.len()]);
            return Err(format!(
                "functions are named by module path without a file extension: drop `.{ext}` and write \"{stem_path}{export}\""
            ));
        }
        if let Some(c) = segment
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(format!(
                "the module path \"{module}\" contains {c:?}; module paths use letters, digits, `_`, `-` and `/`"
            ));
        }
    }
    Ok(())
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why `name` cannot be a field of a Convex object (the same rules the runtime applies before sending).
pub(crate) fn check_field_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("a Convex field name cannot be empty".into())
    } else if name.starts_with('$') {
        Err(format!(
            "the field name \"{name}\" starts with `$`, which Convex reserves"
        ))
    } else if name.len() > 1024 {
        Err("a Convex field name has at most 1024 characters".into())
    } else if let Some(c) = name.chars().find(|c| !(' '..='~').contains(c)) {
        Err(format!(
            "the field name \"{name}\" contains {c:?}; Convex field names are printable ASCII"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_convex_accepts() {
        for ok in [
            "posts:list",
            "posts",
            "posts.js:list",
            "admin/users:remove",
            "a_b-c/d:e_1",
            "x:_private",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_malformed_paths_with_a_fix() {
        let cases = [
            ("posts::list", "write \"posts:list\""),
            ("posts:", "export name is missing"),
            (":list", "module is missing"),
            ("", "empty"),
            ("posts: list", "whitespace"),
            ("pöstś:list", "non-ASCII"),
            ("posts.ts:list", "drop `.ts` and write \"posts:list\""),
            ("a/b.tsx", "drop `.tsx` and write \"a/b\""),
            ("posts:li-st", "not a valid export name"),
            ("posts:1st", "not a valid export name"),
            ("/posts:list", "empty segment"),
            ("a:b:c", "more than one"),
            ("po$ts:list", "contains '$'"),
        ];
        for (path, expected) in cases {
            let err = check(path).unwrap_err();
            assert!(err.contains(expected), "{path}: {err}");
        }
    }
}
