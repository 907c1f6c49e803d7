//! The policy workflows: `/api/v1/policies`, `/acknowledgements`, `/assignments`,
//! `/exceptions` and `/settings/policy`.

use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use custodian_app::custody::AssignmentView;
use custodian_app::exceptions::ExceptionView;
use custodian_domain::custody::AssignmentKind;
use custodian_domain::exception::{ExceptionRule, ExceptionStatus};
use custodian_domain::policy::{
    Acknowledgement, DocumentFormat, PolicyDocument, PolicyReview, PolicyStatus, PolicyVersion,
};
use custodian_store::{AcknowledgementQuery, AssignmentQuery, ExceptionQuery};

use super::assets::word;
use super::wire::{Body, Created, File, Listing, One, Patch, Query};
use super::PageParams;
use crate::extract::{Caller, IfMatch, RecordId};
use crate::openapi::shapes::{
    AcknowledgementImport, AcknowledgementInput, AssignmentInput, AssignmentReturn,
    ExceptionDecision, ExceptionInput, PolicyApproval, PolicyDraftInput, PolicyInput,
    PolicyReviewInput,
};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// The filters of the policy list.
#[derive(JsonSchema)]
pub struct PolicyFilters {
    /// Only versions of this document.
    pub document: Option<PolicyDocument>,
    /// Only versions in this state.
    pub status: Option<PolicyStatus>,
}

/// How a policy version's document is rendered.
#[derive(JsonSchema)]
pub struct DocumentParams {
    /// `html` (the default) or `pdf`.
    pub format: Option<DocumentFormat>,
}

/// The filters of the acknowledgement list.
#[derive(JsonSchema)]
pub struct AcknowledgementFilters {
    #[serde(flatten)]
    pub page: PageParams,
    /// Only acknowledgements of this policy version.
    pub policy_id: Option<Uuid>,
    /// Only this person's acknowledgements.
    pub person_id: Option<Uuid>,
}

/// The filters of the assignment list.
#[derive(JsonSchema)]
pub struct AssignmentFilters {
    #[serde(flatten)]
    pub page: PageParams,
    /// Only this asset's assignments.
    pub asset_id: Option<Uuid>,
    /// Only this person's assignments.
    pub person_id: Option<Uuid>,
    /// Only seats on this host.
    pub host_id: Option<Uuid>,
    /// Only custody or only seats.
    pub kind: Option<AssignmentKind>,
    /// Only open (true) or returned (false) assignments.
    pub open: Option<bool>,
    /// Only assignments approved for use off the premises.
    pub off_premises: Option<bool>,
}

/// The filters of the exception list.
#[derive(JsonSchema)]
pub struct ExceptionFilters {
    #[serde(flatten)]
    pub page: PageParams,
    /// Only exceptions for this asset.
    pub asset_id: Option<Uuid>,
    /// Only exceptions to this rule.
    pub rule: Option<ExceptionRule>,
    /// Only exceptions in this state.
    pub status: Option<ExceptionStatus>,
    /// Only exceptions this person asked for.
    pub requester_id: Option<Uuid>,
}

/// What an import of acknowledgements did.
#[derive(Serialize, JsonSchema)]
pub struct AcknowledgementImported {
    /// Whether it only checked.
    pub dry_run: bool,
    /// How many it recorded (0 on a dry run).
    pub created: usize,
    /// The acknowledgements, as recorded or as they would be.
    pub items: Vec<Acknowledgement>,
}

pub async fn list_policies(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<PolicyFilters>,
) -> ApiResult<Json<Listing<PolicyVersion>>> {
    let doc = p.parse(
        "document",
        word(PolicyDocument::parse, PolicyDocument::NAMES),
    )?;
    let status = p.parse("status", word(PolicyStatus::parse, PolicyStatus::NAMES))?;
    let mut items = s.app.list_policies(&ctx, doc).await?;
    items.retain(|v| status.is_none_or(|st| v.status == st));
    Ok(Listing::all(items))
}

pub async fn create_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<PolicyInput>,
) -> ApiResult<Created<PolicyVersion>> {
    let v = s.app.create_policy(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/policies/{}", v.id),
        v.version,
        v,
    ))
}

pub async fn get_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<PolicyVersion>> {
    let v = s.app.get_policy(&ctx, id).await?;
    Ok(One(v.version, v))
}

pub async fn update_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<super::wire::Patch<PolicyInput>>,
) -> ApiResult<One<PolicyVersion>> {
    let v = s.app.update_policy(&ctx, id, body, m).await?;
    Ok(One(v.version, v))
}

pub async fn approve_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<PolicyApproval>,
) -> ApiResult<One<PolicyVersion>> {
    let v = s.app.approve_policy(&ctx, id, body, m).await?;
    Ok(One(v.version, v))
}

pub async fn draft_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<PolicyDraftInput>,
) -> ApiResult<Created<PolicyVersion>> {
    let v = s.app.draft_policy(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/policies/{}", v.id),
        v.version,
        v,
    ))
}

pub async fn review_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<PolicyReviewInput>,
) -> ApiResult<Created<PolicyReview>> {
    let (v, review) = s.app.review_policy(&ctx, id, body, m).await?;
    Ok(Created::new(
        format!("/api/v1/policies/{id}/reviews"),
        v.version,
        review,
    ))
}

pub async fn policy_document(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    p: Query<DocumentParams>,
) -> ApiResult<File> {
    let format = p
        .parse("format", word(DocumentFormat::parse, DocumentFormat::NAMES))?
        .unwrap_or(DocumentFormat::Html);
    let r = s.app.policy_document(&ctx, id, format).await?;
    let v = s.app.get_policy(&ctx, id).await?;
    Ok(File {
        bytes: r.bytes,
        media_type: format.media_type(),
        name: format!(
            "{}-{}.{}",
            v.document.as_str().replace('_', "-"),
            v.number,
            format.as_str()
        ),
        inline: true,
    })
}

pub async fn policy_reviews(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Json<Listing<PolicyReview>>> {
    Ok(Listing::all(s.app.policy_reviews(&ctx, id).await?))
}

pub async fn list_acknowledgements(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<AcknowledgementFilters>,
) -> ApiResult<Json<Listing<Acknowledgement>>> {
    let q = AcknowledgementQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        policy_ids: p.id("policy_id")?.into_iter().collect(),
        person_id: p.id("person_id")?,
        person_ids: Vec::new(),
    };
    Ok(Listing::of(
        s.app.list_acknowledgements(&ctx, q).await?,
        |a| a,
    ))
}

pub async fn acknowledge(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<AcknowledgementInput>,
) -> ApiResult<Created<Acknowledgement>> {
    let a = s.app.acknowledge(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/acknowledgements?person_id={}", a.person_id),
        1,
        a,
    ))
}

/// `POST /acknowledgements/bulk`: `{"items": […], "dry_run": bool}`, all or nothing.
pub async fn import_acknowledgements(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(mut body, _): Body<AcknowledgementImport>,
) -> ApiResult<Json<AcknowledgementImported>> {
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
    Ok(Json(AcknowledgementImported {
        dry_run,
        created: if dry_run { 0 } else { done.len() },
        items: done,
    }))
}

pub async fn list_assignments(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<AssignmentFilters>,
) -> ApiResult<Json<Listing<AssignmentView>>> {
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
    Ok(Listing::of(
        s.app.list_assignments(&ctx, q).await?,
        AssignmentView::of,
    ))
}

pub async fn issue(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<AssignmentInput>,
) -> ApiResult<Created<AssignmentView>> {
    let a = s.app.issue_asset(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/assignments/{}", a.id),
        a.version,
        AssignmentView::of(a),
    ))
}

pub async fn get_assignment(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<AssignmentView>> {
    let a = s.app.get_assignment(&ctx, id).await?;
    Ok(One(a.version, AssignmentView::of(a)))
}

pub async fn return_assignment(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<AssignmentReturn>,
) -> ApiResult<One<AssignmentView>> {
    let a = s.app.return_asset(&ctx, id, body, m).await?;
    Ok(One(a.version, AssignmentView::of(a)))
}

pub async fn list_exceptions(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<ExceptionFilters>,
) -> ApiResult<Json<Listing<ExceptionView>>> {
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
    Ok(Listing::of(
        s.app.list_exceptions(&ctx, q).await?,
        ExceptionView::of,
    ))
}

pub async fn request_exception(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<ExceptionInput>,
) -> ApiResult<Created<ExceptionView>> {
    let x = s.app.request_exception(&ctx, body).await?;
    Ok(Created::new(
        format!("/api/v1/exceptions/{}", x.id),
        x.version,
        ExceptionView::of(x),
    ))
}

pub async fn get_exception(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<One<ExceptionView>> {
    let x = s.app.get_exception(&ctx, id).await?;
    Ok(One(x.version, ExceptionView::of(x)))
}

async fn decide(
    s: AppState,
    ctx: custodian_app::Ctx,
    id: uuid::Uuid,
    to: Option<ExceptionStatus>,
    m: custodian_app::Precondition,
    body: serde_json::Map<String, Value>,
) -> ApiResult<One<ExceptionView>> {
    let x = match to {
        Some(to) => s.app.decide_exception(&ctx, id, to, body, m).await?,
        None => s.app.revoke_exception(&ctx, id, body, m).await?,
    };
    Ok(One(x.version, ExceptionView::of(x)))
}

pub async fn approve_exception(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<ExceptionDecision>,
) -> ApiResult<One<ExceptionView>> {
    decide(s, ctx, id, Some(ExceptionStatus::Approved), m, body).await
}

pub async fn reject_exception(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<ExceptionDecision>,
) -> ApiResult<One<ExceptionView>> {
    decide(s, ctx, id, Some(ExceptionStatus::Rejected), m, body).await
}

pub async fn revoke_exception(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
    IfMatch(m): IfMatch,
    Body(body, _): Body<ExceptionDecision>,
) -> ApiResult<One<ExceptionView>> {
    decide(s, ctx, id, None, m, body).await
}

pub async fn rule_settings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<custodian_app::rules::RuleSettings>> {
    Ok(Json(s.app.rule_settings(&ctx).await?))
}

pub async fn update_rule_settings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<Patch<custodian_app::rules::RuleSettings>>,
) -> ApiResult<Json<custodian_app::rules::RuleSettings>> {
    Ok(Json(s.app.update_rule_settings(&ctx, &body).await?))
}
