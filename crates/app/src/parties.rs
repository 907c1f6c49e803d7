//! Party use cases: persons, teams and roles; delegations.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_domain::access::Action;

use custodian_domain::audit::{self, NewEvent};
use custodian_domain::party::{Delegation, Party, PartyKind, PersonStatus};
use custodian_domain::Problems;
use custodian_store::PartyWrite;
use custodian_store::{ChangeSet, DelegationQuery, Page, PartyQuery, Write};

use crate::Precondition;
use crate::{check_version, race, App, AppError, Ctx, Result};

fn party_view(p: &Party) -> Map<String, Value> {
    let mut m = match serde_json::to_value(p) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for k in ["id", "version", "created_at", "updated_at"] {
        m.remove(k);
    }
    m.retain(|_, v| !v.is_null());
    m
}

impl App {
    async fn load_party(&self, id: Uuid) -> Result<Party> {
        self.store
            .party(id)
            .await?
            .ok_or_else(|| AppError::not_found("party", id))
    }

    /// Checks that manager, holder and members are persons.
    async fn check_party_refs(&self, p: &Party, problems: &mut Problems) -> Result<()> {
        let mut ids: Vec<Uuid> = p.member_ids.clone();
        ids.extend(p.manager_id);
        ids.extend(p.holder_id);
        let found = self.store.parties(&ids).await?;
        let person = |id: &Uuid| {
            found
                .iter()
                .find(|f| f.id == *id)
                .map(|f| f.kind == PartyKind::Person)
        };
        if let Some(m) = p.manager_id {
            match person(&m) {
                None => problems.add("manager_id", format!("no person has the id {m}")),
                Some(false) => problems.add("manager_id", "must be a person"),
                _ => {}
            }
        }
        if let Some(h) = p.holder_id {
            match (person(&h), found.iter().find(|f| f.id == h)) {
                (None, _) => problems.add("holder_id", format!("no person has the id {h}")),
                (Some(false), _) => problems.add("holder_id", "must be a person"),
                (_, Some(f)) if f.has_left() => {
                    problems.add("holder_id", "a person who has left cannot hold a role")
                }
                _ => {}
            }
        }
        for (i, m) in p.member_ids.iter().enumerate() {
            match person(m) {
                None => problems.add(
                    "member_ids",
                    format!("item {}: no person has the id {m}", i + 1),
                ),
                Some(false) => problems.add(
                    "member_ids",
                    format!("item {}: a team's members are persons", i + 1),
                ),
                _ => {}
            }
        }
        Ok(())
    }

    /// Registers a person, team or role.
    pub async fn create_party(&self, ctx: &Ctx, input: Map<String, Value>) -> Result<Party> {
        self.allow(ctx, Action::ManageParties).await?;
        let defs = self.store.custom_fields().await?;
        let now = custodian_domain::now();
        let p = Party::from_input(&input, &defs, now)?;
        let mut problems = Problems::new();
        self.check_party_refs(&p, &mut problems).await?;
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        self.write_created(
            ctx,
            "party",
            &p.id.to_string(),
            &party_view(&p),
            Write::Party(PartyWrite::InsertParty(Box::new(p.clone()))),
            now,
        )
        .await?;
        Ok(p)
    }

    /// One party.
    pub async fn get_party(&self, ctx: &Ctx, id: Uuid) -> Result<Party> {
        if !self.party_visible(ctx, id).await? {
            return Err(AppError::not_found("party", id));
        }
        self.load_party(id).await
    }

    /// A filtered page of parties (a member's own record, teams and roles only).
    pub async fn list_parties(&self, ctx: &Ctx, q: &PartyQuery) -> Result<Page<Party>> {
        match self.party_scope(ctx).await? {
            None => Ok(self.store.list_parties(q).await?),
            Some((_, within)) => {
                let q = PartyQuery {
                    within: Some(within),
                    ..q.clone()
                };
                Ok(self.store.list_parties(&q).await?)
            }
        }
    }

    /// The parties the actor may pick from (owners in forms and filters): everyone for
    /// those who read the whole register, a member's own record, teams and roles otherwise.
    pub async fn party_choices(&self, ctx: &Ctx) -> Result<Vec<custodian_store::PartyRef>> {
        match self.party_scope(ctx).await? {
            None => Ok(self.store.party_directory().await?),
            Some((_, within)) => Ok(self
                .store
                .parties(&within.parties)
                .await?
                .into_iter()
                .map(|p| custodian_store::PartyRef {
                    id: p.id,
                    kind: p.kind,
                    name: p.name,
                    email: p.email,
                })
                .collect()),
        }
    }

    /// The parties the signed-in person acts as an owner through: themselves, their teams
    /// and the roles they hold (empty for an account without a person).
    pub async fn own_parties(&self, ctx: &Ctx) -> Result<Vec<Uuid>> {
        let Some(person) = ctx.principal().and_then(|p| p.person_id) else {
            return Ok(vec![]);
        };
        let mut out = vec![person];
        out.extend(self.store.memberships(person).await?);
        Ok(out)
    }

    /// The names of parties named by records the actor already sees (an asset's owner, a
    /// reviewer), in one read.
    pub async fn party_names(
        &self,
        ctx: &Ctx,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, String>> {
        self.reach(ctx).await?;
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        Ok(self
            .store
            .parties(&ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect())
    }

    /// Changes a party. A person who enters notice or leaves gets an offboarding case, and
    /// one who leaves ends the delegations they give or hold; a person who leaves a team or
    /// gives up a role gets a handover case.
    pub async fn update_party(
        &self,
        ctx: &Ctx,
        id: Uuid,
        patch: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<Party> {
        self.allow(ctx, Action::ManageParties).await?;
        let cur = self.load_party(id).await?;
        check_version("party", id, &if_match, cur.version)?;
        let defs = self.store.custom_fields().await?;
        let now = custodian_domain::now();
        let next = cur.patched(&patch, &defs, now)?;
        let mut problems = Problems::new();
        self.check_party_refs(&next, &mut problems).await?;
        if next.member_ids.contains(&id) || next.holder_id == Some(id) {
            problems.add("member_ids", "a party cannot contain itself");
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        let changes = audit::diff(&party_view(&cur), &party_view(&next));
        if changes.is_empty() {
            return Ok(cur);
        }
        let mut cs = ChangeSet::one(
            Write::Party(PartyWrite::UpdateParty {
                party: Box::new(next.clone()),
                expected_version: cur.version,
            }),
            NewEvent::new(
                &ctx.actor,
                "party.updated",
                "party",
                id,
                Value::Object(changes),
                ctx.request_id.as_deref(),
                now,
            ),
        );
        let opened = self.cases_for_party_change(ctx, &cur, &next, now).await?;
        cs.writes.extend(opened.writes);
        cs.events.extend(opened.events);
        if next.status == Some(PersonStatus::Left) && cur.status != Some(PersonStatus::Left) {
            for q in [
                DelegationQuery {
                    limit: 500,
                    owner_id: Some(id),
                    active_only: true,
                    ..Default::default()
                },
                DelegationQuery {
                    limit: 500,
                    delegate_id: Some(id),
                    active_only: true,
                    ..Default::default()
                },
            ] {
                for d in self.store.list_delegations(&q).await?.items {
                    let reason = format!("{} left the organisation", next.name);
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
            }
        }
        self.store
            .commit(cs)
            .await
            .map_err(|e| race(e, &if_match))?;
        Ok(next)
    }

    /// Records a delegation of a routine task.
    pub async fn create_delegation(
        &self,
        ctx: &Ctx,
        input: Map<String, Value>,
    ) -> Result<Delegation> {
        if let Some(p) = ctx.principal() {
            if p.check(Action::ManageParties).is_err() {
                if let Err(d) = p.may_delegate_own() {
                    return Err(self.refused(ctx, d, "delegate tasks").await);
                }
            }
        }
        let now = custodian_domain::now();
        let d = Delegation::from_input(&input, now)?;
        self.may_delegate_for(ctx, d.owner_id).await?;
        let mut problems = Problems::new();
        let found = self.store.parties(&[d.owner_id, d.delegate_id]).await?;
        for (field, id) in [("owner_id", d.owner_id), ("delegate_id", d.delegate_id)] {
            match found.iter().find(|p| p.id == id) {
                None => problems.add(field, format!("no person, team or role has the id {id}")),
                Some(p) if p.has_left() => {
                    problems.add(field, format!("{} has left the organisation", p.name))
                }
                _ => {}
            }
        }
        if let Some(a) = d.asset_id {
            match self.store.asset(a).await? {
                None => problems.add("asset_id", format!("no asset has the id {a}")),
                Some(a) if a.owner_id != d.owner_id => {
                    problems.add("asset_id", "the asset is not owned by owner_id")
                }
                _ => {}
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        let view = json!({"owner_id": d.owner_id, "delegate_id": d.delegate_id, "task": d.task, "asset_id": d.asset_id, "note": d.note});
        self.write_created(
            ctx,
            "delegation",
            &d.id.to_string(),
            view.as_object().unwrap_or(&Map::new()),
            Write::Party(PartyWrite::InsertDelegation(d.clone())),
            now,
        )
        .await?;
        Ok(d)
    }

    /// One delegation.
    pub async fn get_delegation(&self, ctx: &Ctx, id: Uuid) -> Result<Delegation> {
        let d = self
            .store
            .delegation(id)
            .await?
            .ok_or_else(|| AppError::not_found("delegation", id))?;
        if let Some((reach, _)) = self.party_scope(ctx).await? {
            if !reach.is_own(d.owner_id) && !reach.is_own(d.delegate_id) {
                return Err(AppError::not_found("delegation", id));
            }
        }
        Ok(d)
    }

    /// A filtered page of delegations (a member's own, given or received, only).
    pub async fn list_delegations(
        &self,
        ctx: &Ctx,
        q: &DelegationQuery,
    ) -> Result<Page<Delegation>> {
        match self.party_scope(ctx).await? {
            None => Ok(self.store.list_delegations(q).await?),
            Some((_, within)) => {
                let q = DelegationQuery {
                    within: Some(within),
                    ..q.clone()
                };
                Ok(self.store.list_delegations(&q).await?)
            }
        }
    }

    /// Managers delegate for anyone; an owner (a person, or through a team or role of
    /// theirs) delegates their own routine tasks.
    async fn may_delegate_for(&self, ctx: &Ctx, owner_id: Uuid) -> Result<()> {
        let Some(p) = ctx.principal() else {
            return self.allow(ctx, Action::ManageParties).await;
        };
        if p.check(Action::ManageParties).is_ok() {
            return Ok(());
        }
        if let Err(d) = p.may_delegate_own() {
            return Err(self.refused(ctx, d, "delegate tasks").await);
        }
        let own = self.reach(ctx).await?.is_some_and(|r| r.is_own(owner_id));
        if own {
            Ok(())
        } else {
            let reason = format!(
                "the {} role may only delegate the tasks of its user, their teams or their roles",
                p.role
            );
            Err(self
                .refused(
                    ctx,
                    custodian_domain::access::Denied::Forbidden(reason),
                    "delegate tasks",
                )
                .await)
        }
    }

    /// Ends a delegation in force.
    pub async fn end_delegation(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
    ) -> Result<Delegation> {
        let d = self.get_delegation(ctx, id).await?;
        self.may_delegate_for(ctx, d.owner_id).await?;
        // Read the body only once the caller may end it: a refusal says nothing of it.
        let mut r = custodian_domain::input::Input::new(&body);
        r.reject_unknown(&["reason"], &[], "ending a delegation");
        let reason = r
            .optional("reason", |v| custodian_domain::value::text(v, 1000))
            .flatten();
        if !r.problems.is_empty() {
            return Err(AppError::Invalid(r.problems));
        }
        if d.ended_at.is_some() {
            return Err(AppError::Conflict {
                message: "the delegation has already ended".into(),
                field: None,
            });
        }
        let now = custodian_domain::now();
        let reason = reason.unwrap_or_else(|| "ended by the owner".into());
        let ev = NewEvent::new(
            &ctx.actor,
            "delegation.ended",
            "delegation",
            id,
            json!({"ended_at": {"after": now}, "end_reason": {"after": reason}}),
            ctx.request_id.as_deref(),
            now,
        );
        self.store
            .commit(ChangeSet::one(
                Write::Party(PartyWrite::EndDelegation {
                    id,
                    ended_at: now,
                    reason: reason.clone(),
                }),
                ev,
            ))
            .await?;
        Ok(Delegation {
            ended_at: Some(now),
            end_reason: Some(reason),
            ..d
        })
    }
}
