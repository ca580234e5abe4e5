//! `Value`'s `Display`: the notation of the Convex dashboard, which writes values as JavaScript literals.

use std::fmt::{self, Display, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::Value;

impl Display for Value {
    /// Writes the value on one line as the Convex dashboard shows it: `null`, `42n` for an int64, numbers
    /// as JavaScript prints them (`5`, `1.5`, `1e+21`, `NaN`, `Infinity`), `-0` for negative zero (which
    /// JavaScript would print as `0`), strings quoted and escaped as in JSON, `Bytes("<base64>")`,
    /// `[1, 2]` and `{ name: "x", "not an identifier": 1 }`: field names bare when they are JavaScript
    /// identifiers, quoted otherwise.
    ///
    /// ```
    /// use convex_fetch::value::{Bytes, Value};
    ///
    /// let v = convex_fetch::value!({
    ///     id: 5i64, ratio: -0.0, missing: null, ok: true, name: "a \"b\"", blob: Bytes(vec![0, 0x10, 0x83]),
    ///     "with space": [f64::NAN, f64::NEG_INFINITY, 1e21, 0.000001, []],
    /// });
    /// assert_eq!(
    ///     v.to_string(),
    ///     r#"{ blob: Bytes("ABCD"), id: 5n, missing: null, name: "a \"b\"", ok: true, ratio: -0, "with space": [NaN, -Infinity, 1e+21, 0.000001, []] }"#,
    /// );
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Int64(v) => write!(f, "{v}n"),
            Value::Float64(v) => write_number(f, *v),
            Value::Boolean(v) => write!(f, "{v}"),
            Value::String(v) => write_quoted(f, v),
            Value::Bytes(v) => write!(f, "Bytes(\"{}\")", STANDARD.encode(v)),
            Value::Array(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_char(']')
            }
            Value::Object(fields) if fields.is_empty() => f.write_str("{}"),
            Value::Object(fields) => {
                f.write_str("{ ")?;
                for (i, (name, item)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if is_identifier(name) {
                        f.write_str(name)?;
                    } else {
                        write_quoted(f, name)?;
                    }
                    f.write_str(": ")?;
                    item.fmt(f)?;
                }
                f.write_str(" }")
            }
        }
    }
}

/// A string as `JSON.stringify` quotes it, which serde_json matches escape for escape.
fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    let quoted = serde_json::to_string(text).map_err(|_| fmt::Error)?;
    f.write_str(&quoted)
}

/// Words that cannot stand bare as a name in a JavaScript object literal the dashboard writes.
const RESERVED: &[&str] = &[
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// Whether `name` is an ASCII JavaScript identifier that is not a reserved word (Convex field names are
/// ASCII, so the Unicode identifier characters do not arise).
pub(super) fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    let starts = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'$');
    starts
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
        && !RESERVED.contains(&name)
}

/// A float64 as JavaScript's `Number.prototype.toString` writes it (shortest digits that read back, in
/// fixed notation from 1e-6 up to 1e21, in exponent notation beyond), except that -0 is `-0`.
pub(super) fn write_number(f: &mut impl fmt::Write, v: f64) -> fmt::Result {
    if v.is_nan() {
        return f.write_str("NaN");
    }
    if v.is_infinite() {
        return f.write_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    }
    if v == 0.0 {
        return f.write_str(if v.is_sign_negative() { "-0" } else { "0" });
    }
    if v < 0.0 {
        f.write_char('-')?;
    }
    // Rust's `{:e}` gives the same shortest round-trip digits as JavaScript: `d.ddde<exp>`.
    let exp_form = format!("{:e}", v.abs());
    let (mantissa, exponent) = exp_form.split_once('e').ok_or(fmt::Error)?;
    let exponent: i32 = exponent.parse().map_err(|_| fmt::Error)?;
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let count = i32::try_from(digits.len()).map_err(|_| fmt::Error)?;
    // The decimal point sits after `point` digits: value = 0.<digits> × 10^point.
    let point = exponent + 1;
    if count <= point && point <= 21 {
        f.write_str(&digits)?;
        (count..point).try_for_each(|_| f.write_char('0'))
    } else if 0 < point && point <= 21 {
        let (whole, fraction) = digits.split_at(point.unsigned_abs() as usize);
        write!(f, "{whole}.{fraction}")
    } else if -6 < point && point <= 0 {
        f.write_str("0.")?;
        (point..0).try_for_each(|_| f.write_char('0'))?;
        f.write_str(&digits)
    } else {
        let (first, rest) = digits.split_at(1);
        f.write_str(first)?;
        if !rest.is_empty() {
            write!(f, ".{rest}")?;
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        write!(f, "e{sign}{}", exponent.unsigned_abs())
    }
}
