//! Health, readiness and metrics endpoints.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::problem::Problem;
use crate::AppState;

/// The process is up.
pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// The process can serve: the database answers.
pub async fn readyz(State(s): State<AppState>) -> Response {
    match s.app.store().ping().await {
        Ok(()) => {
            Json(json!({"status": "ready", "database": s.app.store().backend()})).into_response()
        }
        Err(e) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Not ready",
            format!("the database does not answer: {e}"),
        )
        .into_response(),
    }
}

/// Prometheus metrics.
pub async fn metrics(
    State(s): State<AppState>,
    crate::extract::Caller(ctx): crate::extract::Caller,
) -> Response {
    if let Err(e) = s
        .app
        .authorize(&ctx, custodian_domain::access::Action::ReadMetrics)
        .await
    {
        return Problem::from(e).into_response();
    }
    let assets = s
        .app
        .store()
        .count_assets()
        .await
        .map_or(-1.0, |n| n as f64);
    let rss = resident_bytes().map_or(-1.0, |b| b as f64);
    let body = s.metrics.render(&[
        ("custodian_assets", "Assets in the register.", assets),
        (
            "process_resident_memory_bytes",
            "Resident memory of the server process.",
            rss,
        ),
    ]);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Resident memory of this process, from `/proc/self/statm`.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
