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
    }
}
