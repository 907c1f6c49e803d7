//! Accounts, one file per flow: signing in and out (`sessions.rs`), user management
//! (`users.rs`), first-run setup and setup links (`setup.rs`), personal API tokens
//! (`tokens.rs`) and the second factor (`second_factor.rs`).
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

mod second_factor;
mod sessions;
mod setup;
mod tokens;
mod users;
pub use second_factor::*;
use setup::setup_write;
pub use tokens::*;

/// The one answer to every failed sign-in.
const SIGN_IN_FAILED: &str =
    "sign-in failed: the e-mail address or password is wrong, or the account is locked for a while";

/// The answer when the password was right but the second factor's code is missing.
pub const TOTP_REQUIRED: &str =
    "this account has a second factor: send its current 6-digit code as totp";

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

    /// Records an act that changes nothing stored (a download, a draw, a secret shown) as
    /// its event alone.
    pub(crate) async fn record(&self, event: NewEvent) -> Result<()> {
        self.store
            .commit(ChangeSet {
                writes: vec![],
                events: vec![event],
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

    /// Saves `next` over `user` and spends the one-time setting `key` it was made from (a
    /// setup link, a pending second factor), recorded by `ev`: `next`, as saved.
    async fn save_spending(
        &self,
        user: &User,
        next: User,
        key: String,
        ev: NewEvent,
    ) -> Result<User> {
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
