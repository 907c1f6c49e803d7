//! `/api/v1/audit`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use custodian_app::audit::Verification;

use crate::extract::{Caller, Params};
use crate::problem::ApiResult;
use crate::AppState;

/// Events in order, after a sequence number: `?after=SEQ&limit=N`.
pub async fn events(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Params,
) -> ApiResult<Response> {
    p.only(&["after", "limit"])?;
    let after = p
        .parse("after", |v| {
            v.parse::<i64>()
                .map_err(|_| format!("must be a sequence number, not {v:?}"))
        })?
        .unwrap_or(0);
    let limit = p.limit()?;
    let items = s.app.audit_events(&ctx, after, limit).await?;
    let next = if items.len() as u32 == limit {
        items.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(
        json!({"items": items.iter().map(|e| e.to_json()).collect::<Vec<_>>(), "next_after": next}),
    )
    .into_response())
}

/// Verifies the hash chain.
pub async fn verify(State(s): State<AppState>, Caller(ctx): Caller) -> ApiResult<Response> {
    Ok(Json(match s.app.verify_audit(&ctx).await? {
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
    })
    .into_response())
}
