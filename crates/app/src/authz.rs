//! Authorisation, decided once for every edge: each service asks here before it reads or
//! writes. The rules themselves live in `custodian_domain::access`; this module gathers
//! the facts they need (a member's teams, roles and delegations) and records refusals in
//! the audit trail.

use serde_json::json;
use uuid::Uuid;

use custodian_domain::access::{self, Action, AssetAccess, Denied, Reach};
use custodian_domain::asset::Asset;
use custodian_domain::audit::NewEvent;
use custodian_store::{ChangeSet, DelegationQuery, Within};

use crate::{Access, App, AppError, Ctx, Result};

impl App {
    /// Checks a register-wide action for an edge that has no service of its own (metrics).
    pub async fn authorize(&self, ctx: &Ctx, action: Action) -> Result<()> {
        self.allow(ctx, action).await
    }

    /// Checks a register-wide action; a refusal is recorded and answered 403 (401 for
    /// nobody).
    pub(crate) async fn allow(&self, ctx: &Ctx, action: Action) -> Result<()> {
        match &ctx.access {
            Access::System => Ok(()),
            Access::Anonymous => Err(unauthenticated()),
            Access::User(p) => match p.check(action) {
                Ok(()) => Ok(()),
                Err(d) => Err(self.refused(ctx, d, action.describe()).await),
            },
        }
    }

    /// Turns a refusal into the error the caller gets: 404 for what they may not see, 403
    /// (recorded in the audit trail) for what they may not do.
    pub(crate) async fn refused(&self, ctx: &Ctx, d: Denied, what: &str) -> AppError {
        match d {
            Denied::Hidden => AppError::NotFound {
                entity: "record",
                id: String::new(),
            },
            Denied::Forbidden(reason) => {
                let ev = NewEvent::new(
                    &ctx.actor,
                    "access.denied",
                    "access",
                    "request",
                    json!({"wanted": what, "reason": reason, "client": ctx.client_json()}),
                    ctx.request_id.as_deref(),
                    custodian_domain::now(),
                );
                if let Err(e) = self
                    .store
                    .commit(ChangeSet {
                        writes: vec![],
                        events: vec![ev],
                    })
                    .await
                {
                    return e.into();
                }
                AppError::Forbidden(reason)
            }
        }
    }

    /// The part of the register the actor reaches, or `None` when they see all of it.
    pub(crate) async fn reach(&self, ctx: &Ctx) -> Result<Option<Reach>> {
        let p = match &ctx.access {
            Access::System => return Ok(None),
            Access::Anonymous => return Err(unauthenticated()),
            Access::User(p) if p.reads_everything() => return Ok(None),
            Access::User(p) => p,
        };
        let mut reach = Reach::default();
        let Some(person) = p.person_id else {
            return Ok(Some(reach));
        };
        reach.own.insert(person);
        for id in self.store.memberships(person).await? {
            reach.own.insert(id);
        }
        for delegate in reach.own.clone() {
            let q = DelegationQuery {
                limit: REACH_DELEGATIONS,
                delegate_id: Some(delegate),
                active_only: true,
                ..Default::default()
            };
            for d in self.store.list_delegations(&q).await?.items {
                reach.delegated.push((d.owner_id, d.asset_id));
            }
        }
        reach.held = self.held_by(person).await?.into_iter().collect();
        Ok(Some(reach))
    }

    /// What a list of assets is limited to for the actor.
    pub(crate) async fn asset_scope(&self, ctx: &Ctx) -> Result<Option<Within>> {
        Ok(self.reach(ctx).await?.map(|r| Within {
            parties: r.whole_owners(),
            ids: r.single_assets(),
        }))
    }

    /// What a list of parties or delegations is limited to for the actor.
    pub(crate) async fn party_scope(&self, ctx: &Ctx) -> Result<Option<(Reach, Within)>> {
        Ok(self.reach(ctx).await?.map(|r| {
            let mut parties: Vec<Uuid> = r.own.iter().copied().collect();
            parties.sort();
            (
                r,
                Within {
                    parties,
                    ids: vec![],
                },
            )
        }))
    }

    /// Checks access to one asset: 404 when the actor may not see it, 403 when they may
    /// see it but not do this.
    pub(crate) async fn asset_allowed(
        &self,
        ctx: &Ctx,
        asset: &Asset,
        wanted: AssetAccess,
    ) -> Result<()> {
        let p = match &ctx.access {
            Access::System => return Ok(()),
            Access::Anonymous => return Err(unauthenticated()),
            Access::User(p) => p,
        };
        let reach = self.reach(ctx).await?;
        self.asset_allowed_within(ctx, p, reach.as_ref(), asset, wanted)
            .await
    }

    /// [`App::asset_allowed`] for a caller whose reach is already known.
    pub(crate) async fn asset_allowed_within(
        &self,
        ctx: &Ctx,
        p: &custodian_domain::access::Principal,
        reach: Option<&Reach>,
        asset: &Asset,
        wanted: AssetAccess,
    ) -> Result<()> {
        let none = Reach::default();
        match access::asset_access(p, reach.unwrap_or(&none), asset.id, asset.owner_id, wanted) {
            Ok(()) => Ok(()),
            Err(Denied::Hidden) => Err(AppError::not_found("asset", asset.id)),
            Err(d) => Err(self.refused(ctx, d, "change this asset").await),
        }
    }

    /// Checks that the actor may read an asset's secrets in clear: admins and its owner
    /// (the person, or a member of the owning team or holder of the owning role) only.
    pub(crate) async fn secret_allowed(&self, ctx: &Ctx, asset: &Asset) -> Result<()> {
        self.asset_allowed(ctx, asset, AssetAccess::Read).await?;
        let Access::User(p) = &ctx.access else {
            return Ok(());
        };
        let owners = self.ownership(p).await?;
        match access::asset_access(
            p,
            &owners,
            asset.id,
            asset.owner_id,
            AssetAccess::RevealSecret,
        ) {
            Ok(()) => Ok(()),
            Err(d) => Err(self.refused(ctx, d, "reveal a secret").await),
        }
    }

    /// Whether the actor may read an asset's secrets (to offer the button; nothing is
    /// recorded, since nothing was attempted).
    pub async fn may_reveal_secret(&self, ctx: &Ctx, asset: &Asset) -> Result<bool> {
        let p = match &ctx.access {
            Access::System => return Ok(true),
            Access::Anonymous => return Ok(false),
            Access::User(p) => p,
        };
        let owners = self.ownership(p).await?;
        Ok(access::asset_access(
            p,
            &owners,
            asset.id,
            asset.owner_id,
            AssetAccess::RevealSecret,
        )
        .is_ok())
    }

    /// The parties a user answers for as owner, whatever their role: their person and its
    /// teams and roles (the reach of a role that reads everything is not computed, so this
    /// is gathered on its own).
    async fn ownership(&self, p: &custodian_domain::access::Principal) -> Result<Reach> {
        let mut reach = Reach::default();
        if let Some(person) = p.person_id {
            reach.own.insert(person);
            for id in self.store.memberships(person).await? {
                reach.own.insert(id);
            }
        }
        Ok(reach)
    }

    /// Whether the actor may edit an asset's record (to offer the edit form; nothing is
    /// recorded, since nothing was attempted).
    pub async fn may_edit_asset(&self, ctx: &Ctx, asset: &Asset) -> Result<bool> {
        let p = match &ctx.access {
            Access::System => return Ok(true),
            Access::Anonymous => return Ok(false),
            Access::User(p) => p,
        };
        let reach = self.reach(ctx).await?;
        let none = Reach::default();
        Ok(access::asset_access(
            p,
            reach.as_ref().unwrap_or(&none),
            asset.id,
            asset.owner_id,
            AssetAccess::EditRecord,
        )
        .is_ok())
    }

    /// Whose personal records (assignments, acknowledgements) a list may show: `asked`
    /// for readers of the whole register; for others only their own, so `None` when they
    /// asked for someone else's (or have no person).
    pub(crate) async fn personal_filter(
        &self,
        ctx: &Ctx,
        asked: Option<Uuid>,
    ) -> Result<Option<Option<Uuid>>> {
        if self.reach(ctx).await?.is_none() {
            return Ok(Some(asked));
        }
        let me = ctx.principal().and_then(|p| p.person_id);
        Ok(match (me, asked) {
            (Some(me), None) => Some(Some(me)),
            (Some(me), Some(p)) if p == me => Some(Some(me)),
            _ => None,
        })
    }

    /// A page of personal records (assignments, acknowledgements, offboarding cases):
    /// `list` runs with the person to filter on, as [`App::personal_filter`] decides; a
    /// caller asking for someone else's gets an empty page.
    pub(crate) async fn personal_page<T, F, Fut>(
        &self,
        ctx: &Ctx,
        asked: Option<Uuid>,
        list: F,
    ) -> Result<custodian_store::Page<T>>
    where
        F: FnOnce(Option<Uuid>) -> Fut,
        Fut: std::future::Future<Output = custodian_store::Result<custodian_store::Page<T>>>,
    {
        self.allow(ctx, Action::ReadReference).await?;
        match self.personal_filter(ctx, asked).await? {
            Some(person) => Ok(list(person).await?),
            None => Ok(custodian_store::Page {
                items: vec![],
                next_cursor: None,
            }),
        }
    }

    /// Whether the actor may see a party: everyone's for roles that read the register, else
    /// themselves, their teams and their roles.
    pub(crate) async fn party_visible(&self, ctx: &Ctx, id: Uuid) -> Result<bool> {
        Ok(match self.reach(ctx).await? {
            None => true,
            Some(r) => r.is_own(id),
        })
    }
}

/// Delegations read per delegate when working out a member's reach.
const REACH_DELEGATIONS: u32 = 500;

/// The error for a request without credentials.
pub(crate) fn unauthenticated() -> AppError {
    AppError::Unauthorized("sign in or send an API token (Authorization: Bearer …)".into())
}
