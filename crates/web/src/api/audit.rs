//! `/api/v1/audit`.

use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

use custodian_app::audit::Verification;

use super::wire::{Query, Shaped};
use crate::extract::Caller;
use crate::openapi::shapes::{AuditVerification, Event};
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
    pub items: Vec<Shaped<Event>>,
    /// Pass as `after` for the next events; null when this was the last of them.
    pub next_after: Option<i64>,
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
        items: items.iter().map(|e| Shaped::new(e.to_json())).collect(),
        next_after: next,
    }))
}

/// Verifies the hash chain.
pub async fn verify(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Shaped<AuditVerification>>> {
    Ok(Json(Shaped::new(match s.app.verify_audit(&ctx).await? {
        Verification::Intact {
            events,
            head_seq,
            head_hash,
            key_id,
        } => {
            json!({"intact": true, "events": events, "head_seq": head_seq, "head_hash": head_hash, "key_id": key_id})
        }
        Verification::Broken(b) => {
            json!({"intact": false, "first_bad_event": b.seq, "reason": b.reason})
        }
    })))
}
