//! The register of policy exceptions (SPEC §6.5): requested by owners and managers,
//! decided by an admin other than the requester, in force until they expire.

use serde_json::{Map, Value};
use uuid::Uuid;

use custodian_domain::access::{Action, AssetAccess};
use custodian_domain::audit::{self};
use custodian_domain::exception::{ExceptionRule, ExceptionStatus, PolicyException};
use custodian_domain::input::Input;
use custodian_domain::value;
use custodian_store::ExceptionWrite;
use custodian_store::{ExceptionQuery, Page, Write};

use crate::Precondition;
use crate::{check_version, race, App, AppError, Ctx, Result};

/// An exception as the API shows it: with its `state` as of today (`expired` once past
/// its expiry).
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "PolicyException")]
pub struct ExceptionView {
    #[serde(flatten)]
    pub exception: PolicyException,
    /// Its status as of today: an approved exception past its expiry is `expired`.
    pub state: custodian_domain::exception::ExceptionStatus,
}

impl ExceptionView {
    /// The exception as of today.
    pub fn of(x: PolicyException) -> Self {
        let state = x.state(custodian_domain::now().date_naive());
        ExceptionView {
            exception: x,
            state,
        }
    }
}

fn view(x: &PolicyException) -> Map<String, Value> {
    match serde_json::to_value(x) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

impl App {
    async fn load_exception(&self, id: Uuid) -> Result<PolicyException> {
        self.store
            .exception(id)
            .await?
            .ok_or_else(|| AppError::not_found("exception", id))
    }

    /// The approved exception in force that sets `rule` aside for an asset, if any.
    pub(crate) async fn exception_covering(
        &self,
        rule: ExceptionRule,
        asset: Uuid,
    ) -> Result<Option<PolicyException>> {
        let today = custodian_domain::now().date_naive();
        let q = ExceptionQuery {
            limit: 100,
            asset_id: Some(asset),
            // Any rule: one named before the checks and the check's own id are the same.
            rule: None,
            status: Some(ExceptionStatus::Approved),
            newest_first: true,
            cursor: None,
            requester_id: None,
        };
        Ok(self
            .store
            .list_exceptions(&q)
            .await?
            .items
            .into_iter()
            .find(|x| x.covers(rule, asset, today)))
    }

    /// Asks for an exception. Members ask for assets whose records they may edit; the
    /// request is recorded in the asker's name.
    pub async fn request_exception(
        &self,
        ctx: &Ctx,
        body: Map<String, Value>,
    ) -> Result<PolicyException> {
        self.allow(ctx, Action::RequestExceptions).await?;
        let now = custodian_domain::now();
        let requester = ctx.principal().and_then(|p| p.person_id);
        let x = PolicyException::from_input(&body, requester, now)?;
        let reach = self.reach(ctx).await?;
        for (i, id) in x.asset_ids.iter().enumerate() {
            let Some(a) = self.store.asset(*id).await? else {
                return Err(AppError::invalid(
                    &format!("asset_ids[{i}]"),
                    format!("no asset has the id {id}"),
                ));
            };
            if let (Some(p), Some(_)) = (ctx.principal(), &reach) {
                self.asset_allowed_within(ctx, p, reach.as_ref(), &a, AssetAccess::EditRecord)
                    .await
                    .map_err(|e| match e {
                        AppError::NotFound { .. } => AppError::invalid(
                            &format!("asset_ids[{i}]"),
                            format!("no asset has the id {id}"),
                        ),
                        other => other,
                    })?;
            }
        }
        self.write_created(
            ctx,
            "exception",
            &x.id.to_string(),
            &view(&x),
            Write::Exception(ExceptionWrite::InsertException(Box::new(x.clone()))),
            now,
        )
        .await?;
        Ok(x)
    }

    /// One exception: readers of the register see every one, others those they asked for.
    pub async fn get_exception(&self, ctx: &Ctx, id: Uuid) -> Result<PolicyException> {
        self.allow(ctx, Action::ReadReference).await?;
        let x = self.load_exception(id).await?;
        if self.reach(ctx).await?.is_some()
            && x.requester_id
                .is_none_or(|r| Some(r) != ctx.principal().and_then(|p| p.person_id))
        {
            return Err(AppError::not_found("exception", id));
        }
        Ok(x)
    }

    /// A page of exceptions, newest first (members: only those they asked for).
    pub async fn list_exceptions(
        &self,
        ctx: &Ctx,
        mut q: ExceptionQuery,
    ) -> Result<Page<PolicyException>> {
        self.allow(ctx, Action::ReadReference).await?;
        if self.reach(ctx).await?.is_some() {
            // Members see their own requests only, filtered before paging.
            match ctx.principal().and_then(|p| p.person_id) {
                Some(me) if q.requester_id.is_none_or(|r| r == me) => q.requester_id = Some(me),
                _ => {
                    return Ok(Page {
                        items: vec![],
                        next_cursor: None,
                    })
                }
            }
        }
        Ok(self.store.list_exceptions(&q).await?)
    }

    /// Approves or rejects a request (admins, in their own name, never their own request).
    pub async fn decide_exception(
        &self,
        ctx: &Ctx,
        id: Uuid,
        to: ExceptionStatus,
        body: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<PolicyException> {
        self.allow(ctx, Action::DecideExceptions).await?;
        let notes = read_notes(&body)?;
        let Some(me) = ctx.principal().and_then(|p| p.person_id) else {
            return Err(AppError::invalid(
                "approver_id",
                "a decision is recorded in a person's name, and this account is not linked to a person",
            ));
        };
        let cur = self.load_exception(id).await?;
        check_version("exception", id, &if_match, cur.version)?;
        let next = cur.decide(to, me, notes, custodian_domain::now())?;
        self.write_exception(ctx, &cur, &next, if_match).await?;
        Ok(next)
    }

    /// Revokes an exception in force (admins).
    pub async fn revoke_exception(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<PolicyException> {
        self.allow(ctx, Action::DecideExceptions).await?;
        let notes = read_notes(&body)?;
        let cur = self.load_exception(id).await?;
        check_version("exception", id, &if_match, cur.version)?;
        let next = cur.revoke(notes, custodian_domain::now())?;
        self.write_exception(ctx, &cur, &next, if_match).await?;
        Ok(next)
    }

    async fn write_exception(
        &self,
        ctx: &Ctx,
        cur: &PolicyException,
        next: &PolicyException,
        if_match: Precondition,
    ) -> Result<()> {
        let changes = audit::diff(&view(cur), &view(next));
        let ev = self.event(
            ctx,
            &format!("exception.{}", next.status),
            "exception",
            next.id,
            Value::Object(changes),
        );
        self.store
            .commit(custodian_store::ChangeSet::one(
                Write::Exception(ExceptionWrite::UpdateException {
                    exception: Box::new(next.clone()),
                    expected_version: cur.version,
                }),
                ev,
            ))
            .await
            .map_err(|e| race(e, &if_match))
    }
}

fn read_notes(body: &Map<String, Value>) -> Result<Option<String>> {
    let mut r = Input::new(body);
    r.reject_unknown(&["notes", "version"], &[], "a decision");
    let notes = r.optional("notes", |v| value::text(v, 2000)).flatten();
    if !r.problems.is_empty() {
        return Err(AppError::Invalid(r.problems));
    }
    Ok(notes)
}
