//! Every request's identity and measure: its id (`X-Request-Id`, echoed, in every
//! problem body and in every log line of the request, through its span)
//! and its correlation id (`X-Correlation-Id` or a W3C `traceparent`),
//! which the events it appends carry in their metadata.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::field::Empty;
use tracing::Instrument;
use uuid::Uuid;

/// The header a request's id comes in and goes out with.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest request id taken from a client.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Names a correlation id given as text, not a UUID: UUIDv5 of the text in
/// this namespace, so one text always names one id.
const CORRELATION_NAMESPACE: Uuid = Uuid::from_u128(0x6c65_6467_6572_2d63_6f72_7265_6c61_7465);

#[derive(Debug, Clone)]
struct RequestContext {
    request_id: String,
    correlation_id: Option<Uuid>,
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

/// The id of the request being served, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT.try_with(|context| context.request_id.clone()).ok()
}

/// The correlation id the request being served brought, if any.
pub fn current_correlation_id() -> Option<Uuid> {
    CURRENT
        .try_with(|context| context.correlation_id)
        .ok()
        .flatten()
}

/// A client's `X-Request-Id` when it is 1 to 128 characters of letters,
/// digits and `-_.:`; anything else is replaced, not refused.
fn client_request_id(headers: &HeaderMap) -> Option<String> {
    let id = headers.get(REQUEST_ID_HEADER)?.to_str().ok()?;
    let sane = !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:".contains(&byte));
    sane.then(|| id.to_owned())
}

/// `X-Correlation-Id` (a UUID as it is, other visible ASCII text up to 200
/// characters by UUIDv5), else the trace id of a W3C `traceparent`.
fn correlation_id(headers: &HeaderMap) -> Option<Uuid> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(given) = text("x-correlation-id")
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 200 && id.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Some(
            given
                .parse()
                .unwrap_or_else(|_| Uuid::new_v5(&CORRELATION_NAMESPACE, given.as_bytes())),
        );
    }
    // version "-" trace-id (32 hex) "-" parent-id (16 hex) "-" flags (2 hex)
    let parts: Vec<&str> = text("traceparent")?.trim().split('-').collect();
    match parts.as_slice() {
        [version, trace, parent, flags]
            if version.len() == 2
                && *version != "ff"
                && parent.len() == 16
                && flags.len() == 2
                && trace.len() == 32
                && trace
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) =>
        {
            let trace = u128::from_str_radix(trace, 16).ok()?;
            (trace != 0).then(|| Uuid::from_u128(trace))
        }
        _ => None,
    }
}

/// Gives the request its id and span, serves it inside them, echoes the id,
/// counts and times it by method, route template and status
/// (`http_requests_total`, `http_request_duration_seconds`), and logs the
/// request's end (debug below 400, info for other client
/// errors; server errors are logged where they happen, in the span).
pub async fn track(request: Request, next: Next) -> Response {
    let request_id =
        client_request_id(request.headers()).unwrap_or_else(|| Uuid::new_v4().simple().to_string());
    let context = RequestContext {
        request_id: request_id.clone(),
        correlation_id: correlation_id(request.headers()),
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |path| path.as_str())
        .to_owned();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id = %request_id,
        status = Empty,
        latency_ms = Empty,
        tenant = Empty,
        key_id = Empty,
    );
    let method = request.method().to_string();
    let started = Instant::now();
    let mut response = CURRENT
        .scope(context, next.run(request))
        .instrument(span.clone())
        .await;
    let status = response.status();
    let elapsed = started.elapsed().as_secs_f64();
    span.record("status", status.as_u16());
    span.record("latency_ms", elapsed * 1e3);
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.as_u16().to_string())
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(elapsed);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    span.in_scope(|| match status.as_u16() {
        400..=499 => tracing::info!("request refused"),
        500..=599 => {}
        _ => tracing::debug!("request served"),
    });
    response
}

/// Records the authenticated caller in the request's span.
pub fn record_caller(tenant_id: Option<&str>, key_id: Option<Uuid>) {
    let span = tracing::Span::current();
    if let Some(tenant) = tenant_id {
        span.record("tenant", tenant);
    }
    span.record(
        "key_id",
        tracing::field::display(key_id.map_or("admin-key".to_owned(), |id| id.to_string())),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn a_sane_request_id_is_kept_and_others_replaced() {
        assert_eq!(
            client_request_id(&headers(&[("x-request-id", "req-1:a.b_c")])).as_deref(),
            Some("req-1:a.b_c")
        );
        for bad in ["", "a b", "<script>", &"x".repeat(129)] {
            assert_eq!(
                client_request_id(&headers(&[("x-request-id", bad)])),
                None,
                "{bad:?}"
            );
        }
    }

    /// The example of W3C Trace Context, section 3.2.
    #[test]
    fn the_trace_id_of_a_traceparent_is_the_correlation_id() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            correlation_id(&headers(&[("traceparent", parent)])),
            Some("4bf92f35-77b3-4da6-a3ce-929d0e0e4736".parse().unwrap())
        );
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f35-00f067aa0ba902b7-01",
        ] {
            assert_eq!(
                correlation_id(&headers(&[("traceparent", bad)])),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn x_correlation_id_wins_and_text_maps_to_one_uuid() {
        let id = Uuid::new_v4();
        let both = headers(&[
            ("x-correlation-id", &id.to_string()),
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        ]);
        assert_eq!(correlation_id(&both), Some(id));
        let text = correlation_id(&headers(&[("x-correlation-id", "order-42")]));
        assert_eq!(
            text,
            correlation_id(&headers(&[("x-correlation-id", "order-42")]))
        );
        assert_ne!(
            text,
            correlation_id(&headers(&[("x-correlation-id", "order-43")]))
        );
    }
}
