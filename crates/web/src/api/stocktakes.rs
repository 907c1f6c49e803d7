//! Stocktakes: `/api/v1/stocktakes`, their scans, report and closing.

use aide::axum::routing::{get_with, post_with};
use aide::axum::ApiRouter;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use custodian_app::stocktakes::{scan_json, stocktake_json};
use custodian_domain::stocktake::{ReportSection, StocktakeStatus};
use custodian_store::StocktakeQuery;

use super::assets::word;
use super::{created, one, page};
use crate::extract::{Caller, IfMatch, JsonObject, Params, RecordId};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// The stocktake routes.
pub fn routes() -> ApiRouter<AppState> {
    use super::wire::legacy;
    use crate::openapi::shapes::{
        Stocktake, StocktakeClose, StocktakeInput, StocktakeReport, StocktakeScan,
        StocktakeScanInput,
    };
    ApiRouter::new()
        .api_route(
            "/stocktakes",
            get_with(list, |o| {
                o.summary("Stocktakes, newest first (admins, managers, auditors)")
                    .with(legacy::<Page<Stocktake>, ()>(200, &["limit", "cursor", "status", "location_id"], false))
            })
            .post_with(start, |o| {
                o.summary("Start a stocktake at a location (admins, managers)")
                    .with(legacy::<Stocktake, StocktakeInput>(201, &[], true))
            }),
        )
        .api_route(
            "/stocktakes/{id}",
            get_with(get_one, |o| {
                o.summary("One stocktake")
                    .with(legacy::<Stocktake, ()>(200, &[], false))
            }),
        )
        .api_route(
            "/stocktakes/{id}/scans",
            post_with(scan, |o| {
                o.summary("Record an entry scanned or typed: found, unexpected or unknown (admins, managers)")
                    .with(legacy::<StocktakeScan, StocktakeScanInput>(201, &[], true))
            }),
        )
        .api_route(
            "/stocktakes/{id}/report",
            get_with(report, |o| {
                o.summary("What was found, what is missing, what was unexpected and what matched nothing")
                    .with(legacy::<StocktakeReport, ()>(200, &["section", "limit", "cursor"], false))
            }),
        )
        .api_route(
            "/stocktakes/{id}/close",
            post_with(close, |o| {
                o.summary("Close a stocktake; its missing assets are fixed as they are now (admins, managers)")
                    .with(legacy::<Stocktake, StocktakeClose>(200, &[], true))
            }),
        )
}

/// A page of stocktakes, as the hand-written shape says.
type Page<T> = super::wire::Listing<super::wire::Shaped<T>>;

pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["limit", "cursor", "status", "location_id"])?;
    let q = StocktakeQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        status: p.parse(
            "status",
            word(StocktakeStatus::parse, StocktakeStatus::NAMES),
        )?,
        location_id: p.id("location_id")?,
    };
    Ok(page(s.app.list_stocktakes(&ctx, q).await?, stocktake_json))
}

pub async fn start(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let t = s.app.start_stocktake(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/stocktakes/{}", t.id),
        t.version,
        stocktake_json(&t),
    ))
}

pub async fn get_one(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let t = s.app.get_stocktake(&ctx, id).await?;
    Ok(one(t.version, stocktake_json(&t)))
}

/// `POST /stocktakes/{id}/scans`: 201 with a new scan, 200 with the earlier one when the
/// asset was scanned already.
pub async fn scan(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let o = s.app.scan_stocktake(&ctx, id, body).await?;
    let body = scan_json(&o);
    Ok(if o.repeat {
        Json(body).into_response()
    } else {
        let mut r = Json(body).into_response();
        *r.status_mut() = axum::http::StatusCode::CREATED;
        r
    })
}

pub async fn report(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["limit", "cursor", "section"])?;
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
    Ok(Json(r.to_json()).into_response())
}

pub async fn close(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let t = s.app.close_stocktake(&ctx, id, body, m).await?;
    Ok(one(t.version, stocktake_json(&t)))
}
