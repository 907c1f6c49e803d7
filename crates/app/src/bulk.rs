//! Registering many assets in one request (`POST /api/v1/assets/bulk`, and one asset at a
//! time through the same path): each item is checked on its own and answered on its own;
//! the valid ones are written in one change set, with numbers drawn again when one of the
//! reserved block was meanwhile given by hand.

use std::collections::HashMap;

use serde_json::{Map, Value};
use uuid::Uuid;

use chrono::{DateTime, Utc};
use custodian_domain::asset::{self, Asset, AssetDraft, RelationFacts};
use custodian_domain::audit::NewEvent;
use custodian_domain::{value, Problems};
use custodian_store::{AssetWrite, ChangeSet, StoreError, Write};

use crate::assets::{AssetView, BulkItem, Scheme, MAX_BULK};
use crate::{App, AppError, Ctx, Result};

/// An item that passed its checks, with the number it will carry.
struct Numbered {
    /// Its position in the request.
    index: usize,
    draft: AssetDraft,
    number: String,
    /// Whether the number was drawn rather than given.
    drawn: bool,
}

/// Each item's outcome so far: `None` while it is still to be written.
type Outcomes = Vec<Option<BulkItem>>;

impl App {
    /// Stages a new asset in `cs`: its secrets sealed, its insert and its `asset.created`
    /// event. Answers the asset as staged.
    pub(crate) fn stage_new_asset(
        &self,
        ctx: &Ctx,
        cs: &mut ChangeSet,
        mut a: Asset,
        now: DateTime<Utc>,
    ) -> Result<Asset> {
        self.seal_asset_secrets(&mut a, None)?;
        cs.events.push(NewEvent::created(
            &ctx.actor,
            "asset.created",
            "asset",
            a.id,
            &a.audit_view(),
            ctx.request_id.as_deref(),
            now,
        ));
        cs.writes
            .push(Write::Asset(AssetWrite::InsertAsset(Box::new(a.clone()))));
        Ok(a)
    }

    /// Registers several assets; each item succeeds or fails on its own.
    pub async fn create_assets(
        &self,
        ctx: &Ctx,
        inputs: Vec<Map<String, Value>>,
    ) -> Result<Vec<BulkItem>> {
        self.allow(ctx, custodian_domain::access::Action::ManageAssets)
            .await?;
        if inputs.len() > MAX_BULK {
            return Err(AppError::invalid(
                "items",
                format!("at most {MAX_BULK} items per request, not {}", inputs.len()),
            ));
        }
        let scheme = self.scheme_for(&inputs).await?;
        let (drafts, mut outcomes, given) = self.check_items(&inputs, &scheme).await?;
        let mut valid = self
            .number_items(drafts, &mut outcomes, &given, &scheme)
            .await?;
        self.refuse_external_id_clashes(&mut valid, &mut outcomes)
            .await?;
        for (i, a) in self.write_items(ctx, &mut valid, &given).await? {
            // A record created a moment ago has no relations yet.
            let completeness = asset::completeness(&a, RelationFacts::default());
            outcomes[i] = Some(BulkItem::Created(Box::new(AssetView {
                asset: a,
                completeness,
                disposal: None,
            })));
        }
        Ok(outcomes
            .into_iter()
            .map(|r| r.unwrap_or_else(|| BulkItem::Failed(AppError::invalid("", "not processed"))))
            .collect())
    }

    /// The classification scheme and custom fields, read again when an item names a level
    /// or field this instance does not know (perhaps defined a moment ago by another).
    async fn scheme_for(&self, inputs: &[Map<String, Value>]) -> Result<std::sync::Arc<Scheme>> {
        let scheme = self.scheme().await?;
        let unknown = |i: &Map<String, Value>| {
            i.get("classification")
                .and_then(Value::as_str)
                .is_some_and(|k| !scheme.keys.iter().any(|x| x == k))
                || i.get("custom")
                    .and_then(Value::as_object)
                    .is_some_and(|c| c.keys().any(|k| !scheme.defs.iter().any(|d| d.key == *k)))
        };
        if inputs.iter().any(unknown) {
            return self.fresh_scheme().await;
        }
        Ok(scheme)
    }

    /// Parses every item and checks its references, so that a missing owner is reported
    /// together with any other problem; an item's number given twice in the request is
    /// refused. Answers the drafts, the items refused so far, and the numbers given.
    async fn check_items(
        &self,
        inputs: &[Map<String, Value>],
        scheme: &Scheme,
    ) -> Result<(
        Vec<std::result::Result<AssetDraft, Problems>>,
        Outcomes,
        Vec<String>,
    )> {
        let prefix = self.settings.asset_number_prefix.clone();
        let actx = scheme.ctx(&prefix);
        let drafts: Vec<std::result::Result<AssetDraft, Problems>> =
            inputs.iter().map(|i| AssetDraft::parse(i, &actx)).collect();
        let refs: Vec<(Uuid, Option<Uuid>, Option<Uuid>)> = inputs
            .iter()
            .map(|i| {
                let id = |k: &str| i.get(k).and_then(|v| value::id(v).ok());
                (
                    id("owner_id").unwrap_or_else(Uuid::nil),
                    id("last_reviewed_by"),
                    id("location_id"),
                )
            })
            .collect();
        let mut problems: Vec<Problems> = drafts
            .iter()
            .map(|d| d.as_ref().err().cloned().unwrap_or_default())
            .collect();
        let ref_view: Vec<(&Uuid, Option<&Uuid>, Option<&Uuid>)> = refs
            .iter()
            .map(|(o, r, l)| (o, r.as_ref(), l.as_ref()))
            .collect();
        let mut ref_problems: Vec<Problems> = vec![Problems::new(); inputs.len()];
        self.check_references(&ref_view, &mut ref_problems).await?;
        for (i, rp) in ref_problems.into_iter().enumerate() {
            let has_owner = inputs[i]
                .get("owner_id")
                .is_some_and(|v| value::id(v).is_ok());
            for e in rp.0 {
                if e.field != "owner_id" || has_owner {
                    problems[i].0.push(e);
                }
            }
        }
        let mut outcomes: Outcomes = Vec::with_capacity(inputs.len());
        let mut given: Vec<String> = Vec::new();
        for (i, d) in drafts.iter().enumerate() {
            let ok = match d {
                Ok(d) if problems[i].is_empty() => {
                    if let Some(n) = &d.asset_number {
                        if given.contains(n) {
                            problems[i].add(
                                "asset_number",
                                format!("{n} is given to another item of this request"),
                            );
                        }
                        given.push(n.clone());
                    }
                    problems[i].is_empty()
                }
                _ => false,
            };
            outcomes.push(if ok {
                None
            } else {
                Some(BulkItem::Failed(AppError::Invalid(std::mem::take(
                    &mut problems[i],
                ))))
            });
        }
        Ok((drafts, outcomes, given))
    }

    /// The drafts still standing, each with its number: the one given (refused when
    /// another asset has it) or one drawn from the reserved block; the next review set by
    /// the classification when the item gave none.
    async fn number_items(
        &self,
        drafts: Vec<std::result::Result<AssetDraft, Problems>>,
        outcomes: &mut Outcomes,
        given: &[String],
        scheme: &Scheme,
    ) -> Result<Vec<Numbered>> {
        let today = chrono::Utc::now().date_naive();
        let taken = self.store.taken_asset_numbers(given).await?;
        let mut valid = Vec::new();
        for (index, d) in drafts.into_iter().enumerate() {
            if outcomes[index].is_some() {
                continue;
            }
            let Ok(mut draft) = d else { continue };
            if let Some(n) = draft.asset_number.as_ref().filter(|n| taken.contains(n)) {
                outcomes[index] = Some(BulkItem::Failed(AppError::Conflict {
                    message: format!("asset_number: {n} is already used by another asset"),
                    field: Some("asset_number".into()),
                }));
                continue;
            }
            let level = scheme.level(&draft.classification)?;
            Self::default_review(&mut draft, level, today);
            let (number, drawn) = match draft.asset_number.clone() {
                Some(n) => (n, false),
                None => (self.free_number(given).await?, true),
            };
            valid.push(Numbered {
                index,
                draft,
                number,
                drawn,
            });
        }
        Ok(valid)
    }

    /// External ids are unique across the register: an item whose id another asset, or an
    /// earlier item of the request, already has is refused on its own.
    async fn refuse_external_id_clashes(
        &self,
        valid: &mut Vec<Numbered>,
        outcomes: &mut Outcomes,
    ) -> Result<()> {
        let pairs = |d: &AssetDraft| -> Vec<String> {
            d.external_ids
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}:{v}")))
                .collect()
        };
        let wanted: Vec<String> = valid.iter().flat_map(|n| pairs(&n.draft)).collect();
        let mut claimed: HashMap<String, Uuid> = HashMap::new();
        for a in self
            .store
            .find_assets(custodian_store::MatchKey::ExternalId, &wanted)
            .await?
        {
            for (k, v) in &a.external_ids {
                if let Some(v) = v.as_str() {
                    claimed.insert(format!("{k}:{v}"), a.id);
                }
            }
        }
        let mut in_request: HashMap<String, usize> = HashMap::new();
        valid.retain(|n| {
            let clash = pairs(&n.draft).into_iter().find_map(|p| {
                if claimed.contains_key(&p) {
                    Some(format!(
                        "external_ids: {p} already belongs to another asset"
                    ))
                } else {
                    in_request.insert(p.clone(), n.index).map(|first| {
                        format!("external_ids: {p} is given to item {first} of this request too")
                    })
                }
            });
            match clash {
                Some(message) => {
                    outcomes[n.index] = Some(BulkItem::Failed(AppError::Conflict {
                        message,
                        field: Some("external_ids".into()),
                    }));
                    false
                }
                None => true,
            }
        });
        Ok(())
    }

    /// Writes the valid items in one change set, each with its `asset.created` event.
    /// When a drawn number was meanwhile given by hand, draws others and tries again (three
    /// times at most). Answers the assets written, by their position in the request.
    async fn write_items(
        &self,
        ctx: &Ctx,
        valid: &mut [Numbered],
        given: &[String],
    ) -> Result<Vec<(usize, custodian_domain::asset::Asset)>> {
        let now = custodian_domain::now();
        let mut created = Vec::new();
        for attempt in 0.. {
            created.clear();
            let mut cs = ChangeSet::default();
            for n in valid.iter() {
                let a =
                    n.draft
                        .clone()
                        .into_asset(custodian_domain::new_id(), n.number.clone(), now);
                created.push((n.index, self.stage_new_asset(ctx, &mut cs, a, now)?));
            }
            if cs.writes.is_empty() {
                break;
            }
            match self.store.commit(cs).await {
                Ok(()) => break,
                // A number of the reserved block was meanwhile given by hand: draw others.
                Err(StoreError::Duplicate {
                    field: "asset_number",
                    message,
                }) if attempt < 3 && valid.iter().any(|n| n.drawn) => {
                    let drawn: Vec<String> = valid
                        .iter()
                        .filter(|n| n.drawn)
                        .map(|n| n.number.clone())
                        .collect();
                    let gone = self.store.taken_asset_numbers(&drawn).await?;
                    if gone.is_empty() {
                        return Err(AppError::Conflict {
                            message: format!("asset_number: {message}"),
                            field: Some("asset_number".into()),
                        });
                    }
                    for n in valid
                        .iter_mut()
                        .filter(|n| n.drawn && gone.contains(&n.number))
                    {
                        n.number = self.free_number(given).await?;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(created)
    }
}
