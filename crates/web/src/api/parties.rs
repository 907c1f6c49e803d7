//! `/api/v1/parties` and `/api/v1/delegations`.

use axum::extract::State;
use axum::response::Response;

use custodian_domain::party::{PartyKind, PersonStatus};
use custodian_store::{DelegationQuery, PartyQuery};

use super::{created, one, page, to_json};
use crate::extract::{Caller, IfMatch, JsonObject, Params, RecordId};
use crate::problem::ApiResult;
use crate::AppState;

pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["limit", "cursor", "kind", "status", "q"])?;
    let q = PartyQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        kind: p.parse("kind", |v| {
            PartyKind::parse(v)
                .ok_or_else(|| format!("must be one of {}, not {v:?}", PartyKind::NAMES.join(", ")))
        })?,
        status: p.parse("status", |v| {
            PersonStatus::parse(v).ok_or_else(|| {
                format!(
                    "must be one of {}, not {v:?}",
                    PersonStatus::NAMES.join(", ")
                )
            })
        })?,
        q: p.str("q").map(String::from),
        within: None,
    };
    Ok(page(s.app.list_parties(&ctx, &q).await?, to_json))
}

pub async fn create(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let p = s.app.create_party(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/parties/{}", p.id),
        p.version,
        to_json(&p),
    ))
}

pub async fn get(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let p = s.app.get_party(&ctx, id).await?;
    Ok(one(p.version, to_json(&p)))
}

pub async fn update(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let p = s.app.update_party(&ctx, id, body, m).await?;
    Ok(one(p.version, to_json(&p)))
}

pub async fn list_delegations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["limit", "cursor", "owner_id", "delegate_id", "active"])?;
    let q = DelegationQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        owner_id: p.id("owner_id")?,
        delegate_id: p.id("delegate_id")?,
        active_only: p.bool("active")?.unwrap_or(false),
        within: None,
    };
    Ok(page(s.app.list_delegations(&ctx, &q).await?, to_json))
}

pub async fn create_delegation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let d = s.app.create_delegation(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/delegations/{}", d.id),
        1,
        to_json(&d),
    ))
}

pub async fn get_delegation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let d = s.app.get_delegation(&ctx, id).await?;
    Ok(one(1, to_json(&d)))
}

pub async fn end_delegation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let d = s.app.end_delegation(&ctx, id, body).await?;
    Ok(one(2, to_json(&d)))
}
