//! Custody and software seats (SPEC §6.1–§6.3; ISO/IEC 27001 A.5.10, A.5.11, A.7.9):
//! issuing an asset checks the holder's acknowledgement of the acceptable-use policy, the
//! off-premises rule of every classification the asset carries, and the licences
//! purchased; taking it back records its condition.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_domain::access::Action;
use custodian_domain::asset::{Asset, AssetKind};
use custodian_domain::audit::{self, NewEvent};
use custodian_domain::classification::{Classification, Handling};
use custodian_domain::custody::{
    off_premises_rule, return_input, Assignment, AssignmentKind, AssignmentOutcome, IssueRequest,
};
use custodian_domain::exception::ExceptionRule;
use custodian_domain::lifecycle::Status;
use custodian_domain::party::Party;
use custodian_store::{AssetWrite, CustodyWrite};
use custodian_store::{AssignmentQuery, ChangeSet, Page, Write};

use crate::rules::{self, Enforcement};
use crate::Precondition;
use crate::{check_version, race, App, AppError, Ctx, Result};

/// The most assignments of one person or asset read at once (a member's reach, a case).
pub const MAX_HELD: u32 = 500;

/// An assignment as the API shows it: with whether it is open and overdue as of today.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "Assignment")]
pub struct AssignmentView {
    #[serde(flatten)]
    pub assignment: Assignment,
    /// Not returned yet.
    pub open: bool,
    /// Open past its expected return date.
    pub overdue: bool,
}

impl AssignmentView {
    /// The assignment as of today.
    pub fn of(a: Assignment) -> Self {
        let today = custodian_domain::now().date_naive();
        let open = a.returned_at.is_none();
        let overdue = open && a.expected_return_at.is_some_and(|d| d < today);
        AssignmentView {
            assignment: a,
            open,
            overdue,
        }
    }
}

fn view(a: &Assignment) -> Map<String, Value> {
    match serde_json::to_value(a) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// A level an asset carries and where it comes from.
pub struct Carried {
    /// Where: "the asset itself" or "the data it stores: AST-000042 Payroll".
    pub because: String,
    /// The level.
    pub level: Classification,
}

impl App {
    async fn load_assignment(&self, id: Uuid) -> Result<Assignment> {
        self.store
            .assignment(id)
            .await?
            .ok_or_else(|| AppError::not_found("assignment", id))
    }

    /// The levels an asset carries: its own, and through `stores` and `contains` links,
    /// however deep, those of what it holds (a laptop that stores restricted data is
    /// handled as restricted).
    pub async fn carried_levels(&self, asset: &Asset) -> Result<Vec<Carried>> {
        let scheme = self.scheme().await?;
        let mut out = vec![Carried {
            because: "the asset itself".into(),
            level: scheme.level(&asset.classification)?.clone(),
        }];
        let held = self
            .held_levels(std::slice::from_ref(asset), None)
            .await?
            .remove(&asset.id)
            .unwrap_or_default();
        for h in held {
            if let Some(l) = scheme.levels.iter().find(|l| l.key == h.level) {
                out.push(Carried {
                    because: h.because,
                    level: l.clone(),
                });
            }
        }
        Ok(out)
    }

    /// The level whose disposal rule an asset is held to: its own, or a stricter one it
    /// carries through what it holds, named with where it comes from.
    pub(crate) async fn effective_disposal_level(
        &self,
        asset: &Asset,
        scheme: &crate::assets::Scheme,
    ) -> Result<Classification> {
        let carried = self.carried_levels(asset).await?;
        let as_domain: Vec<custodian_domain::compliance::effective::Carried> = carried
            .iter()
            .map(|c| custodian_domain::compliance::effective::Carried {
                because: c.because.clone(),
                level: &c.level,
            })
            .collect();
        let eff = custodian_domain::compliance::effective::effective(&as_domain);
        let own = scheme.level(&asset.classification)?.clone();
        Ok(match eff.disposal {
            Some((_, src)) if src.level != own.key => {
                let mut l = carried
                    .iter()
                    .find(|c| c.level.key == src.level)
                    .map(|c| c.level.clone())
                    .unwrap_or(own);
                l.name = format!("{} ({})", l.name, src.because);
                l
            }
            _ => own,
        })
    }

    /// The open custody of an asset, if someone holds it.
    pub async fn holder_of(&self, asset: Uuid) -> Result<Option<Assignment>> {
        let q = AssignmentQuery {
            limit: 1,
            asset_id: Some(asset),
            kind: Some(AssignmentKind::Custody),
            open: Some(true),
            ..Default::default()
        };
        Ok(self.store.list_assignments(&q).await?.items.pop())
    }

    /// Assets in a person's custody or with a seat of theirs (for a member's reach).
    pub(crate) async fn held_by(&self, person: Uuid) -> Result<Vec<Uuid>> {
        let q = AssignmentQuery {
            limit: MAX_HELD,
            person_id: Some(person),
            open: Some(true),
            ..Default::default()
        };
        Ok(self
            .store
            .list_assignments(&q)
            .await?
            .items
            .into_iter()
            .map(|a| a.asset_id)
            .collect())
    }

    /// Issues an asset to a person, or assigns a software seat to a person or a host
    /// (managers). Every rule that refuses names itself; rules set to warn are recorded
    /// in the assignment's `warnings`.
    pub async fn issue_asset(&self, ctx: &Ctx, body: Map<String, Value>) -> Result<Assignment> {
        self.allow(ctx, Action::ManageAssets).await?;
        let req = IssueRequest::from_input(&body)?;
        let now = custodian_domain::now();
        let Some(asset) = self.store.asset(req.asset_id).await? else {
            return Err(AppError::invalid(
                "asset_id",
                format!("no asset has the id {}", req.asset_id),
            ));
        };
        let tag = format!("{} {}", asset.asset_number, asset.name);
        let kind =
            AssignmentKind::for_asset(asset.kind).map_err(|m| AppError::invalid("asset_id", m))?;
        let issuable = match kind {
            AssignmentKind::Custody => {
                matches!(
                    asset.status,
                    Status::Planned | Status::InStock | Status::InUse
                )
            }
            AssignmentKind::Seat => !matches!(
                asset.status,
                Status::Retired | Status::Disposed | Status::Lost | Status::Stolen
            ),
        };
        if !issuable {
            return Err(AppError::invalid(
                "asset_id",
                format!(
                    "{tag} is {}: only assets planned, in stock or in use are issued",
                    asset.status
                ),
            ));
        }
        let issued_at = req.issued_at.unwrap_or(now);
        if issued_at > now {
            return Err(AppError::invalid("issued_at", "must not be in the future"));
        }
        let mut warnings = Vec::new();
        let mut exception_id = None;

        // The holder.
        let holder: Option<Party> = match req.person_id {
            Some(p) => Some(self.require_person("person_id", p, true).await?),
            None => None,
        };
        if let Some(h) = req.host_id {
            if kind != AssignmentKind::Seat {
                return Err(AppError::invalid(
                    "host_id",
                    "only software seats go to a host; a device is issued to a person",
                ));
            }
            match self.store.asset(h).await? {
                Some(host) if matches!(host.kind, AssetKind::Physical | AssetKind::Virtual) => {
                    if host.status == Status::Disposed {
                        return Err(AppError::invalid(
                            "host_id",
                            format!("{} is disposed of", host.asset_number),
                        ));
                    }
                }
                Some(host) => {
                    return Err(AppError::invalid(
                        "host_id",
                        format!(
                            "{} is a {} asset: a seat is installed on a physical or virtual one",
                            host.asset_number, host.kind
                        ),
                    ))
                }
                None => {
                    return Err(AppError::invalid(
                        "host_id",
                        format!("no asset has the id {h}"),
                    ))
                }
            }
        }
        if kind == AssignmentKind::Custody {
            if let Some(cur) = self.holder_of(asset.id).await? {
                let who = match cur.person_id {
                    Some(p) => self.party_name(p).await?,
                    None => "someone".into(),
                };
                return Err(AppError::Conflict {
                    message: format!(
                        "{tag} is held by {who} since {}: take it back first",
                        cur.issued_at.date_naive()
                    ),
                    field: Some("asset_id".into()),
                });
            }
        } else if let Some(p) = req.person_id.or(req.host_id) {
            let q = AssignmentQuery {
                limit: 1,
                asset_id: Some(asset.id),
                person_id: req.person_id,
                host_id: req.host_id,
                open: Some(true),
                ..Default::default()
            };
            if !self.store.list_assignments(&q).await?.items.is_empty() {
                return Err(AppError::Conflict {
                    message: format!("{tag} has a seat assigned to {p} already"),
                    field: Some(
                        if req.person_id.is_some() {
                            "person_id"
                        } else {
                            "host_id"
                        }
                        .into(),
                    ),
                });
            }
        }

        // Off the premises (A.7.9).
        let mut off = req.off_premises;
        if let Some(l) = req.location_id {
            match self.store.location(l).await? {
                Some(loc) => off |= !loc.on_premises,
                None => {
                    return Err(AppError::invalid(
                        "location_id",
                        format!("no location has the id {l}"),
                    ))
                }
            }
        }
        let mut approved_by = None;
        if off {
            let carried = self.carried_levels(&asset).await?;
            let pairs: Vec<(String, &Classification)> = carried
                .iter()
                .map(|c| (c.because.clone(), &c.level))
                .collect();
            if let Some(rule) = off_premises_rule(&pairs) {
                match rule.handling {
                    Handling::Allowed => {}
                    Handling::ApprovalRequired => {
                        let Some(a) = req.approved_by else {
                            return Err(AppError::invalid("approved_by", rule.describe()));
                        };
                        let approver = self.require_person("approved_by", a, true).await?;
                        if Some(a) == req.person_id {
                            return Err(AppError::invalid(
                                "approved_by",
                                "the holder cannot approve taking it off the premises themselves",
                            ));
                        }
                        approved_by = Some(approver.id);
                    }
                    Handling::Forbidden => {
                        match self
                            .exception_covering(ExceptionRule::OffPremises, asset.id)
                            .await?
                        {
                            Some(x) => {
                                exception_id = Some(x.id);
                                approved_by = x.approver_id;
                            }
                            None => {
                                let field = if req.off_premises {
                                    "off_premises"
                                } else {
                                    "location_id"
                                };
                                return Err(AppError::invalid(field, rule.describe()));
                            }
                        }
                    }
                }
            }
        }

        // The acceptable-use policy (A.5.10).
        let mut policy_id = None;
        if let Some(h) = &holder {
            let standing = self.aup_standing(h.id).await?;
            if let Some(ack) = &standing.acknowledgement {
                policy_id = Some(ack.policy_id);
            } else if let Some(cur) = &standing.current {
                let why = format!(
                    "{} has not acknowledged the {} version {} in force: they acknowledge it first on their Acceptable use page",
                    h.name, cur.title, cur.number
                );
                if let Some(x) = self
                    .exception_covering(ExceptionRule::AcceptableUse, asset.id)
                    .await?
                {
                    warnings.push(format!("{why}; issued under exception {}", x.id));
                    exception_id.get_or_insert(x.id);
                } else if self.enforcement(rules::ACCEPTABLE_USE).await? == Enforcement::Refuse {
                    return Err(AppError::invalid(
                        "person_id",
                        format!("{why}, or an admin approves an exception (rule acceptable_use)"),
                    ));
                } else {
                    warnings.push(why);
                }
            }
        }

        // Licences (A.5.32).
        let mut next_asset = asset.clone();
        let mut asset_changed = false;
        if kind == AssignmentKind::Seat {
            let used = self.store.count_open_assignments(asset.id).await? + 1;
            if let Some(bought) = asset.licences().purchased {
                if used > bought {
                    let why = format!(
                        "{used} seats of {tag} would be assigned and {bought} licences were purchased"
                    );
                    if let Some(x) = self
                        .exception_covering(ExceptionRule::LicenceOverallocation, asset.id)
                        .await?
                    {
                        warnings.push(format!("{why}; assigned under exception {}", x.id));
                        exception_id.get_or_insert(x.id);
                    } else if self.enforcement(rules::LICENCE_OVERALLOCATION).await?
                        == Enforcement::Refuse
                    {
                        return Err(AppError::invalid(
                            "asset_id",
                            format!("{why}: buy more, take a seat back, or an admin approves an exception (rule licence_overallocation)"),
                        ));
                    } else {
                        warnings.push(why);
                    }
                }
            }
            next_asset.set_licences_used(used);
            asset_changed = asset.licences().used != next_asset.licences().used;
        } else if asset.status != Status::InUse {
            next_asset.status = Status::InUse;
            asset_changed = true;
        }

        let a = Assignment {
            person_id: req.person_id,
            host_id: req.host_id,
            issued_at,
            expected_return_at: req.expected_return_at,
            off_premises: off,
            location_id: req.location_id,
            approved_by,
            exception_id,
            policy_id,
            warnings,
            notes: req.notes,
            ..Assignment::open(
                asset.id,
                kind,
                ctx.principal().and_then(|p| p.person_id),
                now,
            )
        };
        let mut cs = ChangeSet::default();
        cs.events.push(NewEvent::created(
            &ctx.actor,
            "assignment.created",
            "assignment",
            a.id,
            &view(&a),
            ctx.request_id.as_deref(),
            now,
        ));
        cs.writes
            .push(Write::Custody(CustodyWrite::InsertAssignment(Box::new(
                a.clone(),
            ))));
        let mut changes = json!({"assignment_id": a.id, "person_id": a.person_id, "host_id": a.host_id,
            "off_premises": a.off_premises, "expected_return_at": a.expected_return_at});
        if asset_changed {
            next_asset.version += 1;
            next_asset.updated_at = now;
            if let Value::Object(diff) = &mut changes {
                diff.extend(audit::diff(&asset.audit_view(), &next_asset.audit_view()));
            }
            cs.writes.push(Write::Asset(AssetWrite::UpdateAsset {
                asset: Box::new(next_asset),
                expected_version: asset.version,
            }));
        }
        cs.events.push(NewEvent::new(
            &ctx.actor,
            "asset.issued",
            "asset",
            asset.id,
            changes,
            ctx.request_id.as_deref(),
            now,
        ));
        self.store.commit(cs).await?;
        Ok(a)
    }

    /// Takes an asset back (managers): its condition is recorded; a device goes back in
    /// stock, a seat is freed.
    pub async fn return_asset(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<Assignment> {
        self.allow(ctx, Action::ManageAssets).await?;
        let (condition, returned_at) = return_input(&body)?;
        let cur = self.load_assignment(id).await?;
        check_version("assignment", id, &if_match, cur.version)?;
        let now = custodian_domain::now();
        let at = returned_at.unwrap_or(now);
        if let Some(t) = cur.returned_at {
            return Err(AppError::Conflict {
                message: format!("this assignment ended on {} already", t.date_naive()),
                field: None,
            });
        }
        if at > now {
            return Err(AppError::invalid(
                "returned_at",
                "must not be in the future",
            ));
        }
        if at < cur.issued_at {
            return Err(AppError::invalid(
                "returned_at",
                format!(
                    "must not be before it was issued ({})",
                    cur.issued_at.date_naive()
                ),
            ));
        }
        let (next, mut cs) = self.returning(ctx, &cur, condition, at, now).await?;
        self.settle_on_return(ctx, &cur, &next, &mut cs, now)
            .await?;
        self.store
            .commit(cs)
            .await
            .map_err(|e| race(e, &if_match))?;
        Ok(next)
    }

    /// The change set that takes an assignment back: the assignment ends as returned, a
    /// device goes back in stock, a seat is freed.
    pub(crate) async fn returning(
        &self,
        ctx: &Ctx,
        cur: &Assignment,
        condition: Option<String>,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(Assignment, ChangeSet)> {
        let mut next = cur.clone();
        next.returned_at = Some(at);
        next.received_by = ctx.principal().and_then(|p| p.person_id);
        next.condition = condition;
        next.outcome = Some(AssignmentOutcome::Returned);
        next.version += 1;
        next.updated_at = now;
        let mut cs = self.ending(ctx, cur, &next, "assignment.returned", now);
        if let Some(asset) = self.store.asset(cur.asset_id).await? {
            let mut na = asset.clone();
            match cur.kind {
                AssignmentKind::Custody if asset.status == Status::InUse => {
                    na.status = Status::InStock;
                }
                AssignmentKind::Seat => {
                    let used = (self.store.count_open_assignments(asset.id).await? - 1).max(0);
                    na.set_licences_used(used);
                }
                _ => {}
            }
            let mut changes = json!({"assignment_id": cur.id, "person_id": cur.person_id, "host_id": cur.host_id, "condition": next.condition});
            let diff = audit::diff(&asset.audit_view(), &na.audit_view());
            if !diff.is_empty() {
                if let Value::Object(c) = &mut changes {
                    c.extend(diff);
                }
                na.version += 1;
                na.updated_at = now;
                cs.writes.push(Write::Asset(AssetWrite::UpdateAsset {
                    asset: Box::new(na),
                    expected_version: asset.version,
                }));
            }
            cs.events.push(NewEvent::new(
                &ctx.actor,
                "asset.returned",
                "asset",
                asset.id,
                changes,
                ctx.request_id.as_deref(),
                now,
            ));
        }
        Ok((next, cs))
    }

    /// The change set that ends an assignment, with its event.
    fn ending(
        &self,
        ctx: &Ctx,
        cur: &Assignment,
        next: &Assignment,
        action: &str,
        now: DateTime<Utc>,
    ) -> ChangeSet {
        ChangeSet {
            writes: vec![Write::Custody(CustodyWrite::UpdateAssignment {
                assignment: Box::new(next.clone()),
                expected_version: cur.version,
            })],
            events: vec![NewEvent::new(
                &ctx.actor,
                action,
                "assignment",
                cur.id,
                Value::Object(audit::diff(&view(cur), &view(next))),
                ctx.request_id.as_deref(),
                now,
            )],
        }
    }

    /// When a held asset is reported lost or stolen, its custody ends with that outcome
    /// (in the transition's own change).
    pub(crate) async fn end_custody_on_incident(
        &self,
        ctx: &Ctx,
        asset: Uuid,
        status: Status,
        now: DateTime<Utc>,
    ) -> Result<ChangeSet> {
        let outcome = match status {
            Status::Lost => AssignmentOutcome::Lost,
            Status::Stolen => AssignmentOutcome::Stolen,
            _ => return Ok(ChangeSet::default()),
        };
        let Some(cur) = self.holder_of(asset).await? else {
            return Ok(ChangeSet::default());
        };
        let mut next = cur.clone();
        next.returned_at = Some(now);
        next.outcome = Some(outcome);
        next.version += 1;
        next.updated_at = now;
        Ok(self.ending(ctx, &cur, &next, "assignment.ended", now))
    }

    /// Whether the actor holds the asset (its custody is theirs).
    pub(crate) async fn holds(&self, ctx: &Ctx, asset: Uuid) -> Result<bool> {
        let Some(me) = ctx.principal().and_then(|p| p.person_id) else {
            return Ok(false);
        };
        Ok(self
            .holder_of(asset)
            .await?
            .is_some_and(|a| a.person_id == Some(me)))
    }

    /// One assignment: readers of the register see every one, members their own.
    pub async fn get_assignment(&self, ctx: &Ctx, id: Uuid) -> Result<Assignment> {
        self.allow(ctx, Action::ReadReference).await?;
        let a = self.load_assignment(id).await?;
        if self.reach(ctx).await?.is_some()
            && a.person_id
                .is_none_or(|p| Some(p) != ctx.principal().and_then(|x| x.person_id))
        {
            return Err(AppError::not_found("assignment", id));
        }
        Ok(a)
    }

    /// A page of assignments: every one for readers of the register, else the caller's own.
    pub async fn list_assignments(
        &self,
        ctx: &Ctx,
        mut q: AssignmentQuery,
    ) -> Result<Page<Assignment>> {
        let store = self.store.clone();
        self.personal_page(ctx, q.person_id, |person| {
            q.person_id = person;
            async move { store.list_assignments(&q).await }
        })
        .await
    }

    /// A party's name (or its id when it is gone).
    pub(crate) async fn party_name(&self, id: Uuid) -> Result<String> {
        Ok(self
            .store
            .party(id)
            .await?
            .map(|p| p.name)
            .unwrap_or_else(|| id.to_string()))
    }
}
