//! The register as it stood at a past time, rebuilt from the audit trail (SPEC §12).
//!
//! Times never go back along the chain, so a time cuts it once: the register as at `T` is
//! every asset with an event at or before the last event recorded by `T`, each replayed
//! from its events up to there. A page reads the events of the next assets in id order
//! through the trail's index by entity, so it costs what the live list's page does,
//! whatever the register's size.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use custodian_domain::access::Action;
use custodian_domain::asset::{self, Asset, History, RelationFacts};
use custodian_domain::audit::replay_fields;
use custodian_store::AssetQuery;

use crate::assets::AssetView;
use crate::{App, AppError, Ctx, Result};

/// Events read at a time.
const BATCH: u32 = 1000;
/// Assets replayed for one page at most, however few of them its filters keep: a page may
/// then hold fewer items than asked, and its cursor goes on from there.
pub(crate) const EXAMINED_AT_MOST: usize = 2500;

/// Where a page of the register as at a time ends: the cut of the chain it reads (kept
/// from page to page, so that one listing reads one register) and the last asset read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsAtCursor {
    /// The last event of the cut.
    pub seq: i64,
    /// The time the listing asked for.
    pub at: DateTime<Utc>,
    /// The last asset read.
    pub after: Uuid,
}

/// A page of the register as at a time.
#[derive(Clone, Debug)]
pub struct AsAtPage {
    /// The assets, as they stood, in id order (the order of registration).
    pub items: Vec<AssetView>,
    /// Where the next page starts, if there is one.
    pub next: Option<AsAtCursor>,
}

/// One asset's events, replayed: its fields as they stood after each, and what the events
/// tell of it besides (the register as at a time, and `audit verify --register`).
pub(crate) struct Replaying {
    id: String,
    view: Map<String, Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl Replaying {
    pub(crate) fn start(id: &str, at: DateTime<Utc>) -> Self {
        Replaying {
            id: id.to_string(),
            view: Map::new(),
            created_at: at,
            updated_at: at,
            version: 0,
        }
    }

    /// Replays one event; one that changes a field raises the version.
    pub(crate) fn feed(&mut self, at: DateTime<Utc>, changes: &str) {
        // Context shaped like a change (the relation linked) is not a field of the record.
        let changed = replay_fields(
            &mut self.view,
            &serde_json::from_str(changes).unwrap_or(Value::Null),
            is_field,
        );
        if self.version == 0 || changed {
            self.version += 1;
            self.updated_at = at;
        }
    }

    /// The record's fields as replayed so far.
    pub(crate) fn view(&self) -> &Map<String, Value> {
        &self.view
    }

    fn finish(self) -> Result<Asset> {
        let id = Uuid::parse_str(&self.id).map_err(|_| {
            AppError::Internal(format!(
                "the audit trail names an asset by an id that is not one: {}",
                self.id
            ))
        })?;
        Asset::from_history(
            id,
            &self.view,
            History {
                created_at: self.created_at,
                updated_at: self.updated_at,
                version: self.version,
            },
        )
        .map_err(|e| {
            AppError::Internal(format!(
                "the audit trail of asset {id} does not replay to a record: {e}"
            ))
        })
    }
}

/// The id of an asset the trail names.
fn asset_id(id: Option<String>) -> Result<Option<Uuid>> {
    id.map(|i| {
        Uuid::parse_str(&i).map_err(|_| {
            AppError::Internal(format!(
                "the audit trail names an asset by an id that is not one: {i}"
            ))
        })
    })
    .transpose()
}

/// Whether `k` names a field of an asset's record.
fn is_field(k: &str) -> bool {
    asset::COMMON_FIELDS.contains(&k) || custodian_domain::fields::field(k).is_some()
}

/// Whether a replayed asset passes the list's filters.
fn kept(a: &Asset, q: &AssetQuery) -> bool {
    q.kind.is_none_or(|k| a.kind == k)
        && q.status.is_none_or(|s| a.status == s)
        && q.owner_id.is_none_or(|o| a.owner_id == o)
        && q.classification
            .as_deref()
            .is_none_or(|c| a.classification == c)
        && q.importance.is_none_or(|i| a.importance == i)
        && q.tag
            .as_deref()
            .is_none_or(|t| a.tags.iter().any(|x| x == t))
        && q.location_id.is_none_or(|l| a.location_id == Some(l))
}

impl App {
    /// The last event recorded at or before `at`: the head of the chain then.
    pub(crate) async fn head_at(&self, at: DateTime<Utc>) -> Result<(i64, String)> {
        if at > custodian_domain::now() {
            return Err(AppError::invalid(
                "as_at",
                "is in the future: the register can be read as it stood, not as it will be",
            ));
        }
        Ok(self.store.audit_head_at(at).await?)
    }

    /// A page of the register as it stood at `at` (auditors, managers, admins). The filters
    /// of `q` that describe a record apply to the record as it stood; `from` continues a
    /// listing.
    pub async fn register_as_at(
        &self,
        ctx: &Ctx,
        at: DateTime<Utc>,
        q: &AssetQuery,
        from: Option<AsAtCursor>,
    ) -> Result<AsAtPage> {
        self.allow(ctx, Action::ReadReports).await?;
        let head = self.head_at(at).await?.0;
        // A listing goes on reading the cut its first page read.
        let cut = match from {
            Some(c)
                if c.seq > head
                    || c.seq < 0
                    || c.at.timestamp_micros() != at.timestamp_micros() =>
            {
                return Err(AppError::invalid(
                    "cursor",
                    "comes from a listing as at another time: start again without it",
                ))
            }
            Some(c) => c.seq,
            None => head,
        };
        let limit = q.limit.clamp(1, 500) as usize;
        let (items, next) = self
            .assets_at_cut(cut, q, from.map(|c| c.after), limit, EXAMINED_AT_MOST)
            .await?;
        let next = next.map(|after| AsAtCursor {
            seq: cut,
            at,
            after,
        });
        Ok(AsAtPage {
            items: self.views_as_at(items, at).await?,
            next,
        })
    }

    /// Up to `limit` assets as they stood at the end of event `cut` that pass the filters
    /// of `q`, after the asset `after` in id order; and the last asset read when there may
    /// be more. A page reads at most `budget` assets, those created after the cut
    /// included, so that every page is bounded in time whatever the cut.
    pub(crate) async fn assets_at_cut(
        &self,
        cut: i64,
        q: &AssetQuery,
        after: Option<Uuid>,
        limit: usize,
        budget: usize,
    ) -> Result<(Vec<Asset>, Option<Uuid>)> {
        if cut <= 0 {
            return Ok((Vec::new(), None));
        }
        let mut position: Option<(String, i64)> = after.map(|id| (id.to_string(), i64::MAX));
        let mut items: Vec<Asset> = Vec::new();
        // The asset being read, and its replay when it existed by the cut.
        let mut current: Option<String> = None;
        let mut open: Option<Replaying> = None;
        let mut examined = 0_usize;
        loop {
            // Read past the cut too: an asset made later is counted against the budget
            // rather than skipped inside one unbounded query.
            let events = self
                .store
                .entity_events("asset", position.clone(), None, BATCH)
                .await?;
            let ended = (events.len() as u32) < BATCH;
            if let Some(e) = events.last() {
                position = Some((e.entity_id.clone(), e.seq));
            }
            for e in events {
                if current.as_ref().is_some_and(|c| *c != e.entity_id) {
                    let read = asset_id(current.take())?;
                    if let Some(done) = open.take() {
                        let a = done.finish()?;
                        if kept(&a, q) {
                            items.push(a);
                        }
                    }
                    examined += 1;
                    // Stopped before an asset it had begun to read: there is more.
                    if items.len() == limit || examined >= budget {
                        return Ok((items, read));
                    }
                }
                current = Some(e.entity_id.clone());
                if e.seq <= cut {
                    open.get_or_insert_with(|| Replaying::start(&e.entity_id, e.occurred_at))
                        .feed(e.occurred_at, &e.changes);
                }
            }
            if ended {
                if let Some(done) = open.take() {
                    let a = done.finish()?;
                    if kept(&a, q) {
                        items.push(a);
                    }
                }
                return Ok((items, None));
            }
        }
    }

    /// One asset as it stood at the end of event `cut` (`None` if it did not exist yet):
    /// the first asset read from just before its id.
    pub(crate) async fn asset_at_cut(&self, id: Uuid, cut: i64) -> Result<Option<Asset>> {
        let before = id.as_u128().checked_sub(1).map(Uuid::from_u128);
        let (mut found, _) = self
            .assets_at_cut(cut, &AssetQuery::default(), before, 1, 1)
            .await?;
        Ok(found.pop().filter(|a| a.id == id))
    }

    /// The views of assets as they stood: their completeness counts the links that exist
    /// and were made by `at` (a link removed since is not in the trail of either asset it
    /// joined as a record, only as context).
    pub(crate) async fn views_as_at(
        &self,
        assets: Vec<Asset>,
        at: DateTime<Utc>,
    ) -> Result<Vec<AssetView>> {
        let ids: Vec<Uuid> = assets.iter().map(|a| a.id).collect();
        let mut rels = self.store.relations_of(&ids).await?;
        rels.retain(|r| r.created_at <= at);
        Ok(assets
            .into_iter()
            .map(|a| AssetView {
                completeness: asset::completeness(&a, RelationFacts::from_relations(a.id, &rels)),
                asset: a,
                disposal: None,
            })
            .collect())
    }
}
