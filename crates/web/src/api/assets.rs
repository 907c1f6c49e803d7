//! `/api/v1/assets`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use custodian_app::assets::{AssetView, BulkItem, RelationView, MAX_BULK};
use custodian_domain::asset::{AssetKind, Importance};
use custodian_domain::lifecycle::Status;
use custodian_domain::value::Timestamp;
use custodian_store::{AssetQuery, AssetSort, Cursor, FindingFilter};

use super::wire::{Body, Created, Done, Listing, One, ProblemBody, Query, Shaped};
use super::PageParams;
use crate::extract::{path_id, Caller, IfMatch, Params, RecordId};
use crate::openapi::shapes::{
    Asset, AssetInput, BulkRequest, IncidentRef, RelationInput, Reveal, ReviewInput, Transition,
};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// An asset on the wire: its fields are [`custodian_domain::fields::KIND_FIELDS`]', which
/// also describe its schema.
pub(crate) fn wire(v: &AssetView) -> Shaped<Asset> {
    Shaped::new(v.to_json())
}

/// The order of the asset list.
pub struct SortOrder;

impl JsonSchema for SortOrder {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AssetSort".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = AssetSort::ALL.iter().map(|(_, n)| *n).collect();
        schemars::json_schema!({"type": "string", "enum": names, "default": "registered"})
    }
}

/// The filters that describe an asset's record: the list's, a report's, a sample's.
#[derive(JsonSchema)]
pub struct RecordFilters {
    /// Only assets of this kind.
    pub kind: Option<AssetKind>,
    /// Only assets in this lifecycle status.
    pub status: Option<Status>,
    /// Only assets owned by this party.
    pub owner_id: Option<Uuid>,
    /// Only assets at this classification level (its key).
    #[schemars(length(min = 1))]
    pub classification: Option<String>,
    /// Only assets of this importance.
    pub importance: Option<Importance>,
    /// Only assets with this tag.
    #[schemars(length(min = 1))]
    pub tag: Option<String>,
    /// Only assets at this location.
    pub location_id: Option<Uuid>,
}

/// Reads the [`RecordFilters`] of a query.
pub(crate) fn record_filters(p: &Params) -> Result<AssetQuery, Problem> {
    Ok(AssetQuery {
        kind: p.parse("kind", word(AssetKind::parse, AssetKind::NAMES))?,
        status: p.parse("status", word(Status::parse, Status::NAMES))?,
        owner_id: p.id("owner_id")?,
        classification: p.str("classification").map(String::from),
        importance: p.parse("importance", word(Importance::parse, Importance::NAMES))?,
        tag: p.str("tag").map(String::from),
        location_id: p.id("location_id")?,
        ..AssetQuery::default()
    })
}

/// The filters of the asset list (see [`FILTERS`]).
#[derive(JsonSchema)]
pub struct AssetFilters {
    #[serde(flatten)]
    pub page: PageParams,
    #[serde(flatten)]
    pub record: RecordFilters,
    /// Text in the number, name, serial number or description.
    #[schemars(length(min = 1, max = 200))]
    pub q: Option<String>,
    /// Only assets whose review is overdue (`true`).
    pub review_overdue: Option<bool>,
    /// Only orphaned assets (`true`): with a finding of the check `owner_active`.
    pub orphaned: Option<bool>,
    /// Only assets whose record lacks its kind's minimum (`true`): with a finding of the
    /// check `record_complete`.
    pub incomplete: Option<bool>,
    /// Only assets with an open finding of this check (a check id), or of any (`any`).
    #[schemars(length(min = 1))]
    pub finding: Option<String>,
    /// The order.
    pub sort: Option<SortOrder>,
    /// The register as it stood at this time (RFC 3339), rebuilt from the audit trail
    /// (auditors, managers, admins): what existed then, with the values it had then, in
    /// order of registration. The filters that describe a record apply to it as it stood;
    /// `q`, `sort`, `review_overdue`, `orphaned`, `incomplete` and `finding` describe the
    /// register now and are refused beside it. A page may hold fewer items than `limit`
    /// when few records pass the filters: follow `next_cursor` to the end.
    pub as_at: Option<Timestamp>,
}

/// A review recorded.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Review")]
pub struct ReviewRecorded {
    /// The asset reviewed.
    pub asset_id: Uuid,
    /// When.
    pub reviewed_at: Option<Timestamp>,
    /// By whom (a person).
    pub reviewed_by: Option<Uuid>,
    /// When the next review falls due.
    pub next_review_at: Option<chrono::NaiveDate>,
    /// What the reviewer noted.
    pub notes: Option<String>,
    /// The asset after the review.
    pub asset: Shaped<Asset>,
}

/// What a bulk create did, item by item.
#[derive(Serialize, JsonSchema)]
pub struct BulkResult {
    /// How many assets were registered.
    pub created: usize,
    /// How many items were refused.
    pub failed: usize,
    /// Each item's outcome, in the order sent.
    pub items: Vec<BulkOutcome>,
}

/// One item's outcome.
#[derive(Serialize, JsonSchema)]
pub struct BulkOutcome {
    /// Its position in the request, from 0.
    pub index: usize,
    /// 201 when registered, else the refusal's status.
    pub status: u16,
    /// The asset registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<Shaped<Asset>>,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<ProblemBody>,
}

/// The list's filters.
pub const FILTERS: &[&str] = &[
    "limit",
    "cursor",
    "kind",
    "status",
    "owner_id",
    "classification",
    "importance",
    "tag",
    "location_id",
    "q",
    "review_overdue",
    "orphaned",
    "incomplete",
    "finding",
    "sort",
    "as_at",
];

/// The list's parameters that describe the register now, not as it stood.
const NOT_AS_AT: &[&str] = &[
    "q",
    "sort",
    "review_overdue",
    "orphaned",
    "incomplete",
    "finding",
];

/// A query parameter that must be one of a fixed set of words.
pub(crate) fn word<T>(
    parse: fn(&str) -> Option<T>,
    names: &'static [&'static str],
) -> impl Fn(&str) -> Result<T, String> {
    move |v| parse(v).ok_or_else(|| format!("must be one of {}, not {v:?}", names.join(", ")))
}

/// The findings the list asks assets to have (`orphaned`, `incomplete`, `finding`).
fn finding_filters(p: &Params) -> Result<Vec<FindingFilter>, Problem> {
    let mut out = Vec::new();
    if p.bool("orphaned")? == Some(true) {
        out.push(FindingFilter::Of("owner_active".into()));
    }
    if p.bool("incomplete")? == Some(true) {
        out.push(FindingFilter::Of("record_complete".into()));
    }
    let any = |v: &str| {
        if v == "any" {
            return Ok(None);
        }
        custodian_domain::compliance::check(v)
            .filter(|c| c.subject == custodian_domain::compliance::SubjectType::Asset)
            .map(|c| Some(c.id.to_string()))
            .ok_or_else(|| {
                let ids: Vec<&str> = custodian_domain::compliance::checks_about(
                    custodian_domain::compliance::SubjectType::Asset,
                )
                .map(|(_, c)| c.id)
                .collect();
                format!(
                    "must be any or a check of assets ({}), not {v:?}",
                    ids.join(", ")
                )
            })
    };
    if let Some(c) = p.parse("finding", any)? {
        out.push(FindingFilter::Open(c));
    }
    Ok(out)
}

/// Reads the list's query parameters.
pub fn query(p: &Params) -> Result<AssetQuery, Problem> {
    p.only(FILTERS)?;
    let sort = p
        .parse("sort", |v| {
            AssetSort::parse(v).ok_or_else(|| {
                let names: Vec<&str> = AssetSort::ALL.iter().map(|(_, n)| *n).collect();
                format!("must be one of {}, not {v:?}", names.join(", "))
            })
        })?
        .unwrap_or_default();
    let (cursor, after_key) = match p.parse("cursor", Cursor::decode_keyed)? {
        Some((c, k)) => (Some(c), k),
        None => (None, None),
    };
    if sort.keyed() && cursor.is_some() && after_key.is_none() {
        return Err(Problem::bad_request(
            "cursor",
            "comes from a list in another order: start again without it",
        ));
    }
    if sort == AssetSort::NextReview
        && after_key
            .as_deref()
            .is_some_and(|k| k.parse::<chrono::NaiveDate>().is_err())
    {
        return Err(Problem::bad_request(
            "cursor",
            "comes from a list in another order: start again without it",
        ));
    }
    Ok(AssetQuery {
        limit: p.limit()?,
        cursor,
        after_key,
        sort,
        q: p.parse("q", |v| {
            if v.chars().count() > 200 {
                Err("must be at most 200 characters".into())
            } else {
                Ok(v.to_string())
            }
        })?,
        review_overdue: p
            .bool("review_overdue")?
            .filter(|b| *b)
            .map(|_| chrono::Utc::now().date_naive()),
        findings: finding_filters(p)?,
        within: None,
        ..record_filters(p)?
    })
}

/// The next page's cursor of a list in `sort` order: with the last row's sort value when
/// the order needs it.
pub fn next_cursor(
    sort: AssetSort,
    page: &custodian_store::Page<custodian_app::assets::AssetView>,
) -> Option<String> {
    let c = page.next_cursor?;
    match page.items.last().and_then(|v| sort.key_of(&v.asset)) {
        Some(k) if sort.keyed() => Some(c.encode_keyed(&k)),
        _ => Some(c.encode()),
    }
}

pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<AssetFilters>,
) -> ApiResult<Json<Listing<Shaped<Asset>>>> {
    if let Some(at) = p.parse("as_at", custodian_domain::value::parse_timestamp)? {
        return list_as_at(&s, &ctx, &p, at).await;
    }
    let q = query(&p)?;
    let res = s.app.list_assets(&ctx, &q).await?;
    let next = next_cursor(q.sort, &res);
    Ok(Json(Listing {
        items: res.items.iter().map(wire).collect(),
        next_cursor: next,
    }))
}

/// The register as it stood at `at`, a page at a time.
async fn list_as_at(
    s: &AppState,
    ctx: &custodian_app::Ctx,
    p: &Params,
    at: chrono::DateTime<chrono::Utc>,
) -> ApiResult<Json<Listing<Shaped<Asset>>>> {
    if let Some(k) = NOT_AS_AT.iter().find(|k| p.str(k).is_some()) {
        return Err(Problem::bad_request(
            k,
            format!("{k} describes the register now, and cannot be combined with as_at"),
        ));
    }
    let from = p.parse("cursor", |v| {
        let (seq, micros, id) = Cursor::decode_cut(v)?;
        let bad =
            || "is not a cursor of a listing as at a time: start again without it".to_string();
        Ok(custodian_app::as_at::AsAtCursor {
            seq,
            at: chrono::DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
            after: Uuid::parse_str(&id).map_err(|_| bad())?,
        })
    })?;
    let mut q = query(&Params(
        p.0.iter()
            .filter(|(k, _)| *k != "as_at" && *k != "cursor")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    ))?;
    q.cursor = None;
    // A time or cursor the trail cannot read is a bad parameter of the query.
    let page = s
        .app
        .register_as_at(ctx, at, &q, from)
        .await
        .map_err(|e| match e {
            custodian_app::AppError::Invalid(p) if !p.0.is_empty() => {
                let f = &p.0[0];
                Problem::bad_request(&f.field, format!("{} {}", f.field, f.message))
            }
            e => Problem::from(e),
        })?;
    Ok(Json(Listing {
        items: page.items.iter().map(wire).collect(),
        next_cursor: page
            .next
            .map(|c| Cursor::encode_cut(c.seq, c.at.timestamp_micros(), &c.after.to_string())),
    }))
}

pub async fn create(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<AssetInput>,
) -> ApiResult<Created<Shaped<Asset>>> {
    let v = s.app.create_asset(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/assets/{}", v.asset.id),
        v.asset.version,
        wire(&v),
    ))
}

pub async fn bulk(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<BulkRequest>,
) -> ApiResult<Json<BulkResult>> {
    // Authorise before reading the body, so that a refusal says nothing about it.
    s.app
        .authorize(&ctx, custodian_domain::access::Action::ManageAssets)
        .await?;
    if let Some(k) = body.keys().find(|k| *k != "items") {
        return Err(Problem::from(custodian_app::AppError::invalid(
            k,
            "is not a field of a bulk request; send {\"items\": [...]}",
        )));
    }
    let Some(Value::Array(items)) = body.get("items") else {
        return Err(Problem::from(custodian_app::AppError::invalid(
            "items",
            "is required: a list of assets",
        )));
    };
    if items.len() > MAX_BULK {
        return Err(Problem::from(custodian_app::AppError::invalid(
            "items",
            format!(
                "holds {} assets: send at most {MAX_BULK} at a time",
                items.len()
            ),
        )));
    }
    let mut inputs = Vec::with_capacity(items.len());
    let mut shape: Vec<Option<Problem>> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::Object(o) => {
                inputs.push(o.clone());
                shape.push(None);
            }
            other => shape.push(Some(Problem::from(custodian_app::AppError::invalid(
                &format!("items[{i}]"),
                format!(
                    "must be an object, not {}",
                    custodian_domain::value::type_name(other)
                ),
            )))),
        }
    }
    let mut results = s.app.create_assets(&ctx, inputs).await?.into_iter();
    let (mut ok, mut failed) = (0, 0);
    let mut out = Vec::with_capacity(items.len());
    for (index, bad) in shape.into_iter().enumerate() {
        let outcome = match bad {
            Some(p) => Err(p),
            None => match results.next() {
                Some(BulkItem::Created(v)) => Ok(v),
                Some(BulkItem::Failed(e)) => Err(Problem::from(e)),
                None => Err(Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "an item was not processed",
                )),
            },
        };
        let entry = match outcome {
            Ok(v) => {
                ok += 1;
                BulkOutcome {
                    index,
                    status: 201,
                    asset: Some(wire(&v)),
                    problem: None,
                }
            }
            Err(p) => {
                failed += 1;
                BulkOutcome {
                    index,
                    status: p.status.as_u16(),
                    asset: None,
                    problem: Some(p.wire()),
                }
            }
        };
        out.push(entry);
    }
    Ok(Json(BulkResult {
        created: ok,
        failed,
        items: out,
    }))
}

pub async fn get(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<Shaped<Asset>>> {
    let v = s.app.get_asset(&ctx, id).await?;
    Ok(One(v.asset.version, wire(&v)))
}

pub async fn update(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<super::wire::Patch<AssetInput>>,
) -> ApiResult<One<Shaped<Asset>>> {
    let v = s.app.update_asset(&ctx, id, body, m).await?;
    Ok(One(v.asset.version, wire(&v)))
}

pub async fn transition(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<Transition>,
) -> ApiResult<One<Shaped<Asset>>> {
    let v = s.app.transition_asset(&ctx, id, body, m).await?;
    Ok(One(v.asset.version, wire(&v)))
}

/// `POST /assets/{id}/incident` with `{"incident_ref"}`: the reference a holder's own loss
/// or theft report awaits (managers).
pub async fn incident(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    Body(body, _): Body<IncidentRef>,
) -> ApiResult<One<Shaped<Asset>>> {
    let v = s.app.add_incident_ref(&ctx, id, body).await?;
    Ok(One(v.asset.version, wire(&v)))
}

pub async fn history(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    p: Query<PageParams>,
) -> ApiResult<Json<Listing<custodian_domain::audit::EventView>>> {
    let res = s
        .app
        .asset_history(&ctx, id, p.limit()?, p.cursor()?)
        .await?;
    Ok(Listing::of(res, |e| e.view()))
}

pub async fn relations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Json<Listing<RelationView>>> {
    Ok(Listing::all(s.app.asset_relations(&ctx, id).await?))
}

pub async fn link(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    Body(body, _): Body<RelationInput>,
) -> ApiResult<Created<RelationView>> {
    let r = s.app.add_relation(&ctx, id, body).await?;
    Ok(Created::new(
        format!("/api/v1/assets/{id}/relations/{}", r.id),
        1,
        r,
    ))
}

pub async fn unlink(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((id, rid)): Path<(String, String)>,
    _: super::wire::NotFound,
) -> ApiResult<Done> {
    s.app
        .remove_relation(&ctx, path_id("asset", &id)?, path_id("relation", &rid)?)
        .await?;
    Ok(Done)
}

/// `POST /assets/{id}/reveal` with `{"field": "licence_key"}`: the secret, as an audited read.
pub async fn reveal(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    Body(body, _): Body<Reveal>,
) -> ApiResult<Json<custodian_app::assets::Revealed>> {
    let field = body.get("field").and_then(Value::as_str).map(String::from);
    Ok(Json(s.app.reveal_secret(&ctx, id, field.as_deref()).await?))
}

/// `POST /reviews`: records a review of an asset.
pub async fn review(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<ReviewInput>,
) -> ApiResult<One<ReviewRecorded, 201>> {
    let r = s.app.review_asset(&ctx, body).await?;
    let a = &r.asset.asset;
    Ok(One(
        a.version,
        ReviewRecorded {
            asset_id: a.id,
            reviewed_at: a.last_reviewed_at.as_ref().map(Timestamp::from),
            reviewed_by: a.last_reviewed_by,
            next_review_at: a.next_review_at,
            notes: r.notes.clone(),
            asset: wire(&r.asset),
        },
    ))
}
