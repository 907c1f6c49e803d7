//! `/api/v1/reports` (SPEC §12): the reports, streamed, now or as the register stood.

use aide::axum::ApiRouter;
use aide::generate::GenContext;
use aide::openapi::Operation;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

use custodian_app::reports::{Report, ReportCursor};
use custodian_app::{App, AppError, Ctx};
use custodian_domain::policy::PolicyDocument;
use custodian_domain::report::{Column, ReportFormat, ReportKind};
use custodian_domain::value::Timestamp;
use custodian_io::report::ReportWriter;

use super::assets::{record_filters, word, RecordFilters};
use super::wire::{file_response, File, Key, Listing, Query};
use crate::extract::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// The routes.
pub fn routes() -> ApiRouter<AppState> {
    use aide::axum::routing::get_with;
    ApiRouter::new()
        .api_route("/reports", get_with(kinds, |o| o.summary("The reports, with their columns (auditors, managers, admins)")))
        .api_route("/reports/{key}", get_with(report, |o| o.summary("A report, streamed as CSV or JSON or written whole as XLSX, HTML or PDF, now or as the register stood at as_at; `evidence` is the evidence pack, a zip (auditors and admins); each download is an event (auditors, managers, admins)")))
}

/// A report Custodian writes.
#[derive(Serialize, JsonSchema)]
pub struct ReportView {
    /// Its key (`GET /api/v1/reports/{key}`).
    pub key: ReportKind,
    /// What it is.
    pub title: &'static str,
    /// Its columns, in order.
    pub columns: &'static [Column],
    /// The formats it is written in.
    pub formats: &'static [ReportFormat],
}

async fn kinds(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Listing<ReportView>>> {
    s.app
        .authorize(&ctx, custodian_domain::access::Action::ReadReports)
        .await?;
    Ok(Listing::all(
        ReportKind::ALL
            .iter()
            .map(|k| ReportView {
                key: *k,
                title: k.title(),
                columns: k.columns(),
                formats: ReportFormat::ALL,
            })
            .collect(),
    ))
}

/// The parameters of a report.
#[derive(JsonSchema)]
pub struct ReportParams {
    /// `csv` (the default for reports of rows: headings as people read them, text guarded
    /// against formulas), `json`, `xlsx` (a workbook, numbers as numbers and days as
    /// dates), or `html` and `pdf` for people (up to 5,000 rows). The compliance report is
    /// `html` (its default), `pdf`, `xlsx` or `json`; a policy `html` or `pdf`.
    pub format: Option<ReportFormat>,
    /// The `policy` report's document: `asset_management` (the default) or
    /// `acceptable_use`; the version in force at `as_at`, or now.
    pub document: Option<custodian_domain::policy::PolicyDocument>,
    /// The register as it stood at this time (RFC 3339), rebuilt from the audit trail.
    pub as_at: Option<Timestamp>,
    #[serde(flatten)]
    pub record: RecordFilters,
}

/// A report's bytes, streamed.
pub struct ReportDownload(Response);

impl IntoResponse for ReportDownload {
    fn into_response(self) -> Response {
        self.0
    }
}

impl aide::OperationOutput for ReportDownload {
    type Inner = ();

    fn inferred_responses(
        _: &mut GenContext,
        _: &mut Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        file_response(
            "The report: CSV with a heading row, a JSON document of its columns and rows (and the compliance report's sections), an XLSX workbook, an HTML or PDF document, or the evidence pack's zip",
            [
                ("text/csv", schemars::json_schema!({"type": "string"})),
                ("text/html", schemars::json_schema!({"type": "string"})),
                (
                    "application/zip",
                    schemars::json_schema!({"type": "string", "format": "binary", "description": "The evidence pack (kind evidence)"}),
                ),
                (
                    "application/pdf",
                    schemars::json_schema!({"type": "string", "format": "binary"}),
                ),
                (
                    ReportFormat::Xlsx.media_type(),
                    schemars::json_schema!({"type": "string", "format": "binary"}),
                ),
                (
                    "application/json",
                    schemars::json_schema!({
                        "type": "object",
                        "required": ["report", "title", "generated_at", "audit_seq", "columns", "rows"],
                        "properties": {
                            "report": {"type": "string", "enum": ReportKind::NAMES},
                            "title": {"type": "string"},
                            "as_at": {"type": ["string", "null"], "format": "date-time"},
                            "generated_at": {"type": "string", "format": "date-time"},
                            "audit_seq": {"type": "integer"},
                            "columns": {"type": "array", "items": {"type": "object", "required": ["key", "heading"], "properties": {"key": {"type": "string"}, "heading": {"type": "string"}}}},
                            "rows": {"type": "array", "items": {"type": "object", "description": "A row: a value per column key."}}
                        }
                    }),
                ),
            ],
        )
    }
}

/// A time or filter the report cannot read is a bad parameter.
fn bad_parameter(e: AppError) -> Problem {
    match e {
        AppError::Invalid(p) if !p.0.is_empty() => {
            let f = &p.0[0];
            Problem::bad_request(&f.field, format!("{} {}", f.field, f.message))
        }
        e => Problem::from(e),
    }
}

enum Stage {
    Rows(Option<ReportCursor>),
    Tail,
    Done,
}

async fn report(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Key(key): Key,
    p: Query<ReportParams>,
) -> ApiResult<ReportDownload> {
    // Who may read reports is asked first: a refusal says nothing of what exists.
    s.app
        .authorize(&ctx, custodian_domain::access::Action::ReadReports)
        .await?;
    let kind = ReportKind::parse(&key)
        .ok_or_else(|| Problem::from(AppError::not_found("report", &key)))?;
    let format = p
        .parse("format", word(ReportFormat::parse, ReportFormat::NAMES))?
        .unwrap_or(kind.default_format());
    let as_at = p.parse("as_at", custodian_domain::value::parse_timestamp)?;
    let document = p.parse(
        "document",
        word(PolicyDocument::parse, PolicyDocument::NAMES),
    )?;
    if kind == ReportKind::Policy {
        let (v, r) = s
            .app
            .policy_report(
                &ctx,
                document.unwrap_or(PolicyDocument::AssetManagement),
                as_at,
                format,
            )
            .await
            .map_err(bad_parameter)?;
        let name = format!(
            "{}-{}.{}",
            v.document.as_str().replace('_', "-"),
            v.number,
            format.as_str()
        );
        let file = File {
            bytes: r.bytes,
            media_type: format.media_type(),
            name,
            inline: false,
        };
        return Ok(ReportDownload(file.into_response()));
    }
    if kind == ReportKind::Evidence {
        return evidence(&s, ctx, format, as_at, &p).await;
    }
    if document.is_some() {
        return Err(Problem::bad_request(
            "document",
            format!("document names the policy report's document; the {kind} report has none"),
        ));
    }
    let filters = record_filters(&p)?;
    let report = s
        .app
        .open_report(&ctx, kind, format, as_at, filters)
        .await
        .map_err(bad_parameter)?;
    let name = format!(
        "{}{}.{}",
        kind.as_str(),
        as_at.map_or(String::new(), |t| format!(
            "-as-at-{}",
            t.format("%Y%m%dT%H%M%SZ")
        )),
        format.as_str()
    );
    if !format.streams() {
        // A workbook is whole only at its end: written first, then sent.
        let mut bytes = Vec::new();
        custodian_io::report::write_report(&s.app, &ctx, &report, &mut bytes)
            .await
            .map_err(|e| match e {
                custodian_io::export::ExportError::App(e) => Problem::from(e),
                e => Problem::from(AppError::Internal(e.to_string())),
            })?;
        return Ok(download(Body::from(bytes), format, &name));
    }
    // The first page is read before answering, so a failure is a problem, not a broken
    // download.
    let first = s.app.report_page(&ctx, &report, None).await?;
    let mut writer = ReportWriter::new(&report);
    let mut head = writer.head(&report);
    head.extend(writer.rows(&report, &first.rows));
    let stage = match first.next {
        Some(c) => Stage::Rows(Some(c)),
        None => Stage::Tail,
    };
    let state = (s.app.clone(), ctx, report, writer, Some(head), stage);
    let stream = futures_util::stream::unfold(state, next_chunk);
    Ok(download(Body::from_stream(stream), format, &name))
}

/// The evidence pack: written to a temporary file whole (a zip's directory comes last),
/// then sent from it a piece at a time.
async fn evidence(
    s: &AppState,
    ctx: Ctx,
    format: ReportFormat,
    as_at: Option<chrono::DateTime<chrono::Utc>>,
    p: &Query<ReportParams>,
) -> ApiResult<ReportDownload> {
    use std::io::{Seek, SeekFrom};
    if format != ReportFormat::Zip {
        return Err(Problem::bad_request(
            "format",
            format!("the evidence pack is a zip, not {format}"),
        ));
    }
    let narrowing = custodian_app::samples::RECORD_FILTERS
        .iter()
        .chain(&["document"]);
    if let Some(k) = narrowing.into_iter().find(|k| p.str(k).is_some()) {
        return Err(Problem::bad_request(
            k,
            "does not narrow the evidence pack, which holds the whole register: it takes as_at alone",
        ));
    }
    let cut = s
        .app
        .open_evidence(&ctx, as_at)
        .await
        .map_err(bad_parameter)?;
    let internal = |e: std::io::Error| Problem::from(AppError::Internal(e.to_string()));
    let mut file = tempfile::tempfile().map_err(internal)?;
    custodian_io::evidence::write_pack(&s.app, &ctx, &cut, &mut file)
        .await
        .map_err(|e| match e {
            custodian_io::export::ExportError::App(e) => Problem::from(e),
            e => Problem::from(AppError::Internal(e.to_string())),
        })?;
    file.seek(SeekFrom::Start(0)).map_err(internal)?;
    let file = tokio::fs::File::from_std(file);
    let stream = futures_util::stream::unfold(Some(file), |f| async move {
        use tokio::io::AsyncReadExt;
        let mut f = f?;
        let mut buf = vec![0u8; 256 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), Some(f)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let name = format!("evidence-as-at-{}.zip", cut.as_at.format("%Y%m%dT%H%M%SZ"));
    Ok(download(Body::from_stream(stream), format, &name))
}

/// A report's body as a download named `name`.
fn download(body: Body, format: ReportFormat, name: &str) -> ReportDownload {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    ReportDownload(r)
}

type ChunkState = (App, Ctx, Report, ReportWriter, Option<Vec<u8>>, Stage);

/// The next piece of a report's body.
async fn next_chunk(
    (app, ctx, report, mut writer, head, stage): ChunkState,
) -> Option<(Result<Vec<u8>, std::io::Error>, ChunkState)> {
    if let Some(h) = head {
        return Some((Ok(h), (app, ctx, report, writer, None, stage)));
    }
    match stage {
        Stage::Done => None,
        Stage::Rows(from) => match app.report_page(&ctx, &report, from).await {
            Ok(page) => {
                let bytes = writer.rows(&report, &page.rows);
                let stage = match page.next {
                    Some(c) => Stage::Rows(Some(c)),
                    None => Stage::Tail,
                };
                Some((Ok(bytes), (app, ctx, report, writer, None, stage)))
            }
            Err(e) => Some((
                Err(std::io::Error::other(e.to_string())),
                (app, ctx, report, writer, None, Stage::Done),
            )),
        },
        Stage::Tail => {
            let bytes = writer.tail();
            Some((Ok(bytes), (app, ctx, report, writer, None, Stage::Done)))
        }
    }
}
