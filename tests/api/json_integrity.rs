//! Every JSON value the ledger accepts reads back unchanged and verifies
//! (issue 11): I-JSON at the boundary, RFC 8785 event hashes (v2), and no
//! event that stops a reader without saying where.

use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use crate::helpers::*;

/// POSTs a body given as text, so that it can hold what a `Value` cannot
/// (`1e16`, `-0.0`, a repeated member name).
async fn post_text(app: &TestApp, path: &str, key: &str, body: String) -> Reply {
    app.send(
        app.client
            .post(app.url(path))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

async fn create_run_with_inputs(app: &TestApp, key: &str, inputs: &str) -> Reply {
    post_text(
        app,
        "/v1/runs",
        key,
        format!(r#"{{"owner_id": "ada", "stages": ["a"], "inputs": {inputs}}}"#),
    )
    .await
}

async fn run_events(app: &TestApp, key: &str, run_id: &str) -> Vec<Value> {
    let reply = app.get(&format!("/v1/runs/{run_id}/events"), key).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["events"].as_array().unwrap().clone()
}

/// The whole feed, every tenant's, as JSON pages.
async fn whole_feed(app: &TestApp, audit: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page = app
            .get(&format!("/v1/events?after={after}&limit=1000"), audit)
            .await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let batch = page.body["events"].as_array().unwrap().clone();
        if batch.is_empty() {
            return events;
        }
        after = page.body["next_after"].as_u64().unwrap();
        events.extend(batch);
    }
}

fn verify_ok(output: &std::process::Output) -> String {
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    report
}

#[tokio::test]
async fn a_number_jsonb_cannot_read_back_does_not_stop_the_read_models_for_every_tenant() {
    let app = spawn_app().await;
    let acme = app.key(Some("acme"), &["append", "read"]).await;
    let globex = app.key(Some("globex"), &["append", "read"]).await;
    let audit = app.key(None, &["audit"]).await;
    let created = create_run_with_inputs(&app, &acme, r#"{"x": 1.7976931348623157e308}"#).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let acme_run = created.body["run_id"].as_str().unwrap().to_owned();

    // Another tenant's run after it is projected and readable.
    let other = app
        .post("/v1/runs", &globex, run_body("bob", 1, &["a"]))
        .await;
    assert_eq!(other.status, 201);
    let at = other.body["global_position"].as_u64().unwrap();
    let run_id = other.body["run_id"].as_str().unwrap();
    let read = app
        .get(&format!("/v1/runs/{run_id}?min_position={at}"), &globex)
        .await;
    assert_eq!(read.status, 200, "{:?}", read.body);

    let events = run_events(&app, &acme, &acme_run).await;
    assert_eq!(
        serde_json::to_string(&events[0]["data"]["inputs"]).unwrap(),
        r#"{"x":1.7976931348623157e+308}"#
    );
    assert_eq!(events[0]["hash_version"], 2);
    let feed = whole_feed(&app, &audit).await;
    assert_eq!(feed.last().unwrap()["global_position"], at);
    let verified = app.get("/v1/audit/verify", &audit).await;
    assert_eq!(verified.status, 200);
    assert_eq!(verified.body["ok"], true, "{:?}", verified.body);
    let mut stream = SseReader::open(&app, "/v1/events/stream", &audit, Some(0)).await;
    let first = stream
        .next()
        .await
        .expect("the stream starts at the first event");
    assert_eq!(first.id.as_deref(), Some("1"));
    let projections = app.get("/v1/projections", &audit).await;
    for projection in projections.body["projections"].as_array().unwrap() {
        assert_ne!(projection["state"], "stopped", "{projection}");
    }
}

#[tokio::test]
async fn honest_numbers_like_1e16_and_negative_zero_verify_without_tamper_alarms() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let audit = app.key(None, &["audit"]).await;
    let created =
        create_run_with_inputs(&app, &key, r#"{"big": 1e16, "zero": -0.0, "one": 1.0}"#).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let run_id = created.body["run_id"].as_str().unwrap().to_owned();
    let reported = post_text(
        &app,
        &format!("/v1/runs/{run_id}/events"),
        &key,
        r#"{"events": [{"type": "run.stage_updated", "data": {"stage": 1, "status": "completed", "output": [1e16, -0.0, 2.5e-324]}}]}"#.into(),
    )
    .await;
    assert_eq!(reported.status, 200, "{:?}", reported.body);

    let events = run_events(&app, &key, &run_id).await;
    // The stored form: PostgreSQL prints 1e16 as an integer and has no -0.
    assert_eq!(
        serde_json::to_string(&events[0]["data"]["inputs"]).unwrap(),
        r#"{"big":10000000000000000,"one":1.0,"zero":0.0}"#
    );
    let verified = app.get("/v1/audit/verify", &audit).await;
    assert_eq!(verified.body["ok"], true, "{:?}", verified.body);
    verify_ok(&cli(&app, &["verify"]));
}

#[tokio::test]
async fn integers_beyond_2_53_are_refused_not_rounded_and_floats_read_back_exactly() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let before = app.log_state().await;
    for (inputs, pointer) in [
        (r#"{"x": 9007199254740993}"#, "/inputs/x"),
        (r#"{"x": [-9007199254740993]}"#, "/inputs/x/0"),
        (r#"{"x": 123456789012345678901234567890}"#, "/inputs/x"),
        (r#"{"x": 1e400}"#, "/inputs/x"),
        (r#"{"x": 1e-400}"#, "/inputs/x"),
        (r#"{"x": 1, "x": 2}"#, "/inputs/x"),
        (r#"{"x": "\ud800"}"#, "/inputs/x"),
        (r#"{"x": "\u0000"}"#, "/inputs/x"),
    ] {
        let refused = create_run_with_inputs(&app, &key, inputs).await;
        assert_eq!(refused.status, 422, "{inputs}: {:?}", refused.body);
        assert_eq!(refused.code(), "invalid_input", "{inputs}");
        assert_eq!(refused.body["context"]["field"], pointer, "{inputs}");
    }
    assert_eq!(app.log_state().await, before, "refusals change nothing");

    let floats = [
        "0.30000000000000004",
        "2.2250738585072014e-308",
        "2.225073858507201e-308",
        "5e-324",
        "1.7976931348623157e308",
        "0.1000000000000000055511151231257827021181583404541015625",
        "9007199254740993.0",
        "123456789.123456789e-300",
    ];
    let inputs = format!(
        "[{}, 9007199254740991, -9007199254740991, 9007199254740992]",
        floats.join(", ")
    );
    let created = create_run_with_inputs(&app, &key, &inputs).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let run_id = created.body["run_id"].as_str().unwrap();
    let events = run_events(&app, &key, run_id).await;
    let read: &Vec<Value> = events[0]["data"]["inputs"].as_array().unwrap();
    for (literal, value) in floats.iter().zip(read) {
        let sent: f64 = literal.parse().unwrap();
        assert_eq!(
            value.as_f64().unwrap().to_bits(),
            sent.to_bits(),
            "{literal}"
        );
        assert!(value.is_f64(), "{literal} keeps its form");
    }
    assert_eq!(read[floats.len()], json!(9_007_199_254_740_991u64));
    assert_eq!(read[floats.len() + 1], json!(-9_007_199_254_740_991i64));
    assert_eq!(read[floats.len() + 2], json!(9_007_199_254_740_992u64));
}

/// An event a hand edit made unreadable (1e400 fits PostgreSQL's numeric,
/// not a double): the run-history projector stops at it, saying where;
/// the credits projector goes on; the feed serves everything before it and
/// then an error naming it; the event stream says so and ends; verify
/// reports it.
#[tokio::test]
async fn an_unreadable_event_stops_its_readers_loudly_at_its_position() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let audit = app.key(None, &["audit"]).await;
    let run = app.post("/v1/runs", &key, run_body("ada", 1, &["a"])).await;
    let run_id = run.body["run_id"].as_str().unwrap().to_owned();
    let reported = app
        .facts(
            &key,
            &run_id,
            json!([{"type": "run.stage_updated", "data": {"stage": 1, "status": "processing", "output": {"ok": 1}}}]),
        )
        .await;
    let poisoned = reported.body["global_position"].as_u64().unwrap();
    // Hold the run-history projector before the event, edit the event, let go.
    let mut hold = app.hold_projector("run_history").await;
    sqlx::query("UPDATE projection_checkpoints SET position = $1, stopped = false WHERE name = 'run_history'")
        .bind(poisoned as i64 - 1)
        .execute(&mut *hold)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE events DISABLE TRIGGER events_reject_update_delete")
        .execute(&mut *hold)
        .await
        .unwrap();
    sqlx::query(
        r#"UPDATE events SET data = jsonb_set(data, '{output}', '{"ok": 1e400}') WHERE global_position = $1"#,
    )
    .bind(poisoned as i64)
    .execute(&mut *hold)
    .await
    .unwrap();
    sqlx::query("ALTER TABLE events ENABLE TRIGGER events_reject_update_delete")
        .execute(&mut *hold)
        .await
        .unwrap();
    hold.commit().await.unwrap();
    // Events after it, of the same tenant.
    let grant = app.grant("acme", "purchased", 5).await;
    let granted_at = grant.body["global_position"].as_u64().unwrap();

    let stopped = loop {
        let projections = app.get("/v1/projections", &audit).await;
        let run_history = projections.body["projections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|projection| projection["name"] == "run_history")
            .unwrap()
            .clone();
        if run_history["state"] == "stopped" {
            break run_history;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(stopped["checkpoint"], poisoned - 1, "{stopped}");
    let reason = stopped["last_error"].as_str().unwrap();
    assert!(reason.contains(&format!("position {poisoned}")), "{reason}");
    let balance = app
        .get(
            &format!("/v1/accounts/acme/balance?min_position={granted_at}"),
            &key,
        )
        .await;
    assert_eq!(
        balance.status, 200,
        "the credits read model goes on: {:?}",
        balance.body
    );
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines()
            .any(|line| line.starts_with("ledger_projection_stopped{projection=\"run_history\"} 1")),
        "{text}"
    );

    let page = app.get("/v1/events?after=0&limit=1000", &audit).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body["next_after"],
        poisoned - 1,
        "every event before it"
    );
    let failed = app
        .get(&format!("/v1/events?after={}", poisoned - 1), &audit)
        .await;
    assert_eq!(failed.status, 500);
    assert_eq!(failed.code(), "event_unreadable");
    assert_eq!(failed.body["context"]["position"], poisoned);
    let mut stream = SseReader::open(&app, "/v1/events/stream", &audit, Some(poisoned - 1)).await;
    let error = stream.next().await.expect("an error event, not silence");
    assert_eq!(error.event.as_deref(), Some("error"));
    assert_eq!(error.data["context"]["position"], poisoned);
    assert!(stream.next().await.is_none(), "the stream ends there");

    let verified = app.get("/v1/audit/verify", &audit).await;
    assert_eq!(verified.status, 200);
    assert_eq!(verified.body["ok"], false);
    assert_eq!(verified.body["first_bad"]["global_position"], poisoned);
    let cli_verify = cli(&app, &["verify"]);
    assert!(!cli_verify.status.success());
    assert!(
        String::from_utf8_lossy(&cli_verify.stdout)
            .contains(&format!("position {poisoned}: the event cannot be read")),
        "{}",
        String::from_utf8_lossy(&cli_verify.stdout)
    );
}

/// How a generated string is written.
#[derive(Debug, Clone)]
enum Piece {
    /// As itself (escaped where JSON requires it).
    Raw(char),
    /// As `\uXXXX` (a surrogate pair beyond the BMP).
    Escaped(char),
    /// A `\uXXXX` of a surrogate with no partner.
    LoneSurrogate(u16),
}

/// A JSON document as text, with what the ledger must make of it.
#[derive(Debug, Clone)]
enum Doc {
    Null,
    Bool(bool),
    Number(String),
    String(Vec<Piece>),
    Array(Vec<Doc>),
    Object(Vec<(Vec<Piece>, Doc)>),
}

fn write_string(pieces: &[Piece], out: &mut String) {
    out.push('"');
    for piece in pieces {
        match piece {
            Piece::Raw('"') => out.push_str("\\\""),
            Piece::Raw('\\') => out.push_str("\\\\"),
            Piece::Raw('\n') => out.push_str("\\n"),
            Piece::Raw(c) if (*c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", *c as u32);
            }
            Piece::Raw(c) => out.push(*c),
            Piece::Escaped(c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04X}");
                }
            }
            Piece::LoneSurrogate(unit) => {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out.push('"');
}

impl Doc {
    fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Doc::Null => out.push_str("null"),
            Doc::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Doc::Number(literal) => out.push_str(literal),
            Doc::String(pieces) => write_string(pieces, out),
            Doc::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Doc::Object(members) => {
                out.push('{');
                for (index, (key, item)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    item.write(out);
                }
                out.push('}');
            }
        }
    }

    fn depth(&self) -> usize {
        match self {
            Doc::Array(items) => 1 + items.iter().map(Doc::depth).max().unwrap_or(0),
            Doc::Object(members) => {
                1 + members
                    .iter()
                    .map(|(_, item)| item.depth())
                    .max()
                    .unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// Whether the ledger must accept the document, by I-JSON's rules as
    /// docs/decisions.md states them, worked out here on their own.
    fn acceptable(&self) -> bool {
        match self {
            Doc::Null | Doc::Bool(_) => true,
            Doc::Number(literal) => number_acceptable(literal),
            Doc::String(pieces) => decode(pieces).is_some(),
            Doc::Array(items) => items.iter().all(Doc::acceptable),
            Doc::Object(members) => {
                let mut names = std::collections::HashSet::new();
                members.iter().all(|(key, item)| {
                    decode(key).is_some_and(|name| names.insert(name)) && item.acceptable()
                })
            }
        }
    }

    /// Checks a value read back against what was sent.
    fn check(&self, read: &Value, at: &str) {
        match (self, read) {
            (Doc::Null, Value::Null) => {}
            (Doc::Bool(sent), Value::Bool(got)) => assert_eq!(sent, got, "{at}"),
            (Doc::Number(literal), Value::Number(got)) => check_number(literal, got, at),
            (Doc::String(pieces), Value::String(got)) => {
                assert_eq!(decode(pieces).as_deref(), Some(got.as_str()), "{at}")
            }
            (Doc::Array(items), Value::Array(got)) => {
                assert_eq!(items.len(), got.len(), "{at}");
                for (index, (item, value)) in items.iter().zip(got).enumerate() {
                    item.check(value, &format!("{at}/{index}"));
                }
            }
            (Doc::Object(members), Value::Object(got)) => {
                assert_eq!(members.len(), got.len(), "{at}");
                for (key, item) in members {
                    let name = decode(key).unwrap();
                    item.check(&got[&name], &format!("{at}/{name}"));
                }
            }
            (sent, got) => panic!("{at}: sent {sent:?}, read {got}"),
        }
    }
}

/// The string JSON text made of `pieces` denotes, if it is one the ledger
/// keeps: escapes are UTF-16 code units, so two "lone" surrogates in a row
/// can make a pair.
fn decode(pieces: &[Piece]) -> Option<String> {
    let mut out = String::new();
    let mut escaped: Vec<u16> = Vec::new();
    let flush = |escaped: &mut Vec<u16>, out: &mut String| -> Option<()> {
        out.push_str(&String::from_utf16(escaped).ok()?);
        escaped.clear();
        Some(())
    };
    for piece in pieces {
        match piece {
            Piece::Raw(c) => {
                flush(&mut escaped, &mut out)?;
                out.push(*c);
            }
            Piece::Escaped(c) => {
                let mut units = [0u16; 2];
                escaped.extend_from_slice(c.encode_utf16(&mut units));
            }
            Piece::LoneSurrogate(unit) => escaped.push(*unit),
        }
    }
    flush(&mut escaped, &mut out)?;
    (!out.contains('\0')).then_some(out)
}

fn is_integer_literal(literal: &str) -> bool {
    !literal.contains(['.', 'e', 'E'])
}

fn number_acceptable(literal: &str) -> bool {
    if is_integer_literal(literal) {
        let Ok(integer) = literal.parse::<i128>() else {
            return false;
        };
        integer.abs() < (1 << 53) || (integer as f64) as i128 == integer
    } else {
        let double: f64 = literal.parse().unwrap();
        let mantissa = literal.split(['e', 'E']).next().unwrap();
        double.is_finite()
            && (double != 0.0 || !mantissa.contains(|c: char| ('1'..='9').contains(&c)))
    }
}

/// A number reads back as the same double, in the form it was sent in,
/// but for what PostgreSQL forces (docs/decisions.md): no negative zero,
/// and integral doubles of 10^16 and more in integer digits.
fn check_number(literal: &str, got: &serde_json::Number, at: &str) {
    if is_integer_literal(literal) {
        let sent: i128 = literal.parse().unwrap();
        match (got.as_i64(), got.as_u64()) {
            (Some(value), _) => assert_eq!(i128::from(value), sent, "{at}: {literal}"),
            (None, Some(value)) => assert_eq!(i128::from(value), sent, "{at}: {literal}"),
            (None, None) => {
                assert!(sent.abs() >= 1 << 63, "{at}: {literal} read back as {got}");
                assert_eq!(got.as_f64().unwrap() as i128, sent, "{at}: {literal}");
            }
        }
    } else {
        let sent: f64 = literal.parse().unwrap();
        let sent = if sent == 0.0 { 0.0 } else { sent };
        let value = got.as_f64().unwrap();
        assert_eq!(
            value.to_bits(),
            sent.to_bits(),
            "{at}: {literal} read back as {got}"
        );
        if sent.abs() < 1e16 {
            assert!(got.is_f64(), "{at}: {literal} read back as {got}");
        }
    }
}

fn number_literal() -> impl Strategy<Value = String> {
    let safe = 1i128 << 53;
    prop_oneof![
        // Integers around ±2^53 and across the 64-bit range.
        (-4i128..=4).prop_map(move |offset| (safe + offset).to_string()),
        (-4i128..=4).prop_map(move |offset| (-safe + offset).to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (0u32..80).prop_map(|power| (1i128 << power.min(126)).to_string()),
        // Any finite double, written shortest, in full, and with an exponent.
        any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("finite", |double| double.is_finite())
            .prop_flat_map(|double| prop_oneof![
                Just(format!("{double:?}")),
                Just(format!("{double:e}")),
                Just(format!("{double:.20e}")),
            ]),
        // Subnormals, the edges, negative zero, long mantissas.
        (1u64..0x000f_ffff_ffff_ffff).prop_map(|bits| format!("{:e}", f64::from_bits(bits))),
        prop::sample::select(vec![
            "1.7976931348623157e308",
            "-1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.8e308",
            "1e400",
            "-1e400",
            "1e-400",
            "0e-400",
            "5e-324",
            "2.4703282292062328e-324",
            "2.4703282292062327e-324",
            "2.2250738585072014e-308",
            "-0.0",
            "-0",
            "0",
            "1e16",
            "1e21",
            "1e15",
            "-1e16",
            "1.0",
            "100",
            "0.1",
            "1E+2",
            "1.5e-7",
            "0.1000000000000000055511151231257827021181583404541015625",
            "123456789012345678901234567890",
            "18446744073709551616",
            "18446744073709551615",
            "-9223372036854775808",
            "-9223372036854775809",
            "295147905179352825856",
        ])
        .prop_map(str::to_owned),
    ]
}

fn piece() -> impl Strategy<Value = Piece> {
    let chars = prop_oneof![
        prop::char::range('a', 'z'),
        prop::sample::select(vec![
            '"',
            '\\',
            '/',
            '\n',
            '\t',
            '\u{1}',
            '\u{1f}',
            '\u{7f}',
            'é',
            '\u{2028}',
            '\u{ff61}',
            '\u{10000}',
            '\u{1f600}',
            '\u{10ffff}',
            '\0'
        ]),
        any::<char>(),
    ];
    prop_oneof![
        4 => chars.clone().prop_map(Piece::Raw),
        2 => chars.prop_map(Piece::Escaped),
        1 => (0xd800u16..=0xdfff).prop_map(Piece::LoneSurrogate),
    ]
}

/// Member names from a small pool, so that repeats happen, with pairs whose
/// UTF-8 and UTF-16 orders differ (U+FF61 and U+10000).
fn name() -> impl Strategy<Value = Vec<Piece>> {
    prop_oneof![
        8 => prop::sample::select(vec!["a", "b", "A", "", "é", "\u{ff61}", "\u{10000}", "~/", "\u{1f600}x"])
            .prop_map(|name| name.chars().map(Piece::Raw).collect()),
        1 => prop::collection::vec(piece(), 0..4),
    ]
}

fn doc() -> impl Strategy<Value = Doc> {
    let leaf = prop_oneof![
        1 => Just(Doc::Null),
        1 => any::<bool>().prop_map(Doc::Bool),
        3 => number_literal().prop_map(Doc::Number),
        2 => prop::collection::vec(piece(), 0..8).prop_map(Doc::String),
    ];
    let tree = leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Doc::Array),
            prop::collection::vec((name(), inner), 0..6).prop_map(Doc::Object),
        ]
    });
    // Now and then, nesting around the limit (64 levels in a request).
    (tree, prop_oneof![4 => Just(0usize), 1 => 54usize..66])
        .prop_map(|(doc, extra)| (0..extra).fold(doc, |inner, _| Doc::Array(vec![inner])))
}

/// The property test of issue 11: documents at the edges of I-JSON, sent as
/// run inputs, stage outputs and failure details. Each is refused with 422
/// and changes nothing, or is accepted and then reads back the same through
/// every path (the run, its events, the feed as JSON and NDJSON, server-sent
/// events, `replay`), is projected, and verifies (`GET /v1/audit/verify`,
/// `run-ledger verify`, the offline bundle check, and an independent
/// RFC 8785 implementation recomputing every v2 hash).
#[tokio::test]
async fn any_json_is_refused_whole_or_read_back_unchanged_projected_and_verified() {
    let app = spawn_app().await;
    let key = app.key(Some("acme"), &["append", "read"]).await;
    let audit = app.key(None, &["audit"]).await;
    let cases: u32 = std::env::var("JSON_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48);
    let mut runner = TestRunner::new(Config::default());
    let strategy = (doc(), doc(), doc());
    let mut accepted = Vec::new();
    for _ in 0..cases {
        let (inputs, output, detail) = strategy.new_tree(&mut runner).unwrap().current();
        let before = app.log_state().await;
        // Inputs sit one level down in the body; outputs and details four.
        let created = create_run_with_inputs(&app, &key, &inputs.text()).await;
        let inputs_ok = inputs.acceptable() && inputs.depth() < 64;
        if !inputs_ok {
            assert_eq!(created.status, 422, "{}: {:?}", inputs.text(), created.body);
            assert_eq!(created.code(), "invalid_input");
            assert_eq!(app.log_state().await, before, "{}", inputs.text());
            continue;
        }
        assert_eq!(created.status, 201, "{}: {:?}", inputs.text(), created.body);
        let run_id = created.body["run_id"].as_str().unwrap().to_owned();
        let facts = format!(
            r#"{{"events": [{{"type": "run.stage_updated", "data": {{"stage": 1, "status": "processing", "output": {}}}}}]}}"#,
            output.text()
        );
        let before = app.log_state().await;
        let reported = post_text(&app, &format!("/v1/runs/{run_id}/events"), &key, facts).await;
        let output_ok = output.acceptable() && output.depth() <= 60;
        if !output_ok {
            assert_eq!(
                reported.status,
                422,
                "{}: {:?}",
                output.text(),
                reported.body
            );
            assert_eq!(app.log_state().await, before, "{}", output.text());
        } else {
            assert_eq!(
                reported.status,
                200,
                "{}: {:?}",
                output.text(),
                reported.body
            );
        }
        let failure = format!(
            r#"{{"events": [{{"type": "run.failed", "data": {{"code": "E", "message": "m", "detail": {}}}}}]}}"#,
            detail.text()
        );
        let before = app.log_state().await;
        let failed = post_text(&app, &format!("/v1/runs/{run_id}/events"), &key, failure).await;
        let detail_ok = detail.acceptable() && detail.depth() <= 60;
        if !detail_ok {
            assert_eq!(failed.status, 422, "{}: {:?}", detail.text(), failed.body);
            assert_eq!(app.log_state().await, before, "{}", detail.text());
            continue;
        }
        assert_eq!(failed.status, 200, "{}: {:?}", detail.text(), failed.body);
        let at = failed.body["global_position"].as_u64().unwrap();

        // Projected: the run as the read model shows it.
        let run = app
            .get(&format!("/v1/runs/{run_id}?min_position={at}"), &key)
            .await;
        assert_eq!(run.status, 200, "{:?}", run.body);
        if output_ok {
            output.check(&run.body["stages"][0]["output"], "output");
        }
        detail.check(&run.body["error"]["detail"], "detail");
        let events = run_events(&app, &key, &run_id).await;
        inputs.check(&events[0]["data"]["inputs"], "inputs");
        let of_type = |event_type: &str| {
            events
                .iter()
                .find(|event| event["event_type"] == event_type)
                .unwrap_or_else(|| panic!("a {event_type} event"))
        };
        assert_eq!(
            of_type("run.failed")["data"]["detail"],
            run.body["error"]["detail"]
        );
        if output_ok {
            assert_eq!(
                of_type("run.stage_updated")["data"]["output"],
                run.body["stages"][0]["output"]
            );
        }
        accepted.push((run_id, events, run.body));
    }
    eprintln!(
        "{} of {cases} generated runs accepted whole",
        accepted.len()
    );
    assert!(!accepted.is_empty(), "some documents are accepted");
    assert!(
        accepted.len() < cases as usize,
        "some documents are refused"
    );

    // Every path shows each event exactly as the run's events do.
    let by_position: std::collections::BTreeMap<u64, Value> = accepted
        .iter()
        .flat_map(|(_, events, _)| events.iter().cloned())
        .map(|event| (event["global_position"].as_u64().unwrap(), event))
        .collect();
    let feed = whole_feed(&app, &audit).await;
    let ndjson = app
        .client
        .get(app.url("/v1/events?after=0&limit=1000"))
        .bearer_auth(&audit)
        .header("accept", "application/x-ndjson")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ndjson: Vec<Value> = ndjson
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let mut stream = SseReader::open(&app, "/v1/events/stream", &audit, Some(0)).await;
    let mut streamed = Vec::new();
    while streamed.len() < feed.len() {
        streamed.push(
            stream
                .next()
                .await
                .expect("the stream delivers every event")
                .data,
        );
    }
    for path in [&feed, &ndjson, &streamed] {
        for event in path.iter() {
            let position = event["global_position"].as_u64().unwrap();
            if let Some(expected) = by_position.get(&position) {
                assert_eq!(event, expected, "position {position}");
            }
        }
    }
    for (run_id, _, run) in accepted.iter().take(5) {
        let replayed = cli(&app, &["replay", run_id]);
        let text = String::from_utf8_lossy(&replayed.stdout).into_owned();
        assert!(replayed.status.success(), "{text}");
        let state: Value = serde_json::from_str(
            text.split_once("state after")
                .unwrap()
                .1
                .split_once(":\n")
                .unwrap()
                .1,
        )
        .unwrap();
        assert_eq!(state["error"]["detail"], run["error"]["detail"]);
        assert_eq!(state["stages"][0]["output"], run["stages"][0]["output"]);
    }

    // Verified, online, by the CLI, offline, and by an independent auditor.
    let verified = app.get("/v1/audit/verify", &audit).await;
    assert_eq!(verified.body["ok"], true, "{:?}", verified.body);
    verify_ok(&cli(&app, &["verify"]));
    let dir = std::env::temp_dir().join(format!("run-ledger-json-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("export.ndjson");
    verify_ok(&cli(
        &app,
        &["export", "--output", bundle.to_str().unwrap()],
    ));
    let offline = std::process::Command::new(env!("CARGO_BIN_EXE_run-ledger"))
        .args(["verify", "--bundle", bundle.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    verify_ok(&offline);
    let envelopes = dir.join("events.json");
    std::fs::write(
        &envelopes,
        serde_json::to_vec(&json!({ "events": feed })).unwrap(),
    )
    .unwrap();
    let auditor = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/auditor/event_hash.py"
        ))
        .env("PYTHONPATH", python_packages("rfc8785", "rfc8785==0.1.4"))
        .stdin(std::fs::File::open(&envelopes).unwrap())
        .output()
        .expect("python3 runs");
    let report = verify_ok(&auditor);
    assert!(!report.contains("MISMATCH"), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
