//! Who is calling: a bearer token or a session cookie, resolved once per request.
//!
//! Unsafe requests made with a session cookie must echo the session's CSRF token in the
//! `X-CSRF-Token` header (forms: a `_csrf` field), so another site cannot make a signed-in
//! browser act. Bearer tokens are not sent by browsers on their own and need no such echo.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use custodian_app::{Access, Client, Ctx};

use crate::extract::RequestId;
use crate::problem::Problem;
use crate::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "custodian_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session a request's cookie named, when it is live.
#[derive(Clone, Debug)]
pub struct SessionCookie {
    /// The cookie's value.
    pub cookie: String,
    /// The session's CSRF token.
    pub csrf: String,
}

/// Resolves the caller and puts a [`Ctx`] in the request.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let rid = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let client = Client {
        ip: req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect()),
    };
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().ok().map(String::from));
    let session_cookie = cookie(req.headers(), SESSION_COOKIE);
    let sent_csrf = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let public = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .is_some_and(|p| {
            state
                .public
                .contains(&(req.method().clone(), p.as_str().to_string()))
                || (req.method() == Method::POST
                    && matches!(p.as_str(), "/sign-in" | "/setup/{token}"))
        });
    // Signing in and first-run setup act for nobody yet: a stale cookie or token sent
    // along must not stand in the way.
    let ctx = if public {
        Ctx::anonymous(rid, client)
    } else if let Some(auth) = bearer {
        let secret = auth
            .as_deref()
            .and_then(|s| {
                s.strip_prefix("Bearer ")
                    .or_else(|| s.strip_prefix("bearer "))
            })
            .map(str::trim);
        let Some(secret) = secret else {
            return unauthorized("send the token as Authorization: Bearer TOKEN");
        };
        match state.app.token_principal(secret).await {
            Ok(Some(p)) => Ctx::user(p, rid, client),
            Ok(None) => return unauthorized("the token is unknown, expired or revoked"),
            Err(e) => return Problem::from(e).into_response(),
        }
    } else if let Some(cookie) = session_cookie {
        match state.app.session_principal(&cookie).await {
            Ok(Some((p, session))) => {
                let mut echoed = sent_csrf
                    .as_deref()
                    .is_some_and(|s| constant_time_eq(s.as_bytes(), session.csrf_token.as_bytes()));
                if !safe(req.method()) && !echoed && is_form(req.headers()) {
                    // A form carries the token as its `_csrf` field.
                    let (parts, body) = req.into_parts();
                    let Ok(bytes) = axum::body::to_bytes(body, crate::BODY_LIMIT).await else {
                        return Problem::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "too-large",
                            "The body is too large",
                            format!("the body exceeds the limit of {} bytes", crate::BODY_LIMIT),
                        )
                        .into_response();
                    };
                    echoed = crate::extract::form_field(&bytes, "_csrf").is_some_and(|s| {
                        constant_time_eq(s.as_bytes(), session.csrf_token.as_bytes())
                    });
                    req = Request::from_parts(parts, axum::body::Body::from(bytes));
                }
                if !safe(req.method()) && !echoed {
                    return Problem::new(
                            StatusCode::FORBIDDEN,
                            "csrf",
                            "Missing or wrong CSRF token",
                            format!("a change made with a session cookie must send the session's csrf_token in the {CSRF_HEADER} header"),
                        )
                    .into_response();
                }
                req.extensions_mut().insert(SessionCookie {
                    cookie,
                    csrf: session.csrf_token,
                });
                Ctx::user(p, rid, client)
            }
            Ok(None) => Ctx::anonymous(rid, client),
            Err(e) => return Problem::from(e).into_response(),
        }
    } else {
        Ctx::anonymous(rid, client)
    };
    if ctx.principal().is_some_and(|p| p.must_enrol_totp) {
        let path = req.uri().path();
        // Programs (the API, a metrics scraper) are told; a person is led to enrol.
        let machine = path.starts_with("/api/") || path == "/metrics";
        let pages_allowed = ["/account", "/sign-in", "/sign-out", "/static/"];
        if !machine && !pages_allowed.iter().any(|p| path.starts_with(p)) {
            return axum::response::Redirect::to("/account").into_response();
        }
        if machine && !path.starts_with("/api/v1/session") {
            return Problem::new(
                StatusCode::FORBIDDEN,
                "totp-enrolment-required",
                "Enrol a second factor first",
                "admins must have a second factor: enrol one with POST /api/v1/session/totp and confirm it with POST /api/v1/session/totp/confirm",
            )
            .into_response();
        }
    }
    req.extensions_mut().insert(ctx);
    next.run(req).await
}

/// Whether the body is an HTML form's.
pub fn is_form(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

fn safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn unauthorized(detail: &str) -> Response {
    let mut r = Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "Authentication required",
        detail,
    )
    .into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    r
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of a cookie.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The signed-in caller; anyone else gets 401.
pub struct Caller(pub Ctx);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Ctx>() {
            Some(ctx) if !matches!(ctx.access, Access::Anonymous) => Ok(Caller(ctx.clone())),
            _ => Err(unauthorized(
                "sign in (POST /api/v1/session) or send an API token (Authorization: Bearer TOKEN)",
            )),
        }
    }
}

/// Anyone, signed in or not (signing in, first-run setup).
pub struct Anyone(pub Ctx);

impl<S: Send + Sync> FromRequestParts<S> for Anyone {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Anyone(
            parts
                .extensions
                .get::<Ctx>()
                .cloned()
                .unwrap_or_else(|| Ctx::anonymous(None, Client::default())),
        ))
    }
}

/// Attempts per client address per window on the sign-in and token endpoints.
pub const ATTEMPTS_PER_WINDOW: u32 = 10;
/// The rate limit's window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// A fixed-window limit of attempts per client address.
#[derive(Default)]
pub struct Limiter {
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter {
    /// Forgets windows that have passed; answers how many are left.
    pub fn purge(&self) -> usize {
        let now = Instant::now();
        match self.seen.lock() {
            Ok(mut seen) => {
                seen.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
                seen.len()
            }
            Err(_) => 0,
        }
    }

    /// Counts an attempt; `Err(seconds to wait)` once the window's allowance is spent.
    pub fn attempt(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut seen) = self.seen.lock() else {
            return Ok(());
        };
        if seen.len() > 10_000 {
            seen.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let e = seen.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(e.0) >= WINDOW {
            *e = (now, 0);
        }
        e.1 += 1;
        if e.1 > ATTEMPTS_PER_WINDOW {
            Err(WINDOW
                .saturating_sub(now.duration_since(e.0))
                .as_secs()
                .max(1))
        } else {
            Ok(())
        }
    }
}

/// Limits a sensitive endpoint per client address: `Some(429 answer)` when over the limit.
pub fn limit(state: &AppState, ctx: &Ctx, what: &str) -> Option<Response> {
    let key = format!("{what}:{}", ctx.client.ip.as_deref().unwrap_or("?"));
    state.limiter.attempt(&key).err().map(|wait| {
        let mut r = Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many attempts",
            format!("too many attempts from this address: try again in {wait} s"),
        )
        .into_response();
        if let Ok(v) = header::HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    })
}

/// A rate-limited kind of attempt, counted per client address.
pub trait Bucket: Send + Sync + 'static {
    /// The bucket's name, also shown in the OpenAPI document.
    const NAME: &'static str;
}

macro_rules! buckets {
    ($($(#[$m:meta])* $name:ident = $s:literal),+ $(,)?) => {
        $($(#[$m])* pub struct $name; impl Bucket for $name { const NAME: &'static str = $s; })+
    };
}

buckets! {
    /// Signing in, with a password or through single sign-on's callback.
    SignIn = "sign-in",
    /// Starting single sign-on.
    SsoStart = "sso-start",
    /// Changing one's password.
    Password = "password",
    /// First-run setup and setup links.
    Setup = "setup",
    /// Issuing API tokens.
    Tokens = "tokens",
    /// Confirming a second factor.
    Totp = "totp",
}

/// An operation limited per client address to [`ATTEMPTS_PER_WINDOW`] attempts per
/// [`WINDOW`] in bucket `B`: declared in the handler's signature, so the route and its
/// documentation carry the limit, and counted before anything else is read.
pub struct Limited<B>(std::marker::PhantomData<B>);

impl<B: Bucket> FromRequestParts<AppState> for Limited<B> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let anonymous;
        let ctx = match parts.extensions.get::<Ctx>() {
            Some(c) => c,
            None => {
                anonymous = Ctx::anonymous(None, Client::default());
                &anonymous
            }
        };
        match limit(s, ctx, B::NAME) {
            Some(r) => Err(r),
            None => Ok(Limited(std::marker::PhantomData)),
        }
    }
}
