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
    let mut body = s.metrics.render(&[
        ("custodian_assets", "Assets in the register.", assets),
        (
            "process_resident_memory_bytes",
            "Resident memory of the server process.",
            rss,
        ),
    ]);
    body.push_str(&job_metrics(&s).await);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The scheduled jobs: the register's as every instance sees them (`job_runs`), this
/// instance's own from memory.
async fn job_metrics(s: &AppState) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut last: Vec<(String, f64, f64)> = Vec::new();
    match s.app.store().job_runs().await {
        Ok(runs) => {
            for r in runs {
                let at = r
                    .finished_at
                    .or(r.started_at)
                    .map_or(0.0, |t| t.timestamp() as f64);
                let ok = match r.outcome.as_deref() {
                    Some("ok") => 1.0,
                    Some(_) => 0.0,
                    None => -1.0,
                };
                last.push((r.name, at, ok));
            }
        }
        Err(e) => tracing::warn!("cannot read the jobs' runs: {e}"),
    }
    let local = s.app.job_states();
    for (name, st) in &local {
        if !last.iter().any(|(n, _, _)| n == name) {
            let at = st.last_run.map_or(0.0, |t| t.timestamp() as f64);
            let ok = st.ok.map_or(-1.0, |ok| if ok { 1.0 } else { 0.0 });
            last.push((name.to_string(), at, ok));
        }
    }
    let _ = writeln!(out, "# HELP custodian_job_last_run_timestamp_seconds When each scheduled job last ran (any instance for the register's jobs).\n# TYPE custodian_job_last_run_timestamp_seconds gauge");
    for (name, at, _) in &last {
        let _ = writeln!(
            out,
            "custodian_job_last_run_timestamp_seconds{{job=\"{name}\"}} {at}"
        );
    }
    let _ = writeln!(out, "# HELP custodian_job_last_run_ok Whether each job's last run succeeded (1), failed (0) or is still running (-1).\n# TYPE custodian_job_last_run_ok gauge");
    for (name, _, ok) in &last {
        let _ = writeln!(out, "custodian_job_last_run_ok{{job=\"{name}\"}} {ok}");
    }
    let _ = writeln!(out, "# HELP custodian_job_runs_total Runs of each job in this instance.\n# TYPE custodian_job_runs_total counter");
    for (name, st) in &local {
        let _ = writeln!(
            out,
            "custodian_job_runs_total{{job=\"{name}\"}} {}",
            st.runs
        );
    }
    let _ = writeln!(out, "# HELP custodian_job_failures_total Failed runs of each job in this instance.\n# TYPE custodian_job_failures_total counter");
    for (name, st) in &local {
        let _ = writeln!(
            out,
            "custodian_job_failures_total{{job=\"{name}\"}} {}",
            st.failures
        );
    }
    out
}

/// Resident memory of this process, from `/proc/self/statm`.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
