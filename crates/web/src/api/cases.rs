//! Return of assets and attestation: `/api/v1/offboardings` and `/api/v1/attestations`.

use axum::extract::{Path, State};
use axum::Json;
use schemars::JsonSchema;
use uuid::Uuid;

use custodian_app::attestation::AttestationView;
use custodian_app::offboarding::CaseView;
use custodian_domain::attestation::AttestationStatus;
use custodian_domain::offboarding::{CaseKind, CaseStatus, Offboarding};
use custodian_store::OffboardingQuery;

use super::assets::word;
use super::wire::{Body, Created, Listing, One, Query};
use super::PageParams;
use crate::extract::{path_id, Caller, IfMatch, RecordId};
use crate::openapi::shapes::{
    AttestationAnswer, AttestationInput, OffboardingClosing, OffboardingInput, OffboardingPatch,
    OffboardingSettlement,
};
use crate::problem::ApiResult;
use crate::AppState;

/// The filters of the case list.
#[derive(JsonSchema)]
pub struct CaseFilters {
    #[serde(flatten)]
    pub page: PageParams,
    /// Only this person's cases.
    pub person_id: Option<Uuid>,
    /// Only open or closed cases.
    pub status: Option<CaseStatus>,
    /// Only leavers' or movers' cases.
    pub kind: Option<CaseKind>,
}

/// The filters of the campaign list.
#[derive(JsonSchema)]
pub struct AttestationFilters {
    #[serde(flatten)]
    pub page: PageParams,
    /// Only open or closed campaigns.
    pub status: Option<AttestationStatus>,
}

/// A case as the API shows it, with its `ETag`.
async fn case_view(s: &AppState, c: Offboarding) -> ApiResult<One<CaseView>> {
    let version = c.version;
    Ok(One(version, s.app.case_view(c).await?))
}

pub async fn list_offboardings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<CaseFilters>,
) -> ApiResult<Json<Listing<CaseView>>> {
    let q = OffboardingQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        person_id: p.id("person_id")?,
        status: p.parse("status", word(CaseStatus::parse, CaseStatus::NAMES))?,
        kind: p.parse("kind", word(CaseKind::parse, CaseKind::NAMES))?,
        newest_first: true,
    };
    let pg = s.app.list_offboardings(&ctx, q).await?;
    Ok(Json(Listing {
        items: s.app.case_views(pg.items).await?,
        next_cursor: pg.next_cursor.map(|c| c.encode()),
    }))
}

pub async fn open_offboarding(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<OffboardingInput>,
) -> ApiResult<Created<CaseView>> {
    let c = s.app.open_offboarding(&ctx, body).await?;
    let location = format!("/api/v1/offboardings/{}", c.id);
    let One(version, body) = case_view(&s, c).await?;
    Ok(Created::new(location, version, body))
}

pub async fn get_offboarding(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<CaseView>> {
    let c = s.app.get_offboarding(&ctx, id).await?;
    case_view(&s, c).await
}

pub async fn update_offboarding(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<OffboardingPatch>,
) -> ApiResult<One<CaseView>> {
    let c = s.app.update_offboarding(&ctx, id, body, m).await?;
    case_view(&s, c).await
}

pub async fn refresh_offboarding(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
) -> ApiResult<One<CaseView>> {
    let c = s.app.refresh_offboarding(&ctx, id, m).await?;
    case_view(&s, c).await
}

pub async fn settle_item(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((id, item)): Path<(String, String)>,
    _: super::wire::NotFound,
    IfMatch(m): IfMatch,
    Body(body, _): Body<OffboardingSettlement>,
) -> ApiResult<One<CaseView>> {
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
    case_view(&s, c).await
}

pub async fn close_offboarding(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<OffboardingClosing>,
) -> ApiResult<One<CaseView>> {
    let c = s.app.close_offboarding(&ctx, id, body, m).await?;
    case_view(&s, c).await
}

pub async fn list_attestations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<AttestationFilters>,
) -> ApiResult<Json<Listing<AttestationView>>> {
    let status = p.parse(
        "status",
        word(AttestationStatus::parse, AttestationStatus::NAMES),
    )?;
    let pg = s
        .app
        .list_attestations(&ctx, status, p.limit()?, p.cursor()?)
        .await?;
    Ok(Listing::of(pg, AttestationView::of))
}

pub async fn open_attestation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<AttestationInput>,
) -> ApiResult<Created<AttestationView>> {
    let a = s.app.open_attestation(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/attestations/{}", a.id),
        a.version,
        AttestationView::of(a),
    ))
}

pub async fn get_attestation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<AttestationView>> {
    let a = s.app.get_attestation(&ctx, id).await?;
    Ok(One(a.version, AttestationView::of(a)))
}

pub async fn answer_attestation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    Body(body, _): Body<AttestationAnswer>,
) -> ApiResult<One<AttestationView>> {
    let a = s.app.answer_attestation(&ctx, id, body).await?;
    Ok(One(a.version, AttestationView::of(a)))
}

pub async fn close_attestation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
) -> ApiResult<One<AttestationView>> {
    let a = s.app.close_attestation(&ctx, id, m).await?;
    Ok(One(a.version, AttestationView::of(a)))
}
