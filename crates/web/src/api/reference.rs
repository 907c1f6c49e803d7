//! `/api/v1/locations`, `/api/v1/classifications`, `/api/v1/custom_fields`.

use axum::extract::State;
use axum::Json;

use custodian_domain::classification::Classification;
use custodian_domain::custom::CustomFieldDef;
use custodian_domain::location::Location;

use super::wire::{Body, Created, Done, Key, Listing, NoFilters, One, Query};
use super::PageParams;
use crate::extract::{Caller, IfMatch, RecordId};
use crate::openapi::shapes::{ClassificationInput, CustomFieldInput, LocationInput};
use crate::problem::ApiResult;
use crate::AppState;

pub async fn list_locations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<PageParams>,
) -> ApiResult<Json<Listing<Location>>> {
    Ok(Listing::of(
        s.app.list_locations(&ctx, p.limit()?, p.cursor()?).await?,
        |l| l,
    ))
}

pub async fn create_location(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<LocationInput>,
) -> ApiResult<Created<Location>> {
    let l = s.app.create_location(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/locations/{}", l.id),
        l.version,
        l,
    ))
}

pub async fn get_location(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<Location>> {
    let l = s.app.get_location(&ctx, id).await?;
    Ok(One(l.version, l))
}

pub async fn update_location(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<super::wire::Patch<LocationInput>>,
) -> ApiResult<One<Location>> {
    let l = s.app.update_location(&ctx, id, body, m).await?;
    Ok(One(l.version, l))
}

pub async fn list_classifications(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    _: Query<NoFilters>,
) -> ApiResult<Json<Listing<Classification>>> {
    Ok(Listing::all(s.app.list_classifications(&ctx).await?))
}

pub async fn create_classification(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<ClassificationInput>,
) -> ApiResult<Created<Classification>> {
    let c = s.app.create_classification(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/classifications/{}", c.key),
        c.version,
        c,
    ))
}

pub async fn get_classification(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Key(key): Key,
) -> ApiResult<One<Classification>> {
    let c = s.app.get_classification(&ctx, &key).await?;
    Ok(One(c.version, c))
}

pub async fn update_classification(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Key(key): Key,
    IfMatch(m): IfMatch,
    Body(body, _): Body<super::wire::Patch<ClassificationInput>>,
) -> ApiResult<One<Classification>> {
    let c = s.app.update_classification(&ctx, &key, body, m).await?;
    Ok(One(c.version, c))
}

pub async fn delete_classification(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Key(key): Key,
    IfMatch(m): IfMatch,
) -> ApiResult<Done> {
    s.app.delete_classification(&ctx, &key, m).await?;
    Ok(Done)
}

pub async fn list_custom_fields(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    _: Query<NoFilters>,
) -> ApiResult<Json<Listing<CustomFieldDef>>> {
    Ok(Listing::all(s.app.list_custom_fields(&ctx).await?))
}

pub async fn create_custom_field(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<CustomFieldInput>,
) -> ApiResult<Created<CustomFieldDef>> {
    let d = s.app.create_custom_field(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/custom_fields/{}", d.id),
        d.version,
        d,
    ))
}

pub async fn get_custom_field(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<CustomFieldDef>> {
    let d = s.app.get_custom_field(&ctx, id).await?;
    Ok(One(d.version, d))
}

pub async fn update_custom_field(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<super::wire::Patch<CustomFieldInput>>,
) -> ApiResult<One<CustomFieldDef>> {
    let d = s.app.update_custom_field(&ctx, id, body, m).await?;
    Ok(One(d.version, d))
}

pub async fn delete_custom_field(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
) -> ApiResult<Done> {
    s.app.delete_custom_field(&ctx, id, m).await?;
    Ok(Done)
}
