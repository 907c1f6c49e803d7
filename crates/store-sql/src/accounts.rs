//! User accounts, sessions, API tokens and settings: their SQL.

use custodian_domain::access::{Role, Scope};
use custodian_domain::account::{ApiToken, Session, User};
use custodian_store::{Result, StoreError};
use uuid::Uuid;

use super::*;
use crate::db::{Row, Sql};
use crate::rows::word;
use crate::tx::SqlTx;
use custodian_store::*;

pub const USER_COLS: &str = "seq, id, email, person_id, role, password_hash, totp_secret, totp_last_step, disabled, failed_logins, locked_until, oidc_subject, version, created_at, updated_at";

pub const SESSION_COLS: &str =
    "id_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent";

pub const TOKEN_COLS: &str =
    "seq, id, user_id, name, token_hash, scope, created_at, expires_at, last_used_at, revoked_at";

pub fn user(row: &Row) -> Result<(i64, User)> {
    Ok((
        row.get("seq")?,
        User {
            id: row.get("id")?,
            email: row.get("email")?,
            person_id: row.get("person_id")?,
            role: word(row, "role", Role::parse)?,
            password_hash: row.get("password_hash")?,
            totp_secret: row.get("totp_secret")?,
            totp_last_step: row.get("totp_last_step")?,
            disabled: row.get("disabled")?,
            failed_logins: i32::try_from(row.get::<i64>("failed_logins")?).unwrap_or(i32::MAX),
            locked_until: row.get("locked_until")?,
            oidc_subject: row.get("oidc_subject")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        },
    ))
}

pub fn user_values(u: &User) -> Vec<(&'static str, crate::db::Arg)> {
    vec![
        ("id", u.id.into()),
        ("email", u.email.clone().into()),
        ("person_id", u.person_id.into()),
        ("role", u.role.as_str().into()),
        ("password_hash", u.password_hash.clone().into()),
        ("totp_secret", u.totp_secret.clone().into()),
        ("totp_last_step", u.totp_last_step.into()),
        ("disabled", u.disabled.into()),
        ("failed_logins", i64::from(u.failed_logins).into()),
        ("locked_until", u.locked_until.into()),
        ("oidc_subject", u.oidc_subject.clone().into()),
        ("version", u.version.into()),
        ("created_at", u.created_at.into()),
        ("updated_at", u.updated_at.into()),
    ]
}

pub fn session(row: &Row) -> Result<Session> {
    Ok(Session {
        id_hash: row.get("id_hash")?,
        user_id: row.get("user_id")?,
        csrf_token: row.get("csrf_token")?,
        created_at: row.get("created_at")?,
        last_seen_at: row.get("last_seen_at")?,
        ip: row.get("ip")?,
        user_agent: row.get("user_agent")?,
    })
}

pub fn token(row: &Row) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        name: row.get("name")?,
        token_hash: row.get("token_hash")?,
        scope: word(row, "scope", Scope::parse)?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        last_used_at: row.get("last_used_at")?,
        revoked_at: row.get("revoked_at")?,
    })
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn purge_setup_links(&self, now: DateTime<Utc>) -> Result<u64> {
        jobs::purge_setup_links(&self.pools, now).await
    }

    async fn user(&self, id: Uuid) -> Result<Option<User>> {
        self.one_user("id", id.into()).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        self.one_user("email", email.to_lowercase().into()).await
    }

    async fn user_by_oidc_subject(&self, subject: &str) -> Result<Option<User>> {
        self.one_user("oidc_subject", subject.into()).await
    }

    async fn list_users(&self, limit: u32, cursor: Option<Cursor>) -> Result<Page<User>> {
        let listing = Listing {
            cols: rows::USER_COLS,
            from: "users",
            key: "seq",
            conds: vec![],
            cursor,
            limit,
        };
        self.fetch_page(Sql::new(""), listing, rows::user).await
    }

    async fn count_users(&self) -> Result<i64> {
        self.pools
            .fetch_one(Sql::new("SELECT COUNT(*) AS n FROM users"))
            .await?
            .get("n")
    }

    async fn session(&self, id_hash: &str) -> Result<Option<Session>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM sessions WHERE id_hash = $1",
            rows::SESSION_COLS
        ))
        .bind(id_hash);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::session(&r))
            .transpose()
    }

    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
        self.bookkeeping(
            Sql::new("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(at)
                .bind(id_hash),
        )
        .await
        .map(drop)
    }

    async fn purge_sessions(
        &self,
        idle_before: DateTime<Utc>,
        started_before: DateTime<Utc>,
    ) -> Result<u64> {
        self.bookkeeping(
            Sql::new("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
                .bind(idle_before)
                .bind(started_before),
        )
        .await
    }

    async fn token(&self, id: Uuid) -> Result<Option<ApiToken>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM api_tokens WHERE id = $1",
            rows::TOKEN_COLS
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::token(&r))
            .transpose()
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        let sql = Sql::new(format!(
            "SELECT {} FROM api_tokens WHERE token_hash = $1",
            rows::TOKEN_COLS
        ))
        .bind(hash);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| rows::token(&r))
            .transpose()
    }

    async fn tokens(&self, user_id: Option<Uuid>) -> Result<Vec<ApiToken>> {
        let mut sql = Sql::new(format!("SELECT {} FROM api_tokens", rows::TOKEN_COLS));
        if let Some(u) = user_id {
            let p = sql.arg(u);
            sql.push(&format!(" WHERE user_id = {p}"));
        }
        sql.push(" ORDER BY seq DESC");
        self.pools.fetch_rows(sql, rows::token).await
    }

    async fn touch_token(&self, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        self.bookkeeping(
            Sql::new("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id),
        )
        .await
        .map(drop)
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        let sql = Sql::new("SELECT value FROM settings WHERE key = $1").bind(key);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| r.get("value"))
            .transpose()
    }
}

impl SqlTx {
    /// Applies a change to user accounts, sessions, API tokens and settings.
    pub(crate) async fn write_accounts(&mut self, w: AccountWrite) -> Result<()> {
        match w {
            AccountWrite::InsertUser(u) => self
                .conn
                .execute(rows::insert("users", rows::user_values(&u)))
                .await
                .map(drop),
            AccountWrite::UpdateUser {
                user,
                expected_version,
            } => {
                let n = self
                    .conn
                    .execute(rows::update_versioned(
                        "users",
                        "id",
                        user.id.into(),
                        rows::user_values(&user),
                        expected_version,
                    ))
                    .await?;
                if n == 0 {
                    return Err(self
                        .missing_or_stale(
                            "users",
                            "user",
                            user.id.into(),
                            user.id.to_string(),
                            expected_version,
                        )
                        .await);
                }
                Ok(())
            }
            AccountWrite::InsertSession(s) => {
                let sql = rows::insert(
                    "sessions",
                    vec![
                        ("id_hash", s.id_hash.into()),
                        ("user_id", s.user_id.into()),
                        ("csrf_token", s.csrf_token.into()),
                        ("created_at", s.created_at.into()),
                        ("last_seen_at", s.last_seen_at.into()),
                        ("ip", s.ip.into()),
                        ("user_agent", s.user_agent.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            AccountWrite::DeleteSession(h) => self
                .conn
                .execute(Sql::new("DELETE FROM sessions WHERE id_hash = $1").bind(h))
                .await
                .map(drop),
            AccountWrite::DeleteUserSessions(u) => self
                .conn
                .execute(Sql::new("DELETE FROM sessions WHERE user_id = $1").bind(u))
                .await
                .map(drop),
            AccountWrite::InsertToken(t) => {
                let sql = rows::insert(
                    "api_tokens",
                    vec![
                        ("id", t.id.into()),
                        ("user_id", t.user_id.into()),
                        ("name", t.name.into()),
                        ("token_hash", t.token_hash.into()),
                        ("scope", t.scope.as_str().into()),
                        ("created_at", t.created_at.into()),
                        ("expires_at", t.expires_at.into()),
                        ("last_used_at", t.last_used_at.into()),
                        ("revoked_at", t.revoked_at.into()),
                    ],
                );
                self.conn.execute(sql).await.map(drop)
            }
            AccountWrite::RevokeToken { id, at } => {
                let n = self
                    .conn
                    .execute(
                        Sql::new("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                            .bind(at)
                            .bind(id),
                    )
                    .await?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "token in force",
                        id: id.to_string(),
                    });
                }
                Ok(())
            }
            AccountWrite::RevokeUserTokens { user_id, at } => self
                .conn
                .execute(
                    Sql::new("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                        .bind(at)
                        .bind(user_id),
                )
                .await
                .map(drop),
            AccountWrite::SetSetting { key, value } => {
                self.conn
                    .execute(Sql::new("DELETE FROM settings WHERE key = $1").bind(key.clone()))
                    .await?;
                if let Some(v) = value {
                    self.conn
                        .execute(
                            Sql::new("INSERT INTO settings (key, value) VALUES ($1, $2)")
                                .bind(key)
                                .bind(v),
                        )
                        .await?;
                }
                Ok(())
            }
        }
    }
}
