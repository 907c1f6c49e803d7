//! The reports page (`/reports`): every report to download, now or as the register stood
//! at a chosen time, and audit samples drawn there (auditors, managers, admins).

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde_json::{json, Map};

use custodian_app::samples::{Sample, SampleRequest};
use custodian_app::AppError;
use custodian_domain::access::Action;
use custodian_domain::asset::AssetKind;
use custodian_domain::report::{ReportFormat, ReportKind};

use super::assets::list::pairs;
use super::{csrf, error_page, field, html_response, ok, page, Control, Errors, Form, Nav, Viewer};
use crate::AppState;

/// The time a form gives: RFC 3339, or the browser's `YYYY-MM-DDTHH:MM`, taken as UTC.
fn read_time(v: &str) -> Result<DateTime<Utc>, AppError> {
    custodian_domain::value::parse_timestamp(v)
        .or_else(|_| custodian_domain::value::parse_timestamp(&format!("{v}:00Z")))
        .map_err(|_| {
            AppError::invalid(
                "as_at",
                format!("{v:?} is not a time: give a date and time, in UTC"),
            )
        })
}

/// The page, with a sample drawn or the errors of one refused.
async fn draw_page(
    s: &AppState,
    v: &Viewer,
    as_at: Option<DateTime<Utc>>,
    sample: Option<&Sample>,
    errors: &Errors,
) -> Markup {
    let stamp = as_at.map(|t| custodian_domain::value::format_timestamp(&t));
    let chosen = as_at.map(|t| t.format("%Y-%m-%dT%H:%M").to_string());
    // The evidence pack holds the audit trail: offered to those who read it.
    let reads_trail = s.app.authorize(&v.ctx, Action::ReadAudit).await.is_ok();
    let link = |k: ReportKind, f: ReportFormat| {
        let mut href = format!("/api/v1/reports/{}?format={}", k.as_str(), f.as_str());
        if let Some(t) = &stamp {
            href.push_str(&format!("&as_at={t}"));
        }
        href
    };
    let kinds: Vec<(String, String)> = AssetKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.as_str().to_string()))
        .collect();
    let names = match sample {
        Some(smp) => {
            let owners: Vec<uuid::Uuid> = smp.items.iter().map(|i| i.asset.owner_id).collect();
            s.app.party_names(&v.ctx, &owners).await.unwrap_or_default()
        }
        None => Default::default(),
    };
    html! {
        h1 { "Reports" }
        (errors.summary())
        form.filters method="get" action="/reports" id="as-at" {
            label for="as_at" { "The register as it stood at (UTC)" }
            input type="datetime-local" id="as_at" name="as_at" value=[chosen.as_deref()];
            button type="submit" { "Show" }
            @if as_at.is_some() { " " a href="/reports" { "Now" } }
        }
        p.muted {
            @if let Some(t) = &stamp {
                "The reports show the register as it stood at " (t) ": assets rebuilt from the audit trail, the other records as they stood then."
            } @else {
                "As the register is now. Choose a time to read it as it stood then."
            }
            " Each download is recorded in the audit trail."
        }
        table id="reports" {
            thead { tr { th { "Report" } th { "Download" } } }
            tbody {
                @for k in ReportKind::ALL.iter().filter(|k| reads_trail || **k != ReportKind::Evidence) {
                    tr {
                        td { (k.title()) }
                        td {
                            @for (i, f) in k.formats().iter().enumerate() {
                                    @if i > 0 { " · " }
                                    a href=(link(*k, *f)) { (f.as_str().to_uppercase()) }
                                }
                                @if *k == ReportKind::Policy {
                                    " (the Asset Management Policy in force; "
                                    a href=(format!("{}&document=acceptable_use", link(*k, ReportFormat::Pdf))) { "the Acceptable Use Policy" }
                                    ")"
                                }
                        }
                    }
                }
            }
        }
        h2 id="sample" { "Draw an audit sample" }
        p.muted { "From the register as it is now, or as it stood at the time chosen above. The same seed draws the same sample; the draw is recorded." }
        form.stack method="post" action="/reports/sample" {
            (csrf(v))
            @if let Some(t) = &stamp { input type="hidden" name="as_at" value=(t); }
            (field("seed", "Seed", Some("Any text you will quote in your working papers."), Control::Input("text"), "", true, errors))
            (field("size", "Size", Some("A number, or auto (under 6: all; 6–50: 5; 51–250: 10 %; over 250: 25)."), Control::Input("text"), "auto", false, errors))
            (field("kind", "Only assets of this kind", None, Control::Select(kinds, true), "", false, errors))
            button type="submit" { "Draw the sample" }
        }
        @if let Some(smp) = sample {
            section id="drawn" {
                p {
                    strong { (smp.items.len()) " of " (smp.population_size) " assets" }
                    ", seed " code { (smp.request.seed) } ". "
                    (custodian_domain::sample::ALGORITHM) "."
                }
                table {
                    thead { tr { th { "Asset" } th { "Name" } th { "Kind" } th { "Owner" } } }
                    tbody {
                        @for i in &smp.items {
                            tr {
                                td { a href={ "/assets/" (i.asset.id) } { (i.asset.asset_number) } }
                                td { (i.asset.name) }
                                td { (i.asset.kind) }
                                td { (names.get(&i.asset.owner_id).cloned().unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /reports`.
pub async fn overview(State(s): State<AppState>, v: Viewer, uri: Uri) -> Response {
    if let Err(e) = s.app.authorize(&v.ctx, Action::ReadReports).await {
        return error_page(Some(&v), e);
    }
    let query = match pairs(&uri) {
        Ok(p) => p,
        Err(p) => return error_page(Some(&v), AppError::invalid("query", p.detail)),
    };
    let as_at = match query.iter().find(|(k, v)| k == "as_at" && !v.is_empty()) {
        Some((_, t)) => match read_time(t) {
            Ok(t) => Some(t),
            Err(e) => {
                let errors = Errors::from_app(&e);
                let body = draw_page(&s, &v, None, None, &errors).await;
                return html_response(
                    StatusCode::BAD_REQUEST,
                    page(Some(&v), "Reports", Nav::Reports, body),
                );
            }
        },
        None => None,
    };
    let body = draw_page(&s, &v, as_at, None, &Errors::none()).await;
    ok(page(Some(&v), "Reports", Nav::Reports, body))
}

/// `POST /reports/sample`.
pub async fn sample(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let mut body = Map::new();
    body.insert("population".into(), json!("assets"));
    for k in ["seed", "as_at", "kind"] {
        if let Some(x) = form.get(k) {
            body.insert(k.into(), json!(x));
        }
    }
    let size = form.get("size").unwrap_or("auto");
    body.insert(
        "size".into(),
        size.parse::<u64>()
            .map_or_else(|_| json!(size), |n| json!(n)),
    );
    let as_at = form.get("as_at").and_then(|t| read_time(t).ok());
    let drawn = match SampleRequest::from_input(&body) {
        Ok(r) => s.app.draw_sample(&v.ctx, r).await,
        Err(p) => Err(AppError::Invalid(p)),
    };
    match drawn {
        Ok(smp) => {
            let body = draw_page(&s, &v, as_at, Some(&smp), &Errors::none()).await;
            ok(page(Some(&v), "Reports", Nav::Reports, body))
        }
        Err(e @ AppError::Invalid(_)) => {
            let errors = Errors::from_app(&e);
            let body = draw_page(&s, &v, as_at, None, &errors).await;
            html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(Some(&v), "Reports", Nav::Reports, body),
            )
        }
        Err(e) => error_page(Some(&v), e),
    }
}
