//! Return of assets and attestation: `/api/v1/offboardings` and `/api/v1/attestations`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use custodian_app::attestation::attestation_json;
use custodian_domain::attestation::AttestationStatus;
use custodian_domain::offboarding::{CaseKind, CaseStatus, Offboarding};
use custodian_store::OffboardingQuery;

use super::assets::word;
use super::{created, one, page};
use crate::extract::{path_id, Caller, IfMatch, JsonObject, Params, RecordId};
use crate::problem::ApiResult;
use crate::AppState;

/// A case with its `ETag`; `new` answers 201 with its `Location`.
async fn case_response(s: &AppState, c: &Offboarding, new: bool) -> ApiResult<Response> {
    let body = s
        .app
        .cases_json(std::slice::from_ref(c))
        .await?
        .pop()
        .unwrap_or(Value::Null);
    Ok(if new {
        created(format!("/api/v1/offboardings/{}", c.id), c.version, body)
    } else {
        one(c.version, body)
    })
}

pub async fn list_offboardings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["limit", "cursor", "person_id", "status", "kind"])?;
    let q = OffboardingQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        person_id: p.id("person_id")?,
        status: p.parse("status", word(CaseStatus::parse, CaseStatus::NAMES))?,
        kind: p.parse("kind", word(CaseKind::parse, CaseKind::NAMES))?,
        newest_first: true,
    };
    let pg = s.app.list_offboardings(&ctx, q).await?;
    let items = s.app.cases_json(&pg.items).await?;
    Ok(
        Json(json!({"items": items, "next_cursor": pg.next_cursor.map(|c| c.encode())}))
            .into_response(),
    )
}

pub async fn open_offboarding(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let c = s.app.open_offboarding(&ctx, body).await?;
    case_response(&s, &c, true).await
}

pub async fn get_offboarding(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let c = s.app.get_offboarding(&ctx, id).await?;
    case_response(&s, &c, false).await
}

pub async fn update_offboarding(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let c = s.app.update_offboarding(&ctx, id, body, m).await?;
    case_response(&s, &c, false).await
}

pub async fn refresh_offboarding(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
) -> ApiResult<Response> {
    let c = s.app.refresh_offboarding(&ctx, id, m).await?;
    case_response(&s, &c, false).await
}

pub async fn settle_item(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((id, item)): Path<(String, String)>,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let c = s
        .app
        .settle_offboarding_item(
            &ctx,
            path_id("offboarding", &id)?,
            // An id that cannot exist is answered, after the access check, as not found.
            uuid::Uuid::parse_str(&item).unwrap_or(uuid::Uuid::nil()),
            body,
            m,
        )
        .await?;
    case_response(&s, &c, false).await
}

pub async fn close_offboarding(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let c = s.app.close_offboarding(&ctx, id, body, m).await?;
    case_response(&s, &c, false).await
}

pub async fn list_attestations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["limit", "cursor", "status"])?;
    let status = p.parse(
        "status",
        word(AttestationStatus::parse, AttestationStatus::NAMES),
    )?;
    let pg = s
        .app
        .list_attestations(&ctx, status, p.limit()?, p.cursor()?)
        .await?;
    Ok(page(pg, attestation_json))
}

pub async fn open_attestation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let a = s.app.open_attestation(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/attestations/{}", a.id),
        a.version,
        attestation_json(&a),
    ))
}

pub async fn get_attestation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let a = s.app.get_attestation(&ctx, id).await?;
    Ok(one(a.version, attestation_json(&a)))
}

pub async fn answer_attestation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let a = s.app.answer_attestation(&ctx, id, body).await?;
    Ok(one(a.version, attestation_json(&a)))
}

pub async fn close_attestation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
) -> ApiResult<Response> {
    let a = s.app.close_attestation(&ctx, id, m).await?;
    Ok(one(a.version, attestation_json(&a)))
}
