//! Stocktakes: `/api/v1/stocktakes`, their scans, report and closing.

use aide::axum::routing::{get_with, post_with};
use aide::axum::ApiRouter;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use schemars::JsonSchema;
use uuid::Uuid;

use custodian_app::stocktakes::{ReportView, ScanView};
use custodian_domain::stocktake::{ReportSection, Stocktake, StocktakeStatus};
use custodian_store::StocktakeQuery;

use super::assets::word;
use super::wire::{Body, Created, Listing, One, Query};
use super::PageParams;
use crate::extract::{Caller, IfMatch, RecordId};
use crate::openapi::shapes::{StocktakeClose, StocktakeInput, StocktakeScanInput};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// The filters of the stocktake list.
#[derive(JsonSchema)]
pub struct StocktakeFilters {
    #[serde(flatten)]
    pub page: PageParams,
    /// Only open or closed stocktakes.
    pub status: Option<StocktakeStatus>,
    /// Only stocktakes at this location.
    pub location_id: Option<Uuid>,
}

/// The parts of a report to read.
#[derive(JsonSchema)]
pub struct ReportFilters {
    #[serde(flatten)]
    pub page: PageParams,
    /// One section only (needed to page it with `cursor`).
    pub section: Option<ReportSection>,
}

/// A scan: 201 when new, 200 with the earlier scan when the asset was scanned already.
pub struct ScanAnswer(ScanView);

impl IntoResponse for ScanAnswer {
    fn into_response(self) -> Response {
        let repeat = self.0.repeat;
        let mut r = Json(self.0).into_response();
        if !repeat {
            *r.status_mut() = axum::http::StatusCode::CREATED;
        }
        r
    }
}

impl aide::OperationOutput for ScanAnswer {
    type Inner = ScanView;

    fn inferred_responses(
        ctx: &mut aide::generate::GenContext,
        op: &mut aide::openapi::Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        let mut out = Vec::new();
        for (status, description) in [
            (201, "A new scan"),
            (200, "The asset was scanned already: the earlier scan"),
        ] {
            if let Some(mut r) = Json::<ScanView>::operation_response(ctx, op) {
                r.description = description.into();
                out.push((Some(status), r));
            }
        }
        out
    }
}

/// The stocktake routes.
pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/stocktakes",
            get_with(list, |o| {
                o.summary("Stocktakes, newest first (admins, managers, auditors)")
            })
            .post_with(start, |o| {
                o.summary("Start a stocktake at a location (admins, managers)")
            }),
        )
        .api_route(
            "/stocktakes/{id}",
            get_with(get_one, |o| {
                o.summary("One stocktake")
            }),
        )
        .api_route(
            "/stocktakes/{id}/scans",
            post_with(scan, |o| {
                o.summary("Record an entry scanned or typed: found, unexpected or unknown (admins, managers)")
            }),
        )
        .api_route(
            "/stocktakes/{id}/report",
            get_with(report, |o| {
                o.summary("What was found, what is missing, what was unexpected and what matched nothing")
            }),
        )
        .api_route(
            "/stocktakes/{id}/close",
            post_with(close, |o| {
                o.summary("Close a stocktake; its missing assets are fixed as they are now (admins, managers)")
            }),
        )
}

pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<StocktakeFilters>,
) -> ApiResult<Json<Listing<Stocktake>>> {
    let q = StocktakeQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        status: p.parse(
            "status",
            word(StocktakeStatus::parse, StocktakeStatus::NAMES),
        )?,
        location_id: p.id("location_id")?,
    };
    Ok(Listing::of(s.app.list_stocktakes(&ctx, q).await?, |t| t))
}

pub async fn start(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<StocktakeInput>,
) -> ApiResult<Created<Stocktake>> {
    let t = s.app.start_stocktake(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/stocktakes/{}", t.id),
        t.version,
        t,
    ))
}

pub async fn get_one(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<Stocktake>> {
    let t = s.app.get_stocktake(&ctx, id).await?;
    Ok(One(t.version, t))
}

/// `POST /stocktakes/{id}/scans`: 201 with a new scan, 200 with the earlier one when the
/// asset was scanned already.
pub async fn scan(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    Body(body, _): Body<StocktakeScanInput>,
) -> ApiResult<ScanAnswer> {
    let o = s.app.scan_stocktake(&ctx, id, body).await?;
    Ok(ScanAnswer(o.view()))
}

pub async fn report(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    p: Query<ReportFilters>,
) -> ApiResult<Json<ReportView>> {
    let section = p.parse("section", word(ReportSection::parse, ReportSection::NAMES))?;
    let cursor = p.cursor()?;
    if cursor.is_some() && section.is_none() {
        return Err(Problem::bad_request(
            "cursor",
            "cursor pages one section: name it with section",
        ));
    }
    let r = s
        .app
        .stocktake_report(&ctx, id, section, p.limit()?, cursor)
        .await?;
    Ok(Json(r.view()))
}

pub async fn close(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<StocktakeClose>,
) -> ApiResult<One<Stocktake>> {
    let t = s.app.close_stocktake(&ctx, id, body, m).await?;
    Ok(One(t.version, t))
}
