#![recursion_limit = "512"]
//! Custodian's HTTP edge: the REST API, the OpenAPI document, health and metrics.
//!
//! Handlers parse requests into inputs, call one application service, and render its
//! result; every error becomes an RFC 9457 problem document in [`problem`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use custodian_app::App;

pub mod api;
pub mod auth;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod problem;
pub mod server;
pub mod ui;

use extract::RequestId;
use problem::Problem;

/// The content security policy of every answer: our own scripts and styles only, never
/// inline script, never framed.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers every answer carries (`cache-control` unless the answer sets its own). The
/// answers hyper writes itself, for requests it cannot parse, get them in [`server`].
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
    ("content-security-policy", CSP),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
];

/// `Strict-Transport-Security` when the public address is HTTPS.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The application services.
    pub app: App,
    /// Request counters and timings.
    pub metrics: Arc<metrics::Metrics>,
    /// Attempts on sign-in and token endpoints, per client address.
    pub limiter: Arc<auth::Limiter>,
    /// Single sign-on through an OpenID provider, when configured.
    pub sso: Option<Arc<custodian_oidc::Client>>,
    /// The OpenAPI document, generated from the routes when the server starts, as the
    /// JSON text it is served as.
    pub openapi: axum::body::Bytes,
    /// The operations that act for nobody (`GET /healthz`, signing in…), as
    /// `(METHOD, route)`: those whose handlers take [`auth::Anyone`].
    pub public: Arc<std::collections::HashSet<(Method, String)>>,
}

/// How the HTTP edge is set up beyond the application services.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Single sign-on through an OpenID provider.
    pub sso: Option<Arc<custodian_oidc::Client>>,
    /// Time and connection limits.
    pub limits: server::Limits,
}

/// The whole HTTP service.
pub fn router(app: App, options: Options) -> Router {
    router_with(app, options, Arc::new(auth::Limiter::default()))
}

/// [`router`] over a given rate limiter (whose windows a job purges).
fn router_with(app: App, options: Options, limiter: Arc<auth::Limiter>) -> Router {
    let body_read = options.limits.body_read;
    let (api, doc) = api::documented();
    let state = AppState {
        app,
        metrics: Arc::new(metrics::Metrics::default()),
        limiter,
        sso: options.sso,
        public: Arc::new(public_operations(&doc)),
        openapi: serde_json::to_vec(&doc).unwrap_or_default().into(),
    };
    api.merge(ui::routes())
        .fallback(|req: Request| async move {
            if for_a_person(&req) {
                return ui::not_found_page();
            }
            Problem::no_route(req.uri().path()).into_response()
        })
        .method_not_allowed_fallback(|method: Method, req: Request| async move {
            // A page address that only takes forms, opened or reloaded in a browser: the
            // page that holds the form.
            if matches!(method, Method::GET | Method::HEAD)
                && !req.uri().path().starts_with("/api/")
            {
                return axum::response::Redirect::to(&ui::form_home(req.uri().path()))
                    .into_response();
            }
            Problem::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                format!("{method} is not allowed on {}", req.uri().path()),
            )
            .into_response()
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            read_body_in_time(body_read, req, next)
        }))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// The operations whose security the document empties, as `(METHOD, route)`.
fn public_operations(doc: &serde_json::Value) -> std::collections::HashSet<(Method, String)> {
    let mut out = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if op.get("security") == Some(&serde_json::json!([])) {
                if let Ok(m) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) {
                    out.insert((m, path.clone()));
                }
            }
        }
    }
    out
}

/// Reads a request's body within `within` and at most [`BODY_LIMIT`] bytes before anything
/// else looks at it, so that a client trickling a body cannot hold a connection.
async fn read_body_in_time(within: std::time::Duration, req: Request, next: Next) -> Response {
    let h = req.headers();
    let declared = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let has_body = declared.is_some_and(|n| n > 0) || h.contains_key(header::TRANSFER_ENCODING);
    if !has_body {
        return next.run(req).await;
    }
    let too_large = || {
        Problem::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "The body is too large",
            format!("the body exceeds the limit of {} bytes", BODY_LIMIT),
        )
        .into_response()
    };
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(within, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Ok(Err(e)) if e.to_string().contains("length limit") => too_large(),
        Ok(Err(e)) => {
            Problem::bad_request("", format!("the body could not be read: {e}")).into_response()
        }
        Err(_) => Problem::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "The body took too long",
            format!("the body did not arrive within {} s", within.as_secs()),
        )
        .into_response(),
    }
}

/// A problem document with the request id added, so that the client can quote it.
async fn with_request_id(res: Response, rid: &str) -> Response {
    let (parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let mut doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    if let Some(o) = doc.as_object_mut() {
        o.insert(
            "request_id".into(),
            serde_json::Value::String(rid.to_string()),
        );
        if let Some(serde_json::Value::String(d)) = o.get_mut("detail") {
            d.push_str(&format!(" (request id {rid})"));
        }
    }
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(doc.to_string()))
}

/// Whether a request is a person's browser asking for a page (not the API).
fn for_a_person(req: &Request) -> bool {
    !req.uri().path().starts_with("/api/")
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// Assigns the request id, counts and times the request, and sets common headers.
async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let rid = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|s| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
        .map(String::from)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    req.extensions_mut().insert(RequestId(rid.clone()));
    let mut res = next.run(req).await;
    if let Some(problem::Internal(message)) = res.extensions_mut().remove::<problem::Internal>() {
        // The log has the whole story under the request id; the client, the request id to
        // quote and no internal message.
        tracing::error!(request_id = %rid, status = res.status().as_u16(), %route, "{message}");
        if res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes() == b"application/problem+json")
        {
            res = with_request_id(res, &rid).await;
        }
    }
    let elapsed = started.elapsed();
    state
        .metrics
        .record(method.as_str(), &route, res.status().as_u16(), elapsed);
    tracing::debug!(%method, %route, status = res.status().as_u16(), ms = elapsed.as_secs_f64() * 1000.0, request_id = %rid, "request");
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&rid) {
        h.insert("x-request-id", v);
    }
    for (name, value) in SECURITY_HEADERS {
        if *name == "cache-control" {
            h.entry(*name).or_insert(HeaderValue::from_static(value));
        } else {
            h.insert(*name, HeaderValue::from_static(value));
        }
    }
    if state.app.settings().https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    res
}

/// Serves until `shutdown` resolves. Returns the bound address through `on_bound` first.
pub async fn serve(
    app: App,
    options: Options,
    addr: SocketAddr,
    on_bound: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    on_bound(listener.local_addr()?);
    let limits = options.limits.clone();
    let hsts = app.settings().https();
    // The scheduled jobs: the register's, and this edge's rate windows.
    let limiter = Arc::new(auth::Limiter::default());
    let windows = limiter.clone();
    let jobs = app.start_jobs(vec![custodian_app::jobs::LocalJob {
        name: "purge_rate_windows",
        every: auth::WINDOW,
        run: Arc::new(move || Ok(format!("{} rate windows open", windows.purge()))),
    }]);
    let served = server::serve_on(
        listener,
        router_with(app, options, limiter),
        limits,
        hsts,
        shutdown,
    )
    .await;
    jobs.abort();
    served
}
