//! Custodian's application services: one function per use case.
//!
//! Every service takes a [`Ctx`] naming the actor, applies the domain's rules, and
//! writes the change together with its audit event in one transaction. The API, the
//! command line and the importer call these same functions, so no edge can bypass a rule.

use std::sync::Arc;

use serde_json::{Map, Value};

use custodian_domain::access::{Principal, Via};
use custodian_domain::audit::Actor;
use custodian_domain::Problems;
use custodian_store::{Store, StoreError};

pub mod accounts;
pub mod as_at;
pub mod assets;
pub mod attestation;
pub mod audit;
pub mod authz;
mod bulk;
pub mod compliance;
pub mod custody;
pub mod evidence;
pub mod exceptions;
pub mod history;
pub mod import;
pub mod jobs;
pub mod offboarding;
pub mod parties;
pub mod policies;
pub mod reference;
pub mod reports;
pub mod rules;
pub mod samples;
pub mod secrets;
pub mod sso;
pub mod stocktakes;
pub mod summary;

/// Who is acting, and for which request.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The actor recorded in audit events.
    pub actor: Actor,
    /// The request id recorded in audit events.
    pub request_id: Option<String>,
    /// What the actor may do.
    pub access: Access,
    /// Where the request came from (recorded with sign-ins and refusals).
    pub client: Client,
}

/// What an actor is trusted with.
#[derive(Clone, Debug)]
pub enum Access {
    /// The command line on the server: everything.
    System,
    /// A signed-in user, by their role, credential and ownership.
    User(Principal),
    /// Nobody yet: only signing in and first-run setup.
    Anonymous,
}

/// The client of a request.
#[derive(Clone, Debug, Default)]
pub struct Client {
    /// The peer's address.
    pub ip: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

impl Ctx {
    /// The command line's system actor.
    pub fn system() -> Self {
        Self {
            actor: Actor::System,
            request_id: None,
            access: Access::System,
            client: Client::default(),
        }
    }

    /// A signed-in user, for one request.
    pub fn user(p: Principal, request_id: Option<String>, client: Client) -> Self {
        let actor = match p.via {
            Via::Token(t) => Actor::Token(p.user_id, t),
            _ => Actor::User(p.user_id),
        };
        Self {
            actor,
            request_id,
            access: Access::User(p),
            client,
        }
    }

    /// Someone not signed in, for one request.
    pub fn anonymous(request_id: Option<String>, client: Client) -> Self {
        Self {
            actor: Actor::Anonymous,
            request_id,
            access: Access::Anonymous,
            client,
        }
    }

    /// The signed-in user, if one is acting.
    pub fn principal(&self) -> Option<&Principal> {
        match &self.access {
            Access::User(p) => Some(p),
            _ => None,
        }
    }

    /// The client's address and user agent, as recorded in events.
    pub(crate) fn client_json(&self) -> Value {
        serde_json::json!({"ip": self.client.ip, "user_agent": self.client.user_agent})
    }
}

/// What a service can answer instead of a result.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is invalid; every problem is named.
    #[error("invalid input: {0}")]
    Invalid(Problems),
    /// The entity does not exist.
    #[error("{entity} {id} does not exist")]
    NotFound {
        /// Entity type.
        entity: &'static str,
        /// Entity id.
        id: String,
    },
    /// `If-Match` named a version that is not current: nothing was changed.
    #[error("{entity} {id} is at version {current}, not {expected}: reload it and try again")]
    PreconditionFailed {
        /// Entity type.
        entity: &'static str,
        /// Entity id.
        id: String,
        /// The versions the caller named.
        expected: String,
        /// The current version.
        current: i64,
    },
    /// The change collides with the current state (a duplicate, a concurrent change, a
    /// record still in use).
    #[error("{message}")]
    Conflict {
        /// What collides.
        message: String,
        /// The field concerned, if one is.
        field: Option<String>,
    },
    /// The caller did not prove who they are, or the proof failed.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may not take this action.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts: try again later.
    #[error("{message}")]
    TooManyRequests {
        /// What to do.
        message: String,
        /// Seconds until another attempt may succeed.
        retry_after: u64,
    },
    /// The database failed.
    #[error("{0}")]
    Store(StoreError),
    /// Something inside failed that the caller can do nothing about (the random source,
    /// hashing, sealing): logged in full, answered without its message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// An invalid-input error about one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let mut p = Problems::new();
        p.add(field, message);
        AppError::Invalid(p)
    }

    /// A not-found error.
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        AppError::NotFound {
            entity,
            id: id.to_string(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity, id } => AppError::NotFound { entity, id },
            StoreError::Stale { entity, id, .. } => AppError::Conflict {
                message: format!(
                    "{entity} {id} was changed by someone else meanwhile: reload it and try again"
                ),
                field: None,
            },
            StoreError::Duplicate { field, message } => AppError::Conflict {
                message: format!("{field}: {message}"),
                field: Some(field.into()),
            },
            StoreError::Reference(m) => AppError::Conflict {
                message: m,
                field: None,
            },
            other => AppError::Store(other),
        }
    }
}

impl From<Problems> for AppError {
    fn from(p: Problems) -> Self {
        AppError::Invalid(p)
    }
}

/// Service result.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Settings the services need.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Prefix of generated asset numbers (`AST` → `AST-000001`).
    pub asset_number_prefix: String,
    /// The address users reach Custodian at (`https://…` behind a TLS proxy), used in
    /// links and to decide on `Secure` cookies and HSTS.
    pub public_url: String,
    /// The key secrets are sealed with (`None`: a key that lives as long as the process,
    /// for tests; the command line always loads or creates a lasting one).
    pub sealer: Option<secrets::Sealer>,
    /// Registers up to this many assets are summed up (counts, orphaned, incomplete) on
    /// every view of the home page; larger ones in the background.
    pub count_incomplete_now_up_to: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            asset_number_prefix: "AST".into(),
            public_url: "http://127.0.0.1:8080".into(),
            sealer: None,
            count_incomplete_now_up_to: summary::COUNT_NOW_UP_TO,
        }
    }
}

impl Settings {
    /// Whether users reach Custodian over HTTPS.
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The application: services over one register.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    settings: Settings,
    /// The classification scheme and custom field definitions, with when they were read.
    scheme_cache: Arc<std::sync::Mutex<Option<CachedScheme>>>,
    /// Asset numbers reserved ahead, so that registering an asset is a single commit.
    numbers: Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
    /// Seals and opens secrets at rest.
    sealer: secrets::Sealer,
    /// Credentials resolved in the last few seconds (see [`accounts::CREDENTIAL_TTL`]).
    credentials: Arc<std::sync::Mutex<accounts::CredentialCache>>,
    /// The last summary of the register (see [`summary`]).
    summary: Arc<std::sync::Mutex<summary::SummaryCache>>,
    /// How the scheduled jobs last ran in this instance (see [`jobs`]).
    jobs: jobs::JobStates,
}

/// The scheme and when it was read.
type CachedScheme = (std::time::Instant, Arc<assets::Scheme>);

/// How long the cached classification scheme and custom field definitions are trusted.
pub const SCHEME_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// How many asset numbers are reserved at a time. Numbers left unused when the process
/// ends are skipped, as a database sequence skips its cached values.
const NUMBER_BLOCK: usize = 32;

impl App {
    /// Services over a store.
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        let sealer = settings
            .sealer
            .clone()
            .unwrap_or_else(secrets::Sealer::ephemeral);
        Self {
            store,
            settings,
            sealer,
            credentials: Default::default(),
            summary: Default::default(),
            jobs: Default::default(),
            scheme_cache: Default::default(),
            numbers: Default::default(),
        }
    }

    /// Forgets the cached scheme (after a change to levels or custom fields).
    pub(crate) fn forget_scheme(&self) {
        if let Ok(mut c) = self.scheme_cache.lock() {
            *c = None;
        }
    }

    /// Takes `n` fresh asset numbers, reserving another block when the one held runs out.
    pub(crate) async fn next_numbers(&self, n: usize) -> Result<Vec<String>> {
        loop {
            {
                let mut held = self
                    .numbers
                    .lock()
                    .map_err(|_| AppError::Internal("the number pool is poisoned".into()))?;
                if held.len() >= n {
                    return Ok(held.drain(..n).collect());
                }
            }
            let more = self
                .store
                .reserve_asset_numbers(&self.settings.asset_number_prefix, n.max(NUMBER_BLOCK))
                .await?;
            if let Ok(mut held) = self.numbers.lock() {
                held.extend(more);
            }
        }
    }

    /// The store (for health checks and metrics).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The secret sealer.
    pub(crate) fn sealer(&self) -> &secrets::Sealer {
        &self.sealer
    }
}

/// What `If-Match` asks for (RFC 9110 §13.1.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Precondition {
    /// No condition: the header is absent, or `*` (the record exists).
    #[default]
    Any,
    /// The record must be at one of these versions. A tag this server never sent names no
    /// version, so a list of only such tags matches nothing.
    OneOf(Vec<i64>),
}

impl Precondition {
    /// Whether a record at `version` meets the condition.
    pub fn allows(&self, version: i64) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::OneOf(vs) => vs.contains(&version),
        }
    }

    /// The versions named, as text for a message.
    fn named(&self) -> String {
        match self {
            Precondition::Any => "*".into(),
            Precondition::OneOf(vs) if vs.is_empty() => "a tag this server never sent".into(),
            Precondition::OneOf(vs) => vs
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

impl From<Option<i64>> for Precondition {
    fn from(v: Option<i64>) -> Self {
        match v {
            Some(v) => Precondition::OneOf(vec![v]),
            None => Precondition::Any,
        }
    }
}

/// Checks `If-Match` against the current version.
pub(crate) fn check_version(
    entity: &'static str,
    id: impl ToString,
    if_match: &Precondition,
    current: i64,
) -> Result<()> {
    if if_match.allows(current) {
        return Ok(());
    }
    Err(AppError::PreconditionFailed {
        entity,
        id: id.to_string(),
        expected: if_match.named(),
        current,
    })
}

/// Maps a lost race to 412 when the caller named a version (it is stale by now).
pub(crate) fn race(e: StoreError, if_match: &Precondition) -> AppError {
    match (e, if_match) {
        (
            StoreError::Stale {
                entity,
                id,
                expected,
            },
            Precondition::OneOf(_),
        ) => AppError::PreconditionFailed {
            entity,
            id,
            expected: if_match.named(),
            current: expected + 1,
        },
        (e, _) => e.into(),
    }
}

impl App {
    /// Writes a new record with its `KIND.created` event (every field of `view`).
    pub(crate) async fn write_created(
        &self,
        ctx: &Ctx,
        kind: &str,
        id: &str,
        view: &Map<String, Value>,
        write: custodian_store::Write,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let ev = custodian_domain::audit::NewEvent::created(
            &ctx.actor,
            &format!("{kind}.created"),
            kind,
            id,
            view,
            ctx.request_id.as_deref(),
            at,
        );
        self.store
            .commit(custodian_store::ChangeSet::one(write, ev))
            .await?;
        Ok(())
    }

    /// Writes an update with its `KIND.updated` event (field-level `changes`), unless
    /// nothing changed.
    /// Returns whether anything was written.
    pub(crate) async fn write_update(
        &self,
        ctx: &Ctx,
        (kind, id): (&str, &str),
        changes: Map<String, Value>,
        write: custodian_store::Write,
        if_match: Precondition,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        if changes.is_empty() {
            return Ok(false);
        }
        let ev = custodian_domain::audit::NewEvent::new(
            &ctx.actor,
            &format!("{kind}.updated"),
            kind,
            id,
            Value::Object(changes),
            ctx.request_id.as_deref(),
            at,
        );
        self.store
            .commit(custodian_store::ChangeSet::one(write, ev))
            .await
            .map_err(|e| race(e, &if_match))?;
        Ok(true)
    }
}

/// Reads a JSON body that must be an object.
pub fn object(v: Value) -> Result<Map<String, Value>> {
    match v {
        Value::Object(o) => Ok(o),
        other => Err(AppError::invalid(
            "",
            format!(
                "the body must be a JSON object, not {}",
                custodian_domain::value::type_name(&other)
            ),
        )),
    }
}

/// Every page of a keyset-paged list.
pub(crate) async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>>
where
    F: FnMut(Option<custodian_store::Cursor>) -> Fut,
    Fut: std::future::Future<Output = custodian_store::Result<custodian_store::Page<T>>>,
{
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let p = page(cursor).await?;
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}
