//! Signing in and out, sessions, and changing one's password.

use super::*;

impl App {
    /// Signs in with an e-mail address and password; starts a new session (a session the
    /// client already had is ended, so a planted session id never becomes signed in).
    pub async fn sign_in(
        &self,
        ctx: &Ctx,
        email: &str,
        password: &str,
        totp: Option<&str>,
        previous_cookie: Option<&str>,
    ) -> Result<SignedIn> {
        let now = custodian_domain::now();
        let email = email.trim().to_lowercase();
        let user = self.store.user_by_email(&email).await?;
        let ok = verify_password(
            password.to_string(),
            user.as_ref().and_then(|u| u.password_hash.clone()),
        )
        .await;
        let client = ctx.client_json();
        let Some(user) = user else {
            let ev = self.event(
                ctx,
                "auth.sign_in_failed",
                "user",
                "unknown",
                json!({"email": email, "reason": "unknown account", "client": client}),
            );
            self.commit_accounts(ChangeSet {
                writes: vec![],
                events: vec![ev],
            })
            .await?;
            return Err(AppError::Unauthorized(SIGN_IN_FAILED.into()));
        };
        let mut step = None;
        let reason = if user.locked(now) {
            Some("locked")
        } else if user.disabled {
            Some("disabled")
        } else if !ok {
            Some("wrong password")
        } else if let Some(sealed) = &user.totp_secret {
            let Some(code) = totp.filter(|c| !c.trim().is_empty()) else {
                // The password was right: say what else is needed (no failure counted).
                return Err(AppError::Unauthorized(TOTP_REQUIRED.into()));
            };
            let secret = self.totp_secret(user.id, sealed)?;
            step = totp::verify(&secret, code, now.timestamp(), user.totp_last_step);
            step.is_none().then_some("wrong second-factor code")
        } else {
            None
        };
        if let Some(reason) = reason {
            let mut next = user.clone();
            let mut events = Vec::new();
            // Wrong guesses count towards the lockout; a locked or disabled account's do not.
            if matches!(reason, "wrong password" | "wrong second-factor code") {
                next.failed_logins += 1;
                if next.failed_logins >= LOCKOUT_AFTER {
                    next.failed_logins = 0;
                    next.locked_until = Some(now + LOCKOUT_FOR);
                    events.push(self.event(
                        ctx,
                        "auth.locked_out",
                        "user",
                        user.id,
                        json!({"locked_until": {"after": next.locked_until}, "client": client}),
                    ));
                }
            }
            events.insert(
                0,
                self.event(
                    ctx,
                    "auth.sign_in_failed",
                    "user",
                    user.id,
                    json!({"email": email, "reason": reason, "client": client}),
                ),
            );
            let writes = if next != user {
                next.version += 1;
                vec![Write::Account(AccountWrite::UpdateUser {
                    user: Box::new(next),
                    expected_version: user.version,
                })]
            } else {
                vec![]
            };
            // A concurrent failure may have moved the version on: the event still counts.
            if let Err(e) = self
                .commit_accounts(ChangeSet {
                    writes,
                    events: events.clone(),
                })
                .await
            {
                if !matches!(e, StoreError::Stale { .. }) {
                    return Err(e.into());
                }
                self.commit_accounts(ChangeSet {
                    writes: vec![],
                    events,
                })
                .await?;
            }
            return Err(AppError::Unauthorized(SIGN_IN_FAILED.into()));
        }
        let method = if step.is_some() {
            "password and second factor"
        } else {
            "password"
        };
        self.start_session(ctx, user, method, step, previous_cookie)
            .await
    }

    /// Starts a session for a user who has proved who they are.
    pub async fn start_session(
        &self,
        ctx: &Ctx,
        user: User,
        method: &str,
        totp_step: Option<i64>,
        previous_cookie: Option<&str>,
    ) -> Result<SignedIn> {
        let now = custodian_domain::now();
        let cookie = random_text(32)?;
        let session = Session {
            id_hash: credential_hash(&cookie),
            user_id: user.id,
            csrf_token: random_text(24)?,
            created_at: now,
            last_seen_at: now,
            ip: ctx.client.ip.clone(),
            user_agent: ctx.client.user_agent.clone(),
        };
        let mut writes = Vec::new();
        if let Some(old) = previous_cookie {
            writes.push(Write::Account(AccountWrite::DeleteSession(
                credential_hash(old),
            )));
        }
        let mut next = user.clone();
        next.failed_logins = 0;
        next.locked_until = None;
        if totp_step.is_some() {
            next.totp_last_step = totp_step;
        }
        if next != user {
            next.version += 1;
            writes.push(Write::Account(AccountWrite::UpdateUser {
                user: Box::new(next.clone()),
                expected_version: user.version,
            }));
        }
        writes.push(Write::Account(AccountWrite::InsertSession(session.clone())));
        let signed_in_ctx = Ctx {
            actor: custodian_domain::audit::Actor::User(user.id),
            ..ctx.clone()
        };
        let ev = self.event(
            &signed_in_ctx,
            "auth.signed_in",
            "user",
            user.id,
            json!({"method": method, "client": ctx.client_json()}),
        );
        self.commit_accounts(ChangeSet {
            writes,
            events: vec![ev],
        })
        .await?;
        Ok(SignedIn {
            cookie,
            session,
            user: next,
        })
    }

    /// Resolves a session cookie: the user acting through it, or `None` when it is unknown,
    /// expired or its account is disabled.
    pub async fn session_principal(&self, cookie: &str) -> Result<Option<(Principal, Session)>> {
        let key = format!("s:{}", credential_hash(cookie));
        if let Some(Cached::Session(p, s)) = self.cached(&key) {
            return Ok(Some((p, s)));
        }
        let found = self.resolve_session(cookie).await?;
        if let Some((p, s)) = &found {
            self.remember(key, Cached::Session(p.clone(), s.clone()));
        }
        Ok(found)
    }

    pub(super) async fn resolve_session(
        &self,
        cookie: &str,
    ) -> Result<Option<(Principal, Session)>> {
        let now = custodian_domain::now();
        let Some(s) = self.store.session(&credential_hash(cookie)).await? else {
            return Ok(None);
        };
        // Expired sessions are removed by the `purge_sessions` job (see `jobs`).
        if s.expired(now) {
            return Ok(None);
        }
        let Some(u) = self.store.user(s.user_id).await?.filter(|u| !u.disabled) else {
            return Ok(None);
        };
        if now - s.last_seen_at >= TOUCH_EVERY {
            self.store.touch_session(&s.id_hash, now).await?;
        }
        Ok(Some((
            Principal {
                user_id: u.id,
                person_id: u.person_id,
                role: u.role,
                scope: Scope::Write,
                via: Via::Session,
                must_enrol_totp: self.must_enrol_totp(&u).await?,
            },
            s,
        )))
    }

    /// Ends the caller's session.
    pub async fn sign_out(&self, ctx: &Ctx, cookie: &str) -> Result<()> {
        let p = self.signed_in(ctx)?;
        let ev = self.event(
            ctx,
            "auth.signed_out",
            "user",
            p.user_id,
            json!({"client": ctx.client_json()}),
        );
        self.commit_accounts(ChangeSet::one(
            Write::Account(AccountWrite::DeleteSession(credential_hash(cookie))),
            ev,
        ))
        .await?;
        Ok(())
    }

    /// The signed-in user's account.
    pub async fn me(&self, ctx: &Ctx) -> Result<User> {
        let p = self.signed_in(ctx)?;
        self.load_user(p.user_id).await
    }

    /// Changes the caller's password; every session of theirs ends (they sign in again).
    /// Checks that the caller may change their password, before their input is read.
    pub async fn may_change_password(&self, ctx: &Ctx) -> Result<()> {
        let p = self.signed_in(ctx)?.clone();
        if let Err(d) = p.check_write() {
            return Err(self.refused(ctx, d, "change a password").await);
        }
        Ok(())
    }

    /// Changes the caller's own password, given the current one.
    pub async fn change_password(&self, ctx: &Ctx, current: &str, new: &str) -> Result<()> {
        self.may_change_password(ctx).await?;
        let p = self.signed_in(ctx)?.clone();
        let user = self.load_user(p.user_id).await?;
        if !verify_password(current.to_string(), user.password_hash.clone()).await {
            return Err(AppError::invalid(
                "current_password",
                "is not the current password",
            ));
        }
        self.set_password(ctx, user, new).await
    }

    pub(super) async fn set_password(&self, ctx: &Ctx, user: User, new: &str) -> Result<()> {
        access::check_password(new, &user.email)
            .map_err(|m| AppError::invalid("new_password", m))?;
        let mut next = user.clone();
        next.password_hash = Some(hash_password(new.to_string()).await?);
        next.failed_logins = 0;
        next.locked_until = None;
        next.version += 1;
        next.updated_at = custodian_domain::now();
        let ev = self.event(
            ctx,
            "auth.password_changed",
            "user",
            user.id,
            json!({"sessions": "ended", "client": ctx.client_json()}),
        );
        self.commit_accounts(ChangeSet {
            writes: vec![
                Write::Account(AccountWrite::UpdateUser {
                    user: Box::new(next),
                    expected_version: user.version,
                }),
                Write::Account(AccountWrite::DeleteUserSessions(user.id)),
            ],
            events: vec![ev],
        })
        .await?;
        Ok(())
    }
}
