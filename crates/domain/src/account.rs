//! User accounts, sign-in sessions and personal API tokens.
//!
//! Credentials are kept only as hashes: a password as its argon2id hash, a session and a
//! token as the SHA-256 of the random value the client holds. What the records show on
//! the wire and in the audit trail never includes a credential.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::{Role, Scope};
use crate::input::Input;
use crate::party::parse_email;
use crate::value::{format_timestamp, text, Timestamp};
use crate::Problems;

/// Failed sign-ins in a row that lock an account for a while.
pub const LOCKOUT_AFTER: i32 = 5;
/// How long a lockout lasts.
pub const LOCKOUT_FOR: TimeDelta = TimeDelta::minutes(15);
/// A session unused this long has expired.
pub const SESSION_IDLE: TimeDelta = TimeDelta::minutes(30);
/// A session ends this long after sign-in, used or not.
pub const SESSION_ABSOLUTE: TimeDelta = TimeDelta::hours(12);
/// The longest life a token may be given, in days.
pub const TOKEN_MAX_DAYS: i64 = 366;
/// The life a token gets when none is asked for, in days.
pub const TOKEN_DEFAULT_DAYS: i64 = 90;
/// What every token starts with, so that leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "cust_";

/// A user account.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    /// Identifier.
    pub id: Uuid,
    /// The sign-in e-mail address, lower-cased.
    pub email: String,
    /// The person the account belongs to.
    pub person_id: Option<Uuid>,
    /// The role.
    pub role: Role,
    /// The argon2id hash of the password (`None`: no password yet, or single sign-on only).
    pub password_hash: Option<String>,
    /// The second factor's secret, sealed (`None`: no second factor).
    pub totp_secret: Option<String>,
    /// The last time step a second-factor code was accepted for (no code is used twice).
    pub totp_last_step: Option<i64>,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Failed sign-ins since the last success.
    pub failed_logins: i32,
    /// Locked until this time after repeated failures.
    pub locked_until: Option<DateTime<Utc>>,
    /// The identity provider's subject, once signed in through single sign-on.
    pub oidc_subject: Option<String>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// Fields a create or update request may carry.
const USER_FIELDS: &[&str] = &["email", "role", "person_id", "disabled"];
const USER_READ_ONLY: &[&str] = &[
    "id",
    "has_password",
    "totp_enabled",
    "locked_until",
    "created_at",
    "updated_at",
    "version",
];

impl User {
    /// A new account from a create request (`email`, `role`, optional `person_id`).
    pub fn from_input(obj: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(USER_FIELDS, USER_READ_ONLY, "a user");
        let email = r.required("email", parse_email);
        let role = r.required("role", Role::from_json);
        let person_id = r.optional("person_id", crate::value::id);
        let disabled = r.or_default("disabled", false, crate::value::boolean);
        if !r.problems.is_empty() {
            return Err(r.problems);
        }
        Ok(Self::new(
            &email.unwrap_or_default(),
            role.unwrap_or(Role::Member),
            person_id.flatten(),
            disabled.unwrap_or(false),
            now,
        ))
    }

    /// A new account.
    pub fn new(
        email: &str,
        role: Role,
        person_id: Option<Uuid>,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: crate::new_id(),
            email: email.trim().to_lowercase(),
            person_id,
            role,
            password_hash: None,
            totp_secret: None,
            totp_last_step: None,
            disabled,
            failed_logins: 0,
            locked_until: None,
            oidc_subject: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Applies an update request (`role`, `person_id`, `disabled`).
    pub fn patched(&self, obj: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(&["role", "person_id", "disabled"], USER_READ_ONLY, "a user");
        if obj.contains_key("email") {
            r.add("email", "cannot be changed: create a new account instead");
        }
        let role = r.optional("role", Role::from_json).flatten();
        let clear_person = obj.get("person_id") == Some(&Value::Null);
        let person_id = r.optional("person_id", crate::value::id).flatten();
        let disabled = r.optional("disabled", crate::value::boolean).flatten();
        if !r.problems.is_empty() {
            return Err(r.problems);
        }
        let mut next = self.clone();
        if let Some(role) = role {
            next.role = role;
        }
        if clear_person {
            next.person_id = None;
        } else if let Some(p) = person_id {
            next.person_id = Some(p);
        }
        if let Some(d) = disabled {
            next.disabled = d;
        }
        if next != *self {
            next.updated_at = now;
        }
        Ok(next)
    }

    /// Whether the account is locked out at `now`.
    pub fn locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }

    /// The account as the API shows it: no credential, only whether one is set.
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id,
            email: self.email.clone(),
            role: self.role,
            person_id: self.person_id,
            disabled: self.disabled,
            has_password: self.password_hash.is_some(),
            totp_enabled: self.totp_secret.is_some(),
            sso_linked: self.oidc_subject.is_some(),
            locked_until: self.locked_until.as_ref().map(Timestamp::from),
            created_at: (&self.created_at).into(),
            updated_at: (&self.updated_at).into(),
            version: self.version,
        }
    }

    /// [`User::view`] as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).unwrap_or(Value::Null)
    }

    /// What the audit trail records of the account (no credential).
    pub fn audit_view(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("email".into(), json!(self.email));
        m.insert("role".into(), json!(self.role));
        m.insert("person_id".into(), json!(self.person_id));
        m.insert("disabled".into(), json!(self.disabled));
        m.insert("totp_enabled".into(), json!(self.totp_secret.is_some()));
        m.insert("sso_linked".into(), json!(self.oidc_subject.is_some()));
        m
    }
}

/// A signed-in browser session. The cookie holds a random value; only its hash is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// The SHA-256 of the cookie's value (hex).
    pub id_hash: String,
    /// The user.
    pub user_id: Uuid,
    /// The token forms and scripts must echo on unsafe requests (CSRF protection).
    pub csrf_token: String,
    /// When signed in.
    pub created_at: DateTime<Utc>,
    /// When last used (kept to the minute).
    pub last_seen_at: DateTime<Utc>,
    /// The client's address at sign-in.
    pub ip: Option<String>,
    /// The client's user agent at sign-in.
    pub user_agent: Option<String>,
}

impl Session {
    /// Whether the session has expired at `now` (idle or absolute).
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen_at > SESSION_IDLE || now - self.created_at > SESSION_ABSOLUTE
    }
}

/// A personal API token. The token is shown once; only its hash is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiToken {
    /// Identifier.
    pub id: Uuid,
    /// The user it acts for.
    pub user_id: Uuid,
    /// What it is for.
    pub name: String,
    /// The SHA-256 of the token (hex).
    pub token_hash: String,
    /// What it may do.
    pub scope: Scope,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When last used (kept to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// A token from a create request (`name`, `scope`, `expires_in_days`) and the secret's hash.
    pub fn from_input(
        obj: &Map<String, Value>,
        user_id: Uuid,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(
            &["name", "scope", "expires_in_days", "user_id"],
            &[
                "id",
                "created_at",
                "expires_at",
                "last_used_at",
                "revoked_at",
                "token",
            ],
            "a token",
        );
        let name = r.or_default("name", "API token".to_string(), |v| text(v, 100));
        let scope = r.or_default("scope", Scope::Read, Scope::from_json);
        let days = r.or_default("expires_in_days", TOKEN_DEFAULT_DAYS, |v| {
            let n = crate::value::count(v)?;
            if (1..=TOKEN_MAX_DAYS).contains(&n) {
                Ok(n)
            } else {
                Err(format!("must be between 1 and {TOKEN_MAX_DAYS} days"))
            }
        });
        if !r.problems.is_empty() {
            return Err(r.problems);
        }
        Ok(Self {
            id: crate::new_id(),
            user_id,
            name: name.unwrap_or_default(),
            token_hash,
            scope: scope.unwrap_or(Scope::Read),
            created_at: now,
            expires_at: now + TimeDelta::days(days.unwrap_or(TOKEN_DEFAULT_DAYS)),
            last_used_at: None,
            revoked_at: None,
        })
    }

    /// Whether the token works at `now`.
    pub fn usable(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }

    /// The token as the API shows it (never the secret).
    pub fn view(&self) -> TokenView {
        TokenView {
            id: self.id,
            user_id: self.user_id,
            name: self.name.clone(),
            scope: self.scope,
            created_at: (&self.created_at).into(),
            expires_at: (&self.expires_at).into(),
            last_used_at: self.last_used_at.as_ref().map(Timestamp::from),
            revoked_at: self.revoked_at.as_ref().map(Timestamp::from),
        }
    }

    /// [`ApiToken::view`] as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).unwrap_or(Value::Null)
    }

    /// What the audit trail records of the token.
    pub fn audit_view(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("user_id".into(), json!(self.user_id));
        m.insert("name".into(), json!(self.name));
        m.insert("scope".into(), json!(self.scope));
        m.insert(
            "expires_at".into(),
            json!(format_timestamp(&self.expires_at)),
        );
        m
    }
}

/// The SHA-256 of a credential, in hex: how sessions and tokens are looked up.
pub fn credential_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A one-time setup link as the settings keep it: whose account, and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupLink {
    /// The account whose password it sets.
    pub user_id: Uuid,
    /// When it stops working.
    pub until: DateTime<Utc>,
}

impl SetupLink {
    /// What the keys of setup links start with.
    pub const PREFIX: &'static str = "setup:";

    /// The setting's key, from the hash of the link's token.
    pub fn key(token_hash: &str) -> String {
        format!("{}{token_hash}", Self::PREFIX)
    }

    /// The setting's value.
    pub fn encode(&self) -> String {
        format!("{} {}", self.user_id, format_timestamp(&self.until))
    }

    /// Reads a setting's value; `None` for anything else.
    pub fn decode(value: &str) -> Option<Self> {
        let (user, until) = value.split_once(' ')?;
        Some(Self {
            user_id: user.parse().ok()?,
            until: crate::value::parse_timestamp(until).ok()?,
        })
    }
}

/// A second factor being enrolled, as the settings keep it until it is confirmed: until
/// when, and its secret, sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTotp {
    /// When the enrolment lapses.
    pub until: DateTime<Utc>,
    /// The secret, sealed.
    pub sealed: String,
}

impl PendingTotp {
    /// The setting's key for a user.
    pub fn key(user: Uuid) -> String {
        format!("totp_pending:{user}")
    }

    /// The setting's value.
    pub fn encode(&self) -> String {
        format!("{} {}", format_timestamp(&self.until), self.sealed)
    }

    /// Reads a setting's value; `None` for anything else.
    pub fn decode(value: &str) -> Option<Self> {
        let (until, sealed) = value.split_once(' ')?;
        Some(Self {
            until: crate::value::parse_timestamp(until).ok()?,
            sealed: sealed.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_records_round_trip_and_refuse_anything_else() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let link = SetupLink {
            user_id: crate::new_id(),
            until: now,
        };
        assert_eq!(SetupLink::decode(&link.encode()), Some(link));
        assert_eq!(SetupLink::decode("not-a-user 2026-01-01"), None);
        let pending = PendingTotp {
            until: now,
            sealed: "v1:abcd1234:xyz".into(),
        };
        assert_eq!(PendingTotp::decode(&pending.encode()), Some(pending));
        assert_eq!(PendingTotp::decode("garbage"), None);
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn users_parse_and_never_show_credentials() {
        let now = crate::now();
        let mut u = User::from_input(
            &obj(json!({"email": " Ada@Example.com ", "role": "manager"})),
            now,
        )
        .expect("valid");
        assert_eq!(u.email, "ada@example.com");
        u.password_hash = Some("$argon2id$secret".into());
        let shown = u.to_json().to_string();
        assert!(!shown.contains("argon2"));
        assert!(shown.contains("\"has_password\":true"));
        let e = User::from_input(
            &obj(json!({"email": "nope", "role": "king", "password": "x"})),
            now,
        )
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert!(
            fields.contains(&"email") && fields.contains(&"role") && fields.contains(&"password")
        );
    }

    #[test]
    fn user_updates_change_role_not_email() {
        let now = crate::now();
        let u = User::new("a@b.example", Role::Member, None, false, now);
        let v = u
            .patched(&obj(json!({"role": "auditor"})), now)
            .expect("valid");
        assert_eq!(v.role, Role::Auditor);
        assert!(u
            .patched(&obj(json!({"email": "x@y.example"})), now)
            .is_err());
    }

    #[test]
    fn sessions_expire_idle_and_absolute() {
        let t = crate::now();
        let s = Session {
            id_hash: credential_hash("x"),
            user_id: Uuid::nil(),
            csrf_token: "c".into(),
            created_at: t,
            last_seen_at: t,
            ip: None,
            user_agent: None,
        };
        assert!(!s.expired(t + TimeDelta::minutes(29)));
        assert!(s.expired(t + TimeDelta::minutes(31)));
        let busy = Session {
            last_seen_at: t + TimeDelta::hours(12),
            ..s
        };
        assert!(busy.expired(t + TimeDelta::hours(12) + TimeDelta::minutes(1)));
    }

    #[test]
    fn tokens_expire_within_a_year() {
        let now = crate::now();
        let t = ApiToken::from_input(
            &obj(json!({"scope": "write", "expires_in_days": 7})),
            Uuid::nil(),
            "h".into(),
            now,
        )
        .expect("valid");
        assert_eq!(t.scope, Scope::Write);
        assert!(t.usable(now + TimeDelta::days(6)));
        assert!(!t.usable(now + TimeDelta::days(8)));
        assert!(ApiToken::from_input(
            &obj(json!({"expires_in_days": 400})),
            Uuid::nil(),
            "h".into(),
            now
        )
        .is_err());
        assert_eq!(credential_hash("abc").len(), 64);
    }
}

/// A user account as the API shows it: no credential, only whether one is set.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "User")]
pub struct UserView {
    /// Identifier.
    pub id: Uuid,
    /// The sign-in address.
    pub email: String,
    /// What the account may do.
    pub role: Role,
    /// The person the account belongs to, when linked.
    pub person_id: Option<Uuid>,
    /// A disabled account cannot sign in.
    pub disabled: bool,
    /// Whether a password is set.
    pub has_password: bool,
    /// Whether sign-ins need a second factor.
    pub totp_enabled: bool,
    /// Whether single sign-on has linked the account.
    pub sso_linked: bool,
    /// Locked after failed sign-ins until then.
    pub locked_until: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Record version; also the ETag.
    pub version: i64,
}

/// A personal API token as the API shows it (never the secret).
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
#[schemars(rename = "Token")]
pub struct TokenView {
    /// Identifier.
    pub id: Uuid,
    /// Whose token it is.
    pub user_id: Uuid,
    /// What it is for.
    pub name: String,
    /// `read` or `write`.
    pub scope: Scope,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}
