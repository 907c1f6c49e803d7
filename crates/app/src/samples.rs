//! Audit samples (SPEC §12): a reproducible draw from the register, now or as it stood,
//! recorded as an event so that the sample an auditor tested can be shown again.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_domain::access::Action;
use custodian_domain::asset::{AssetKind, Importance};
use custodian_domain::audit::NewEvent;
use custodian_domain::input::Input;
use custodian_domain::lifecycle::Status;
use custodian_domain::sample::{Draw, Size, ALGORITHM};
use custodian_domain::{value, Problems};
use custodian_store::{AssetQuery, Cursor};

use crate::assets::AssetView;
use crate::{App, AppError, Ctx, Result};

/// The filters a sample's population takes, as the asset list names them.
pub const RECORD_FILTERS: &[&str] = &[
    "kind",
    "status",
    "owner_id",
    "classification",
    "importance",
    "tag",
    "location_id",
];

/// Records read at a time while drawing.
const PAGE: u32 = 500;

/// What to draw.
#[derive(Clone, Debug)]
pub struct SampleRequest {
    /// The population's filters (only the record filters of [`RECORD_FILTERS`]).
    pub filters: AssetQuery,
    /// The register as it stood then, instead of now.
    pub as_at: Option<DateTime<Utc>>,
    /// How many.
    pub size: Size,
    /// The seed: the same seed, population and size draw the same sample.
    pub seed: String,
}

impl SampleRequest {
    /// Reads a request (`POST /api/v1/samples`); every bad field is named. Without a seed,
    /// one is chosen and given in the answer.
    pub fn from_input(obj: &Map<String, Value>) -> std::result::Result<Self, Problems> {
        let mut r = Input::new(obj);
        for k in obj.keys() {
            let known = ["population", "as_at", "size", "seed"].contains(&k.as_str())
                || RECORD_FILTERS.contains(&k.as_str());
            if !known {
                r.add(
                    k,
                    format!(
                        "is not a field of a sample; use population, as_at, size, seed and the filters {}",
                        RECORD_FILTERS.join(", ")
                    ),
                );
            }
        }
        r.required("population", |v| match v.as_str() {
            Some("assets") => Ok(()),
            _ => Err("must be \"assets\" (the register)".to_string()),
        });
        let as_at = r.optional("as_at", value::timestamp).flatten();
        let size = r.or_default("size", Size::Auto, Size::from_json);
        let seed = r
            .optional("seed", |v| match v.as_str().map(str::trim) {
                Some(s) if !s.is_empty() && s.chars().count() <= 200 => Ok(s.to_string()),
                _ => Err("must be text of 1 to 200 characters".to_string()),
            })
            .flatten()
            .unwrap_or_else(new_seed);
        let filters = AssetQuery {
            kind: r.optional("kind", AssetKind::from_json).flatten(),
            status: r.optional("status", Status::from_json).flatten(),
            owner_id: r.optional("owner_id", value::id).flatten(),
            classification: r
                .optional("classification", |v| {
                    v.as_str()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .ok_or_else(|| "must be a level's key".to_string())
                })
                .flatten(),
            importance: r.optional("importance", Importance::from_json).flatten(),
            tag: r
                .optional("tag", |v| {
                    v.as_str()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .ok_or_else(|| "must be a tag".to_string())
                })
                .flatten(),
            location_id: r.optional("location_id", value::id).flatten(),
            ..AssetQuery::default()
        };
        match size {
            Some(size) if r.problems.is_empty() => Ok(SampleRequest {
                filters,
                as_at,
                size,
                seed,
            }),
            _ => Err(r.problems),
        }
    }

    /// The population's filters, as given.
    fn filters_json(&self) -> Value {
        let q = &self.filters;
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        };
        put("kind", q.kind.map(|k| k.as_str().into()));
        put("status", q.status.map(|s| s.as_str().into()));
        put("owner_id", q.owner_id.map(|o| o.to_string().into()));
        put("classification", q.classification.clone().map(Value::from));
        put("importance", q.importance.map(|i| i.as_str().into()));
        put("tag", q.tag.clone().map(Value::from));
        put("location_id", q.location_id.map(|l| l.to_string().into()));
        Value::Object(m)
    }
}

/// A seed of 128 random bits, as hex.
fn new_seed() -> String {
    let mut b = [0_u8; 16];
    if getrandom::getrandom(&mut b).is_err() {
        // The time is a poor seed, but the sample stays reproducible: the seed is given.
        return custodian_domain::now().timestamp_micros().to_string();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A sample drawn.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The sample's id (its event's entity).
    pub id: Uuid,
    /// What was asked.
    pub request: SampleRequest,
    /// When it was drawn.
    pub drawn_at: DateTime<Utc>,
    /// The population's size.
    pub population_size: u64,
    /// The audit head the population was read at (for `as_at`, the last event by then).
    pub audit_seq: i64,
    /// The records drawn, smallest rank first.
    pub items: Vec<AssetView>,
}

impl Sample {
    /// The answer.
    pub fn to_json(&self) -> Value {
        let r = &self.request;
        json!({
            "id": self.id,
            "population": "assets",
            "filters": r.filters_json(),
            "as_at": r.as_at.map(|t| value::format_timestamp(&t)),
            "seed": r.seed,
            "size_rule": r.size.to_json(),
            "size": self.items.len(),
            "population_size": self.population_size,
            "algorithm": ALGORITHM,
            "audit_seq": self.audit_seq,
            "drawn_at": value::format_timestamp(&self.drawn_at),
            "items": self.items.iter().map(AssetView::to_json).collect::<Vec<_>>(),
        })
    }
}

impl App {
    /// Draws a sample of the register, now or as it stood (auditors, managers, admins),
    /// and records it as an event with its seed, its population and the ids drawn.
    pub async fn draw_sample(&self, ctx: &Ctx, request: SampleRequest) -> Result<Sample> {
        self.allow(ctx, Action::ReadReports).await?;
        let mut draw = Draw::new(&request.seed, request.size);
        let q = &request.filters;
        let audit_seq = match request.as_at {
            Some(at) => {
                let cut = self.head_at(at).await?.0;
                let mut after = None;
                loop {
                    let (page, next) = self
                        .assets_at_cut(cut, q, after, PAGE as usize, crate::as_at::EXAMINED_AT_MOST)
                        .await?;
                    for a in &page {
                        draw.offer(a.id);
                    }
                    match next {
                        Some(n) => after = Some(n),
                        None => break cut,
                    }
                }
            }
            None => {
                let head = self.store.audit_head().await?.0;
                let mut cursor: Option<Cursor> = None;
                loop {
                    let page = self
                        .store
                        .list_assets(&AssetQuery {
                            limit: PAGE,
                            cursor,
                            ..q.clone()
                        })
                        .await?;
                    for a in &page.items {
                        draw.offer(a.id);
                    }
                    match page.next_cursor {
                        Some(c) => cursor = Some(c),
                        None => break head,
                    }
                }
            }
        };
        let population_size = draw.seen();
        let chosen = draw.finish(request.size);
        let items = match request.as_at {
            Some(at) => {
                let mut assets = Vec::with_capacity(chosen.len());
                for id in &chosen {
                    if let Some(a) = self.asset_at_cut(*id, audit_seq).await? {
                        assets.push(a);
                    }
                }
                self.views_as_at(assets, at).await?
            }
            None => {
                let ids: Vec<String> = chosen.iter().map(Uuid::to_string).collect();
                let mut found = self
                    .store
                    .find_assets(custodian_store::MatchKey::Id, &ids)
                    .await?;
                // In the order drawn.
                found.sort_by_key(|a| chosen.iter().position(|c| *c == a.id));
                self.views(found).await?
            }
        };
        if items.len() != chosen.len() {
            return Err(AppError::Conflict {
                message: "an asset drawn changed while the sample was drawn: draw it again".into(),
                field: None,
            });
        }
        let sample = Sample {
            id: custodian_domain::new_id(),
            request,
            drawn_at: custodian_domain::now(),
            population_size,
            audit_seq,
            items,
        };
        let r = &sample.request;
        let ev = NewEvent::new(
            &ctx.actor,
            "sample.drawn",
            "sample",
            sample.id,
            json!({
                "population": "assets", "filters": r.filters_json(),
                "as_at": r.as_at.map(|t| value::format_timestamp(&t)),
                "seed": r.seed, "size_rule": r.size.to_json(), "algorithm": ALGORITHM,
                "population_size": population_size, "audit_seq": audit_seq,
                "asset_ids": chosen,
            }),
            ctx.request_id.as_deref(),
            sample.drawn_at,
        );
        self.record(ev).await?;
        Ok(sample)
    }
}
