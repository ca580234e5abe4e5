//! Whether a stub stands in a `trait` or `impl` block, told from its source file.
//!
//! An attribute macro is not told where its item stands, and a stub's expansion (a struct, impls, a function)
//! is valid only at module level: in a block, rustc's first error would be "struct is not supported in
//! `trait`s or `impl`s", about a struct the user never wrote. So the macro reads the file at the attribute's
//! position (`Span::local_file`, `line`, `column`) and finds the block around it with a small lexer that knows
//! Rust's comments, strings and char literals. When anything does not add up (no file on disk, a position past
//! its end, a file changed since it was parsed, unbalanced braces), the answer is "not known" and the stub
//! expands as usual: a wrong "yes" would break a valid stub, a wrong "no" only leaves rustc's message.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The block a stub stands in, when it is one a stub cannot stand in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Block {
    Impl,
    Trait,
}

impl Block {
    pub(crate) fn described(self) -> &'static str {
        match self {
            Block::Impl => "an `impl` block",
            Block::Trait => "a `trait` block",
        }
    }
}

/// The block around the attribute at `line` and `column` (1-based, in chars, as `proc_macro::Span` gives
/// them) of the file at `path`, whose text from there must start with `#` and hold `fn_name` within the
/// item's first lines.
pub(crate) fn block_around(
    path: &Path,
    line: usize,
    column: usize,
    fn_name: &str,
) -> Option<Block> {
    // A file of many stubs is read and lexed once: the last file is kept while its size and time are unchanged.
    thread_local! {
        static LAST: RefCell<Option<Lexed>> = const { RefCell::new(None) };
    }
    let meta = std::fs::metadata(path).ok()?;
    let stamp = (meta.modified().ok()?, meta.len());
    LAST.with_borrow_mut(|last| {
        if !matches!(last, Some(lexed) if lexed.path == path && lexed.stamp == stamp) {
            *last = Some(Lexed::read(path, stamp)?);
        }
        last.as_ref()?.block_around(line, column, fn_name)
    })
}

/// A source file, and where its lines start and its braces are.
struct Lexed {
    path: PathBuf,
    stamp: (SystemTime, u64),
    text: String,
    line_starts: Vec<usize>,
    /// `None` when they do not balance.
    braces: Option<Vec<Braces>>,
}

impl Lexed {
    fn read(path: &Path, stamp: (SystemTime, u64)) -> Option<Lexed> {
        let text = std::fs::read_to_string(path).ok()?;
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Some(Lexed {
            path: path.to_owned(),
            stamp,
            braces: braces(&text),
            text,
            line_starts,
        })
    }

    fn block_around(&self, line: usize, column: usize, fn_name: &str) -> Option<Block> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let line_text = self.text[start..].split('\n').next()?;
        let (in_line, _) = line_text.char_indices().nth(column.checked_sub(1)?)?;
        let rest = &self.text[start + in_line..];
        // The text at the position is this stub's attribute, not an older or unsaved version of the file.
        let head = rest.get(..2048).unwrap_or(rest);
        if !rest.starts_with('#') || !head.contains(fn_name) {
            return None;
        }
        innermost(self.braces.as_ref()?, start + in_line)
    }
}

/// A `{ … }` pair of the file, and what opened it when that was an `impl` or a `trait`.
#[derive(Debug)]
struct Braces {
    open: usize,
    close: usize,
    block: Option<Block>,
}

fn innermost(braces: &[Braces], offset: usize) -> Option<Block> {
    braces
        .iter()
        .filter(|b| b.open < offset && offset < b.close)
        .max_by_key(|b| b.open)
        .and_then(|b| b.block)
}

/// Every brace pair of `text`, or `None` when they do not balance (then it was not lexed right).
fn braces(text: &str) -> Option<Vec<Braces>> {
    struct Open {
        at: usize,
        block: Option<Block>,
        /// The statement's state at the enclosing level, restored at the `}`.
        nesting: usize,
        first_word: Option<String>,
    }
    let bytes = text.as_bytes();
    let mut pairs = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    // Within the current braces: open `(`/`[`, and the first word of the current item or statement (after
    // visibility and qualifiers; attributes and `pub(…)` are inside brackets, so not counted).
    let mut nesting = 0usize;
    let mut first_word: Option<String> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = block_comment_end(bytes, i)?;
                continue;
            }
            b'"' => {
                i = string_end(bytes, i + 1)?;
                continue;
            }
            b'\'' => {
                i = quote_end(text, i);
                continue;
            }
            b'{' => {
                let block = match (nesting, first_word.as_deref()) {
                    (0, Some("impl")) => Some(Block::Impl),
                    (0, Some("trait")) => Some(Block::Trait),
                    _ => None,
                };
                stack.push(Open {
                    at: i,
                    block,
                    nesting,
                    first_word: first_word.take(),
                });
                nesting = 0;
            }
            b'}' => {
                let open = stack.pop()?;
                pairs.push(Braces {
                    open: open.at,
                    close: i,
                    block: open.block,
                });
                nesting = open.nesting;
                // A `}` at an item's level ends the item; inside brackets the expression goes on.
                first_word = if nesting == 0 { None } else { open.first_word };
            }
            b'(' | b'[' => nesting += 1,
            b')' | b']' => nesting = nesting.saturating_sub(1),
            b';' if nesting == 0 => first_word = None,
            _ if c.is_ascii_digit() => {
                i += word_len(&text[i..]);
                continue;
            }
            _ if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                let start = i;
                i += word_len(&text[i..]);
                if i == start {
                    // A char that is neither punctuation above nor part of a word.
                    i += text[i..].chars().next().map_or(1, char::len_utf8);
                    continue;
                }
                if let Some(end) = prefixed_literal_end(text, &text[start..i], i) {
                    i = end?;
                    continue;
                }
                if &text[start..i] == "r" && bytes.get(i) == Some(&b'#') {
                    // A raw identifier, `r#impl`: a word, never a keyword.
                    i += 1 + word_len(&text[i + 1..]);
                }
                let word = &text[start..i];
                let qualifier = matches!(word, "pub" | "unsafe" | "default" | "auto" | "const");
                if nesting == 0 && first_word.is_none() && !qualifier {
                    first_word = Some(word.to_owned());
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    stack.is_empty().then_some(pairs)
}

/// The length in bytes of the identifier or number at the start of `text`.
fn word_len(text: &str) -> usize {
    text.find(|c: char| !(c == '_' || c.is_alphanumeric()))
        .unwrap_or(text.len())
}

/// After a `/*` at `at`: the offset past its `*/`, nested comments included.
fn block_comment_end(bytes: &[u8], at: usize) -> Option<usize> {
    let (mut depth, mut i) = (0usize, at);
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => (depth, i) = (depth + 1, i + 2),
            (b'*', b'/') => {
                (depth, i) = (depth - 1, i + 2);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// From inside a `"…"` string at `i`: the offset past its closing quote.
fn string_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// From a `'` at `at`: past the char literal (`'a'`, `'\n'`, `'\u{1F600}'`, `'é'`), or past the lifetime or
/// label it opens.
fn quote_end(text: &str, at: usize) -> usize {
    let rest = &text[at + 1..];
    if rest.starts_with('\\') {
        let after_escape = rest.get(2..).unwrap_or("");
        return after_escape
            .find('\'')
            .map_or(text.len(), |n| at + 3 + n + 1);
    }
    // One char, then a quote: a char literal (a char may be several bytes).
    let char_len = rest.chars().next().map_or(0, char::len_utf8);
    if rest[char_len..].starts_with('\'') {
        at + 2 + char_len
    } else {
        // A lifetime: skip its name too, so that `'static` is not taken for an item's first word.
        at + 1 + word_len(rest)
    }
}

/// When `word` (just read, ending at `i`) is the prefix of a literal (`b"…"`, `r#"…"#`, `br"…"`, `c"…"`,
/// `b'…'`): `Some` of the offset past the literal (`None` inside when it does not end).
fn prefixed_literal_end(text: &str, word: &str, i: usize) -> Option<Option<usize>> {
    let bytes = text.as_bytes();
    match (word, bytes.get(i)) {
        ("b" | "c", Some(b'"')) => Some(string_end(bytes, i + 1)),
        ("b", Some(b'\'')) => Some(Some(quote_end(text, i))),
        ("r" | "br" | "cr", Some(b'"' | b'#')) => {
            let hashes = bytes[i..].iter().take_while(|&&b| b == b'#').count();
            if bytes.get(i + hashes) != Some(&b'"') {
                return None; // `r#ident`
            }
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let body = i + hashes + 1;
            Some(
                bytes[body..]
                    .windows(close.len())
                    .position(|w| w == close.as_slice())
                    .map(|n| body + n + close.len()),
            )
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block around the first `#[convex::` of `source`.
    fn block_of(source: &str) -> Option<Block> {
        let offset = source.find("#[convex::").expect("a stub");
        innermost(&braces(source).expect("balanced"), offset)
    }

    #[test]
    fn a_stub_in_an_impl_or_a_trait_is_found() {
        let imp = r#"
            pub struct Posts;
            impl<T: Clone> Posts where T: Send {
                #[convex::query("posts:list")]
                pub async fn list_posts() -> Vec<String>;
            }"#;
        assert_eq!(block_of(imp), Some(Block::Impl));
        let unsafe_trait_impl = "unsafe impl Api for X { #[convex::query(\"a:b\")] fn f(); }";
        assert_eq!(block_of(unsafe_trait_impl), Some(Block::Impl));
        let tr =
            "#[allow(dead_code)] pub(crate) trait Api { #[convex::query(\"a:b\")] async fn f(); }";
        assert_eq!(block_of(tr), Some(Block::Trait));
    }

    #[test]
    fn a_stub_at_module_level_or_in_a_block_is_not() {
        for source in [
            "#[convex::query(\"a:b\")] pub async fn f();",
            "pub mod api { impl X {} #[convex::query(\"a:b\")] pub async fn f(); }",
            "fn main() { #[convex::query(\"a:b\")] async fn f(); }",
            "impl X { fn g() { #[convex::query(\"a:b\")] async fn f(); } }",
            "fn h() -> impl Fn() { || {} } mod m { #[convex::query(\"a:b\")] async fn f(); }",
            "macro_rules! m { ($x:ident) => { #[convex::query(\"a:b\")] async fn $x(); }; }",
            "trait T = Clone; mod m { #[convex::query(\"a:b\")] async fn f(); }",
        ] {
            assert_eq!(block_of(source), None, "{source}");
        }
    }

    #[test]
    fn braces_in_comments_strings_and_chars_are_not_counted() {
        let source = r####"
            // impl X {
            /* impl Y { /* nested { */ */
            const A: &str = "impl Z { \" {";
            const B: &str = r##"impl W { "# {"##;
            const C: &[u8] = b"{";
            const D: char = '{';
            const E: u8 = b'{';
            const F: char = '\'';
            const G: char = 'é';
            fn f<'a>(x: &'a str) -> &'a str { 'outer: loop { break 'outer x; } }
            let r#impl = 1;
            mod api {
                #[convex::query("a:b")]
                async fn f();
            }"####;
        assert_eq!(block_of(source), None);
        let in_impl = format!("{source}\nimpl Api {{ #[convex::query(\"c:d\")] fn g(); }}");
        let offset = in_impl.rfind("#[convex::").unwrap();
        assert_eq!(
            innermost(&braces(&in_impl).unwrap(), offset),
            Some(Block::Impl)
        );
    }

    #[test]
    fn unbalanced_text_is_not_known() {
        assert!(braces("impl X { fn f() {").is_none());
        assert!(braces("impl X { \"unterminated }").is_none());
    }

    #[test]
    fn positions_are_lines_and_char_columns() {
        let dir = std::env::temp_dir().join(format!("convex-placement-pos-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lib.rs");
        let text = "/* «é» */ impl X { #[convex::query(\"a:b\")] fn f(); }\n#[convex::query(\"a:b\")] fn f();\n";
        std::fs::write(&path, text).unwrap();
        assert_eq!(block_around(&path, 1, 20, "f"), Some(Block::Impl));
        assert_eq!(block_around(&path, 2, 1, "f"), None);
        // Past the line's end or the file's: not known.
        assert_eq!(block_around(&path, 1, 90, "f"), None);
        assert_eq!(block_around(&path, 4, 1, "f"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_changed_since_is_not_known() {
        let dir = std::env::temp_dir().join(format!("convex-placement-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lib.rs");
        std::fs::write(
            &path,
            "impl Posts {\n    #[convex::query(\"posts:list\")]\n    fn list_posts();\n}\n",
        )
        .unwrap();
        assert_eq!(block_around(&path, 2, 5, "list_posts"), Some(Block::Impl));
        // Another name at the position, or no attribute there: an older text than the one being compiled.
        assert_eq!(block_around(&path, 2, 5, "other"), None);
        assert_eq!(block_around(&path, 3, 5, "list_posts"), None);
        std::fs::write(
            &path,
            "mod api {\n    #[convex::query(\"posts:list\")]\n    fn list_posts();\n}\n",
        )
        .unwrap();
        assert_eq!(block_around(&path, 2, 5, "list_posts"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
