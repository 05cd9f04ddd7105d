//! Signing in and out, and the session a signed-in person's requests carry.
//!
//! The session id lives only in an `HttpOnly`, `SameSite=Strict` cookie
//! (`Secure` when the request came over TLS); the database keeps its hash,
//! the key's id, tenant and scopes, the person's actor id and a CSRF token.
//! The key itself is never stored, nor sent to a page. Every state-changing
//! request carries the session's CSRF token in its form (or the
//! `X-CSRF-Token` header) and, when the browser sends one, an `Origin` of
//! this host.

use std::time::Duration;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use ledger_api::auth::{authenticate_key, is_actor_id, sha256, Principal, Scope, KEY_WORKS};
use ledger_api::keys::random_secret;
use maud::html;
use serde::Deserialize;
use sqlx::Row;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::views::{layout, refusal, Notice};
use crate::Console;

/// How long a sign-in lasts, whatever the person does.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);
/// The session cookie.
const SESSION_COOKIE: &str = "rl_console";
/// The sign-in form's CSRF cookie (there is no session yet to hold it).
const SIGN_IN_COOKIE: &str = "rl_console_sign_in";

/// A signed-in person.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// What the key they signed in with may do.
    pub principal: Principal,
    /// Who they act as.
    pub actor_id: String,
    /// The token their forms carry.
    pub csrf_token: String,
}

impl Session {
    /// Whether the key may administer (projections, every tenant).
    pub fn is_admin(&self) -> bool {
        self.principal.scopes.contains(&Scope::Admin)
    }

    /// Refuses a state-changing request without this session's CSRF token.
    pub fn check_csrf(&self, presented: &str) -> Result<(), Refused> {
        if same_secret(presented, &self.csrf_token) {
            Ok(())
        } else {
            Err(Refused(
                "The form has expired; reload the page and try again.",
            ))
        }
    }
}

/// A state-changing request refused before it did anything: a missing
/// CSRF token, a foreign origin. It answers 403 with a page saying why.
#[derive(Debug)]
pub(crate) struct Refused(&'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        refusal(StatusCode::FORBIDDEN, "Refused", None, self.0)
    }
}

fn same_secret(presented: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// The value of cookie `name`.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// Whether the request reached the service over TLS (directly or through
/// a proxy that says so): its cookies are then `Secure`.
fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: Duration) -> HeaderValue {
    let secure = if over_tls(headers) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age.as_secs()
    ))
    .expect("cookie values are hex")
}

/// Refuses a cross-site request: a browser sends `Origin` on POSTs, and it
/// must be this host.
fn check_origin(headers: &HeaderMap) -> Result<(), Refused> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, host)| host);
    match (origin_host, host) {
        (Some(origin), Some(host)) if origin == host => Ok(()),
        _ => Err(Refused("Refused a request from another site.")),
    }
}

/// A request without a live session goes to the sign-in page.
pub(crate) struct SignInFirst;

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        Redirect::to("/console/sign-in").into_response()
    }
}

/// A session that cannot be read (the database is down) is no session.
fn unreadable(error: sqlx::Error) -> SignInFirst {
    tracing::warn!(%error, "cannot read a console session");
    SignInFirst
}

impl FromRequestParts<Console> for Session {
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, SignInFirst> {
        let id = cookie(&parts.headers, SESSION_COOKIE).ok_or(SignInFirst)?;
        let row = sqlx::query(&format!(
            "SELECT s.key_id, s.admin_key_hash, s.tenant_id, s.scopes, s.actor_id, s.csrf_token
             FROM console_sessions s LEFT JOIN api_keys k ON k.key_id = s.key_id
             WHERE s.session_hash = $1 AND s.expires_at > now()
               AND (s.key_id IS NULL OR {KEY_WORKS})"
        ))
        .bind(sha256(id.as_bytes()).as_slice())
        .fetch_optional(&console.state.pool)
        .await
        .map_err(unreadable)?
        .ok_or(SignInFirst)?;
        let key_id: Option<Uuid> = row.try_get("key_id").map_err(unreadable)?;
        if key_id.is_none() {
            // The admin key's session ends when the admin key changes.
            let hash: Option<Vec<u8>> = row.try_get("admin_key_hash").map_err(unreadable)?;
            let current = console.state.admin_key_hash.map(|hash| hash.to_vec());
            if hash.is_none() || hash != current {
                return Err(SignInFirst);
            }
        }
        let scopes: Vec<String> = row.try_get("scopes").map_err(unreadable)?;
        Ok(Session {
            principal: Principal {
                key_id,
                tenant_id: row.try_get("tenant_id").map_err(unreadable)?,
                scopes: Scope::parse_all(&scopes),
            },
            actor_id: row.try_get("actor_id").map_err(unreadable)?,
            csrf_token: row.try_get("csrf_token").map_err(unreadable)?,
        })
    }
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    api_key: String,
    actor_id: String,
    csrf: String,
}

/// The sign-in page.
pub(crate) async fn sign_in_page(headers: HeaderMap) -> Response {
    sign_in_form(&headers, None, "", StatusCode::OK)
}

fn sign_in_form(
    headers: &HeaderMap,
    notice: Option<Notice>,
    actor_id: &str,
    status: StatusCode,
) -> Response {
    let token = random_secret();
    let page = layout(
        "Sign in",
        None,
        notice.as_ref(),
        html! {
            h1 { "Sign in" }
            form.sign-in method="post" action="/console/sign-in" {
                input type="hidden" name="csrf" value=(token);
                label for="api_key" { "API key" }
                input #api_key type="password" name="api_key" required autocomplete="off";
                label for="actor_id" { "Acting as" }
                input #actor_id type="text" name="actor_id" required maxlength="200"
                    value=(actor_id) autocomplete="username";
                p.hint { "Your user id in the systems this ledger records: commands are recorded as yours." }
                button type="submit" { "Sign in" }
            }
        },
    );
    let mut response = (status, page).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(headers, SIGN_IN_COOKIE, &token, Duration::from_secs(3600)),
    );
    response
}

/// Checks the key and the actor id, opens a session and goes to the runs.
pub(crate) async fn sign_in(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if let Err(refused) = check_origin(&headers) {
        return refused.into_response();
    }
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or("");
    if !same_secret(&form.csrf, expected) {
        let notice = Notice::alert("The form has expired; try again.");
        return sign_in_form(
            &headers,
            Some(notice),
            &form.actor_id,
            StatusCode::FORBIDDEN,
        );
    }
    let actor_id = form.actor_id.trim();
    // What the API takes as `X-Actor-Id`, which every action sends.
    if !is_actor_id(actor_id) {
        let notice = Notice::alert("Acting as: 1 to 200 letters, digits, spaces or ASCII signs.");
        return sign_in_form(
            &headers,
            Some(notice),
            actor_id,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let principal = match authenticate_key(&console.state, form.api_key.trim()).await {
        Ok(principal) if principal.require_read().is_ok() => principal,
        Ok(_) => {
            let notice = Notice::alert("This key may not read: sign in with a key that has the read, audit or admin scope.");
            return sign_in_form(&headers, Some(notice), actor_id, StatusCode::FORBIDDEN);
        }
        Err(_) => {
            let notice = Notice::alert("Unknown, revoked or expired key.");
            return sign_in_form(
                &headers,
                Some(notice),
                actor_id,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let session_id = random_secret();
    let scopes: Vec<&str> = principal
        .scopes
        .iter()
        .map(|scope| scope.as_str())
        .collect();
    let admin_key_hash = match principal.key_id {
        None => console.state.admin_key_hash.map(|hash| hash.to_vec()),
        Some(_) => None,
    };
    let stored = sqlx::query(
        "WITH swept AS (DELETE FROM console_sessions WHERE expires_at < now())
         INSERT INTO console_sessions
             (session_hash, key_id, admin_key_hash, tenant_id, scopes, actor_id, csrf_token, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))",
    )
    .bind(sha256(session_id.as_bytes()).as_slice())
    .bind(principal.key_id)
    .bind(admin_key_hash)
    .bind(&principal.tenant_id)
    .bind(&scopes)
    .bind(actor_id)
    .bind(random_secret())
    .bind(SESSION_LIFETIME.as_secs_f64())
    .execute(&console.state.pool)
    .await;
    if let Err(error) = stored {
        tracing::error!(%error, "cannot store a console session");
        let notice = Notice::alert("The ledger's database is unavailable; try again shortly.");
        return sign_in_form(
            &headers,
            Some(notice),
            actor_id,
            StatusCode::SERVICE_UNAVAILABLE,
        );
    }
    tracing::info!(key_id = ?principal.key_id, actor_id, "console sign-in");
    let mut response = Redirect::to("/console/runs").into_response();
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, &session_id, SESSION_LIFETIME),
    );
    cookies.append(
        header::SET_COOKIE,
        set_cookie(&headers, SIGN_IN_COOKIE, "", Duration::ZERO),
    );
    response
}

/// A form that changes nothing but needs the session's token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    pub csrf: String,
}

/// Ends the session, here and in the database.
pub(crate) async fn sign_out(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = check_form(&session, &headers, &form.csrf) {
        return refused.into_response();
    }
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        let ended = sqlx::query("DELETE FROM console_sessions WHERE session_hash = $1")
            .bind(sha256(id.as_bytes()).as_slice())
            .execute(&console.state.pool)
            .await;
        if let Err(error) = ended {
            tracing::error!(%error, "cannot end a console session");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "The session could not be ended; try again.",
            )
                .into_response();
        }
    }
    let mut response = Redirect::to("/console/sign-in").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, "", Duration::ZERO),
    );
    response
}

/// A stream token for the page's live updates (`POST /v1/stream-tokens`
/// for the session): the page's script sends the CSRF token as
/// `X-CSRF-Token`, and gets a token that opens streams for a minute.
pub(crate) async fn stream_token(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let presented = headers
        .get("x-csrf-token")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if let Err(refused) = check_form(&session, &headers, presented) {
        return refused.into_response();
    }
    let answer = console
        .api
        .post(&session, "/v1/stream-tokens", None, None)
        .await;
    (answer.status, axum::Json(answer.body)).into_response()
}

/// Checks a state-changing console form: same origin, the session's token.
pub(crate) fn check_form(
    session: &Session,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(), Refused> {
    check_origin(headers).and_then(|()| session.check_csrf(csrf))
}
