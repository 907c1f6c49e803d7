//! `/api/v1/parties` and `/api/v1/delegations`.

use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use uuid::Uuid;

use custodian_domain::party::{Delegation, Party, PartyKind, PersonStatus};
use custodian_store::{DelegationQuery, PartyQuery};

use super::wire::{Body, Created, Listing, One, Query};
use super::PageParams;
use crate::extract::{Caller, IfMatch, RecordId};
use crate::openapi::shapes::{DelegationEnd, DelegationInput, PartyInput};
use crate::problem::ApiResult;
use crate::AppState;

/// The filters of the party list.
#[derive(JsonSchema)]
pub struct PartyFilters {
    #[serde(flatten)]
    pub page: PageParams,
    /// Only persons, teams or roles.
    pub kind: Option<PartyKind>,
    /// Only persons in this state.
    pub status: Option<PersonStatus>,
    /// Text in the name or e-mail address.
    #[schemars(length(min = 1))]
    pub q: Option<String>,
}

/// The filters of the delegation list.
#[derive(JsonSchema)]
pub struct DelegationFilters {
    #[serde(flatten)]
    pub page: PageParams,
    /// Only this owner's delegations.
    pub owner_id: Option<Uuid>,
    /// Only delegations to this person.
    pub delegate_id: Option<Uuid>,
    /// Only delegations in force today.
    pub active: Option<bool>,
}

pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<PartyFilters>,
) -> ApiResult<Json<Listing<Party>>> {
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
    Ok(Listing::of(s.app.list_parties(&ctx, &q).await?, |p| p))
}

pub async fn create(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<PartyInput>,
) -> ApiResult<Created<Party>> {
    let p = s.app.create_party(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/parties/{}", p.id),
        p.version,
        p,
    ))
}

pub async fn get(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<Party>> {
    let p = s.app.get_party(&ctx, id).await?;
    Ok(One(p.version, p))
}

pub async fn update(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<super::wire::Patch<PartyInput>>,
) -> ApiResult<One<Party>> {
    let p = s.app.update_party(&ctx, id, body, m).await?;
    Ok(One(p.version, p))
}

pub async fn list_delegations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<DelegationFilters>,
) -> ApiResult<Json<Listing<Delegation>>> {
    let q = DelegationQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        owner_id: p.id("owner_id")?,
        delegate_id: p.id("delegate_id")?,
        active_only: p.bool("active")?.unwrap_or(false),
        within: None,
    };
    Ok(Listing::of(s.app.list_delegations(&ctx, &q).await?, |d| d))
}

pub async fn create_delegation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<DelegationInput>,
) -> ApiResult<Created<Delegation>> {
    let d = s.app.create_delegation(&ctx, body).await?;
    Ok(Created::new(format!("/api/v1/delegations/{}", d.id), 1, d))
}

pub async fn get_delegation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<Delegation>> {
    let d = s.app.get_delegation(&ctx, id).await?;
    Ok(One(1, d))
}

pub async fn end_delegation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    Body(body, _): Body<DelegationEnd>,
) -> ApiResult<One<Delegation>> {
    let d = s.app.end_delegation(&ctx, id, body).await?;
    Ok(One(2, d))
}
