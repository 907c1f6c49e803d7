//! User accounts, sessions, API tokens and settings: the store's part for them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use custodian_domain::account::{ApiToken, Session, User};

use crate::*;

/// A change to user accounts, sessions, API tokens and settings.
#[derive(Clone, Debug)]
pub enum AccountWrite {
    /// Insert a user account.
    InsertUser(Box<User>),
    /// Replace a user if its version is still `expected_version`.
    UpdateUser {
        /// The new record (its `version` is the new version).
        user: Box<User>,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Start a session.
    InsertSession(Session),
    /// End one session (by the hash of its cookie).
    DeleteSession(String),
    /// End every session of a user.
    DeleteUserSessions(Uuid),
    /// Issue an API token.
    InsertToken(ApiToken),
    /// Revoke a token that is not revoked yet.
    RevokeToken {
        /// Token id.
        id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// Revoke every token of a user.
    RevokeUserTokens {
        /// User id.
        user_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// Set a service setting.
    SetSetting {
        /// Setting name.
        key: String,
        /// Its value (`None` removes it).
        value: Option<String>,
    },
}

impl From<AccountWrite> for Write {
    fn from(w: AccountWrite) -> Self {
        Write::Account(w)
    }
}

/// What the store reads of user accounts, sessions, API tokens and settings.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// One user.
    async fn user(&self, id: Uuid) -> Result<Option<User>>;

    /// The user with this (lower-case) e-mail address.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;

    /// The user linked to this identity provider subject.
    async fn user_by_oidc_subject(&self, subject: &str) -> Result<Option<User>>;

    /// A page of users, oldest first.
    async fn list_users(&self, limit: u32, cursor: Option<Cursor>) -> Result<Page<User>>;

    /// How many users exist.
    async fn count_users(&self) -> Result<i64>;

    /// The session with this cookie hash.
    async fn session(&self, id_hash: &str) -> Result<Option<Session>>;

    /// Records that a session was used (bookkeeping, not an audited change).
    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()>;

    /// Removes sessions last used before `idle_before` or started before `started_before`
    /// (bookkeeping: they no longer let anyone in). Returns how many.
    async fn purge_sessions(
        &self,
        idle_before: DateTime<Utc>,
        started_before: DateTime<Utc>,
    ) -> Result<u64>;

    /// One token.
    async fn token(&self, id: Uuid) -> Result<Option<ApiToken>>;

    /// The token with this hash.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>>;

    /// Tokens of one user, or of everyone; newest first.
    async fn tokens(&self, user_id: Option<Uuid>) -> Result<Vec<ApiToken>>;

    /// Records that a token was used (bookkeeping, not an audited change).
    async fn touch_token(&self, id: Uuid, at: DateTime<Utc>) -> Result<()>;

    /// A service setting.
    async fn setting(&self, key: &str) -> Result<Option<String>>;

    /// Removes one-time setup links that have expired; answers how many.
    async fn purge_setup_links(&self, now: DateTime<Utc>) -> Result<u64>;
}
