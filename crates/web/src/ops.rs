//! Health, readiness and metrics endpoints.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

use crate::auth::Anyone;

use crate::problem::Problem;
use crate::AppState;

/// The process is up.
#[derive(Serialize, JsonSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// The process can serve.
#[derive(Serialize, JsonSchema)]
pub struct Ready {
    /// Always `ready`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
}

/// The process is up.
pub async fn healthz(_: Anyone) -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The process can serve: the database answers.
pub async fn readyz(State(s): State<AppState>, _: Anyone) -> Result<Json<Ready>, Problem> {
    match s.app.store().ping().await {
        Ok(()) => Ok(Json(Ready {
            status: "ready",
            database: s.app.store().backend(),
        })),
        Err(e) => Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Not ready",
            format!("the database does not answer: {e}"),
        )),
    }
}

/// Prometheus metrics.
pub async fn metrics(
    State(s): State<AppState>,
    crate::extract::Caller(ctx): crate::extract::Caller,
) -> Result<PlainText, Problem> {
    s.app
        .authorize(&ctx, custodian_domain::access::Action::ReadMetrics)
        .await?;
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
    body.push_str(&compliance_metrics(&s).await);
    Ok(PlainText(body))
}

/// Prometheus's text format.
pub struct PlainText(pub String);

impl IntoResponse for PlainText {
    fn into_response(self) -> Response {
        (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            self.0,
        )
            .into_response()
    }
}

impl aide::OperationOutput for PlainText {
    type Inner = String;

    fn inferred_responses(
        _: &mut aide::generate::GenContext,
        _: &mut aide::openapi::Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        let mut r = aide::openapi::Response {
            description: "Prometheus text format".into(),
            ..Default::default()
        };
        r.content.insert(
            "text/plain".into(),
            aide::openapi::MediaType {
                schema: Some(aide::openapi::SchemaObject {
                    json_schema: schemars::json_schema!({"type": "string"}),
                    example: None,
                    external_docs: None,
                }),
                ..Default::default()
            },
        );
        vec![(Some(200), r)]
    }
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

/// Compliance: each check's and each control's pass rate, and the findings to fix, as
/// gauges (as of the last evaluation).
async fn compliance_metrics(s: &AppState) -> String {
    use custodian_domain::compliance::kpi::{control_rollups, Tally};
    use custodian_domain::compliance::CHECKS;
    use std::fmt::Write as _;
    let tallies = match s.app.store().tallies().await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("cannot read the compliance tallies: {e}");
            return String::new();
        }
    };
    let tally = |c: &str| {
        tallies
            .iter()
            .find(|(id, _)| id == c)
            .map(|(_, t)| *t)
            .unwrap_or_default()
    };
    // A check with nothing measured has no rate: it is left out rather than shown as 0.
    let rate = |t: &Tally| t.pass_rate();
    let mut out = String::new();
    let _ = writeln!(out, "# HELP custodian_compliance_check_pass_rate Pass rate of each check: pass / (pass + fail), excepted left out.\n# TYPE custodian_compliance_check_pass_rate gauge");
    for c in &CHECKS {
        if let Some(r) = rate(&tally(c.id)) {
            let _ = writeln!(
                out,
                "custodian_compliance_check_pass_rate{{check=\"{}\"}} {r}",
                c.id
            );
        }
    }
    let _ = writeln!(out, "# HELP custodian_compliance_control_pass_rate Pass rate of each ISO/IEC 27001 control, over the checks evidencing it.\n# TYPE custodian_compliance_control_pass_rate gauge");
    for (r, roll) in control_rollups(&tally) {
        if let Some(x) = rate(&roll.tally) {
            let _ = writeln!(
                out,
                "custodian_compliance_control_pass_rate{{control=\"{}\"}} {x}",
                r.id
            );
        }
    }
    let _ = writeln!(out, "# HELP custodian_compliance_findings Findings of each check: open (failing) and excepted.\n# TYPE custodian_compliance_findings gauge");
    for c in &CHECKS {
        let t = tally(c.id);
        let _ = writeln!(
            out,
            "custodian_compliance_findings{{check=\"{}\",status=\"open\"}} {}",
            c.id, t.fail
        );
        let _ = writeln!(
            out,
            "custodian_compliance_findings{{check=\"{}\",status=\"excepted\"}} {}",
            c.id, t.excepted
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
