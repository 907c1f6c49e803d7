//! Asset use cases: register, read, list, change, transition, link, history.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDate, TimeDelta};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_domain::access::{Action, AssetAccess};

use custodian_domain::asset::{
    self, Asset, AssetContext, AssetDraft, Completeness, Relation, RelationFacts, RelationType,
};
use custodian_domain::audit::{self, Event, NewEvent};
use custodian_domain::classification::Classification;
use custodian_domain::custom::CustomFieldDef;
use custodian_domain::lifecycle::{self, DisposalRecord, Status};
use custodian_domain::party::PartyKind;
use custodian_domain::{value, Problems};
use custodian_store::AssetWrite;
use custodian_store::{AssetQuery, ChangeSet, Cursor, Page, Write};

use crate::Precondition;
use crate::{check_version, race, App, AppError, Ctx, Result};

/// An asset with what the API shows beside it.
#[derive(Clone, Debug)]
pub struct AssetView {
    /// The record.
    pub asset: Asset,
    /// What its record still lacks.
    pub completeness: Completeness,
    /// Its disposal record, when disposed (single reads only).
    pub disposal: Option<DisposalRecord>,
}

impl AssetView {
    /// The JSON the API answers with.
    pub fn to_json(&self) -> Value {
        let mut m = self.asset.to_json();
        m.insert(
            "completeness".into(),
            serde_json::to_value(&self.completeness).unwrap_or(Value::Null),
        );
        if let Some(d) = &self.disposal {
            m.insert("disposal".into(), disposal_json(d));
        }
        Value::Object(m)
    }
}

fn disposal_json(d: &DisposalRecord) -> Value {
    json!({
        "method": d.method, "performed_by": d.performed_by, "performed_at": value::format_timestamp(&d.performed_at),
        "certificate_ref": d.certificate_ref, "verified_by": d.verified_by, "notes": d.notes,
    })
}

/// The result of one item of a bulk create.
#[derive(Debug)]
pub enum BulkItem {
    /// Created.
    Created(Box<AssetView>),
    /// Refused, with why.
    Failed(AppError),
}

/// The most items one bulk request takes.
pub const MAX_BULK: usize = 1000;

/// What validation needs from the database, read once per request.
pub(crate) struct Scheme {
    pub levels: Vec<Classification>,
    pub keys: Vec<String>,
    pub defs: Vec<CustomFieldDef>,
}

impl Scheme {
    pub fn ctx<'a>(&'a self, prefix: &'a str) -> AssetContext<'a> {
        AssetContext {
            classifications: &self.keys,
            custom_defs: &self.defs,
            number_prefix: prefix,
        }
    }

    pub fn level(&self, key: &str) -> Result<&Classification> {
        self.levels.iter().find(|l| l.key == key).ok_or_else(|| {
            AppError::invalid(
                "classification",
                format!("{key:?} is not a level of the classification scheme"),
            )
        })
    }
}

impl App {
    /// The classification scheme and custom field definitions, cached for a moment: they
    /// change rarely, and every write validates against them. Changes made through this
    /// process clear the cache at once; changes made by another instance show within
    /// [`SCHEME_TTL`](crate::SCHEME_TTL).
    pub(crate) async fn scheme(&self) -> Result<Arc<Scheme>> {
        if let Ok(c) = self.scheme_cache.lock() {
            if let Some((at, s)) = c.as_ref() {
                if at.elapsed() < crate::SCHEME_TTL {
                    return Ok(s.clone());
                }
            }
        }
        self.fresh_scheme().await
    }

    /// Reads the scheme from the database and caches it.
    pub(crate) async fn fresh_scheme(&self) -> Result<Arc<Scheme>> {
        let levels = self.store.classifications().await?;
        let keys = levels.iter().map(|l| l.key.clone()).collect();
        let defs = self.store.custom_fields().await?;
        let s = Arc::new(Scheme { levels, keys, defs });
        if let Ok(mut c) = self.scheme_cache.lock() {
            *c = Some((std::time::Instant::now(), s.clone()));
        }
        Ok(s)
    }

    /// Checks that the parties and place an asset names exist; adds problems for those that do not.
    pub(crate) async fn check_references(
        &self,
        drafts: &[(&Uuid, Option<&Uuid>, Option<&Uuid>)],
        problems: &mut [Problems],
    ) -> Result<()> {
        let mut party_ids: Vec<Uuid> = drafts
            .iter()
            .flat_map(|(o, r, _)| std::iter::once(**o).chain(r.copied()))
            .collect();
        party_ids.sort();
        party_ids.dedup();
        let parties: HashMap<Uuid, PartyKind> = self
            .store
            .parties(&party_ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p.kind))
            .collect();
        let mut loc_ids: Vec<Uuid> = drafts.iter().filter_map(|(_, _, l)| l.copied()).collect();
        loc_ids.sort();
        loc_ids.dedup();
        let mut locations = Vec::new();
        for l in loc_ids {
            if self.store.location(l).await?.is_some() {
                locations.push(l);
            }
        }
        for ((owner, reviewer, location), p) in drafts.iter().zip(problems.iter_mut()) {
            if !parties.contains_key(owner) {
                p.add(
                    "owner_id",
                    format!("no person, team or role has the id {owner}"),
                );
            }
            if let Some(r) = reviewer {
                match parties.get(r) {
                    None => p.add("last_reviewed_by", format!("no person has the id {r}")),
                    Some(k) if *k != PartyKind::Person => {
                        p.add("last_reviewed_by", "must be a person")
                    }
                    _ => {}
                }
            }
            if let Some(l) = location {
                if !locations.contains(l) {
                    p.add("location_id", format!("no location has the id {l}"));
                }
            }
        }
        Ok(())
    }

    /// Sets the next review from the level's interval when none is given.
    pub(crate) fn default_review(draft: &mut AssetDraft, level: &Classification, today: NaiveDate) {
        if draft.next_review_at.is_none() {
            let from = draft.last_reviewed_at.map_or(today, |t| t.date_naive());
            draft.next_review_at =
                from.checked_add_signed(TimeDelta::days(i64::from(level.review_interval_days)));
        }
    }

    pub(crate) async fn views(&self, assets: Vec<Asset>) -> Result<Vec<AssetView>> {
        let ids: Vec<Uuid> = assets.iter().map(|a| a.id).collect();
        let rels = self.store.relations_of(&ids).await?;
        Ok(assets
            .into_iter()
            .map(|a| {
                let facts = RelationFacts::from_relations(a.id, &rels);
                AssetView {
                    completeness: asset::completeness(&a, facts),
                    asset: a,
                    disposal: None,
                }
            })
            .collect())
    }

    async fn view(&self, a: Asset) -> Result<AssetView> {
        let disposal = if a.status == Status::Disposed {
            self.store.disposal(a.id).await?
        } else {
            None
        };
        let mut v = self.views(vec![a]).await?.remove(0);
        v.disposal = disposal;
        Ok(v)
    }

    async fn load(&self, id: Uuid) -> Result<Asset> {
        self.store
            .asset(id)
            .await?
            .ok_or_else(|| AppError::not_found("asset", id))
    }

    /// Registers an asset. Every missing or invalid field is named at once.
    pub async fn create_asset(&self, ctx: &Ctx, input: Map<String, Value>) -> Result<AssetView> {
        let mut out = self.create_assets(ctx, vec![input]).await?;
        match out.pop() {
            Some(BulkItem::Created(v)) => Ok(*v),
            Some(BulkItem::Failed(e)) => Err(e),
            None => Err(AppError::invalid("", "nothing to create")),
        }
    }

    /// A fresh number that no item of the request gives by hand.
    pub(crate) async fn free_number(&self, given: &[String]) -> Result<String> {
        loop {
            let n = self.next_numbers(1).await?.remove(0);
            if !given.contains(&n) {
                return Ok(n);
            }
        }
    }

    /// Seals `next`'s secrets and lists its field-level changes from `cur` (a secret's
    /// change says only that it was set, replaced or removed).
    pub(crate) fn asset_changes(
        &self,
        cur: &Asset,
        next: &mut Asset,
    ) -> Result<Map<String, Value>> {
        let secrets = self.seal_asset_secrets(next, Some(cur))?;
        let mut changes = audit::diff(&cur.audit_view(), &next.audit_view());
        for k in secrets {
            changes.insert(
                k.clone(),
                crate::secrets::secret_change(
                    cur.attrs.contains_key(&k),
                    next.attrs.contains_key(&k),
                ),
            );
        }
        Ok(changes)
    }

    /// The asset's loss or theft reports that await their incident reference (a holder's
    /// own report stands without one).
    pub async fn reports_awaiting_reference(
        &self,
        ctx: &Ctx,
        id: Uuid,
    ) -> Result<Vec<lifecycle::IncidentReport>> {
        let a = self.load(id).await?;
        self.asset_allowed(ctx, &a, AssetAccess::Read).await?;
        Ok(self
            .store
            .incidents(id)
            .await?
            .into_iter()
            .filter(|i| i.incident_ref.is_none())
            .collect())
    }

    /// Adds the incident reference to the asset's reports that await one (managers).
    pub async fn add_incident_ref(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
    ) -> Result<AssetView> {
        let cur = self.load(id).await?;
        self.asset_allowed(ctx, &cur, AssetAccess::Manage).await?;
        let mut r = custodian_domain::input::Input::new(&body);
        r.reject_unknown(&["incident_ref"], &[], "an incident reference");
        let incident_ref = r.required("incident_ref", |v| value::text(v, 200));
        let Some(incident_ref) = incident_ref.filter(|_| r.problems.is_empty()) else {
            return Err(AppError::Invalid(r.problems));
        };
        let awaiting = self
            .store
            .incidents(id)
            .await?
            .into_iter()
            .any(|i| i.incident_ref.is_none());
        if !awaiting {
            return Err(AppError::Conflict {
                message: format!(
                    "no loss or theft report of {} awaits an incident reference",
                    cur.asset_number
                ),
                field: Some("incident_ref".into()),
            });
        }
        let ev = NewEvent::new(
            &ctx.actor,
            "asset.incident_referenced",
            "asset",
            id,
            json!({"incident_ref": {"after": incident_ref}}),
            ctx.request_id.as_deref(),
            custodian_domain::now(),
        );
        self.store
            .commit(ChangeSet::one(
                Write::Asset(AssetWrite::SetIncidentRef {
                    asset_id: id,
                    incident_ref,
                }),
                ev,
            ))
            .await?;
        self.view(cur).await
    }

    /// Reveals a secret field of an asset (licence keys) to admins and to its owner (SPEC
    /// §2.2); every reading is an audit event.
    pub async fn reveal_secret(
        &self,
        ctx: &Ctx,
        id: Uuid,
        field: Option<&str>,
    ) -> Result<Revealed> {
        let a = self.load(id).await?;
        self.secret_allowed(ctx, &a).await?;
        let Some(field) = field else {
            return Err(AppError::invalid("field", "is required (e.g. licence_key)"));
        };
        let is_secret = custodian_domain::fields::field(field)
            .is_some_and(|d| d.ty == custodian_domain::fields::FieldType::Secret);
        if !is_secret {
            return Err(AppError::invalid(
                "field",
                format!("{field:?} is not a secret field"),
            ));
        }
        let Some(stored) = a.attrs.get(field).and_then(Value::as_str) else {
            return Err(AppError::invalid(
                "field",
                format!("this asset has no {field}"),
            ));
        };
        let value = self.open_secret(stored, &format!("asset:{id}:{field}"))?;
        let ev = NewEvent::new(
            &ctx.actor,
            "asset.secret_revealed",
            "asset",
            id,
            json!({"field": field, "client": ctx.client_json()}),
            ctx.request_id.as_deref(),
            custodian_domain::now(),
        );
        self.record(ev).await?;
        Ok(Revealed {
            field: field.to_string(),
            value,
        })
    }

    /// One asset.
    pub async fn get_asset(&self, ctx: &Ctx, id: Uuid) -> Result<AssetView> {
        let a = self.load(id).await?;
        self.asset_allowed(ctx, &a, AssetAccess::Read).await?;
        self.view(a).await
    }

    /// A filtered page of assets.
    pub async fn list_assets(&self, ctx: &Ctx, q: &AssetQuery) -> Result<Page<AssetView>> {
        let scope = self.asset_scope(ctx).await?;
        let page = match scope {
            None => self.store.list_assets(q).await?,
            Some(within) => {
                let q = AssetQuery {
                    within: Some(within),
                    ..q.clone()
                };
                self.store.list_assets(&q).await?
            }
        };
        Ok(Page {
            items: self.views(page.items).await?,
            next_cursor: page.next_cursor,
        })
    }

    /// Changes an asset with a merge-patch. `if_match` is the version the caller saw.
    pub async fn update_asset(
        &self,
        ctx: &Ctx,
        id: Uuid,
        patch: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<AssetView> {
        let cur = self.load(id).await?;
        // Changing the owner is assigning the asset: a manager's task. Owners and their
        // delegates keep the rest of the record true.
        let reassigns = patch
            .get("owner_id")
            .is_some_and(|v| value::id(v).ok() != Some(cur.owner_id));
        let wanted = if reassigns {
            AssetAccess::Manage
        } else {
            AssetAccess::EditRecord
        };
        self.asset_allowed(ctx, &cur, wanted).await?;
        check_version("asset", id, &if_match, cur.version)?;
        let scheme = self.scheme().await?;
        let prefix = self.settings.asset_number_prefix.clone();
        let now = custodian_domain::now();
        let mut problems = Problems::new();
        let next = match cur.patched(&patch, &scheme.ctx(&prefix), now) {
            Ok(n) => Some(n),
            Err(p) => {
                problems = p;
                None
            }
        };
        let pick = |k: &str| patch.get(k).and_then(|v| value::id(v).ok());
        let owner = pick("owner_id").unwrap_or(cur.owner_id);
        let (reviewer, location) = (pick("last_reviewed_by"), pick("location_id"));
        let mut rp = vec![Problems::new()];
        self.check_references(&[(&owner, reviewer.as_ref(), location.as_ref())], &mut rp)
            .await?;
        problems.0.extend(rp.remove(0).0);
        let Some(mut next) = next.filter(|_| problems.is_empty()) else {
            return Err(AppError::Invalid(problems));
        };
        if next.location_id != cur.location_id {
            self.check_move_off_premises(&next).await?;
        }
        let changes = self.asset_changes(&cur, &mut next)?;
        let write = Write::Asset(AssetWrite::UpdateAsset {
            asset: Box::new(next.clone()),
            expected_version: cur.version,
        });
        let changed = self
            .write_update(
                ctx,
                ("asset", &id.to_string()),
                changes,
                write,
                if_match,
                now,
            )
            .await?;
        self.view(if changed { next } else { cur }).await
    }

    /// Moving an asset to a place off the premises follows the strictest classification it
    /// carries (A.7.9), as issuing it off the premises does: `forbidden` needs an approved
    /// `off_premises` exception; `approval_required` needs one, or a custody whose
    /// off-premises move was approved.
    async fn check_move_off_premises(&self, next: &Asset) -> Result<()> {
        let Some(l) = next.location_id else {
            return Ok(());
        };
        match self.store.location(l).await? {
            Some(loc) if !loc.on_premises => {}
            _ => return Ok(()),
        }
        let carried = self.carried_levels(next).await?;
        let pairs: Vec<(String, &custodian_domain::classification::Classification)> = carried
            .iter()
            .map(|c| (c.because.clone(), &c.level))
            .collect();
        let Some(rule) = custodian_domain::custody::off_premises_rule(&pairs) else {
            return Ok(());
        };
        use custodian_domain::classification::Handling;
        if rule.handling == Handling::Allowed
            || self
                .exception_covering(
                    custodian_domain::exception::ExceptionRule::OffPremises,
                    next.id,
                )
                .await?
                .is_some()
        {
            return Ok(());
        }
        if rule.handling == Handling::ApprovalRequired
            && self
                .holder_of(next.id)
                .await?
                .is_some_and(|a| a.off_premises && a.approved_by.is_some())
        {
            return Ok(());
        }
        let why = if rule.handling == Handling::ApprovalRequired {
            format!(
                "the {} classification ({}) may leave the premises only with approval: issue it through custody with an approver, or an admin approves an exception (rule off_premises)",
                rule.level, rule.because
            )
        } else {
            rule.describe()
        };
        Err(AppError::invalid("location_id", why))
    }

    /// Moves an asset along its lifecycle, with the disposal record or incident report it needs.
    pub async fn transition_asset(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<AssetView> {
        let cur = self.load(id).await?;
        // A holder reports the asset in their custody lost or stolen themselves (A.5.11).
        let reporting = matches!(
            body.get("to").and_then(Value::as_str),
            Some("lost" | "stolen")
        ) && ctx.principal().is_some_and(|p| p.check_write().is_ok())
            && self.holds(ctx, id).await?;
        if !reporting {
            self.asset_allowed(ctx, &cur, AssetAccess::Manage).await?;
        }
        check_version("asset", id, &if_match, cur.version)?;
        let scheme = self.scheme().await?;
        // Disposal follows the effective level (SPEC §8): what the asset stores or
        // contains may ask for a stricter method than its own level.
        let level = if body.get("to").and_then(Value::as_str) == Some("disposed") {
            self.effective_disposal_level(&cur, &scheme).await?
        } else {
            scheme.level(&cur.classification)?.clone()
        };
        let level = &level;
        let now = custodian_domain::now();
        let by = if reporting {
            lifecycle::Requester::Holder
        } else {
            lifecycle::Requester::Manager
        };
        let t = lifecycle::plan_transition(&cur, level, &body, now, by)?;
        let ended = self.end_custody_on_incident(ctx, id, t.to, now).await?;
        let mut next = cur.clone();
        next.status = t.to;
        next.version += 1;
        next.updated_at = now;
        let mut changes = json!({"status": {"before": t.from, "after": t.to}, "reason": t.reason});
        let mut writes = vec![Write::Asset(AssetWrite::UpdateAsset {
            asset: Box::new(next.clone()),
            expected_version: cur.version,
        })];
        if let Some(d) = &t.disposal {
            changes["disposal"] = disposal_json(d);
            writes.push(Write::Asset(AssetWrite::InsertDisposal(d.clone())));
        }
        if let Some(i) = &t.incident {
            changes["incident"] = json!({"incident_ref": i.incident_ref, "reported_at": value::format_timestamp(&i.reported_at), "notes": i.notes});
            writes.push(Write::Asset(AssetWrite::InsertIncident(i.clone())));
        }
        let ev = NewEvent::new(
            &ctx.actor,
            "asset.transitioned",
            "asset",
            id,
            changes,
            ctx.request_id.as_deref(),
            now,
        );
        let mut events = vec![ev];
        writes.extend(ended.writes);
        events.extend(ended.events);
        self.store
            .commit(ChangeSet { writes, events })
            .await
            .map_err(|e| race(e, &if_match))?;
        self.view(next).await
    }

    /// The events about an asset, oldest first.
    pub async fn asset_history(
        &self,
        ctx: &Ctx,
        id: Uuid,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Event>> {
        let a = self.load(id).await?;
        self.asset_allowed(ctx, &a, AssetAccess::Read).await?;
        Ok(self
            .store
            .history("asset", &id.to_string(), limit, cursor)
            .await?)
    }

    /// The links that start or end at an asset, with the asset at the other end.
    pub async fn asset_relations(&self, ctx: &Ctx, id: Uuid) -> Result<Vec<RelationView>> {
        let a = self.load(id).await?;
        let reach = self.reach(ctx).await?;
        if let Some(p) = ctx.principal() {
            self.asset_allowed_within(ctx, p, reach.as_ref(), &a, AssetAccess::Read)
                .await?;
        }
        let rels = self.store.relations_of(&[id]).await?;
        let mut out = Vec::with_capacity(rels.len());
        for r in rels {
            let other_id = if r.from_id == id { r.to_id } else { r.from_id };
            let other = self.store.asset(other_id).await?;
            // A member sees the links between assets they reach, not the assets beyond.
            if let (Some(reach), Some(o)) = (&reach, &other) {
                if !reach.covers(o.id, o.owner_id) {
                    continue;
                }
            }
            out.push(relation_view(&r, id, other.as_ref()));
        }
        Ok(out)
    }

    /// Links an asset to another: `{"type": …, "to_id": …}` (this asset is the `from` end).
    pub async fn add_relation(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
    ) -> Result<RelationView> {
        let from = self.load(id).await?;
        self.asset_allowed(ctx, &from, AssetAccess::Manage).await?;
        let mut r = custodian_domain::input::Input::new(&body);
        r.reject_unknown(
            &["type", "to_id"],
            &["id", "from_id", "created_at", "direction", "other"],
            "a relation",
        );
        let rt = r.required("type", RelationType::from_json);
        let to_id = r.required("to_id", value::id);
        if to_id == Some(id) {
            r.add("to_id", "an asset cannot be linked to itself");
        }
        let (Some(rt), Some(to_id)) = (rt, to_id) else {
            return Err(AppError::Invalid(r.problems));
        };
        if !r.problems.is_empty() {
            return Err(AppError::Invalid(r.problems));
        }
        let Some(to) = self.store.asset(to_id).await? else {
            return Err(AppError::invalid(
                "to_id",
                format!("no asset has the id {to_id}"),
            ));
        };
        let now = custodian_domain::now();
        let rel = Relation {
            id: custodian_domain::new_id(),
            from_id: from.id,
            to_id,
            relation_type: rt,
            created_at: now,
        };
        let ev = NewEvent::new(
            &ctx.actor,
            "asset.linked",
            "asset",
            id,
            json!({"relation": {"after": {"id": rel.id, "type": rt, "to_id": to_id, "to_asset_number": to.asset_number}}}),
            ctx.request_id.as_deref(),
            now,
        );
        self.store
            .commit(ChangeSet::one(
                Write::Asset(AssetWrite::InsertRelation(rel.clone())),
                ev,
            ))
            .await?;
        Ok(relation_view(&rel, id, Some(&to)))
    }

    /// Removes a link.
    pub async fn remove_relation(&self, ctx: &Ctx, id: Uuid, relation_id: Uuid) -> Result<()> {
        let a = self.load(id).await?;
        self.asset_allowed(ctx, &a, AssetAccess::Manage).await?;
        let rel = self
            .store
            .relation(relation_id)
            .await?
            .filter(|r| r.from_id == id || r.to_id == id)
            .ok_or_else(|| AppError::not_found("relation", relation_id))?;
        let now = custodian_domain::now();
        let ev = NewEvent::new(
            &ctx.actor,
            "asset.unlinked",
            "asset",
            rel.from_id,
            json!({"relation": {"before": {"id": rel.id, "type": rel.relation_type, "to_id": rel.to_id}}}),
            ctx.request_id.as_deref(),
            now,
        );
        self.store
            .commit(ChangeSet::one(
                Write::Asset(AssetWrite::DeleteRelation(relation_id)),
                ev,
            ))
            .await?;
        Ok(())
    }
}

/// A secret field, revealed: an audited read.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Revealed {
    /// The field (`licence_key`).
    pub field: String,
    /// Its value.
    pub value: String,
}

/// A link as the API shows it, from one asset's side.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "Relation")]
pub struct RelationView {
    /// Identifier.
    pub id: Uuid,
    /// What the link says.
    #[serde(rename = "type")]
    pub relation_type: custodian_domain::asset::RelationType,
    /// The asset it goes from.
    pub from_id: Uuid,
    /// The asset it goes to.
    pub to_id: Uuid,
    /// `outgoing` from the asset asked about, or `incoming` to it.
    pub direction: Direction,
    /// The asset at the other end, when the caller may read it.
    pub other: Option<RelatedAsset>,
    /// When it was made.
    pub created_at: value::Timestamp,
}

/// Which way a link runs, seen from one of its assets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From this asset.
    Outgoing,
    /// To this asset.
    Incoming,
}

/// The asset at a link's other end.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct RelatedAsset {
    /// Identifier.
    pub id: Uuid,
    /// Its number.
    pub asset_number: String,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: custodian_domain::asset::AssetKind,
}

fn relation_view(r: &Relation, me: Uuid, other: Option<&Asset>) -> RelationView {
    RelationView {
        id: r.id,
        relation_type: r.relation_type,
        from_id: r.from_id,
        to_id: r.to_id,
        direction: if r.from_id == me {
            Direction::Outgoing
        } else {
            Direction::Incoming
        },
        other: other.map(|a| RelatedAsset {
            id: a.id,
            asset_number: a.asset_number.clone(),
            name: a.name.clone(),
            kind: a.kind,
        }),
        created_at: (&r.created_at).into(),
    }
}

/// A recorded review: who, when, and when the next one falls due.
#[derive(Clone, Debug)]
pub struct Review {
    /// The asset after the review.
    pub asset: AssetView,
    /// What the reviewer noted.
    pub notes: Option<String>,
}

impl App {
    /// Records that the signed-in person reviewed an asset (SPEC §6.6): last reviewed now,
    /// by them; the next review moves on by the classification's interval. Managers review
    /// any asset; a member the assets they own or were delegated.
    pub async fn review_asset(&self, ctx: &Ctx, body: Map<String, Value>) -> Result<Review> {
        self.allow(ctx, Action::ReviewAssets).await?;
        let mut r = custodian_domain::input::Input::new(&body);
        r.reject_unknown(&["asset_id", "notes", "version"], &[], "a review");
        let id = r.required("asset_id", value::id);
        let notes = r.optional("notes", |v| value::text(v, 2000)).flatten();
        let if_match: Precondition = r
            .optional("version", |v| {
                v.as_i64()
                    .ok_or_else(|| format!("must be a whole number, not {v}"))
            })
            .flatten()
            .into();
        let Some(id) = id else {
            return Err(AppError::Invalid(r.problems));
        };
        if !r.problems.is_empty() {
            return Err(AppError::Invalid(r.problems));
        }
        let cur = self.load(id).await?;
        self.asset_allowed(ctx, &cur, AssetAccess::EditRecord)
            .await?;
        check_version("asset", id, &if_match, cur.version)?;
        let Some(reviewer) = ctx.principal().and_then(|p| p.person_id) else {
            return Err(AppError::invalid(
                "asset_id",
                "a review is recorded in a person's name, and this account is not linked to a person",
            ));
        };
        if cur.status == Status::Disposed {
            return Err(AppError::invalid(
                "asset_id",
                "a disposed asset is not reviewed any more",
            ));
        }
        let scheme = self.scheme().await?;
        let level = scheme.level(&cur.classification)?;
        let now = custodian_domain::now();
        let next = cur.reviewed(reviewer, now, level.review_interval_days);
        let mut changes = audit::diff(&cur.audit_view(), &next.audit_view());
        if let Some(n) = &notes {
            changes.insert("notes".into(), json!(n));
        }
        let ev = NewEvent::new(
            &ctx.actor,
            "asset.reviewed",
            "asset",
            id,
            Value::Object(changes),
            ctx.request_id.as_deref(),
            now,
        );
        self.store
            .commit(ChangeSet {
                writes: vec![Write::Asset(AssetWrite::UpdateAsset {
                    asset: Box::new(next.clone()),
                    expected_version: cur.version,
                })],
                events: vec![ev],
            })
            .await
            .map_err(|e| race(e, &if_match))?;
        Ok(Review {
            asset: self.view(next).await?,
            notes,
        })
    }
}
