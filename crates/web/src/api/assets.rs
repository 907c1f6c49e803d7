//! `/api/v1/assets`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use custodian_app::assets::BulkItem;
use custodian_domain::asset::{AssetKind, Importance};
use custodian_domain::lifecycle::Status;
use custodian_store::{AssetQuery, AssetSort, Cursor};

use super::{created, one, page};
use crate::extract::{path_id, Caller, IfMatch, JsonObject, Params, RecordId};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

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
    "sort",
];

/// A query parameter that must be one of a fixed set of words.
pub(crate) fn word<T>(
    parse: fn(&str) -> Option<T>,
    names: &'static [&'static str],
) -> impl Fn(&str) -> Result<T, String> {
    move |v| parse(v).ok_or_else(|| format!("must be one of {}, not {v:?}", names.join(", ")))
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
        kind: p.parse("kind", word(AssetKind::parse, AssetKind::NAMES))?,
        status: p.parse("status", word(Status::parse, Status::NAMES))?,
        owner_id: p.id("owner_id")?,
        classification: p.str("classification").map(String::from),
        importance: p.parse("importance", word(Importance::parse, Importance::NAMES))?,
        tag: p.str("tag").map(String::from),
        location_id: p.id("location_id")?,
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
        within: None,
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
    p: Params,
) -> ApiResult<Response> {
    let q = query(&p)?;
    let res = s.app.list_assets(&ctx, &q).await?;
    let next = next_cursor(q.sort, &res);
    Ok(Json(json!({
        "items": res.items.iter().map(|v| v.to_json()).collect::<Vec<_>>(),
        "next_cursor": next,
    }))
    .into_response())
}

pub async fn create(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let v = s.app.create_asset(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/assets/{}", v.asset.id),
        v.asset.version,
        v.to_json(),
    ))
}

pub async fn bulk(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
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
                json!({"index": index, "status": 201, "asset": v.to_json()})
            }
            Err(p) => {
                failed += 1;
                json!({"index": index, "status": p.status.as_u16(), "problem": p.body()})
            }
        };
        out.push(entry);
    }
    Ok((
        StatusCode::OK,
        Json(json!({"created": ok, "failed": failed, "items": out})),
    )
        .into_response())
}

pub async fn get(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let v = s.app.get_asset(&ctx, id).await?;
    Ok(one(v.asset.version, v.to_json()))
}

pub async fn update(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let v = s.app.update_asset(&ctx, id, body, m).await?;
    Ok(one(v.asset.version, v.to_json()))
}

pub async fn transition(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let v = s.app.transition_asset(&ctx, id, body, m).await?;
    Ok(one(v.asset.version, v.to_json()))
}

/// `POST /assets/{id}/incident` with `{"incident_ref"}`: the reference a holder's own loss
/// or theft report awaits (managers).
pub async fn incident(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let v = s.app.add_incident_ref(&ctx, id, body).await?;
    Ok(one(v.asset.version, v.to_json()))
}

pub async fn history(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["limit", "cursor"])?;
    let res = s
        .app
        .asset_history(&ctx, id, p.limit()?, p.cursor()?)
        .await?;
    Ok(page(res, |e| e.to_json()))
}

pub async fn relations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let items = s.app.asset_relations(&ctx, id).await?;
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

pub async fn link(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let r = s.app.add_relation(&ctx, id, body).await?;
    let rid = r
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok(created(
        format!("/api/v1/assets/{id}/relations/{rid}"),
        1,
        r,
    ))
}

pub async fn unlink(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((id, rid)): Path<(String, String)>,
) -> ApiResult<Response> {
    s.app
        .remove_relation(&ctx, path_id("asset", &id)?, path_id("relation", &rid)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /assets/{id}/reveal` with `{"field": "licence_key"}`: the secret, as an audited read.
pub async fn reveal(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let field = body.get("field").and_then(Value::as_str).map(String::from);
    let v = s.app.reveal_secret(&ctx, id, field.as_deref()).await?;
    Ok(axum::Json(v).into_response())
}

/// `POST /reviews`: records a review of an asset.
pub async fn review(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let r = s.app.review_asset(&ctx, body).await?;
    let mut res = (StatusCode::CREATED, Json(r.to_json())).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!("\"{}\"", r.asset.asset.version)) {
        res.headers_mut().insert(axum::http::header::ETAG, v);
    }
    Ok(res)
}
