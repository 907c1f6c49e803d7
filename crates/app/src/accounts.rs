//! Accounts: signing in and out, sessions, personal API tokens, user management and the
//! first-run setup.
//!
//! Passwords are hashed with argon2id off the async runtime. An unknown e-mail address
//! costs the same hashing time as a known one, and every failure gets the same answer, so
//! a response does not tell whether an account exists. Repeated failures lock an account
//! for a while. Every sign-in, failure, lockout, token and role change is an audit event
//! carrying the client's address and user agent.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_domain::access::{self, Action, Principal, Role, Scope, Via};
use custodian_domain::account::{
    credential_hash, ApiToken, PendingTotp, Session, SetupLink, User, LOCKOUT_AFTER, LOCKOUT_FOR,
    TOKEN_PREFIX,
};
use custodian_domain::audit::{self, NewEvent};
use custodian_domain::totp;
use custodian_store::AccountWrite;
use custodian_store::{ChangeSet, Cursor, Page, StoreError, Write};

use crate::Precondition;
use crate::{check_version, race, Access, App, AppError, Ctx, Result};

/// The one answer to every failed sign-in.
const SIGN_IN_FAILED: &str =
    "sign-in failed: the e-mail address or password is wrong, or the account is locked for a while";
/// The answer when the password was right but the second factor's code is missing.
pub const TOTP_REQUIRED: &str =
    "this account has a second factor: send its current 6-digit code as totp";
/// The setting that makes a second factor compulsory for admins.
pub const REQUIRE_TOTP_FOR_ADMINS: &str = "require_totp_for_admins";

/// The security settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct SecuritySettings {
    /// Whether admins must sign in with a second factor (and enrol one first).
    pub require_totp_for_admins: bool,
}
/// The issuer name authenticator apps show.
const TOTP_ISSUER: &str = "Custodian";
/// How long an enrolment may wait for its confirming code.
const TOTP_ENROL_LIFE: TimeDelta = TimeDelta::minutes(15);

/// How long a one-time setup link works.
const SETUP_LIFE: TimeDelta = TimeDelta::hours(24);
/// How often a session's or token's last use is written down.
const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);

/// How long a resolved session or token is trusted without asking the database again.
/// A change made through this process (sign-out, revocation, a role change, disabling)
/// takes effect at once; one made through another instance sharing the database, within
/// this time.
pub const CREDENTIAL_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Credentials resolved recently, by the hash of the credential.
#[derive(Default)]
pub struct CredentialCache {
    entries: std::collections::HashMap<String, (std::time::Instant, Cached)>,
}

#[derive(Clone)]
enum Cached {
    Session(Principal, Session),
    Token(Principal),
}

/// A new session: the cookie's value (shown to the client once) and the record.
#[derive(Debug)]
pub struct SignedIn {
    /// The value for the session cookie.
    pub cookie: String,
    /// The session.
    pub session: Session,
    /// The user.
    pub user: User,
}

/// A new token: the secret (shown once) and the record.
#[derive(Debug)]
pub struct IssuedToken {
    /// The token to send as `Authorization: Bearer …`.
    pub secret: String,
    /// The record.
    pub token: ApiToken,
}

/// A string taken exactly as sent (passwords are not trimmed).
pub fn raw_text(v: &Value) -> std::result::Result<String, String> {
    match v.as_str() {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        Some(_) => Err("must not be empty".into()),
        None => Err(format!(
            "must be a string, not {}",
            custodian_domain::value::type_name(v)
        )),
    }
}

/// Random bytes from the operating system, as URL-safe base64.
pub fn random_text(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf)
        .map_err(|e| AppError::Internal(format!("the system's random source failed: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// Hashes a password with argon2id (blocking: call through [`hash_password`]).
fn hash_blocking(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt)
        .map_err(|e| AppError::Internal(format!("random source: {e}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing failed: {e}")))
}

/// Hashes a password off the async runtime.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| AppError::Internal(format!("hashing task: {e}")))?
}

/// Checks a password against a stored hash off the async runtime; with no hash, checks it
/// against a throwaway one so that the time taken is the same.
async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = match hash {
            Some(h) => h,
            None => dummy_hash().to_string(),
        };
        let known = PasswordHash::new(&stored);
        match known {
            Ok(h) => Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok(),
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, made once: what unknown accounts are checked against.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let pw = random_text(24).unwrap_or_else(|_| "custodian-dummy-password".into());
        hash_blocking(&pw).unwrap_or_default()
    })
}

impl App {
    pub(crate) fn event(
        &self,
        ctx: &Ctx,
        action: &str,
        entity: &str,
        id: impl ToString,
        changes: Value,
    ) -> NewEvent {
        NewEvent::new(
            &ctx.actor,
            action,
            entity,
            id,
            changes,
            ctx.request_id.as_deref(),
            custodian_domain::now(),
        )
    }

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

    async fn resolve_session(&self, cookie: &str) -> Result<Option<(Principal, Session)>> {
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

    async fn resolve_token(&self, secret: &str) -> Result<Option<Principal>> {
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

    async fn set_password(&self, ctx: &Ctx, user: User, new: &str) -> Result<()> {
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

    fn signed_in<'a>(&self, ctx: &'a Ctx) -> Result<&'a Principal> {
        ctx.principal().ok_or_else(crate::authz::unauthenticated)
    }

    async fn load_user(&self, id: Uuid) -> Result<User> {
        self.store
            .user(id)
            .await?
            .ok_or_else(|| AppError::not_found("user", id))
    }

    /// Creates an account (admins, and the command line). Returns it with a one-time link
    /// path (`/setup/TOKEN`) through which its owner sets a password.
    pub async fn create_user(
        &self,
        ctx: &Ctx,
        input: Map<String, Value>,
    ) -> Result<(User, String)> {
        self.allow(ctx, Action::ManageUsers).await?;
        let now = custodian_domain::now();
        let user = User::from_input(&input, now)?;
        self.check_person(user.person_id).await?;
        let setup = random_text(32)?;
        let mut view = user.audit_view();
        view.insert("client".into(), ctx.client_json());
        let ev = NewEvent::created(
            &ctx.actor,
            "user.created",
            "user",
            user.id.to_string(),
            &view,
            ctx.request_id.as_deref(),
            now,
        );
        self.commit_accounts(ChangeSet {
            writes: vec![
                Write::Account(AccountWrite::InsertUser(Box::new(user.clone()))),
                setup_write(&setup, user.id, now),
            ],
            events: vec![ev],
        })
        .await?;
        Ok((user, setup))
    }

    /// Creates an account with a password (the command line and the demo).
    pub async fn create_user_with_password(
        &self,
        ctx: &Ctx,
        input: Map<String, Value>,
        password: &str,
    ) -> Result<User> {
        let (_, setup) = self.create_user(ctx, input).await?;
        self.complete_setup(ctx, &setup, password).await
    }

    async fn check_person(&self, person: Option<Uuid>) -> Result<()> {
        if let Some(p) = person {
            match self.store.party(p).await? {
                Some(party) if party.kind == custodian_domain::party::PartyKind::Person => {}
                Some(_) => {
                    return Err(AppError::invalid(
                        "person_id",
                        "must name a person, not a team or role",
                    ))
                }
                None => {
                    return Err(AppError::invalid(
                        "person_id",
                        format!("no person has the id {p}"),
                    ))
                }
            }
        }
        Ok(())
    }

    /// The account a one-time setup link is for, and the setting that holds the link.
    async fn setup_link(&self, setup: &str) -> Result<(User, String)> {
        let key = SetupLink::key(&credential_hash(setup));
        let bad = || {
            AppError::invalid(
                "token",
                "this setup link is unknown, used or expired: ask an admin for a new one",
            )
        };
        let link = self
            .store
            .setting(&key)
            .await?
            .as_deref()
            .and_then(SetupLink::decode)
            .filter(|l| l.until >= custodian_domain::now())
            .ok_or_else(bad)?;
        Ok((self.load_user(link.user_id).await?, key))
    }

    /// The e-mail address of the account a setup link is for, while the link works.
    pub async fn setup_link_email(&self, setup: &str) -> Result<String> {
        Ok(self.setup_link(setup).await?.0.email)
    }

    /// Sets a password through a one-time setup link; the link stops working.
    pub async fn complete_setup(&self, ctx: &Ctx, setup: &str, password: &str) -> Result<User> {
        let (user, key) = self.setup_link(setup).await?;
        access::check_password(password, &user.email)
            .map_err(|m| AppError::invalid("password", m))?;
        let mut next = user.clone();
        next.password_hash = Some(hash_password(password.to_string()).await?);
        next.version += 1;
        next.updated_at = custodian_domain::now();
        let ev = self.event(
            ctx,
            "auth.password_set",
            "user",
            user.id,
            json!({"via": "setup link", "client": ctx.client_json()}),
        );
        self.commit_accounts(ChangeSet {
            writes: vec![
                Write::Account(AccountWrite::UpdateUser {
                    user: Box::new(next.clone()),
                    expected_version: user.version,
                }),
                Write::Account(AccountWrite::SetSetting { key, value: None }),
            ],
            events: vec![ev],
        })
        .await?;
        Ok(next)
    }

    /// On first start (no accounts): a one-time link that creates the first admin.
    /// Returns `None` when accounts exist.
    pub async fn bootstrap_link(&self) -> Result<Option<String>> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let token = random_text(32)?;
        let now = custodian_domain::now();
        let ev = NewEvent::new(
            &custodian_domain::audit::Actor::System,
            "auth.setup_link_issued",
            "user",
            "first-admin",
            json!({"expires_at": now + SETUP_LIFE}),
            None,
            now,
        );
        self.commit_accounts(ChangeSet::one(
            Write::Account(AccountWrite::SetSetting {
                key: format!("bootstrap:{}", credential_hash(&token)),
                value: Some(custodian_domain::value::format_timestamp(
                    &(now + SETUP_LIFE),
                )),
            }),
            ev,
        ))
        .await?;
        Ok(Some(token))
    }

    /// Creates the first admin through the first-run link: `{token, email, name, password}`.
    /// A person record is created for them.
    pub async fn bootstrap(&self, ctx: &Ctx, body: &Map<String, Value>) -> Result<User> {
        let mut r = custodian_domain::input::Input::new(body);
        r.reject_unknown(
            &["token", "email", "name", "password"],
            &[],
            "the first-run setup",
        );
        let token = r.required("token", |v| custodian_domain::value::text(v, 200));
        let email = r.required("email", custodian_domain::party::parse_email);
        let name = r.required("name", |v| custodian_domain::value::text(v, 200));
        let password = r.required("password", raw_text);
        if let (Some(e), Some(p)) = (&email, &password) {
            if let Err(m) = access::check_password(p, e) {
                r.add("password", m);
            }
        }
        let (Some(token), Some(email), Some(name), Some(password)) = (token, email, name, password)
        else {
            return Err(AppError::Invalid(r.problems));
        };
        if !r.problems.is_empty() {
            return Err(AppError::Invalid(r.problems));
        }
        let key = format!("bootstrap:{}", credential_hash(&token));
        let valid = match self.store.setting(&key).await? {
            Some(until) => custodian_domain::value::parse_timestamp(&until)
                .is_ok_and(|t| t > custodian_domain::now()),
            None => false,
        };
        if !valid || self.store.count_users().await? > 0 {
            return Err(AppError::invalid(
                "token",
                "this setup link is unknown, used or expired",
            ));
        }
        let system = Ctx {
            access: Access::System,
            ..ctx.clone()
        };
        let person = self
            .create_party(
                &system,
                json!({"kind": "person", "name": name, "email": email})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            )
            .await?;
        let input = json!({"email": email, "role": "admin", "person_id": person.id});
        let user = self
            .create_user_with_password(
                &system,
                input.as_object().cloned().unwrap_or_default(),
                &password,
            )
            .await?;
        let ev = self.event(
            ctx,
            "auth.first_admin_created",
            "user",
            user.id,
            json!({"client": ctx.client_json()}),
        );
        self.commit_accounts(ChangeSet::one(
            Write::Account(AccountWrite::SetSetting { key, value: None }),
            ev,
        ))
        .await?;
        Ok(user)
    }

    /// One account (admins; anyone for their own).
    pub async fn get_user(&self, ctx: &Ctx, id: Uuid) -> Result<User> {
        if ctx.principal().is_some_and(|p| p.user_id == id) {
            return self.load_user(id).await;
        }
        self.allow(ctx, Action::ReadUsers).await?;
        self.load_user(id).await
    }

    /// A page of accounts (admins).
    pub async fn list_users(
        &self,
        ctx: &Ctx,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<User>> {
        self.allow(ctx, Action::ReadUsers).await?;
        Ok(self.store.list_users(limit, cursor).await?)
    }

    /// Changes an account's role, person or disabled flag (admins). Disabling ends its
    /// sessions and revokes its tokens.
    pub async fn update_user(
        &self,
        ctx: &Ctx,
        id: Uuid,
        patch: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<User> {
        self.allow(ctx, Action::ManageUsers).await?;
        let cur = self.load_user(id).await?;
        check_version("user", id, &if_match, cur.version)?;
        let mut next = cur.patched(&patch, custodian_domain::now())?;
        if next.person_id != cur.person_id {
            self.check_person(next.person_id).await?;
        }
        if next == cur {
            return Ok(cur);
        }
        if ctx.principal().is_some_and(|p| p.user_id == id)
            && (next.role != Role::Admin || next.disabled)
        {
            return Err(AppError::Conflict {
                message: "an admin cannot demote or disable their own account: ask another admin"
                    .into(),
                field: Some("role".into()),
            });
        }
        next.version += 1;
        let mut changes = audit::diff(&cur.audit_view(), &next.audit_view());
        changes.insert("client".into(), ctx.client_json());
        let now = custodian_domain::now();
        let mut writes = vec![Write::Account(AccountWrite::UpdateUser {
            user: Box::new(next.clone()),
            expected_version: cur.version,
        })];
        if next.disabled && !cur.disabled {
            writes.push(Write::Account(AccountWrite::DeleteUserSessions(id)));
            writes.push(Write::Account(AccountWrite::RevokeUserTokens {
                user_id: id,
                at: now,
            }));
        }
        let action = if next.role != cur.role {
            "user.role_changed"
        } else {
            "user.updated"
        };
        let ev = self.event(ctx, action, "user", id, Value::Object(changes));
        self.commit_accounts(ChangeSet {
            writes,
            events: vec![ev],
        })
        .await
        .map_err(|e| race(e, &if_match))?;
        Ok(next)
    }

    /// Ends every session of an account (admins, or the user themselves).
    pub async fn end_sessions(&self, ctx: &Ctx, id: Uuid) -> Result<()> {
        if !ctx
            .principal()
            .is_some_and(|p| p.user_id == id && p.scope == Scope::Write)
        {
            self.allow(ctx, Action::ManageUsers).await?;
        }
        self.load_user(id).await?;
        let ev = self.event(
            ctx,
            "auth.sessions_ended",
            "user",
            id,
            json!({"client": ctx.client_json()}),
        );
        self.commit_accounts(ChangeSet::one(
            Write::Account(AccountWrite::DeleteUserSessions(id)),
            ev,
        ))
        .await?;
        Ok(())
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

fn setup_write(token: &str, user: Uuid, now: DateTime<Utc>) -> Write {
    let link = SetupLink {
        user_id: user,
        until: now + SETUP_LIFE,
    };
    Write::Account(AccountWrite::SetSetting {
        key: SetupLink::key(&credential_hash(token)),
        value: Some(link.encode()),
    })
}

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
    fn totp_secret(&self, user: Uuid, sealed: &str) -> Result<Vec<u8>> {
        let text = self.open_secret(sealed, &Self::totp_context(user))?;
        totp::base32_decode(&text)
            .map_err(|e| AppError::Internal(format!("the stored second factor is unreadable: {e}")))
    }

    /// Whether an account must enrol a second factor before doing anything else.
    /// Accounts without a password sign in through single sign-on only, where the
    /// identity provider asks for the second factor.
    async fn must_enrol_totp(&self, u: &User) -> Result<bool> {
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
        self.commit_accounts(ChangeSet {
            writes: vec![
                Write::Account(AccountWrite::UpdateUser {
                    user: Box::new(next.clone()),
                    expected_version: user.version,
                }),
                Write::Account(AccountWrite::SetSetting { key, value: None }),
            ],
            events: vec![ev],
        })
        .await?;
        Ok(next)
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

impl App {
    /// Commits a change to accounts, sessions, tokens or settings, and forgets the
    /// credentials resolved before it.
    pub(crate) async fn commit_accounts(
        &self,
        cs: ChangeSet,
    ) -> std::result::Result<(), StoreError> {
        let r = self.store.commit(cs).await;
        self.forget_credentials();
        r
    }

    fn cached(&self, key: &str) -> Option<Cached> {
        let c = self.credentials.lock().ok()?;
        c.entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < CREDENTIAL_TTL)
            .map(|(_, v)| v.clone())
    }

    fn remember(&self, key: String, v: Cached) {
        if let Ok(mut c) = self.credentials.lock() {
            if c.entries.len() > 10_000 {
                c.entries.retain(|_, (at, _)| at.elapsed() < CREDENTIAL_TTL);
            }
            c.entries.insert(key, (std::time::Instant::now(), v));
        }
    }

    /// Forgets every resolved credential (after any change to accounts, sessions or tokens).
    pub(crate) fn forget_credentials(&self) {
        if let Ok(mut c) = self.credentials.lock() {
            c.entries.clear();
        }
    }
}
