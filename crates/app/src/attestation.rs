//! Attestation campaigns (SPEC §6.6; ISO/IEC 27001 A.5.9): every owner of assets is asked
//! to confirm, at once, that the register's record of their assets is right, or to name
//! what is wrong; the campaign shows its completion.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_domain::access::Action;
use custodian_domain::attestation::{
    Answer, Attestation, AttestationOwner, AttestationStatus, CampaignRequest, OwnerResponse,
};
use custodian_domain::audit::{self, NewEvent};
use custodian_store::AttestationWrite;
use custodian_store::{ChangeSet, Cursor, Page, Write};

use crate::Precondition;
use crate::{check_version, race, App, AppError, Ctx, Result};

/// A campaign as the API shows it, with its completion.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "Attestation")]
pub struct AttestationView {
    #[serde(flatten)]
    pub attestation: Attestation,
    /// How far the owners have answered.
    pub completion: custodian_domain::attestation::Completion,
}

impl AttestationView {
    /// The campaign with its completion.
    pub fn of(a: Attestation) -> Self {
        let completion = a.completion();
        AttestationView {
            attestation: a,
            completion,
        }
    }
}

impl App {
    async fn load_attestation(&self, id: Uuid) -> Result<Attestation> {
        self.store
            .attestation(id)
            .await?
            .ok_or_else(|| AppError::not_found("attestation", id))
    }

    /// What a caller sees of a campaign: all of it when they read the register, else only
    /// the owners they act as (themselves, their teams, their roles).
    async fn visible(&self, ctx: &Ctx, mut a: Attestation) -> Result<Attestation> {
        if self.reach(ctx).await?.is_some() {
            let own = self.own_parties(ctx).await?;
            a.owners.retain(|o| own.contains(&o.owner_id));
        }
        Ok(a)
    }

    /// Opens a campaign asking every owner of assets not disposed of (managers). One
    /// campaign is open at a time.
    pub async fn open_attestation(
        &self,
        ctx: &Ctx,
        body: Map<String, Value>,
    ) -> Result<Attestation> {
        self.allow(ctx, Action::RunAttestations).await?;
        let now = custodian_domain::now();
        let req = CampaignRequest::from_input(&body, now.date_naive())?;
        let open = self
            .store
            .list_attestations(Some(AttestationStatus::Open), 1, None)
            .await?;
        if let Some(o) = open.items.first() {
            return Err(AppError::Conflict {
                message: format!("the campaign \"{}\" is still open: close it first", o.title),
                field: None,
            });
        }
        let owners: Vec<AttestationOwner> = self
            .store
            .asset_owner_counts()
            .await?
            .into_iter()
            .map(|(owner_id, n)| AttestationOwner {
                owner_id,
                asset_count: n,
                status: OwnerResponse::Pending,
                responded_at: None,
                responded_by: None,
                note: None,
                disputed_asset_ids: vec![],
            })
            .collect();
        let a = Attestation {
            id: custodian_domain::new_id(),
            title: req.title,
            due_date: req.due_date,
            status: AttestationStatus::Open,
            opened_by: ctx.principal().and_then(|p| p.person_id),
            closed_at: None,
            closed_by: None,
            owners,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut view = a.audit_view();
        view.insert(
            "completion".into(),
            serde_json::to_value(a.completion()).unwrap_or(Value::Null),
        );
        self.store
            .commit(ChangeSet::one(
                Write::Attestation(AttestationWrite::InsertAttestation(Box::new(a.clone()))),
                NewEvent::created(
                    &ctx.actor,
                    "attestation.opened",
                    "attestation",
                    a.id,
                    &view,
                    ctx.request_id.as_deref(),
                    now,
                ),
            ))
            .await?;
        Ok(a)
    }

    /// One campaign.
    pub async fn get_attestation(&self, ctx: &Ctx, id: Uuid) -> Result<Attestation> {
        self.allow(ctx, Action::ReadReference).await?;
        let a = self.load_attestation(id).await?;
        self.visible(ctx, a).await
    }

    /// A page of campaigns, newest first.
    pub async fn list_attestations(
        &self,
        ctx: &Ctx,
        status: Option<AttestationStatus>,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Attestation>> {
        self.allow(ctx, Action::ReadReference).await?;
        let page = self.store.list_attestations(status, limit, cursor).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for a in page.items {
            items.push(self.visible(ctx, a).await?);
        }
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// The open campaign's owners the caller answers for and has not answered yet.
    pub async fn my_pending_attestation(
        &self,
        ctx: &Ctx,
    ) -> Result<Option<(Attestation, Vec<AttestationOwner>)>> {
        let own = self.own_parties(ctx).await?;
        if own.is_empty() {
            return Ok(None);
        }
        let open = self
            .store
            .list_attestations(Some(AttestationStatus::Open), 1, None)
            .await?;
        let Some(a) = open.items.into_iter().next() else {
            return Ok(None);
        };
        let pending: Vec<AttestationOwner> = a
            .owners
            .iter()
            .filter(|o| o.status == OwnerResponse::Pending && own.contains(&o.owner_id))
            .cloned()
            .collect();
        Ok((!pending.is_empty()).then_some((a, pending)))
    }

    /// Records an owner's answer: their own (a person, or through a team or role of
    /// theirs), or on their behalf for those who manage assets. An answer may be changed
    /// until the campaign closes.
    pub async fn answer_attestation(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
    ) -> Result<Attestation> {
        let on_behalf = ctx
            .principal()
            .is_none_or(|p| p.check(Action::ManageAssets).is_ok());
        if !on_behalf {
            self.allow(ctx, Action::ReviewAssets).await?;
        }
        let ans = Answer::from_input(&body)?;
        let cur = self.load_attestation(id).await?;
        if cur.status == AttestationStatus::Closed {
            return Err(AppError::Conflict {
                message: "the campaign is closed".into(),
                field: None,
            });
        }
        if !on_behalf && !self.own_parties(ctx).await?.contains(&ans.owner_id) {
            let why = "members answer for themselves, their teams and their roles only";
            return Err(self
                .refused(
                    ctx,
                    custodian_domain::access::Denied::Forbidden(why.into()),
                    "answer for this owner",
                )
                .await);
        }
        let Some(pos) = cur.owners.iter().position(|o| o.owner_id == ans.owner_id) else {
            return Err(AppError::invalid(
                "owner_id",
                "is not asked by this campaign: it owned no assets when the campaign opened",
            ));
        };
        if !ans.disputed_asset_ids.is_empty() {
            let found = self.assets_by_id(&ans.disputed_asset_ids).await?;
            let mut problems = custodian_domain::error::Problems::new();
            for (i, a) in ans.disputed_asset_ids.iter().enumerate() {
                match found.get(a) {
                    None => problems.add(
                        format!("disputed_asset_ids[{i}]"),
                        format!("no asset has the id {a}"),
                    ),
                    Some(x) if x.owner_id != ans.owner_id => problems.add(
                        format!("disputed_asset_ids[{i}]"),
                        format!("{} is not owned by this owner", x.asset_number),
                    ),
                    _ => {}
                }
            }
            if !problems.is_empty() {
                return Err(AppError::Invalid(problems));
            }
        }
        let now = custodian_domain::now();
        let before = cur.owners[pos].clone();
        let mut after = before.clone();
        after.status = if ans.disputed_asset_ids.is_empty() {
            OwnerResponse::Confirmed
        } else {
            OwnerResponse::Corrected
        };
        after.responded_at = Some(now);
        after.responded_by = ctx.principal().and_then(|p| p.person_id);
        after.note = ans.note;
        after.disputed_asset_ids = ans.disputed_asset_ids;
        let mut next = cur.clone();
        next.owners[pos] = after.clone();
        let to_map = |o: &AttestationOwner| match serde_json::to_value(o) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let mut changes = audit::diff(&to_map(&before), &to_map(&after));
        changes.insert("owner_id".into(), json!(after.owner_id));
        self.store
            .commit(ChangeSet::one(
                Write::Attestation(AttestationWrite::UpdateAttestation {
                    id,
                    attestation: None,
                    owners: vec![after],
                    expected_version: cur.version,
                }),
                NewEvent::new(
                    &ctx.actor,
                    "attestation.answered",
                    "attestation",
                    id,
                    Value::Object(changes),
                    ctx.request_id.as_deref(),
                    now,
                ),
            ))
            .await?;
        self.visible(ctx, next).await
    }

    /// Closes a campaign (managers); its completion is recorded as it stands.
    pub async fn close_attestation(
        &self,
        ctx: &Ctx,
        id: Uuid,
        if_match: Precondition,
    ) -> Result<Attestation> {
        self.allow(ctx, Action::RunAttestations).await?;
        let cur = self.load_attestation(id).await?;
        check_version("attestation", id, &if_match, cur.version)?;
        if cur.status == AttestationStatus::Closed {
            return Err(AppError::Conflict {
                message: "the campaign is closed already".into(),
                field: None,
            });
        }
        let now = custodian_domain::now();
        let mut next = cur.clone();
        next.status = AttestationStatus::Closed;
        next.closed_at = Some(now);
        next.closed_by = ctx.principal().and_then(|p| p.person_id);
        next.version += 1;
        next.updated_at = now;
        let mut changes = audit::diff(&cur.audit_view(), &next.audit_view());
        changes.insert(
            "completion".into(),
            serde_json::to_value(next.completion()).unwrap_or(Value::Null),
        );
        self.store
            .commit(ChangeSet::one(
                Write::Attestation(AttestationWrite::UpdateAttestation {
                    id,
                    attestation: Some(Box::new(next.clone())),
                    owners: vec![],
                    expected_version: cur.version,
                }),
                NewEvent::new(
                    &ctx.actor,
                    "attestation.closed",
                    "attestation",
                    id,
                    Value::Object(changes),
                    ctx.request_id.as_deref(),
                    now,
                ),
            ))
            .await
            .map_err(|e| race(e, &if_match))?;
        Ok(next)
    }
}
