//! Stocktakes: `/api/v1/stocktakes`, their scans, report and closing.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use custodian_app::stocktakes::{scan_json, stocktake_json};
use custodian_domain::stocktake::{ReportSection, StocktakeStatus};
use custodian_store::StocktakeQuery;

use super::assets::word;
use super::{created, one, page};
use crate::extract::{Caller, IfMatch, JsonObject, Params, RecordId};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// The stocktake routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stocktakes", get(list).post(start))
        .route("/stocktakes/{id}", get(get_one))
        .route("/stocktakes/{id}/scans", post(scan))
        .route("/stocktakes/{id}/report", get(report))
        .route("/stocktakes/{id}/close", post(close))
}

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
