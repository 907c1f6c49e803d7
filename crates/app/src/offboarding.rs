//! Return of assets (SPEC §6.4, §6.8; ISO/IEC 27001 A.5.11): offboarding cases for people
//! entering notice or leaving, handover cases for people leaving a team or a role. Each
//! item is settled with who, when and evidence, and settling does the work where the
//! register can: a return takes the asset back, a hand-over moves the ownership or the
//! delegation, revoking access disables the person's accounts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_domain::access::Action;
use custodian_domain::asset::Asset;
use custodian_domain::audit::{self, NewEvent};
use custodian_domain::custody::{Assignment, AssignmentKind};
use custodian_domain::lifecycle::Status;
use custodian_domain::offboarding::{
    needs_successor, CaseItem, CaseKind, CasePatch, CaseStatus, ItemKind, ItemStatus, Offboarding,
    OpenRequest, Settlement, MAX_ITEMS_PER_KIND, NOTICE_CONTROLS,
};
use custodian_domain::party::{Delegation, Party, PartyKind, PersonStatus};
use custodian_store::{AccountWrite, AssetWrite, OffboardingWrite, PartyWrite};
use custodian_store::{
    AssetQuery, AssignmentQuery, ChangeSet, DelegationQuery, OffboardingQuery, Page, Within, Write,
};

use crate::custody::MAX_HELD;
use crate::Precondition;
use crate::{check_version, race, App, AppError, Ctx, Result};

/// A case as the API shows it: with, as of today, which items are overdue, how many are
/// open, and (while the person works their notice) the controls against unauthorised
/// copying.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "Offboarding")]
pub struct CaseView {
    /// Identifier.
    pub id: Uuid,
    /// The person leaving or moving.
    pub person_id: Uuid,
    /// Leaver or mover.
    pub kind: CaseKind,
    /// What opened it ("entered notice", "left the team Finance").
    pub reason: String,
    /// For a mover: the team or role they left.
    pub from_party_id: Option<Uuid>,
    /// The last day: items open after it are overdue.
    pub end_date: Option<chrono::NaiveDate>,
    /// Who takes over, unless an item names someone else.
    pub successor_id: Option<Uuid>,
    /// Open or closed.
    pub status: custodian_domain::offboarding::CaseStatus,
    /// The person who opened it (none when the system opened it).
    pub opened_by: Option<Uuid>,
    /// When it closed.
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The person who closed it.
    pub closed_by: Option<Uuid>,
    /// Anything said about the case.
    pub notes: Option<String>,
    /// What to settle, in order.
    pub items: Vec<CaseItemView>,
    /// Record version; also the ETag.
    pub version: i64,
    /// When it opened.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// How many items are open.
    pub open_items: usize,
    /// Whether an item is open past the end date.
    pub overdue: bool,
    /// While a leaver works their notice: the controls against unauthorised copying.
    pub notice_controls: Vec<NoticeControl>,
}

/// An item of a case, with whether it is overdue.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "OffboardingItem")]
pub struct CaseItemView {
    #[serde(flatten)]
    pub item: custodian_domain::offboarding::CaseItem,
    /// Open past the case's end date.
    pub overdue: bool,
}

/// A control against unauthorised copying while a leaver works their notice.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct NoticeControl {
    /// What to do.
    pub title: &'static str,
    /// Why, and how.
    pub description: &'static str,
}

impl CaseView {
    /// The case as of today; `in_notice` when its person works their notice.
    pub fn of(c: Offboarding, in_notice: bool) -> Self {
        let today = custodian_domain::now().date_naive();
        let open_items = c.open_items().count();
        let overdue = c.overdue(today);
        let notice_controls = if in_notice && c.kind == CaseKind::Leaver {
            NOTICE_CONTROLS
                .iter()
                .map(|(title, description)| NoticeControl { title, description })
                .collect()
        } else {
            Vec::new()
        };
        // Every field, so that a field added to a case cannot be left out of its view.
        let Offboarding {
            id,
            person_id,
            kind,
            reason,
            from_party_id,
            end_date,
            successor_id,
            status,
            opened_by,
            closed_at,
            closed_by,
            notes,
            items,
            version,
            created_at,
            updated_at,
        } = c;
        CaseView {
            items: items
                .into_iter()
                .map(|i| CaseItemView {
                    overdue: i.overdue(end_date, today),
                    item: i,
                })
                .collect(),
            id,
            person_id,
            kind,
            reason,
            from_party_id,
            end_date,
            successor_id,
            status,
            opened_by,
            closed_at,
            closed_by,
            notes,
            version,
            created_at,
            updated_at,
            open_items,
            overdue,
            notice_controls,
        }
    }
}

fn tag(a: &Asset) -> String {
    format!("{} {}", a.asset_number, a.name)
}

impl App {
    async fn load_case(&self, id: Uuid) -> Result<Offboarding> {
        self.store
            .offboarding(id)
            .await?
            .ok_or_else(|| AppError::not_found("offboarding case", id))
    }

    /// Assets by id, in one read.
    pub(crate) async fn assets_by_id(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Asset>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let q = AssetQuery {
                limit: 500,
                within: Some(Within {
                    parties: vec![],
                    ids: chunk.to_vec(),
                }),
                ..Default::default()
            };
            out.extend(
                self.store
                    .list_assets(&q)
                    .await?
                    .items
                    .into_iter()
                    .map(|a| (a.id, a)),
            );
        }
        Ok(out)
    }

    /// Assets a party owns that are not disposed of, up to `max`.
    async fn owned_assets(&self, owner: Uuid, max: usize) -> Result<Vec<Asset>> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let q = AssetQuery {
                limit: 500,
                cursor,
                owner_id: Some(owner),
                ..Default::default()
            };
            let page = self.store.list_assets(&q).await?;
            out.extend(
                page.items
                    .into_iter()
                    .filter(|a| a.status != Status::Disposed),
            );
            if out.len() >= max || page.next_cursor.is_none() {
                out.truncate(max);
                return Ok(out);
            }
            cursor = page.next_cursor;
        }
    }

    async fn active_delegations(&self, q: DelegationQuery) -> Result<Vec<Delegation>> {
        let q = DelegationQuery {
            limit: 500,
            active_only: true,
            ..q
        };
        Ok(self.store.list_delegations(&q).await?.items)
    }

    fn delegation_title(&self, d: &Delegation, names: &HashMap<Uuid, String>) -> String {
        let name = |id: Uuid| names.get(&id).cloned().unwrap_or_else(|| id.to_string());
        format!(
            "Hand over the {} delegation from {} to {}",
            d.task,
            name(d.owner_id),
            name(d.delegate_id)
        )
    }

    /// Everything a leaver has to settle today: what they hold, their personal devices,
    /// what they own, the delegations they give or hold, and their access.
    async fn leaver_items(&self, person: Uuid) -> Result<Vec<CaseItem>> {
        let mut items = Vec::new();
        let held: Vec<Assignment> = self
            .store
            .list_assignments(&AssignmentQuery {
                limit: MAX_HELD,
                person_id: Some(person),
                open: Some(true),
                ..Default::default()
            })
            .await?
            .items;
        let assets = self
            .assets_by_id(&held.iter().map(|a| a.asset_id).collect::<Vec<_>>())
            .await?;
        for a in &held {
            let what = assets
                .get(&a.asset_id)
                .map(tag)
                .unwrap_or_else(|| a.asset_id.to_string());
            let mut i = CaseItem::open(
                ItemKind::ReturnAsset,
                match a.kind {
                    AssignmentKind::Custody => format!("Return {what}"),
                    AssignmentKind::Seat => format!("Free their seat of {what}"),
                },
            );
            i.asset_id = Some(a.asset_id);
            i.assignment_id = Some(a.id);
            items.push(i);
        }
        for a in self.owned_assets(person, MAX_ITEMS_PER_KIND).await? {
            let personal = a.attrs.get("personal_device").and_then(Value::as_bool) == Some(true);
            if personal {
                let mut i = CaseItem::open(
                    ItemKind::ErasePersonalDevice,
                    format!(
                        "Transfer the company data on {} and erase it securely",
                        tag(&a)
                    ),
                );
                i.asset_id = Some(a.id);
                items.push(i);
                continue;
            }
            // A company device the leaver owns is most likely the one they use: it comes
            // back to stock before its ownership passes on (SPEC §6.4, A.5.11). One they hold
            // in custody is returned through that custody, listed above.
            if returns_to_stock(&a) && !self.in_custody(a.id).await? {
                let mut r = CaseItem::open(
                    ItemKind::ReturnAsset,
                    format!("Return {} to stock, with its condition", tag(&a)),
                );
                r.asset_id = Some(a.id);
                items.push(r);
            }
            let mut i = CaseItem::open(ItemKind::HandOverAsset, format!("Hand over {}", tag(&a)));
            i.asset_id = Some(a.id);
            items.push(i);
        }
        let mut delegations = self
            .active_delegations(DelegationQuery {
                owner_id: Some(person),
                ..Default::default()
            })
            .await?;
        delegations.extend(
            self.active_delegations(DelegationQuery {
                delegate_id: Some(person),
                ..Default::default()
            })
            .await?,
        );
        items.extend(self.delegation_items(&delegations).await?);
        items.push(CaseItem::open(
            ItemKind::RevokeAccess,
            "Revoke their access: accounts, tokens, keys, badges and shared secrets".into(),
        ));
        Ok(items)
    }

    async fn delegation_items(&self, ds: &[Delegation]) -> Result<Vec<CaseItem>> {
        let mut ids: Vec<Uuid> = ds
            .iter()
            .flat_map(|d| [d.owner_id, d.delegate_id])
            .collect();
        ids.sort();
        ids.dedup();
        let names: HashMap<Uuid, String> = self
            .store
            .parties(&ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        Ok(ds
            .iter()
            .map(|d| {
                let mut i = CaseItem::open(
                    ItemKind::HandOverDelegation,
                    self.delegation_title(d, &names),
                );
                i.delegation_id = Some(d.id);
                i.asset_id = d.asset_id;
                i
            })
            .collect())
    }

    /// What a person leaving a team or role hands over: what the team or role owns, the
    /// delegations they hold for it, and the access that came with it.
    async fn mover_items(&self, person: Uuid, from: &Party) -> Result<Vec<CaseItem>> {
        let mut items = Vec::new();
        for a in self.owned_assets(from.id, MAX_ITEMS_PER_KIND).await? {
            let mut i = CaseItem::open(
                ItemKind::HandOverAsset,
                format!(
                    "Hand over {} (owned by the {} {})",
                    tag(&a),
                    from.kind,
                    from.name
                ),
            );
            i.asset_id = Some(a.id);
            items.push(i);
        }
        let ds: Vec<Delegation> = self
            .active_delegations(DelegationQuery {
                owner_id: Some(from.id),
                delegate_id: Some(person),
                ..Default::default()
            })
            .await?;
        items.extend(self.delegation_items(&ds).await?);
        items.push(CaseItem::open(
            ItemKind::RevokeAccess,
            format!(
                "Remove the access that came with the {} {}",
                from.kind, from.name
            ),
        ));
        Ok(items)
    }

    /// A new case and the event that opens it.
    #[allow(clippy::too_many_arguments)]
    async fn opening(
        &self,
        ctx: &Ctx,
        person: &Party,
        from: Option<&Party>,
        reason: String,
        end_date: Option<chrono::NaiveDate>,
        successor_id: Option<Uuid>,
        notes: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(Offboarding, ChangeSet)> {
        let items = match from {
            Some(f) => self.mover_items(person.id, f).await?,
            None => self.leaver_items(person.id).await?,
        };
        let c = Offboarding {
            id: custodian_domain::new_id(),
            person_id: person.id,
            kind: if from.is_some() {
                CaseKind::Mover
            } else {
                CaseKind::Leaver
            },
            reason,
            from_party_id: from.map(|f| f.id),
            end_date,
            successor_id,
            status: CaseStatus::Open,
            opened_by: ctx.principal().and_then(|p| p.person_id),
            closed_at: None,
            closed_by: None,
            notes,
            items,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut view = c.audit_view();
        view.insert(
            "items".into(),
            Value::Array(c.items.iter().map(|i| json!(i.title)).collect()),
        );
        let cs = ChangeSet::one(
            Write::Offboarding(OffboardingWrite::InsertOffboarding(Box::new(c.clone()))),
            NewEvent::created(
                &ctx.actor,
                "offboarding.opened",
                "offboarding",
                c.id,
                &view,
                ctx.request_id.as_deref(),
                now,
            ),
        );
        Ok((c, cs))
    }

    /// The open cases of a person.
    async fn open_cases(&self, person: Uuid, kind: Option<CaseKind>) -> Result<Vec<Offboarding>> {
        let q = OffboardingQuery {
            limit: 100,
            person_id: Some(person),
            status: Some(CaseStatus::Open),
            kind,
            ..Default::default()
        };
        Ok(self.store.list_offboardings(&q).await?.items)
    }

    /// The cases a change of a party opens, in the change's own transaction: a person
    /// entering notice or leaving gets an offboarding case (unless one is open); a person
    /// leaving a team, or giving up a role, a handover case.
    pub(crate) async fn cases_for_party_change(
        &self,
        ctx: &Ctx,
        cur: &Party,
        next: &Party,
        now: DateTime<Utc>,
    ) -> Result<ChangeSet> {
        let mut out = ChangeSet::default();
        let mut add = |cs: ChangeSet| {
            out.writes.extend(cs.writes);
            out.events.extend(cs.events);
        };
        match next.kind {
            PartyKind::Person => {
                let leaving = matches!(
                    next.status,
                    Some(PersonStatus::Notice) | Some(PersonStatus::Left)
                );
                if leaving
                    && next.status != cur.status
                    && self
                        .open_cases(next.id, Some(CaseKind::Leaver))
                        .await?
                        .is_empty()
                {
                    let reason = match next.status {
                        Some(PersonStatus::Notice) => "entered notice",
                        _ => "left the organisation",
                    };
                    let (_, cs) = self
                        .opening(
                            ctx,
                            next,
                            None,
                            reason.into(),
                            next.end_date,
                            next.manager_id,
                            None,
                            now,
                        )
                        .await?;
                    add(cs);
                }
            }
            PartyKind::Team | PartyKind::Role => {
                let gone: Vec<Uuid> = match next.kind {
                    PartyKind::Team => cur
                        .member_ids
                        .iter()
                        .filter(|m| !next.member_ids.contains(m))
                        .copied()
                        .collect(),
                    _ => cur
                        .holder_id
                        .filter(|h| next.holder_id != Some(*h))
                        .into_iter()
                        .collect(),
                };
                let successor = if next.kind == PartyKind::Role {
                    next.holder_id
                } else {
                    None
                };
                for p in self.store.parties(&gone).await? {
                    if p.has_left() {
                        continue;
                    }
                    let reason = match next.kind {
                        PartyKind::Team => format!("left the team {}", cur.name),
                        _ => format!("gave up the role {}", cur.name),
                    };
                    let (_, cs) = self
                        .opening(ctx, &p, Some(cur), reason, None, successor, None, now)
                        .await?;
                    add(cs);
                }
            }
        }
        Ok(out)
    }

    /// Opens an offboarding case by hand (managers), for a person who has none open.
    pub async fn open_offboarding(
        &self,
        ctx: &Ctx,
        body: Map<String, Value>,
    ) -> Result<Offboarding> {
        self.allow(ctx, Action::ManageOffboarding).await?;
        let req = OpenRequest::from_input(&body)?;
        let person = self
            .require_person("person_id", req.person_id, false)
            .await?;
        if let Some(s) = req.successor_id {
            self.check_successor("successor_id", s, person.id).await?;
        }
        if let Some(open) = self
            .open_cases(person.id, Some(CaseKind::Leaver))
            .await?
            .first()
        {
            return Err(AppError::Conflict {
                message: format!(
                    "{} has an open offboarding case already ({})",
                    person.name, open.id
                ),
                field: Some("person_id".into()),
            });
        }
        let now = custodian_domain::now();
        let reason = match person.status {
            Some(PersonStatus::Notice) => "in notice",
            Some(PersonStatus::Left) => "left the organisation",
            _ => "opened by hand",
        };
        let (c, cs) = self
            .opening(
                ctx,
                &person,
                None,
                reason.into(),
                req.end_date.or(person.end_date),
                req.successor_id.or(person.manager_id),
                req.notes,
                now,
            )
            .await?;
        self.store.commit(cs).await?;
        Ok(c)
    }

    async fn check_successor(&self, field: &str, id: Uuid, person: Uuid) -> Result<Party> {
        if id == person {
            return Err(AppError::invalid(
                field,
                "the successor must be someone else than the person leaving",
            ));
        }
        match self.store.party(id).await? {
            None => Err(AppError::invalid(
                field,
                format!("no person, team or role has the id {id}"),
            )),
            Some(p) if p.has_left() => Err(AppError::invalid(
                field,
                format!("{} has left the organisation", p.name),
            )),
            Some(p) => Ok(p),
        }
    }

    /// Whether the caller may read a case: those who read the register, and the person
    /// it is about.
    async fn may_read_case(&self, ctx: &Ctx, c: &Offboarding) -> Result<bool> {
        Ok(self
            .personal_filter(ctx, Some(c.person_id))
            .await?
            .is_some())
    }

    /// One case.
    pub async fn get_offboarding(&self, ctx: &Ctx, id: Uuid) -> Result<Offboarding> {
        self.allow(ctx, Action::ReadReference).await?;
        let c = self.load_case(id).await?;
        if !self.may_read_case(ctx, &c).await? {
            return Err(AppError::not_found("offboarding case", id));
        }
        Ok(c)
    }

    /// A page of cases: every one for readers of the register, else the caller's own.
    pub async fn list_offboardings(
        &self,
        ctx: &Ctx,
        mut q: OffboardingQuery,
    ) -> Result<Page<Offboarding>> {
        let store = self.store.clone();
        self.personal_page(ctx, q.person_id, |person| {
            q.person_id = person;
            async move { store.list_offboardings(&q).await }
        })
        .await
    }

    /// Whether the person a case is about is working their notice.
    pub async fn in_notice(&self, c: &Offboarding) -> Result<bool> {
        Ok(self
            .store
            .party(c.person_id)
            .await?
            .is_some_and(|p| p.status == Some(PersonStatus::Notice)))
    }

    fn case_update(
        &self,
        ctx: &Ctx,
        cur: &Offboarding,
        next: &Offboarding,
        action: &str,
        mut changes: Map<String, Value>,
        now: DateTime<Utc>,
    ) -> ChangeSet {
        changes.extend(audit::diff(&cur.audit_view(), &next.audit_view()));
        ChangeSet::one(
            Write::Offboarding(OffboardingWrite::UpdateOffboarding {
                case: Box::new(next.clone()),
                items: next
                    .items
                    .iter()
                    .filter(|item| !cur.items.contains(item))
                    .map(|item| item.id)
                    .collect(),
                expected_version: cur.version,
            }),
            NewEvent::new(
                &ctx.actor,
                action,
                "offboarding",
                cur.id,
                Value::Object(changes),
                ctx.request_id.as_deref(),
                now,
            ),
        )
    }

    fn require_open(c: &Offboarding) -> Result<()> {
        if c.status == CaseStatus::Closed {
            return Err(AppError::Conflict {
                message: "the case is closed".into(),
                field: None,
            });
        }
        Ok(())
    }

    /// Changes a case's end date, successor or notes (managers).
    pub async fn update_offboarding(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<Offboarding> {
        self.allow(ctx, Action::ManageOffboarding).await?;
        let patch = CasePatch::from_input(&body)?;
        let cur = self.load_case(id).await?;
        check_version("offboarding case", id, &if_match, cur.version)?;
        Self::require_open(&cur)?;
        let mut next = cur.clone();
        if let Some(d) = patch.end_date {
            next.end_date = d;
        }
        if let Some(s) = patch.successor_id {
            if let Some(s) = s {
                self.check_successor("successor_id", s, cur.person_id)
                    .await?;
            }
            next.successor_id = s;
        }
        if let Some(n) = patch.notes {
            next.notes = n;
        }
        if next == cur {
            return Ok(cur);
        }
        let now = custodian_domain::now();
        next.version += 1;
        next.updated_at = now;
        let cs = self.case_update(ctx, &cur, &next, "offboarding.updated", Map::new(), now);
        self.store
            .commit(cs)
            .await
            .map_err(|e| race(e, &if_match))?;
        Ok(next)
    }

    /// Lists what has come up since the case opened (an asset issued meanwhile, a new
    /// delegation), so that nothing is forgotten.
    pub async fn refresh_offboarding(
        &self,
        ctx: &Ctx,
        id: Uuid,
        if_match: Precondition,
    ) -> Result<Offboarding> {
        self.allow(ctx, Action::ManageOffboarding).await?;
        let cur = self.load_case(id).await?;
        check_version("offboarding case", id, &if_match, cur.version)?;
        Self::require_open(&cur)?;
        let found = match cur.from_party_id {
            Some(from) => {
                let Some(from) = self.store.party(from).await? else {
                    return Ok(cur);
                };
                self.mover_items(cur.person_id, &from).await?
            }
            None => self.leaver_items(cur.person_id).await?,
        };
        let mut next = cur.clone();
        let added = next.add_missing(found);
        if added == 0 {
            return Ok(cur);
        }
        let now = custodian_domain::now();
        next.version += 1;
        next.updated_at = now;
        let titles: Vec<Value> = next.items[cur.items.len()..]
            .iter()
            .map(|i| json!(i.title))
            .collect();
        let mut changes = Map::new();
        changes.insert("items_added".into(), Value::Array(titles));
        let cs = self.case_update(ctx, &cur, &next, "offboarding.refreshed", changes, now);
        self.store
            .commit(cs)
            .await
            .map_err(|e| race(e, &if_match))?;
        Ok(next)
    }

    /// Settles one item with evidence; where the register can, doing the work in the same
    /// change: the asset is taken back, the ownership or delegation handed over, the
    /// accounts disabled.
    pub async fn settle_offboarding_item(
        &self,
        ctx: &Ctx,
        id: Uuid,
        item_id: Uuid,
        body: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<Offboarding> {
        self.allow(ctx, Action::ManageOffboarding).await?;
        let now = custodian_domain::now();
        let s = Settlement::from_input(&body, now)?;
        let cur = self.load_case(id).await?;
        check_version("offboarding case", id, &if_match, cur.version)?;
        Self::require_open(&cur)?;
        let Some(pos) = cur.items.iter().position(|i| i.id == item_id) else {
            return Err(AppError::not_found("offboarding item", item_id));
        };
        let item = cur.items[pos].clone();
        if item.status == ItemStatus::Settled {
            return Err(AppError::Conflict {
                message: format!(
                    "\"{}\" was settled on {} already",
                    item.title,
                    item.settled_at
                        .map(|t| t.date_naive().to_string())
                        .unwrap_or_default()
                ),
                field: None,
            });
        }
        let at = s.settled_at.unwrap_or(now);
        let successor = if needs_successor(item.kind) {
            let Some(sid) = s.successor_id.or(cur.successor_id) else {
                return Err(AppError::invalid(
                    "successor_id",
                    "is required: name who takes it over (or set the case's successor)",
                ));
            };
            Some(
                self.check_successor("successor_id", sid, cur.person_id)
                    .await?,
            )
        } else {
            None
        };
        if item.kind == ItemKind::HandOverAsset {
            let unreturned = cur.items.iter().find(|i| {
                i.kind == ItemKind::ReturnAsset
                    && i.asset_id == item.asset_id
                    && i.status != ItemStatus::Settled
            });
            if let Some(r) = unreturned {
                return Err(AppError::Conflict {
                    message: format!(
                        "\"{}\" comes first: a device goes back to stock before its ownership is handed over",
                        r.title
                    ),
                    field: None,
                });
            }
        }
        let mut work = ChangeSet::default();
        match item.kind {
            ItemKind::ReturnAsset if item.assignment_id.is_none() => {
                if let Some(asset) = match item.asset_id {
                    Some(aid) => self.store.asset(aid).await?,
                    None => None,
                } {
                    // Only what is still the leaver's and with nobody else: a device issued
                    // to a colleague meanwhile is taken back through its own custody.
                    if asset.owner_id == cur.person_id
                        && returns_to_stock(&asset)
                        && !self.in_custody(asset.id).await?
                    {
                        let condition = s.condition.clone().unwrap_or_else(|| s.evidence.clone());
                        work = back_to_stock(ctx, &asset, &condition, now);
                    }
                }
            }
            ItemKind::ReturnAsset => {
                if let Some(aid) = item.assignment_id {
                    if let Some(a) = self.store.assignment(aid).await? {
                        if a.returned_at.is_none() {
                            if at < a.issued_at {
                                return Err(AppError::invalid(
                                    "settled_at",
                                    format!(
                                        "must not be before it was issued ({})",
                                        a.issued_at.date_naive()
                                    ),
                                ));
                            }
                            let condition = s.condition.clone().or(Some(s.evidence.clone()));
                            work = self.returning(ctx, &a, condition, at, now).await?.1;
                        }
                    }
                }
            }
            ItemKind::HandOverAsset => {
                if let (Some(aid), Some(to)) = (item.asset_id, &successor) {
                    if let Some(asset) = self.store.asset(aid).await? {
                        if asset.owner_id == cur.person_id {
                            work = self.owner_change(ctx, &asset, to.id, &s.evidence, now);
                        }
                    }
                }
            }
            ItemKind::HandOverDelegation => {
                if let (Some(did), Some(to)) = (item.delegation_id, &successor) {
                    if let Some(d) = self.store.delegation(did).await? {
                        work = self
                            .delegation_handover(ctx, &d, cur.person_id, to, now)
                            .await?;
                    }
                }
            }
            ItemKind::RevokeAccess => {
                if cur.kind == CaseKind::Leaver {
                    work = self.revoke_accounts(ctx, cur.person_id, now).await?;
                }
            }
            ItemKind::ErasePersonalDevice => {}
        }
        let mut next = cur.clone();
        {
            let i = &mut next.items[pos];
            i.status = ItemStatus::Settled;
            i.settled_at = Some(at);
            i.settled_by = ctx.principal().and_then(|p| p.person_id);
            i.evidence = Some(s.evidence.clone());
            i.successor_id = successor.as_ref().map(|p| p.id);
        }
        next.version += 1;
        next.updated_at = now;
        let mut changes = Map::new();
        changes.insert(
            "item".into(),
            json!({"id": item.id, "kind": item.kind, "title": item.title, "evidence": s.evidence,
                "successor_id": successor.as_ref().map(|p| p.id), "settled_at": at}),
        );
        let mut cs = self.case_update(ctx, &cur, &next, "offboarding.item_settled", changes, now);
        cs.writes.extend(work.writes);
        cs.events.extend(work.events);
        let r = self.store.commit(cs).await.map_err(|e| race(e, &if_match));
        if item.kind == ItemKind::RevokeAccess {
            self.forget_credentials();
        }
        r?;
        Ok(next)
    }

    /// Whether anyone holds the asset now.
    async fn in_custody(&self, asset: Uuid) -> Result<bool> {
        Ok(!self
            .store
            .list_assignments(&AssignmentQuery {
                limit: 1,
                asset_id: Some(asset),
                open: Some(true),
                ..Default::default()
            })
            .await?
            .items
            .is_empty())
    }

    fn owner_change(
        &self,
        ctx: &Ctx,
        asset: &Asset,
        to: Uuid,
        why: &str,
        now: DateTime<Utc>,
    ) -> ChangeSet {
        let mut next = asset.clone();
        next.owner_id = to;
        next.version += 1;
        next.updated_at = now;
        let mut changes = audit::diff(&asset.audit_view(), &next.audit_view());
        changes.insert("reason".into(), json!(why));
        ChangeSet::one(
            Write::Asset(AssetWrite::UpdateAsset {
                asset: Box::new(next),
                expected_version: asset.version,
            }),
            NewEvent::new(
                &ctx.actor,
                "asset.handed_over",
                "asset",
                asset.id,
                Value::Object(changes),
                ctx.request_id.as_deref(),
                now,
            ),
        )
    }

    /// Ends a delegation the person gives or holds and, where it still makes sense, gives
    /// the same task to the successor in their place.
    async fn delegation_handover(
        &self,
        ctx: &Ctx,
        d: &Delegation,
        person: Uuid,
        to: &Party,
        now: DateTime<Utc>,
    ) -> Result<ChangeSet> {
        let mut cs = ChangeSet::default();
        let reason = format!("handed over to {}", to.name);
        if d.ended_at.is_none() {
            cs.events.push(NewEvent::new(
                &ctx.actor,
                "delegation.ended",
                "delegation",
                d.id,
                json!({"ended_at": {"after": now}, "end_reason": {"after": reason}}),
                ctx.request_id.as_deref(),
                now,
            ));
            cs.writes.push(Write::Party(PartyWrite::EndDelegation {
                id: d.id,
                ended_at: now,
                reason,
            }));
        }
        let (owner, delegate) = if d.delegate_id == person {
            (d.owner_id, to.id)
        } else {
            (to.id, d.delegate_id)
        };
        let owner_holds = match d.asset_id {
            None => true,
            Some(a) => self
                .store
                .asset(a)
                .await?
                .is_some_and(|a| a.owner_id == owner || a.owner_id == person),
        };
        if owner != delegate && owner_holds {
            let n = Delegation {
                id: custodian_domain::new_id(),
                owner_id: owner,
                delegate_id: delegate,
                task: d.task,
                asset_id: d.asset_id,
                note: Some(format!("taken over from delegation {}", d.id)),
                created_at: now,
                ended_at: None,
                end_reason: None,
            };
            cs.events.push(NewEvent::new(
                &ctx.actor,
                "delegation.created",
                "delegation",
                n.id,
                json!({"owner_id": {"after": n.owner_id}, "delegate_id": {"after": n.delegate_id},
                    "task": {"after": n.task}, "asset_id": {"after": n.asset_id}, "note": {"after": n.note}}),
                ctx.request_id.as_deref(),
                now,
            ));
            cs.writes
                .push(Write::Party(PartyWrite::InsertDelegation(n)));
        }
        Ok(cs)
    }

    /// Disables the person's enabled accounts (admins). Anyone else settling the item while
    /// an account is enabled is told which, so an admin disables it.
    async fn revoke_accounts(
        &self,
        ctx: &Ctx,
        person: Uuid,
        now: DateTime<Utc>,
    ) -> Result<ChangeSet> {
        let mut cs = ChangeSet::default();
        let mut cursor = None;
        let mut enabled = Vec::new();
        loop {
            let page = self.store.list_users(500, cursor).await?;
            enabled.extend(
                page.items
                    .into_iter()
                    .filter(|u| u.person_id == Some(person) && !u.disabled),
            );
            if page.next_cursor.is_none() {
                break;
            }
            cursor = page.next_cursor;
        }
        if enabled.is_empty() {
            return Ok(cs);
        }
        if ctx
            .principal()
            .is_some_and(|p| p.check(Action::ManageUsers).is_err())
        {
            let names: Vec<String> = enabled.iter().map(|u| u.email.clone()).collect();
            return Err(AppError::Conflict {
                message: format!(
                    "their Custodian account {} is still enabled: an admin disables it, or settles this item",
                    names.join(", ")
                ),
                field: None,
            });
        }
        for u in enabled {
            if ctx.principal().is_some_and(|p| p.user_id == u.id) {
                return Err(AppError::Conflict {
                    message: "an admin cannot disable their own account: ask another admin".into(),
                    field: None,
                });
            }
            let mut next = u.clone();
            next.disabled = true;
            next.version += 1;
            next.updated_at = now;
            let mut changes = audit::diff(&u.audit_view(), &next.audit_view());
            changes.insert("reason".into(), json!("offboarding"));
            cs.events
                .push(self.event(ctx, "user.updated", "user", u.id, Value::Object(changes)));
            cs.writes.push(Write::Account(AccountWrite::UpdateUser {
                user: Box::new(next),
                expected_version: u.version,
            }));
            cs.writes
                .push(Write::Account(AccountWrite::DeleteUserSessions(u.id)));
            cs.writes
                .push(Write::Account(AccountWrite::RevokeUserTokens {
                    user_id: u.id,
                    at: now,
                }));
        }
        Ok(cs)
    }

    /// When an asset comes back through custody, the offboarding item that asked for it is
    /// settled in the same change.
    pub(crate) async fn settle_on_return(
        &self,
        ctx: &Ctx,
        cur: &Assignment,
        returned: &Assignment,
        cs: &mut ChangeSet,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let Some(person) = cur.person_id else {
            return Ok(());
        };
        for case in self.open_cases(person, None).await? {
            let Some(pos) = case
                .items
                .iter()
                .position(|i| i.assignment_id == Some(cur.id) && i.status == ItemStatus::Open)
            else {
                continue;
            };
            let mut next = case.clone();
            let evidence = format!(
                "returned through custody{}",
                returned
                    .condition
                    .as_deref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            );
            let i = &mut next.items[pos];
            i.status = ItemStatus::Settled;
            i.settled_at = returned.returned_at;
            i.settled_by = ctx.principal().and_then(|p| p.person_id);
            i.evidence = Some(evidence.clone());
            next.version += 1;
            next.updated_at = now;
            let mut changes = Map::new();
            changes.insert(
                "item".into(),
                json!({"id": i.id, "kind": i.kind, "title": i.title, "evidence": evidence}),
            );
            let more =
                self.case_update(ctx, &case, &next, "offboarding.item_settled", changes, now);
            cs.writes.extend(more.writes);
            cs.events.extend(more.events);
        }
        Ok(())
    }

    /// Closes a case once every item is settled (managers).
    pub async fn close_offboarding(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<Offboarding> {
        self.allow(ctx, Action::ManageOffboarding).await?;
        let mut r = custodian_domain::input::Input::new(&body);
        r.reject_unknown(&["notes"], &[], "a closing");
        let notes = r.optional("notes", |v| custodian_domain::value::text(v, 4000));
        let problems = r.problems;
        let Some(notes) = notes.filter(|_| problems.is_empty()) else {
            return Err(AppError::Invalid(problems));
        };
        let cur = self.load_case(id).await?;
        check_version("offboarding case", id, &if_match, cur.version)?;
        if let Err(why) = cur.may_close() {
            return Err(AppError::Conflict {
                message: why,
                field: None,
            });
        }
        let now = custodian_domain::now();
        let mut next = cur.clone();
        next.status = CaseStatus::Closed;
        next.closed_at = Some(now);
        next.closed_by = ctx.principal().and_then(|p| p.person_id);
        if notes.is_some() {
            next.notes = notes;
        }
        next.version += 1;
        next.updated_at = now;
        let cs = self.case_update(ctx, &cur, &next, "offboarding.closed", Map::new(), now);
        self.store
            .commit(cs)
            .await
            .map_err(|e| race(e, &if_match))?;
        Ok(next)
    }
}

impl App {
    /// The id of the asset with this number, if the caller may see it (forms that take
    /// asset numbers: an asset the caller may not see is as unknown as a missing one).
    pub async fn find_asset_by_number(&self, ctx: &Ctx, number: &str) -> Result<Option<Uuid>> {
        let Some(a) = self.store.asset_by_number(number).await? else {
            return Ok(None);
        };
        match self.get_asset(ctx, a.id).await {
            Ok(_) => Ok(Some(a.id)),
            Err(AppError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The views of cases, reading in one go whether each person works their notice.
    pub async fn case_views(&self, cases: Vec<Offboarding>) -> Result<Vec<CaseView>> {
        let ids: Vec<Uuid> = cases.iter().map(|c| c.person_id).collect();
        let notice: Vec<Uuid> = self
            .store
            .parties(&ids)
            .await?
            .into_iter()
            .filter(|p| p.status == Some(PersonStatus::Notice))
            .map(|p| p.id)
            .collect();
        Ok(cases
            .into_iter()
            .map(|c| {
                let n = notice.contains(&c.person_id);
                CaseView::of(c, n)
            })
            .collect())
    }

    /// The view of one case.
    pub async fn case_view(&self, c: Offboarding) -> Result<CaseView> {
        let in_notice = self
            .store
            .parties(&[c.person_id])
            .await?
            .first()
            .is_some_and(|p| p.status == Some(PersonStatus::Notice));
        Ok(CaseView::of(c, in_notice))
    }
}

/// Whether a leaver's own asset is a device that comes back to stock: not one lost,
/// stolen or already out of use.
fn returns_to_stock(a: &Asset) -> bool {
    a.kind == custodian_domain::asset::AssetKind::Physical
        && !matches!(a.status, Status::Lost | Status::Stolen)
        && a.status.can_become(Status::InStock)
}

/// A device the leaver owned and used, back in stock with its condition.
fn back_to_stock(ctx: &Ctx, asset: &Asset, condition: &str, now: DateTime<Utc>) -> ChangeSet {
    if !asset.status.can_become(Status::InStock) {
        return ChangeSet::default();
    }
    let mut next = asset.clone();
    next.status = Status::InStock;
    next.version += 1;
    next.updated_at = now;
    let mut changes = audit::diff(&asset.audit_view(), &next.audit_view());
    changes.insert("condition".into(), json!(condition));
    ChangeSet {
        writes: vec![Write::Asset(AssetWrite::UpdateAsset {
            asset: Box::new(next),
            expected_version: asset.version,
        })],
        events: vec![NewEvent::new(
            &ctx.actor,
            "asset.returned",
            "asset",
            asset.id,
            Value::Object(changes),
            ctx.request_id.as_deref(),
            now,
        )],
    }
}
