//! Request bodies: the raw bytes (limited), then JSON with its failures
//! told apart: not JSON at all (400) or JSON of the wrong shape (422).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use ledger_store::json::ParseError;
use serde::de::DeserializeOwned;

use crate::{ApiError, AppState};

/// The largest request body, in bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A request body of at most `BODY_LIMIT` bytes; longer ones are refused
/// with 413 as soon as the limit is crossed, without reading the rest.
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        // A client that drips its body must not hold a connection forever.
        tokio::time::timeout(state.body_timeout, Bytes::from_request(request, state))
            .await
            .map_err(|_| ApiError::BodyTimeout(state.body_timeout))?
            .map(RawBody)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(BODY_LIMIT)
                } else {
                    ApiError::MalformedJson(rejection.body_text())
                }
            })
    }
}

/// Parses a JSON body. An empty body reads as `{}` for commands that take
/// no body or only optional fields. Every JSON value stored comes through
/// here, parsed as I-JSON into the form it reads back in
/// (`ledger_store::json`).
///
/// # Errors
/// 415 without a JSON content type (when there is a body), 400 for bytes
/// that are not JSON, 422 `invalid_input` naming the JSON Pointer of a
/// value the ledger cannot store unchanged (a number no double holds, a
/// duplicate member name, a lone surrogate, U+0000, nesting deeper than
/// 64), 422 `invalid_body` for JSON of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|media| {
                let media = media.trim().to_ascii_lowercase();
                media == "application/json" || media.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType("application/json"));
        }
        body
    };
    let value = ledger_store::json::parse(body).map_err(|error| match error {
        ParseError::Syntax { .. } => ApiError::MalformedJson(error.to_string()),
        ParseError::Refused(refused) => ApiError::InvalidInput {
            field: refused.pointer,
            reason: refused.reason,
        },
    })?;
    T::deserialize(value).map_err(|error| ApiError::InvalidBody(error.to_string()))
}
