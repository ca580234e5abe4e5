//! Renaming Rust parameter names (snake_case) into Convex field names.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RenameRule {
    Camel,
    Snake,
    Pascal,
    ScreamingSnake,
}

impl RenameRule {
    pub(crate) const NAMES: &'static str =
        "\"camelCase\", \"snake_case\", \"PascalCase\" or \"SCREAMING_SNAKE_CASE\"";

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "camelCase" => RenameRule::Camel,
            "snake_case" => RenameRule::Snake,
            "PascalCase" => RenameRule::Pascal,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnake,
            _ => return None,
        })
    }

    pub(crate) fn apply(self, snake: &str) -> String {
        match self {
            RenameRule::Snake => snake.to_owned(),
            RenameRule::ScreamingSnake => snake.to_ascii_uppercase(),
            RenameRule::Pascal => pascal(snake),
            RenameRule::Camel => {
                // Leading underscores (`_id`) are kept: Convex system-style names stay as written.
                let trimmed = snake.trim_start_matches('_');
                let leading = &snake[..snake.len() - trimmed.len()];
                let pascal = pascal(trimmed);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => {
                        format!("{leading}{}{}", first.to_ascii_lowercase(), chars.as_str())
                    }
                    None => snake.to_owned(),
                }
            }
        }
    }
}

/// `list_posts` → `ListPosts`.
pub(crate) fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// A Rust type name: the PascalCase of `snake` (`list_posts` → `ListPosts`), with a `T` before it where that
/// would not start with a letter (`_1a` → `T1a`).
pub(crate) fn type_name(snake: &str) -> String {
    let name = pascal(snake);
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name
    } else {
        format!("T{name}")
    }
}

/// `sendDailyDigests` → `send_daily_digests`, `_creationTime` → `_creation_time`, `userID` → `user_id`.
pub(crate) fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(if c == '-' {
            '_'
        } else {
            c.to_ascii_lowercase()
        });
    }
    out
}

/// A Rust identifier for `name`: as is, raw (`r#type`) for a keyword, or with `_` appended where neither works.
/// Whatever cannot stand in an identifier becomes `_` (`v1.api` → `v1_api`), and a name that does not start with
/// a letter or `_` gets a `_` before it (`2024` → `_2024`), so that any name gives an identifier.
pub(crate) fn ident(name: &str) -> proc_macro2::Ident {
    let span = proc_macro2::Span::call_site();
    let mut name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    let name = name.as_str();
    if syn::parse_str::<proc_macro2::Ident>(name).is_ok()
        && syn::parse_str::<syn::Ident>(name).is_ok()
    {
        proc_macro2::Ident::new(name, span)
    } else if syn::parse_str::<syn::Ident>(&format!("r#{name}")).is_ok() {
        proc_macro2::Ident::new_raw(name, span)
    } else {
        proc_macro2::Ident::new(&format!("{name}_"), span)
    }
}

#[cfg(test)]
mod tests {
    use super::RenameRule::*;
    use super::*;

    #[test]
    fn renames() {
        assert_eq!(Camel.apply("task_id"), "taskId");
        assert_eq!(Camel.apply("status"), "status");
        assert_eq!(Camel.apply("_id"), "_id");
        assert_eq!(Camel.apply("max_rows_2"), "maxRows2");
        assert_eq!(Snake.apply("task_id"), "task_id");
        assert_eq!(Pascal.apply("task_id"), "TaskId");
        assert_eq!(ScreamingSnake.apply("task_id"), "TASK_ID");
        assert_eq!(pascal("list_posts"), "ListPosts");
        assert_eq!(snake("sendDailyDigests"), "send_daily_digests");
        assert_eq!(snake("_creationTime"), "_creation_time");
        assert_eq!(snake("userID"), "user_id");
        assert_eq!(snake("HTMLPage"), "html_page");
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("self").to_string(), "self_");
        assert_eq!(ident("list").to_string(), "list");
        assert_eq!(ident("v1.api").to_string(), "v1_api");
        assert_eq!(ident("2024").to_string(), "_2024");
        assert_eq!(ident("").to_string(), "__");
        assert_eq!(ident("_").to_string(), "__");
        assert_eq!(ident("a b-c").to_string(), "a_b_c");
        assert_eq!(type_name("_1a"), "T1a");
        assert_eq!(type_name("list_posts"), "ListPosts");
        assert_eq!(type_name(""), "T");
    }
}
