//! Single sign-on: a person the organisation's identity provider vouches for becomes a
//! signed-in user.
//!
//! The provider's subject is linked to one account. The first time a subject signs in, the
//! account is found by its e-mail address (and linked), or made for the person in the
//! register with that address, as a `member` unless the provider names a role. When a
//! role claim is configured the provider is authoritative: the account's role follows it
//! at every sign-in. Nobody the register does not know gets in, nor a person who has left.

use serde_json::{json, Value};

use custodian_domain::access::Role;
use custodian_domain::account::User;
use custodian_domain::audit::{Actor, NewEvent};
use custodian_domain::party::PersonStatus;
use custodian_store::AccountWrite;
use custodian_store::{ChangeSet, Write};

use crate::accounts::SignedIn;
use crate::{App, AppError, Ctx, Result};

/// Who the identity provider says the user is.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalIdentity {
    /// The provider's stable identifier for the user (issuer and subject).
    pub subject: String,
    /// The person's e-mail address (the configured person claim).
    pub email: String,
    /// Role values from the configured role claim (`None`: roles are kept in Custodian).
    pub roles: Option<Vec<String>>,
    /// Whether the provider says the user signed in with a second factor.
    pub mfa: bool,
}

/// The method recorded for single sign-on sessions.
pub const METHOD: &str = "single sign-on";

impl App {
    /// Signs in someone the identity provider has vouched for; starts a new session (a
    /// session the client already had is ended).
    pub async fn sign_in_external(
        &self,
        ctx: &Ctx,
        id: ExternalIdentity,
        previous_cookie: Option<&str>,
    ) -> Result<SignedIn> {
        let email = id.email.trim().to_lowercase();
        let (user, mut next) = match self.store.user_by_oidc_subject(&id.subject).await? {
            Some(u) => (Some(u.clone()), u),
            None => match self.store.user_by_email(&email).await? {
                Some(u) if u.oidc_subject.is_some() => {
                    return self
                        .refuse(
                            ctx,
                            &u.id.to_string(),
                            &email,
                            "linked to another identity",
                            "this account cannot sign in through single sign-on: ask an admin"
                                .into(),
                        )
                        .await
                }
                Some(u) => {
                    let mut next = u.clone();
                    next.oidc_subject = Some(id.subject.clone());
                    (Some(u), next)
                }
                None => (None, self.provision(ctx, &id, &email).await?),
            },
        };
        if next.disabled {
            return self
                .refuse(
                    ctx,
                    &next.id.to_string(),
                    &email,
                    "disabled",
                    "this account is disabled: ask an admin".into(),
                )
                .await;
        }
        if let Some(person) = next.person_id {
            if let Some(p) = self.store.party(person).await? {
                if p.status == Some(PersonStatus::Left) {
                    return self
                        .refuse(
                            ctx,
                            &next.id.to_string(),
                            &email,
                            "person has left",
                            format!("{} has left the organisation", p.name),
                        )
                        .await;
                }
            }
        }
        if let Some(values) = &id.roles {
            next.role = Role::from_claim_values(values);
        }
        // The second factor is not lost on the way: an account that has one, or an admin
        // when admins must have one, signs in only when the provider vouches for one.
        if !id.mfa {
            let needs = next.totp_secret.is_some()
                || (next.role == Role::Admin
                    && self
                        .store
                        .setting(crate::accounts::REQUIRE_TOTP_FOR_ADMINS)
                        .await?
                        .as_deref()
                        == Some("true"));
            if needs {
                return self
                    .refuse(
                        ctx,
                        &next.id.to_string(),
                        &email,
                        "no second factor at the provider",
                        "this account needs a second factor, and the identity provider does not say one was used (amr): sign in there with one, or with your password and code here".into(),
                    )
                    .await;
            }
        }
        let as_user = Ctx {
            actor: Actor::User(next.id),
            ..ctx.clone()
        };
        let now = custodian_domain::now();
        let mut events = Vec::new();
        let mut writes = Vec::new();
        match &user {
            None => {
                let mut view = next.audit_view();
                view.insert("source".into(), json!("identity provider"));
                view.insert("client".into(), ctx.client_json());
                events.push(NewEvent::created(
                    &as_user.actor,
                    "user.created",
                    "user",
                    next.id.to_string(),
                    &view,
                    ctx.request_id.as_deref(),
                    now,
                ));
                writes.push(Write::Account(AccountWrite::InsertUser(Box::new(
                    next.clone(),
                ))));
            }
            Some(cur) if *cur != next => {
                next.version += 1;
                next.updated_at = now;
                let mut changes =
                    custodian_domain::audit::diff(&cur.audit_view(), &next.audit_view());
                changes.insert("source".into(), json!("identity provider"));
                changes.insert("client".into(), ctx.client_json());
                let action = if next.role != cur.role {
                    "user.role_changed"
                } else {
                    "user.sso_linked"
                };
                events.push(self.event(&as_user, action, "user", next.id, Value::Object(changes)));
                writes.push(Write::Account(AccountWrite::UpdateUser {
                    user: Box::new(next.clone()),
                    expected_version: cur.version,
                }));
            }
            Some(_) => {}
        }
        if !writes.is_empty() {
            match self.commit_accounts(ChangeSet { writes, events }).await {
                Ok(()) => {}
                // Two first sign-ins (or role updates) at once: the other one got there
                // first, and its account is the one to sign in to.
                Err(custodian_store::StoreError::Duplicate { .. })
                | Err(custodian_store::StoreError::Stale { .. }) => {
                    match self.store.user_by_oidc_subject(&id.subject).await? {
                        Some(u) if !u.disabled => next = u,
                        _ => return Err(AppError::Conflict {
                            message:
                                "another sign-in changed this account at the same moment: try again"
                                    .into(),
                            field: None,
                        }),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.start_session(ctx, next, METHOD, None, previous_cookie)
            .await
    }

    /// A new account for the person in the register with this e-mail address.
    async fn provision(&self, ctx: &Ctx, id: &ExternalIdentity, email: &str) -> Result<User> {
        let Some(person) = self.store.person_by_email(email).await? else {
            return self
                .refuse(
                    ctx,
                    "unknown",
                    email,
                    "no such person",
                    format!("no person in the register has the e-mail address {email}: ask an admin to register them first"),
                )
                .await;
        };
        let mut user = User::new(
            email,
            Role::Member,
            Some(person.id),
            false,
            custodian_domain::now(),
        );
        user.oidc_subject = Some(id.subject.clone());
        Ok(user)
    }

    /// Records a refused single sign-on and answers 403 with the reason.
    async fn refuse<T>(
        &self,
        ctx: &Ctx,
        user: &str,
        email: &str,
        reason: &str,
        message: String,
    ) -> Result<T> {
        let ev = self.event(
            ctx,
            "auth.sign_in_failed",
            "user",
            user,
            json!({"email": email, "method": METHOD, "reason": reason, "client": ctx.client_json()}),
        );
        self.commit_accounts(ChangeSet {
            writes: vec![],
            events: vec![ev],
        })
        .await?;
        Err(AppError::Forbidden(message))
    }

    /// Seals a short-lived value the client keeps for us (a sign-in under way), bound to
    /// `context`.
    pub fn seal_for_client(&self, value: &str, context: &str) -> Result<String> {
        self.sealer()
            .seal(value, context)
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Opens a value sealed by [`App::seal_for_client`]; `None` when it was not made by us
    /// for `context`.
    pub fn open_from_client(&self, sealed: &str, context: &str) -> Option<String> {
        self.sealer().open(sealed, context).ok()
    }
}
