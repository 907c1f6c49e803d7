//! Personal API tokens: issuing, resolving, listing and revoking them.

use super::*;

/// A new token: the secret (shown once) and the record.
#[derive(Debug)]
pub struct IssuedToken {
    /// The token to send as `Authorization: Bearer …`.
    pub secret: String,
    /// The record.
    pub token: ApiToken,
}

impl App {
    /// Resolves a bearer token: the user acting through it, or `None` when it is unknown,
    /// expired, revoked or its account is disabled.
    pub async fn token_principal(&self, secret: &str) -> Result<Option<Principal>> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let key = format!("t:{}", credential_hash(secret));
        if let Some(Cached::Token(p)) = self.cached(&key) {
            return Ok(Some(p));
        }
        let found = self.resolve_token(secret).await?;
        if let Some(p) = &found {
            self.remember(key, Cached::Token(p.clone()));
        }
        Ok(found)
    }

    pub(super) async fn resolve_token(&self, secret: &str) -> Result<Option<Principal>> {
        let now = custodian_domain::now();
        let Some(t) = self.store.token_by_hash(&credential_hash(secret)).await? else {
            return Ok(None);
        };
        if !t.usable(now) {
            return Ok(None);
        }
        let Some(u) = self.store.user(t.user_id).await?.filter(|u| !u.disabled) else {
            return Ok(None);
        };
        if t.last_used_at.is_none_or(|l| now - l >= TOUCH_EVERY) {
            self.store.touch_token(t.id, now).await?;
        }
        Ok(Some(Principal {
            user_id: u.id,
            person_id: u.person_id,
            role: u.role,
            scope: t.scope,
            via: Via::Token(t.id),
            must_enrol_totp: self.must_enrol_totp(&u).await?,
        }))
    }

    /// Issues a personal token: `{name, scope, expires_in_days}`; admins may name another
    /// `user_id`. The secret is in the answer only.
    pub async fn create_token(&self, ctx: &Ctx, input: Map<String, Value>) -> Result<IssuedToken> {
        let owner = match input.get("user_id").filter(|v| !v.is_null()) {
            Some(u) => {
                let id =
                    custodian_domain::value::id(u).map_err(|m| AppError::invalid("user_id", m))?;
                self.allow(ctx, Action::ManageUsers).await?;
                self.load_user(id).await?
            }
            None => match &ctx.access {
                Access::User(p) => {
                    if let Err(d) = p.check_write() {
                        return Err(self.refused(ctx, d, "issue tokens").await);
                    }
                    self.load_user(p.user_id).await?
                }
                Access::System => return Err(AppError::invalid("user_id", "is required")),
                Access::Anonymous => return Err(crate::authz::unauthenticated()),
            },
        };
        let secret = format!("{TOKEN_PREFIX}{}", random_text(32)?);
        let now = custodian_domain::now();
        let token = ApiToken::from_input(&input, owner.id, credential_hash(&secret), now)?;
        let mut view = token.audit_view();
        view.insert("client".into(), ctx.client_json());
        let ev = NewEvent::created(
            &ctx.actor,
            "token.created",
            "token",
            token.id.to_string(),
            &view,
            ctx.request_id.as_deref(),
            now,
        );
        self.commit_accounts(ChangeSet::one(
            Write::Account(AccountWrite::InsertToken(token.clone())),
            ev,
        ))
        .await?;
        Ok(IssuedToken { secret, token })
    }

    /// Issues a token for a user named by e-mail (the command line).
    pub async fn create_token_for(
        &self,
        ctx: &Ctx,
        email: &str,
        scope: Scope,
        days: i64,
    ) -> Result<IssuedToken> {
        let user = self
            .store
            .user_by_email(&email.trim().to_lowercase())
            .await?
            .ok_or_else(|| {
                AppError::invalid("user", format!("no account has the e-mail address {email}"))
            })?;
        let input = json!({"user_id": user.id.to_string(), "scope": scope, "expires_in_days": days, "name": "command line"});
        self.create_token(ctx, input.as_object().cloned().unwrap_or_default())
            .await
    }

    /// Tokens: the caller's own, or everyone's (or one user's) for admins.
    pub async fn list_tokens(&self, ctx: &Ctx, user: Option<Uuid>) -> Result<Vec<ApiToken>> {
        let me = ctx.principal().map(|p| p.user_id);
        let everyone = match &ctx.access {
            Access::System => true,
            Access::User(p) => p.check(Action::ReadUsers).is_ok(),
            Access::Anonymous => return Err(crate::authz::unauthenticated()),
        };
        let wanted = match user {
            Some(u) if Some(u) == me => Some(u),
            Some(u) => {
                self.allow(ctx, Action::ReadUsers).await?;
                Some(u)
            }
            None if everyone => None,
            None => me,
        };
        Ok(self.store.tokens(wanted).await?)
    }

    /// Revokes a token: the caller's own, or anyone's for admins.
    pub async fn revoke_token(&self, ctx: &Ctx, id: Uuid) -> Result<ApiToken> {
        let t = self
            .store
            .token(id)
            .await?
            .ok_or_else(|| AppError::not_found("token", id))?;
        match ctx.principal() {
            Some(p) if p.user_id == t.user_id => {
                if let Err(d) = p.check_write() {
                    return Err(self.refused(ctx, d, "revoke tokens").await);
                }
            }
            _ => self.allow(ctx, Action::ManageUsers).await?,
        }
        if t.revoked_at.is_some() {
            return Ok(t);
        }
        let now = custodian_domain::now();
        let ev = self.event(ctx, "token.revoked", "token", id, json!({"revoked_at": {"after": now}, "user_id": t.user_id, "client": ctx.client_json()}));
        self.commit_accounts(ChangeSet::one(
            Write::Account(AccountWrite::RevokeToken { id, at: now }),
            ev,
        ))
        .await?;
        Ok(ApiToken {
            revoked_at: Some(now),
            ..t
        })
    }
}
