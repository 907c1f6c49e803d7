//! The policy workflows: `/api/v1/policies`, `/acknowledgements`, `/assignments`,
//! `/exceptions` and `/settings/policy`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use custodian_app::custody::assignment_json;
use custodian_app::exceptions::exception_json;
use custodian_app::policies::{ack_json, policy_json};
use custodian_domain::custody::AssignmentKind;
use custodian_domain::exception::{ExceptionRule, ExceptionStatus};
use custodian_domain::policy::PolicyDocument;
use custodian_store::{AcknowledgementQuery, AssignmentQuery, ExceptionQuery};

use super::assets::word;
use super::{created, one, page};
use crate::extract::{Caller, IfMatch, JsonObject, Params, RecordId};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

pub async fn list_policies(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["document", "status"])?;
    let doc = p.parse(
        "document",
        word(PolicyDocument::parse, PolicyDocument::NAMES),
    )?;
    let status = p.parse(
        "status",
        word(
            custodian_domain::policy::PolicyStatus::parse,
            custodian_domain::policy::PolicyStatus::NAMES,
        ),
    )?;
    let items: Vec<Value> = s
        .app
        .list_policies(&ctx, doc)
        .await?
        .iter()
        .filter(|v| status.is_none_or(|st| v.status == st))
        .map(policy_json)
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": null})).into_response())
}

pub async fn create_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let v = s.app.create_policy(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/policies/{}", v.id),
        v.version,
        policy_json(&v),
    ))
}

pub async fn get_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let v = s.app.get_policy(&ctx, id).await?;
    Ok(one(v.version, policy_json(&v)))
}

pub async fn update_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let v = s.app.update_policy(&ctx, id, body, m).await?;
    Ok(one(v.version, policy_json(&v)))
}

pub async fn approve_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let v = s.app.approve_policy(&ctx, id, body, m).await?;
    Ok(one(v.version, policy_json(&v)))
}

pub async fn list_acknowledgements(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["limit", "cursor", "policy_id", "person_id"])?;
    let q = AcknowledgementQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        policy_ids: p.id("policy_id")?.into_iter().collect(),
        person_id: p.id("person_id")?,
    };
    Ok(page(s.app.list_acknowledgements(&ctx, q).await?, ack_json))
}

pub async fn acknowledge(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let a = s.app.acknowledge(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/acknowledgements?person_id={}", a.person_id),
        1,
        ack_json(&a),
    ))
}

/// `POST /acknowledgements/bulk`: `{"items": […], "dry_run": bool}`, all or nothing.
pub async fn import_acknowledgements(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(mut body): JsonObject,
) -> ApiResult<Response> {
    s.app
        .authorize(&ctx, custodian_domain::access::Action::ManagePolicies)
        .await?;
    if let Some(k) = body.keys().find(|k| *k != "items" && *k != "dry_run") {
        return Err(Problem::from(custodian_app::AppError::invalid(
            k,
            "is not a field here; send {\"items\": […], \"dry_run\": false}",
        )));
    }
    let dry_run = match body.remove("dry_run") {
        None | Some(Value::Null) => false,
        Some(v) => custodian_domain::value::boolean(&v)
            .map_err(|m| Problem::from(custodian_app::AppError::invalid("dry_run", m)))?,
    };
    let items = match body.remove("items") {
        Some(Value::Array(items)) => items,
        _ => {
            return Err(Problem::from(custodian_app::AppError::invalid(
                "items",
                "is required: a list of acknowledgements",
            )))
        }
    };
    let done = s.app.import_acknowledgements(&ctx, items, dry_run).await?;
    Ok(Json(json!({
        "dry_run": dry_run,
        "created": if dry_run { 0 } else { done.len() },
        "items": done.iter().map(ack_json).collect::<Vec<_>>(),
    }))
    .into_response())
}

pub async fn list_assignments(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&[
        "limit",
        "cursor",
        "asset_id",
        "person_id",
        "host_id",
        "kind",
        "open",
        "off_premises",
    ])?;
    let q = AssignmentQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        asset_id: p.id("asset_id")?,
        person_id: p.id("person_id")?,
        host_id: p.id("host_id")?,
        kind: p.parse("kind", word(AssignmentKind::parse, AssignmentKind::NAMES))?,
        open: p.bool("open")?,
        off_premises: p.bool("off_premises")?,
        newest_first: false,
    };
    Ok(page(
        s.app.list_assignments(&ctx, q).await?,
        assignment_json,
    ))
}

pub async fn issue(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let a = s.app.issue_asset(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/assignments/{}", a.id),
        a.version,
        assignment_json(&a),
    ))
}

pub async fn get_assignment(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let a = s.app.get_assignment(&ctx, id).await?;
    Ok(one(a.version, assignment_json(&a)))
}

pub async fn return_assignment(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let a = s.app.return_asset(&ctx, id, body, m).await?;
    Ok(one(a.version, assignment_json(&a)))
}

pub async fn list_exceptions(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&[
        "limit",
        "cursor",
        "asset_id",
        "rule",
        "status",
        "requester_id",
    ])?;
    let q = ExceptionQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        asset_id: p.id("asset_id")?,
        rule: p.parse("rule", word(ExceptionRule::parse, ExceptionRule::NAMES))?,
        status: p.parse(
            "status",
            word(ExceptionStatus::parse, ExceptionStatus::NAMES),
        )?,
        requester_id: p.id("requester_id")?,
        newest_first: true,
    };
    Ok(page(s.app.list_exceptions(&ctx, q).await?, exception_json))
}

pub async fn request_exception(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let x = s.app.request_exception(&ctx, body).await?;
    Ok(created(
        format!("/api/v1/exceptions/{}", x.id),
        x.version,
        exception_json(&x),
    ))
}

pub async fn get_exception(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Response> {
    let x = s.app.get_exception(&ctx, id).await?;
    Ok(one(x.version, exception_json(&x)))
}

async fn decide(
    s: AppState,
    ctx: custodian_app::Ctx,
    id: uuid::Uuid,
    to: Option<ExceptionStatus>,
    m: custodian_app::Precondition,
    body: serde_json::Map<String, Value>,
) -> ApiResult<Response> {
    let x = match to {
        Some(to) => s.app.decide_exception(&ctx, id, to, body, m).await?,
        None => s.app.revoke_exception(&ctx, id, body, m).await?,
    };
    Ok(one(x.version, exception_json(&x)))
}

pub async fn approve_exception(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    decide(s, ctx, id, Some(ExceptionStatus::Approved), m, body).await
}

pub async fn reject_exception(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    decide(s, ctx, id, Some(ExceptionStatus::Rejected), m, body).await
}

pub async fn revoke_exception(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    decide(s, ctx, id, None, m, body).await
}

pub async fn rule_settings(State(s): State<AppState>, Caller(ctx): Caller) -> ApiResult<Response> {
    Ok(Json(s.app.rule_settings(&ctx).await?).into_response())
}

pub async fn update_rule_settings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    Ok(Json(s.app.update_rule_settings(&ctx, &body).await?).into_response())
}
