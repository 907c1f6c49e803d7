//! The second factor (TOTP): enrolling, confirming, resetting, and the setting that makes it compulsory for admins.

use super::*;

/// The setting that makes a second factor compulsory for admins.
pub const REQUIRE_TOTP_FOR_ADMINS: &str = "require_totp_for_admins";

/// The security settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct SecuritySettings {
    /// Whether admins must sign in with a second factor (and enrol one first).
    pub require_totp_for_admins: bool,
}

/// The issuer name authenticator apps show.
pub(super) const TOTP_ISSUER: &str = "Custodian";

/// How long an enrolment may wait for its confirming code.
pub(super) const TOTP_ENROL_LIFE: TimeDelta = TimeDelta::minutes(15);

/// A second factor being enrolled: the secret to add to an authenticator app.
#[derive(Debug)]
pub struct TotpEnrolment {
    /// The secret, base32 (for typing in).
    pub secret: String,
    /// The `otpauth://` URI (for a QR code).
    pub uri: String,
}

impl App {
    pub(crate) fn totp_context(user: Uuid) -> String {
        format!("user:{user}:totp")
    }

    /// Opens a user's sealed second-factor secret.
    pub(super) fn totp_secret(&self, user: Uuid, sealed: &str) -> Result<Vec<u8>> {
        let text = self.open_secret(sealed, &Self::totp_context(user))?;
        totp::base32_decode(&text)
            .map_err(|e| AppError::Internal(format!("the stored second factor is unreadable: {e}")))
    }

    /// Whether an account must enrol a second factor before doing anything else.
    /// Accounts without a password sign in through single sign-on only, where the
    /// identity provider asks for the second factor.
    pub(super) async fn must_enrol_totp(&self, u: &User) -> Result<bool> {
        if u.role != Role::Admin || u.totp_secret.is_some() || u.password_hash.is_none() {
            return Ok(false);
        }
        Ok(self
            .store
            .setting(REQUIRE_TOTP_FOR_ADMINS)
            .await?
            .as_deref()
            == Some("true"))
    }

    /// Starts enrolling a second factor for the caller: a new secret, confirmed by
    /// [`App::confirm_totp`] with a code from the authenticator app.
    pub async fn enrol_totp(&self, ctx: &Ctx) -> Result<TotpEnrolment> {
        let p = self.signed_in(ctx)?.clone();
        if let Err(d) = p.check_write() {
            return Err(self.refused(ctx, d, "enrol a second factor").await);
        }
        let user = self.load_user(p.user_id).await?;
        let mut raw = [0u8; totp::SECRET_BYTES];
        getrandom::getrandom(&mut raw)
            .map_err(|e| AppError::Internal(format!("random source: {e}")))?;
        let secret = totp::base32_encode(&raw);
        let sealed = self
            .sealer()
            .seal(&secret, &Self::totp_context(user.id))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let pending = PendingTotp {
            until: custodian_domain::now() + TOTP_ENROL_LIFE,
            sealed,
        };
        let ev = self.event(
            ctx,
            "auth.totp_enrolment_started",
            "user",
            user.id,
            json!({"client": ctx.client_json()}),
        );
        self.commit_accounts(ChangeSet::one(
            Write::Account(AccountWrite::SetSetting {
                key: PendingTotp::key(user.id),
                value: Some(pending.encode()),
            }),
            ev,
        ))
        .await?;
        Ok(TotpEnrolment {
            uri: totp::otpauth_uri(TOTP_ISSUER, &user.email, &raw),
            secret,
        })
    }

    /// Confirms an enrolment with a current code; the second factor is then required at
    /// every sign-in.
    pub async fn confirm_totp(&self, ctx: &Ctx, code: Option<&str>) -> Result<User> {
        let p = self.signed_in(ctx)?.clone();
        if let Err(d) = p.check_write() {
            return Err(self.refused(ctx, d, "enrol a second factor").await);
        }
        let code = code.ok_or_else(|| AppError::invalid("code", "is required"))?;
        let user = self.load_user(p.user_id).await?;
        let key = PendingTotp::key(user.id);
        let none = || {
            AppError::invalid(
                "code",
                "no enrolment is waiting: start one with POST /api/v1/session/totp",
            )
        };
        let pending = self
            .store
            .setting(&key)
            .await?
            .as_deref()
            .and_then(PendingTotp::decode)
            .ok_or_else(none)?;
        let sealed = pending.sealed.as_str();
        if pending.until < custodian_domain::now() {
            return Err(none());
        }
        let secret = self.totp_secret(user.id, sealed)?;
        let now = custodian_domain::now();
        let Some(step) = totp::verify(&secret, code, now.timestamp(), None) else {
            return Err(AppError::invalid(
                "code",
                "is not the authenticator's current code",
            ));
        };
        let mut next = user.clone();
        next.totp_secret = Some(sealed.to_string());
        next.totp_last_step = Some(step);
        next.version += 1;
        next.updated_at = now;
        let ev = self.event(
            ctx,
            "auth.totp_enabled",
            "user",
            user.id,
            json!({"client": ctx.client_json()}),
        );
        self.save_spending(&user, next, key, ev).await
    }

    /// Removes a user's second factor (admins, for a lost device); their sessions end.
    pub async fn reset_totp(&self, ctx: &Ctx, id: Uuid) -> Result<User> {
        self.allow(ctx, Action::ManageUsers).await?;
        let user = self.load_user(id).await?;
        if user.totp_secret.is_none() {
            return Ok(user);
        }
        let mut next = user.clone();
        next.totp_secret = None;
        next.totp_last_step = None;
        next.version += 1;
        next.updated_at = custodian_domain::now();
        let ev = self.event(
            ctx,
            "auth.totp_reset",
            "user",
            id,
            json!({"totp_enabled": {"before": true, "after": false}, "client": ctx.client_json()}),
        );
        self.commit_accounts(ChangeSet {
            writes: vec![
                Write::Account(AccountWrite::UpdateUser {
                    user: Box::new(next.clone()),
                    expected_version: user.version,
                }),
                Write::Account(AccountWrite::DeleteUserSessions(id)),
            ],
            events: vec![ev],
        })
        .await?;
        Ok(next)
    }

    /// The security settings (admins and auditors).
    pub async fn security_settings(&self, ctx: &Ctx) -> Result<SecuritySettings> {
        self.allow(ctx, Action::ReadUsers).await?;
        let required = self
            .store
            .setting(REQUIRE_TOTP_FOR_ADMINS)
            .await?
            .as_deref()
            == Some("true");
        Ok(SecuritySettings {
            require_totp_for_admins: required,
        })
    }

    /// Changes the security settings (admins): `{"require_totp_for_admins": bool}`.
    pub async fn update_security_settings(
        &self,
        ctx: &Ctx,
        body: &Map<String, Value>,
    ) -> Result<SecuritySettings> {
        self.allow(ctx, Action::ManageUsers).await?;
        let mut r = custodian_domain::input::Input::new(body);
        r.reject_unknown(&[REQUIRE_TOTP_FOR_ADMINS], &[], "the security settings");
        r.refuse_null(&[REQUIRE_TOTP_FOR_ADMINS]);
        let required = r
            .optional(REQUIRE_TOTP_FOR_ADMINS, custodian_domain::value::boolean)
            .flatten();
        if !r.problems.is_empty() {
            return Err(AppError::Invalid(r.problems));
        }
        if let Some(req) = required {
            let before = self
                .store
                .setting(REQUIRE_TOTP_FOR_ADMINS)
                .await?
                .as_deref()
                == Some("true");
            if before != req {
                let ev = self.event(ctx, "settings.updated", "settings", "security", json!({REQUIRE_TOTP_FOR_ADMINS: {"before": before, "after": req}, "client": ctx.client_json()}));
                self.commit_accounts(ChangeSet::one(
                    Write::Account(AccountWrite::SetSetting {
                        key: REQUIRE_TOTP_FOR_ADMINS.into(),
                        value: req.then(|| "true".to_string()),
                    }),
                    ev,
                ))
                .await?;
            }
        }
        self.security_settings(ctx).await
    }
}
