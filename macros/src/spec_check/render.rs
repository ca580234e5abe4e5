//! Validators written as the TypeScript that declares them (`v.array(v.id("posts"))`), and the closest names
//! for a did-you-mean.

use crate::api::spec::{Literal, Validator};

/// How long a validator's text may grow in a message before the rest is `…`.
const MAX_SHOWN: usize = 120;

/// `v.string()`, `v.optional(v.number())`, `v.object({ title: v.string(), … })`, cut at [`MAX_SHOWN`].
pub(crate) fn validator(v: &Validator, optional: bool) -> String {
    let mut text = String::new();
    write(v, &mut text);
    if optional {
        text = format!("v.optional({text})");
    }
    if text.chars().count() > MAX_SHOWN {
        text = text.chars().take(MAX_SHOWN).collect::<String>() + "…";
    }
    text
}

fn write(v: &Validator, out: &mut String) {
    match v {
        Validator::Null => out.push_str("v.null()"),
        Validator::Number => out.push_str("v.number()"),
        Validator::Int64 => out.push_str("v.int64()"),
        Validator::Boolean => out.push_str("v.boolean()"),
        Validator::String => out.push_str("v.string()"),
        Validator::Bytes => out.push_str("v.bytes()"),
        Validator::Any | Validator::Unknown(_) => out.push_str("v.any()"),
        Validator::Literal(literal) => {
            out.push_str("v.literal(");
            match literal {
                Literal::String(s) => out.push_str(&format!("{s:?}")),
                Literal::Number(bits) => out.push_str(&f64::from_bits(*bits).to_string()),
                Literal::Boolean(b) => out.push_str(&b.to_string()),
                Literal::Int64(i) => out.push_str(&format!("{i}n")),
            }
            out.push(')');
        }
        Validator::Id(table) => out.push_str(&format!("v.id({table:?})")),
        Validator::Array(item) => {
            out.push_str("v.array(");
            write(item, out);
            out.push(')');
        }
        Validator::Record(value) => {
            out.push_str("v.record(v.string(), ");
            write(value, out);
            out.push(')');
        }
        Validator::Object(fields) => {
            out.push_str("v.object({ ");
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&field.name);
                out.push_str(": ");
                if field.optional {
                    out.push_str("v.optional(");
                    write(&field.ty, out);
                    out.push(')');
                } else {
                    write(&field.ty, out);
                }
                if out.len() > MAX_SHOWN * 4 {
                    break;
                }
            }
            out.push_str(" })");
        }
        Validator::Union(members) => {
            out.push_str("v.union(");
            for (i, member) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(member, out);
                if out.len() > MAX_SHOWN * 4 {
                    break;
                }
            }
            out.push(')');
        }
    }
}

/// The candidates closest to `name` by edit distance, best first, at most three, each close enough to be a
/// likely typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|candidate| (distance(name, candidate), candidate))
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// `` `a`, `b` or `c` ``.
pub(crate) fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("posts:lst", "posts:list"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(
            closest("posts:lst", ["posts:list", "posts:get", "users:list"]),
            ["posts:list", "posts:get"]
        );
        assert!(closest("x", ["posts:list"]).is_empty());
    }

    #[test]
    fn validators_read_as_typescript() {
        let v = Validator::Array(Box::new(Validator::Union(vec![
            Validator::Id("posts".into()),
            Validator::Null,
        ])));
        assert_eq!(
            validator(&v, true),
            r#"v.optional(v.array(v.union(v.id("posts"), v.null())))"#
        );
    }
}
