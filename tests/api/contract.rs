//! Every JSON answer the API tests receive is checked against the OpenAPI
//! document's schema for its operation and status (issue 13): the
//! document must describe what the server does, not what it was meant to.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// The document, and validators compiled as answers need them.
struct Contract {
    document: Value,
    /// Path templates with their segments, most literal segments first.
    templates: Vec<(String, Vec<String>)>,
    validators: Mutex<HashMap<(String, String, String), std::sync::Arc<jsonschema::Validator>>>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let document = serde_json::to_value(ledger_api::openapi()).unwrap();
        let mut templates: Vec<(String, Vec<String>)> = document["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(|path| {
                (
                    path.clone(),
                    path.trim_start_matches('/')
                        .split('/')
                        .map(str::to_owned)
                        .collect(),
                )
            })
            .collect();
        templates.sort_by_key(|(_, segments)| {
            std::cmp::Reverse(segments.iter().filter(|s| !s.starts_with('{')).count())
        });
        Contract {
            document,
            templates,
            validators: Mutex::default(),
        }
    })
}

impl Contract {
    /// The documented path a concrete path is an instance of.
    fn template(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.templates
            .iter()
            .find(|(_, template)| {
                template.len() == segments.len()
                    && template
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| t.starts_with('{') || t == s)
            })
            .map(|(path, _)| path.as_str())
    }

    fn validator(
        &self,
        template: &str,
        method: &str,
        status: &str,
        media_type: &str,
    ) -> Result<Option<std::sync::Arc<jsonschema::Validator>>, String> {
        let operation = &self.document["paths"][template][method];
        let responses = &operation["responses"];
        let Some(response) = responses.get(status).or_else(|| responses.get("default")) else {
            return Err(format!(
                "{} {template} answered {status}, which the document does not list",
                method.to_uppercase()
            ));
        };
        let content = &response["content"];
        let Some(schema) = content
            .get(media_type)
            .or_else(|| content.get("application/json"))
            .map(|media| &media["schema"])
        else {
            // A response documented without a body schema (a generic error
            // status): the problem schema every error body follows.
            if status.starts_with('4') || status.starts_with('5') {
                return self.problem_validator().map(Some);
            }
            return Err(format!(
                "{} {template} {status}: the document gives no schema for {media_type}",
                method.to_uppercase()
            ));
        };
        let key = (template.to_owned(), method.to_owned(), status.to_owned());
        self.compiled(key, schema).map(Some)
    }

    /// `schema` compiled once per `key` (compiling copies the document's
    /// components, and the same schemas check answer after answer).
    fn compiled(
        &self,
        key: (String, String, String),
        schema: &Value,
    ) -> Result<std::sync::Arc<jsonschema::Validator>, String> {
        if let Some(validator) = self.validators.lock().unwrap().get(&key) {
            return Ok(validator.clone());
        }
        let validator = std::sync::Arc::new(self.compile(schema)?);
        self.validators
            .lock()
            .unwrap()
            .insert(key, validator.clone());
        Ok(validator)
    }

    fn problem_validator(&self) -> Result<std::sync::Arc<jsonschema::Validator>, String> {
        let schema = serde_json::json!({"$ref": "#/components/schemas/Problem"});
        let key = (String::new(), String::new(), "problem".to_owned());
        self.compiled(key, &schema)
    }

    /// A schema whose `$ref`s resolve against the document's components.
    fn compile(&self, schema: &Value) -> Result<jsonschema::Validator, String> {
        let mut rooted = schema.clone();
        if let Value::Object(object) = &mut rooted {
            object.insert("components".into(), self.document["components"].clone());
        } else {
            rooted = serde_json::json!({
                "allOf": [schema],
                "components": self.document["components"],
            });
        }
        jsonschema::validator_for(&rooted).map_err(|error| error.to_string())
    }
}

/// Checks an answer against the document: its status is listed, the
/// `X-Request-Id`, `Retry-After` and `X-Projection-Position` it carries are
/// declared, and a JSON body fits the schema. Answers to paths or methods
/// the document does not have (the tests of unknown routes) are not
/// checked; nor are bodies that are not JSON (SSE, NDJSON, text).
///
/// # Panics
/// When the document does not describe the answer.
pub fn check(
    method: &str,
    path: &str,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) {
    let contract = contract();
    let Some(template) = contract.template(path) else {
        return;
    };
    let method = method.to_ascii_lowercase();
    if contract.document["paths"][template].get(&method).is_none() {
        return;
    }
    // The headers the service sets are in the document where they are sent.
    let declared = &contract.document["paths"][template][&method]["responses"]
        [status.to_string().as_str()]["headers"];
    for name in ["x-request-id", "retry-after", "x-projection-position"] {
        if headers.contains_key(name) {
            let documented = declared
                .as_object()
                .is_some_and(|declared| declared.keys().any(|key| key.eq_ignore_ascii_case(name)));
            assert!(
                documented,
                "{} {template} answered {status} with {name}, which the document does not declare",
                method.to_uppercase()
            );
        }
    }
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !(media_type == "application/json" || media_type == "application/problem+json") {
        return;
    }
    let validator = match contract.validator(template, &method, &status.to_string(), media_type) {
        Ok(Some(validator)) => validator,
        Ok(None) => return,
        Err(why) => panic!("{why}: {}", String::from_utf8_lossy(body)),
    };
    let instance: Value = serde_json::from_slice(body).unwrap_or_else(|_| {
        panic!("{method} {path} answered {status} with JSON that does not parse")
    });
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .take(5)
        .collect();
    assert!(
        errors.is_empty(),
        "{} {path} answered {status} with a body its schema ({template}) refuses: {errors:?}\n{instance}",
        method.to_uppercase()
    );
}

/// Checks a server-sent event of a stream against the document's schema of
/// its messages (`x-item-schema`): its `event:` name is one the document
/// lists, it has an `id:` where the document requires one, and its `data:`
/// fits the schema the document gives for that name.
///
/// # Panics
/// When the document does not describe the message.
pub fn check_sse_message(path: &str, event: Option<&str>, id: Option<&str>, data: &Value) {
    let contract = contract();
    let template = contract
        .template(path.split('?').next().unwrap_or(path))
        .unwrap_or_else(|| panic!("{path} is not in the document"));
    let items = &contract.document["paths"][template]["get"]["responses"]["200"]["content"]
        ["text/event-stream"][ledger_api::live::ITEM_SCHEMA_EXTENSION];
    let messages: Vec<&Value> = match items["oneOf"].as_array() {
        Some(messages) => messages.iter().collect(),
        None => vec![items],
    };
    let event = event.unwrap_or("message");
    let names = |message: &Value| -> Vec<String> {
        let name = &message["properties"]["event"];
        match (name["const"].as_str(), name["enum"].as_array()) {
            (Some(name), _) => vec![name.to_owned()],
            (None, Some(names)) => names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect(),
            (None, None) => Vec::new(),
        }
    };
    let message = messages
        .iter()
        .find(|message| names(message).iter().any(|name| name == event))
        .unwrap_or_else(|| {
            panic!("{template} sent an event named {event}, which the document does not list")
        });
    if message["required"]
        .as_array()
        .is_some_and(|r| r.iter().any(|f| f == "id"))
    {
        assert!(
            id.is_some(),
            "{template} sent {event} without the id the document requires"
        );
    }
    if let Some(id) = id {
        let key = (template.to_owned(), format!("sse {event}"), "id".to_owned());
        let id_schema = contract
            .compiled(key, &message["properties"]["id"])
            .unwrap();
        assert!(
            id_schema.is_valid(&Value::String(id.to_owned())),
            "{template} sent {event} with an id its schema refuses: {id:?}"
        );
    }
    let schema = &message["properties"]["data"]["contentSchema"];
    let key = (
        template.to_owned(),
        format!("sse {event}"),
        "data".to_owned(),
    );
    let validator = contract.compiled(key, schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(data)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .take(5)
        .collect();
    assert!(
        errors.is_empty(),
        "{template} sent {event} with data its schema refuses: {errors:?}\n{data}"
    );
}

#[test]
#[should_panic(expected = "data its schema refuses")]
fn a_stream_message_its_schema_refuses_fails_the_test_that_received_it() {
    check_sse_message(
        "/v1/events/stream",
        Some("run.started"),
        Some("7"),
        &serde_json::json!({ "event_type": "run.started", "global_position": "seven" }),
    );
}

#[test]
#[should_panic(expected = "a body its schema")]
fn an_answer_its_schema_refuses_fails_the_test_that_received_it() {
    check(
        "GET",
        &format!("/v1/runs/{}", uuid::Uuid::new_v4()),
        200,
        &json_headers(),
        br#"{"run_id": 7}"#,
    );
}

fn json_headers() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers
}

#[test]
#[should_panic(expected = "which the document does not declare")]
fn a_header_the_document_does_not_declare_fails_the_test_that_received_it() {
    let mut headers = json_headers();
    headers.insert("x-projection-position", "7".parse().unwrap());
    check("GET", "/healthz", 200, &headers, br#"{"status": "ok"}"#);
}

#[test]
#[should_panic(expected = "which the document does not list")]
fn a_status_the_document_does_not_list_fails_the_test_that_received_it() {
    check("GET", "/healthz", 418, &json_headers(), b"{}");
}

#[test]
fn an_answer_that_is_what_the_document_says_passes() {
    check(
        "GET",
        "/healthz",
        200,
        &json_headers(),
        br#"{"status": "ok"}"#,
    );
    let mut problem = reqwest::header::HeaderMap::new();
    problem.insert("content-type", "application/problem+json".parse().unwrap());
    check(
        "GET",
        "/v1/audit/checkpoints",
        401,
        &problem,
        br#"{"type": "https://run-ledger.dev/problems/unauthorized", "title": "Unauthorized",
             "status": 401, "detail": "no key", "code": "unauthorized"}"#,
    );
}
