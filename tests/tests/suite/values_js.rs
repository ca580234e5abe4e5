//! `convex::value::Value` against the official Convex JS client: a few hundred arbitrary values, and every
//! special, go through `jsonToConvex` and `convexToJson` (`tests/js/values.mjs`, npm `convex` pinned in
//! `tests/js/package-lock.json`), and come back as the same values, shown the same way.
//!
//! The JS output is compared value for value, not byte for byte: JavaScript writes the float64 `5` as `5`
//! where serde_json writes `5.0` (and `1e+21` for `1e21`), and lists integer-like field names (`"2"`,
//! `"10"`) before the others where Convex's order is by name. Both read back as the same value, whose
//! encoding by this crate is then byte for byte ours.
//!
//! Needs Node.js with npm (the client installs itself once, see `js_client_dir`); without them it fails (it
//! never skips).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

use convex::value::{self, Value};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

/// How many arbitrary values go through the JS client.
const ARBITRARY: usize = 400;

use convex_fetch_tests::js_client_dir;
use convex_fetch_tests::strategies::convex_value;

/// What the JS client made of one input line.
#[derive(Debug, serde::Deserialize)]
struct Answer {
    /// The JSON text, exactly as JavaScript wrote it.
    json: Option<String>,
    display: Option<String>,
    error: Option<String>,
}

/// Sends one wire value a line to `node values.mjs`, returning its answer for each.
fn through_js(lines: &[String]) -> Vec<Answer> {
    let dir = js_client_dir();
    let mut child = Command::new("node")
        .arg(dir.join("values.mjs"))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not run `node` ({e}): install Node.js 20 or later"));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = lines.join("\n") + "\n";
    // Written from another thread, so that a full stdout pipe cannot stall both sides.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_string(&mut stdout)
        .expect("reading node's output");
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr);
    let status = child.wait().expect("waiting for node");
    writer
        .join()
        .expect("the writer panicked")
        .expect("writing to node");
    assert!(
        status.success(),
        "node values.mjs failed: {status}\n{stderr}"
    );
    let answers: Vec<Answer> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_eq!(answers.len(), lines.len(), "one answer per value\n{stderr}");
    answers
}

fn wire(v: &Value) -> String {
    String::from_utf8(value::to_vec(v).expect("a valid value encodes")).expect("JSON is UTF-8")
}

fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(fields.map(|(k, v)| (k.to_owned(), v)).into())
}

/// Every special value, the ends of the ranges, and the numbers whose printing differs between languages.
fn edge_values() -> Vec<Value> {
    let floats = [
        0.0,
        -0.0,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0001),
        f64::from_bits(0xfff0_0000_dead_beef),
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        1e21,
        1e-7,
        0.000001,
        123e18,
        9_007_199_254_740_993.0,
        12_345_678_901_234_567_890.0,
        0.1 + 0.2,
        -1.5,
        5.0,
    ];
    let mut values: Vec<Value> = floats.into_iter().map(Value::Float64).collect();
    values.extend([i64::MIN, -1, 0, 1, 42, i64::MAX].map(Value::Int64));
    values.extend([
        Value::Null,
        Value::Boolean(true),
        Value::String(String::new()),
        Value::String("h\u{e9}llo \u{1F30D} \"q\" \\ \n\t\u{1}\u{7f}\u{2028}".into()),
        Value::Bytes(vec![]),
        Value::Bytes(vec![0x00, 0x10, 0x83]),
        Value::Bytes((0..=255).collect()),
        Value::Array(vec![]),
        Value::Object(BTreeMap::new()),
        object([
            ("10", Value::Int64(10)),
            ("2", Value::Float64(2.0)),
            ("a", Value::Null),
            ("_id", Value::String("k1".into())),
            ("with space", Value::Array(vec![Value::Bytes(vec![1])])),
            ("class", Value::Object(BTreeMap::new())),
            (" ", Value::Float64(-0.0)),
        ]),
    ]);
    values
}

#[test]
fn the_js_client_reads_and_writes_our_values_as_we_do() {
    // Deterministic, so that a failure here fails again on the next run.
    let mut runner = TestRunner::deterministic();
    let strategy = convex_value();
    let mut values = edge_values();
    for _ in 0..ARBITRARY {
        values.push(strategy.new_tree(&mut runner).expect("a value").current());
    }
    let lines: Vec<String> = values.iter().map(wire).collect();
    let answers = through_js(&lines);

    for ((v, line), answer) in values.iter().zip(&lines).zip(answers) {
        let js_text = answer
            .json
            .unwrap_or_else(|| panic!("the JS client refused {line}: {:?}", answer.error));
        let back: Value = value::from_slice(js_text.as_bytes())
            .unwrap_or_else(|e| panic!("we cannot read the JS client's {js_text}: {e}"));
        assert_eq!(&back, v, "JS wrote {js_text} for {line}");
        assert_eq!(wire(&back), *line, "re-encoded from {js_text}");
        assert_eq!(
            answer.display.as_deref(),
            Some(v.to_string().as_str()),
            "display of {line}"
        );
    }
}

#[test]
fn the_js_client_and_we_refuse_the_same_malformed_values() {
    let bad = [
        r#"{"$integer":"AQ=="}"#,
        r#"{"$integer":5}"#,
        r#"{"$float":"AAAAAAAA8D8="}"#,
        r#"{"$float":"AAAA"}"#,
        r#"{"$bytes":"AB"}"#,
        r#"{"$bytes":"ABCD","x":1}"#,
        r#"{"$set":[]}"#,
        r#"{"$map":[]}"#,
        r#"{"$what":1}"#,
        r#"{"a":1,"$b":2}"#,
        r#"[{"é":1}]"#,
        r#"{"tab\t":1}"#,
        "not json",
    ]
    .map(String::from);
    let long = format!(r#"{{"{}":1}}"#, "x".repeat(1025));
    let lines: Vec<String> = bad.into_iter().chain([long]).collect();
    for (line, answer) in lines.iter().zip(through_js(&lines)) {
        assert!(
            answer.error.is_some(),
            "the JS client accepted {line}: {answer:?}"
        );
        assert!(
            value::from_slice::<Value>(line.as_bytes()).is_err(),
            "we accepted {line}, which the JS client refuses: {:?}",
            answer.error
        );
    }
}
