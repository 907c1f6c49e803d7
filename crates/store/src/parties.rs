//! Persons, teams and roles, and delegations: the store's part for them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use custodian_domain::party::{Delegation, Party, PartyKind, PersonStatus};

use crate::*;

/// Filters and paging of the party list.
#[derive(Clone, Debug, Default)]
pub struct PartyQuery {
    /// Page size.
    pub limit: u32,
    /// Where the page starts.
    pub cursor: Option<Cursor>,
    /// Only this kind.
    pub kind: Option<PartyKind>,
    /// Only persons with this status.
    pub status: Option<PersonStatus>,
    /// Name or e-mail contains this text (case-insensitive).
    pub q: Option<String>,
    /// Only these parties (members see themselves, their teams and roles).
    pub within: Option<Within>,
}

/// Filters and paging of the delegation list.
#[derive(Clone, Debug, Default)]
pub struct DelegationQuery {
    /// Page size.
    pub limit: u32,
    /// Where the page starts.
    pub cursor: Option<Cursor>,
    /// Delegations by this owner.
    pub owner_id: Option<Uuid>,
    /// Delegations to this delegate.
    pub delegate_id: Option<Uuid>,
    /// Only delegations in force.
    pub active_only: bool,
    /// Only delegations whose owner or delegate is one of `within.parties`.
    pub within: Option<Within>,
}

/// A party's name, kind and e-mail, for resolving references in imports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyRef {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: PartyKind,
    /// Name.
    pub name: String,
    /// E-mail (persons).
    pub email: Option<String>,
}

/// A change to persons, teams and roles, and delegations.
#[derive(Clone, Debug)]
pub enum PartyWrite {
    /// Insert a party (and a team's members).
    InsertParty(Box<Party>),
    /// Replace a party if its version is still `expected_version`.
    UpdateParty {
        /// The new record.
        party: Box<Party>,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Insert a delegation.
    InsertDelegation(Delegation),
    /// End a delegation.
    EndDelegation {
        /// Delegation id.
        id: Uuid,
        /// When.
        ended_at: DateTime<Utc>,
        /// Why.
        reason: String,
    },
}

impl From<PartyWrite> for Write {
    fn from(w: PartyWrite) -> Self {
        Write::Party(w)
    }
}

/// What the store reads of persons, teams and roles, and delegations.
#[async_trait]
pub trait PartyStore: Send + Sync {
    /// One party.
    async fn party(&self, id: Uuid) -> Result<Option<Party>>;

    /// The person with this (lower-case) e-mail address.
    async fn person_by_email(&self, email: &str) -> Result<Option<Party>>;

    /// Several parties.
    async fn parties(&self, ids: &[Uuid]) -> Result<Vec<Party>>;

    /// A filtered page of parties.
    async fn list_parties(&self, q: &PartyQuery) -> Result<Page<Party>>;

    /// Every party's id, kind, name and e-mail.
    async fn party_directory(&self) -> Result<Vec<PartyRef>>;

    /// One delegation.
    async fn delegation(&self, id: Uuid) -> Result<Option<Delegation>>;

    /// A filtered page of delegations.
    async fn list_delegations(&self, q: &DelegationQuery) -> Result<Page<Delegation>>;

    /// The teams a person belongs to and the roles they hold.
    async fn memberships(&self, person_id: Uuid) -> Result<Vec<Uuid>>;
}
