//! `/api/v1/samples` (SPEC §12): audit samples of the register, now or as it stood.

use aide::axum::ApiRouter;
use axum::extract::State;
use axum::Json;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use custodian_app::samples::SampleRequest;
use custodian_domain::value::Timestamp;

use super::assets::wire;
use super::wire::{Body, Shaped};
use crate::extract::Caller;
use crate::openapi::shapes::{Asset, SampleInput};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// The routes.
pub fn routes() -> ApiRouter<AppState> {
    use aide::axum::routing::post_with;
    ApiRouter::new().api_route(
        "/samples",
        post_with(draw, |o| {
            o.summary("Draw a reproducible audit sample of the register, now or as it stood (auditors, managers, admins); recorded as an event")
        }),
    )
}

/// A sample drawn.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Sample")]
pub struct SampleDrawn {
    /// The sample's id: its event (`sample.drawn`) in the audit trail names it.
    pub id: Uuid,
    /// What it was drawn from: `assets`, the register.
    pub population: String,
    /// The population's filters, as given.
    pub filters: Map<String, Value>,
    /// The register as it stood then (absent: as it is).
    pub as_at: Option<Timestamp>,
    /// The seed: the same seed, population and size draw the same sample again.
    pub seed: String,
    /// The size asked for: a number, or `auto` (the common audit table).
    pub size_rule: Value,
    /// How many were drawn.
    pub size: usize,
    /// How many records the population held.
    pub population_size: u64,
    /// How the records were chosen.
    pub algorithm: String,
    /// The audit event the population was read at.
    pub audit_seq: i64,
    /// When it was drawn.
    pub drawn_at: Timestamp,
    /// The records drawn, as they were in the population, in the order drawn.
    pub items: Vec<Shaped<Asset>>,
}

async fn draw(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Body(body, _): Body<SampleInput>,
) -> ApiResult<Json<SampleDrawn>> {
    s.app
        .authorize(&ctx, custodian_domain::access::Action::ReadReports)
        .await?;
    let request = SampleRequest::from_input(&body)
        .map_err(|p| Problem::from(custodian_app::AppError::Invalid(p)))?;
    let sample = s.app.draw_sample(&ctx, request).await?;
    let r = &sample.request;
    let Value::Object(summary) = sample.to_json() else {
        return Err(Problem::from(custodian_app::AppError::Internal(
            "a sample's answer is not an object".into(),
        )));
    };
    Ok(Json(SampleDrawn {
        id: sample.id,
        population: "assets".into(),
        filters: summary
            .get("filters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        as_at: r.as_at.map(|t| Timestamp::from(&t)),
        seed: r.seed.clone(),
        size_rule: r.size.to_json(),
        size: sample.items.len(),
        population_size: sample.population_size,
        algorithm: custodian_domain::sample::ALGORITHM.into(),
        audit_seq: sample.audit_seq,
        drawn_at: Timestamp::from(&sample.drawn_at),
        items: sample.items.iter().map(wire).collect(),
    }))
}
