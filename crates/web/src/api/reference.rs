//! `/api/v1/locations`, `/api/v1/classifications`, `/api/v1/custom_fields`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{created, one, page, to_json};
use crate::extract::{Caller, IfMatch, JsonObject, Params, RecordId};
use crate::problem::ApiResult;
use crate::AppState;

pub async fn list_locations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["limit", "cursor"])?;
    Ok(page(
        s.app.list_locations(&ctx, p.limit()?, p.cursor()?).await?,
        to_json,
    ))
}

pub async fn create_location(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let l = s.app.create_location(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/locations/{}", l.id),
        l.version,
        to_json(&l),
    ))
}

pub async fn get_location(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let l = s.app.get_location(&ctx, id).await?;
    Ok(one(l.version, to_json(&l)))
}

pub async fn update_location(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let l = s.app.update_location(&ctx, id, body, m).await?;
    Ok(one(l.version, to_json(&l)))
}

pub async fn list_classifications(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&[])?;
    let items = s.app.list_classifications(&ctx).await?;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

pub async fn create_classification(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let c = s.app.create_classification(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/classifications/{}", c.key),
        c.version,
        to_json(&c),
    ))
}

pub async fn get_classification(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(key): Path<String>,
) -> ApiResult<Response> {
    let c = s.app.get_classification(&ctx, &key).await?;
    Ok(one(c.version, to_json(&c)))
}

pub async fn update_classification(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(key): Path<String>,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let c = s.app.update_classification(&ctx, &key, body, m).await?;
    Ok(one(c.version, to_json(&c)))
}

pub async fn delete_classification(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(key): Path<String>,
    IfMatch(m): IfMatch,
) -> ApiResult<Response> {
    s.app.delete_classification(&ctx, &key, m).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_custom_fields(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&[])?;
    let items = s.app.list_custom_fields(&ctx).await?;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

pub async fn create_custom_field(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let d = s.app.create_custom_field(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/custom_fields/{}", d.id),
        d.version,
        to_json(&d),
    ))
}

pub async fn get_custom_field(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let d = s.app.get_custom_field(&ctx, id).await?;
    Ok(one(d.version, to_json(&d)))
}

pub async fn update_custom_field(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let d = s.app.update_custom_field(&ctx, id, body, m).await?;
    Ok(one(d.version, to_json(&d)))
}

pub async fn delete_custom_field(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
) -> ApiResult<Response> {
    s.app.delete_custom_field(&ctx, id, m).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
