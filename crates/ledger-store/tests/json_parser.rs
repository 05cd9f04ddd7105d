//! The request parser (`json::parse`) against serde_json, on generated
//! documents: it reads every document serde_json reads the same way, but
//! for what it refuses by I-JSON's rules, and it calls syntax errors
//! exactly where serde_json does.

use ledger_store::json::{self, ParseError};
use proptest::prelude::*;
use serde_json::Value;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(8, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// What the ledger refuses in a value serde_json holds.
fn refusable(value: &Value) -> bool {
    match value {
        Value::Number(number) => match (number.as_i64(), number.as_u64()) {
            (Some(n), _) => n.unsigned_abs() >= 1 << 53 && (n as f64) as i128 != i128::from(n),
            (None, Some(n)) => n >= 1 << 53 && (n as f64) as i128 != i128::from(n),
            _ => false,
        },
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(refusable),
        Value::Object(map) => map
            .iter()
            .any(|(key, item)| key.contains('\0') || refusable(item)),
        Value::Bool(_) | Value::Null => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_reads_what_serde_json_writes_in_its_stored_form(value in value(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        match json::parse(text.as_bytes()) {
            Ok(parsed) => {
                prop_assert!(!refusable(&value), "{text}");
                let mut expected: Value = serde_json::from_str(&text).unwrap();
                json::prepare_stored(&mut expected).unwrap();
                prop_assert_eq!(parsed, expected);
            }
            Err(ParseError::Refused(_)) => prop_assert!(refusable(&value), "{}", text),
            Err(error) => prop_assert!(false, "{text}: {error}"),
        }
    }

    #[test]
    fn parse_calls_syntax_errors_where_serde_json_does(
        value in value(),
        cut in any::<prop::sample::Index>(),
        junk in prop::sample::select(vec!["", ",", "]", "}", "\"", "\\", "x", "-", "0", "\u{1}", "\n", ":", "e"]),
    ) {
        let text = serde_json::to_string(&value).unwrap();
        let at = cut.index(text.len() + 1);
        let Some(prefix) = text.get(..at) else { return Ok(()) };
        let mutated = format!("{prefix}{junk}{}", &text[at..]);
        let ours = json::parse(mutated.as_bytes());
        let theirs = serde_json::from_str::<Value>(&mutated);
        // A refusal may come before a later syntax error, and serde_json
        // takes a repeated name's last value; only the kind of failure
        // must agree.
        let disagree = matches!(
            (&ours, &theirs),
            (Err(ParseError::Syntax { .. }), Ok(_)) | (Ok(_), Err(_))
        );
        prop_assert!(!disagree, "{mutated:?}: ours {ours:?}, serde_json {theirs:?}");
    }

    #[test]
    fn parse_refuses_no_valid_json_as_a_syntax_error(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Err(ParseError::Syntax { .. }) = json::parse(&bytes) {
            prop_assert!(serde_json::from_slice::<Value>(&bytes).is_err(), "{:?}", String::from_utf8_lossy(&bytes));
        }
    }
}
