//! `/api/v1/audit`.

use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;

use custodian_app::audit::Verification;
use custodian_domain::audit::EventView;

use super::wire::Query;
use crate::extract::Caller;
use crate::problem::ApiResult;
use crate::AppState;

/// Where to read the trail from.
#[derive(JsonSchema)]
pub struct AuditFilters {
    /// Events after this sequence number (0, the start, when absent).
    #[schemars(range(min = 0))]
    pub after: Option<i64>,
    /// How many events to answer (1–500; 50 when absent).
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

/// Events in order.
#[derive(Serialize, JsonSchema)]
pub struct AuditEvents {
    /// The events, by sequence number.
    pub items: Vec<EventView>,
    /// Pass as `after` for the next events; null when this was the last of them.
    pub next_after: Option<i64>,
}

/// What verifying the chain found.
#[derive(Serialize, JsonSchema)]
pub struct AuditVerification {
    /// Whether every link, hash and seal checks out.
    pub intact: bool,
    /// Intact: how many events there are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
    /// Intact: the head's sequence number; keep it apart from the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<i64>,
    /// Intact: the head's hash; keep it apart from the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// Intact: the id of the key that sealed the trail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Broken: the first event that does not check out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_event: Option<i64>,
    /// Broken: what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Events in order, after a sequence number: `?after=SEQ&limit=N`.
pub async fn events(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<AuditFilters>,
) -> ApiResult<Json<AuditEvents>> {
    let after = p
        .parse("after", |v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| format!("must be a sequence number (0 or more), not {v:?}"))
        })?
        .unwrap_or(0);
    let limit = p.limit()?;
    let items = s.app.audit_events(&ctx, after, limit).await?;
    let next = if items.len() as u32 == limit {
        items.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(AuditEvents {
        items: items.iter().map(|e| e.view()).collect(),
        next_after: next,
    }))
}

/// Verifies the hash chain.
pub async fn verify(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<AuditVerification>> {
    Ok(Json(match s.app.verify_audit(&ctx).await? {
        Verification::Intact {
            events,
            head_seq,
            head_hash,
            key_id,
        } => AuditVerification {
            intact: true,
            events: Some(events),
            head_seq: Some(head_seq),
            head_hash: Some(head_hash),
            key_id: Some(key_id),
            first_bad_event: None,
            reason: None,
        },
        Verification::Broken(b) => AuditVerification {
            intact: false,
            events: None,
            head_seq: None,
            head_hash: None,
            key_id: None,
            first_bad_event: Some(b.seq),
            reason: Some(b.reason),
        },
    }))
}
