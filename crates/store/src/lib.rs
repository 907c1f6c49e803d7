//! Storage traits for Custodian.
//!
//! The application layer talks to storage only through [`Store`] and [`Tx`]. A write is
//! a [`ChangeSet`]: the rows to change and the audit events that record the change,
//! applied in one transaction, so that no change exists without its event.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use custodian_domain::account::{ApiToken, Session, User};
use custodian_domain::asset::{Asset, AssetKind, Importance, Relation};
use custodian_domain::attestation::{Attestation, AttestationOwner, AttestationStatus};
use custodian_domain::audit::{Event, NewEvent};
use custodian_domain::classification::Classification;
use custodian_domain::custody::{Assignment, AssignmentKind};
use custodian_domain::custom::CustomFieldDef;
use custodian_domain::exception::{ExceptionRule, ExceptionStatus, PolicyException};
use custodian_domain::lifecycle::{DisposalRecord, IncidentReport, Status};
use custodian_domain::location::Location;
use custodian_domain::offboarding::{CaseKind, CaseStatus, Offboarding};
use custodian_domain::party::{Delegation, Party, PartyKind, PersonStatus};
use custodian_domain::policy::{Acknowledgement, PolicyDocument, PolicyVersion};
use custodian_domain::stocktake::{ScanResult, Stocktake, StocktakeScan, StocktakeStatus};

pub mod conformance;
mod cursor;

pub use cursor::Cursor;

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An update named a version that is no longer current.
    #[error("{entity} {id} was changed by someone else since version {expected}")]
    Stale {
        /// Entity type.
        entity: &'static str,
        /// Entity id.
        id: String,
        /// The version the caller expected.
        expected: i64,
    },
    /// The row to change does not exist.
    #[error("{entity} {id} does not exist")]
    NotFound {
        /// Entity type.
        entity: &'static str,
        /// Entity id.
        id: String,
    },
    /// A uniqueness rule was broken.
    #[error("{field}: {message}")]
    Duplicate {
        /// The wire name of the field whose value is taken.
        field: &'static str,
        /// What is taken.
        message: String,
    },
    /// A reference to another row is not valid (it vanished meanwhile, or is still used).
    #[error("{0}")]
    Reference(String),
    /// The database cannot be reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The audit chain's seals do not match: the database was changed outside Custodian,
    /// or this process holds another key. Nothing is written over it.
    #[error("the audit trail cannot be extended: {0}")]
    Integrity(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Other(String),
}

/// A scheduled job's last run, as every instance sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRun {
    /// The job's name.
    pub name: String,
    /// When its last run started.
    pub started_at: Option<DateTime<Utc>>,
    /// When that run finished (none while it runs).
    pub finished_at: Option<DateTime<Utc>>,
    /// `ok` or `failed: …`.
    pub outcome: Option<String>,
}

/// The chain's head as stored, with its seal (none before sealing began).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedHead {
    /// The last sequence number written.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// The head's seal.
    pub seal: Option<custodian_domain::audit::Seal>,
}

/// Storage result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One row change.
#[derive(Clone, Debug)]
pub enum Write {
    /// Insert an asset.
    InsertAsset(Box<Asset>),
    /// Replace an asset if its version is still `expected_version`.
    UpdateAsset {
        /// The new record (its `version` is the new version).
        asset: Box<Asset>,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Record a disposal.
    InsertDisposal(DisposalRecord),
    /// Record a lost/stolen report.
    InsertIncident(IncidentReport),
    /// Give the asset's reports that await one their incident reference.
    SetIncidentRef {
        /// The asset.
        asset_id: Uuid,
        /// The reference.
        incident_ref: String,
    },
    /// Link two assets.
    InsertRelation(Relation),
    /// Remove a link.
    DeleteRelation(Uuid),
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
    /// Insert a location.
    InsertLocation(Location),
    /// Replace a location if its version is still `expected_version`.
    UpdateLocation {
        /// The new record.
        location: Location,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Insert a classification level.
    InsertClassification(Classification),
    /// Replace a level if its version is still `expected_version`.
    UpdateClassification {
        /// The new record.
        level: Classification,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Delete a level (refused by the database while assets use it).
    DeleteClassification(String),
    /// Insert a custom field definition.
    InsertCustomField(CustomFieldDef),
    /// Replace a definition if its version is still `expected_version`.
    UpdateCustomField {
        /// The new record.
        def: CustomFieldDef,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Delete a custom field definition.
    DeleteCustomField(Uuid),
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
    /// Insert a policy version.
    InsertPolicy(Box<PolicyVersion>),
    /// Replace a policy version if its version is still `expected_version`.
    UpdatePolicy {
        /// The new record.
        policy: Box<PolicyVersion>,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Record an acknowledgement.
    InsertAcknowledgement(Acknowledgement),
    /// Insert an assignment (custody or seat).
    InsertAssignment(Box<Assignment>),
    /// Replace an assignment if its version is still `expected_version`.
    UpdateAssignment {
        /// The new record.
        assignment: Box<Assignment>,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Insert a policy exception with the assets it covers.
    InsertException(Box<PolicyException>),
    /// Replace an exception (not its assets) if its version is still `expected_version`.
    UpdateException {
        /// The new record.
        exception: Box<PolicyException>,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Open an offboarding or handover case with its items.
    InsertOffboarding(Box<Offboarding>),
    /// Replace a case if its version is still `expected_version`, writing the items named in
    /// `items` (updated, or added if new); the case's other items are left as stored.
    UpdateOffboarding {
        /// The new record.
        case: Box<Offboarding>,
        /// The ids of the items that changed or were added.
        items: Vec<Uuid>,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Open an attestation campaign with every owner it asks.
    InsertAttestation(Box<Attestation>),
    /// Record the answers of these owners and, if given, replace the campaign if its version
    /// is still `expected_version` (answers alone do not change the campaign's version, so
    /// owners answering at once do not collide).
    UpdateAttestation {
        /// The campaign.
        id: Uuid,
        /// The new record (its `owners` are not written), when the campaign itself changes.
        attestation: Option<Box<Attestation>>,
        /// The owners whose answers changed.
        owners: Vec<AttestationOwner>,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Start a stocktake.
    InsertStocktake(Box<Stocktake>),
    /// Close a stocktake if its version is still `expected_version`, and fix what was
    /// expected and not found (the assets its report lists as missing) as of now.
    CloseStocktake {
        /// The closed record.
        stocktake: Box<Stocktake>,
        /// The version the change was based on.
        expected_version: i64,
    },
    /// Record a scan (refused as a duplicate when the asset was scanned in this stocktake
    /// already).
    InsertStocktakeScan(Box<StocktakeScan>),
    /// Set a service setting.
    SetSetting {
        /// Setting name.
        key: String,
        /// Its value (`None` removes it).
        value: Option<String>,
    },
}

/// Row changes and the events that record them, applied atomically.
#[derive(Clone, Debug, Default)]
pub struct ChangeSet {
    /// The row changes, applied in order.
    pub writes: Vec<Write>,
    /// The audit events, appended to the chain in order.
    pub events: Vec<NewEvent>,
}

impl ChangeSet {
    /// A change set of one write and its event.
    pub fn one(write: Write, event: NewEvent) -> Self {
        Self {
            writes: vec![write],
            events: vec![event],
        }
    }
}

/// How the register's assets divide up, for the home page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssetCounts {
    /// All assets.
    pub total: i64,
    /// By kind (wire name), largest first.
    pub by_kind: Vec<(String, i64)>,
    /// By status (wire name), largest first.
    pub by_status: Vec<(String, i64)>,
    /// By classification level key, largest first.
    pub by_classification: Vec<(String, i64)>,
    /// Assets not disposed of whose next review is before the day asked about.
    pub overdue: i64,
}

/// A page of a list.
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<Cursor>,
}

/// The key imports match existing assets on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKey {
    /// `asset_number`.
    AssetNumber,
    /// `serial_number`.
    SerialNumber,
    /// `id`.
    Id,
    /// Any `(system, id)` pair of `external_ids`.
    ExternalId,
}

/// Filters and paging of the asset list.
#[derive(Clone, Debug, Default)]
pub struct AssetQuery {
    /// Page size.
    pub limit: u32,
    /// Where the page starts.
    pub cursor: Option<Cursor>,
    /// Only this kind.
    pub kind: Option<AssetKind>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only assets owned by this party.
    pub owner_id: Option<Uuid>,
    /// Only this classification level.
    pub classification: Option<String>,
    /// Only this importance.
    pub importance: Option<Importance>,
    /// Only assets carrying this tag.
    pub tag: Option<String>,
    /// Only assets at this location.
    pub location_id: Option<Uuid>,
    /// Text search: every word must start a word of the asset's name, number, serial, …
    pub q: Option<String>,
    /// `Some(today)`: only assets whose next review is before `today`.
    pub review_overdue: Option<NaiveDate>,
    /// Only what the caller may see (members): assets of these owners or these assets.
    pub within: Option<Within>,
    /// The order of the list.
    pub sort: AssetSort,
    /// With a sort other than the default: the sort value of the last row of the page
    /// before (`cursor` is that row's position; both come from [`AssetSort::key_of`]).
    pub after_key: Option<String>,
}

/// The orders an asset list can be read in, each paged by keyset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AssetSort {
    /// Oldest first (the order of registration).
    #[default]
    Registered,
    /// Newest first.
    Newest,
    /// By asset number.
    Number,
    /// By name, A to Z.
    Name,
    /// Soonest review first (assets without a review date are left out).
    NextReview,
}

impl AssetSort {
    /// Every order with its wire name.
    pub const ALL: &'static [(AssetSort, &'static str)] = &[
        (AssetSort::Registered, "registered"),
        (AssetSort::Newest, "newest"),
        (AssetSort::Number, "asset_number"),
        (AssetSort::Name, "name"),
        (AssetSort::NextReview, "next_review_at"),
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, n)| *n)
            .unwrap_or("registered")
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(x, _)| *x)
    }

    /// Whether the order needs the last row's sort value besides its position.
    pub fn keyed(self) -> bool {
        matches!(
            self,
            AssetSort::Number | AssetSort::Name | AssetSort::NextReview
        )
    }

    /// The sort value of an asset, which the next page starts after.
    pub fn key_of(self, a: &Asset) -> Option<String> {
        match self {
            AssetSort::Registered | AssetSort::Newest => None,
            AssetSort::Number => Some(a.asset_number.clone()),
            AssetSort::Name => Some(a.name.clone()),
            AssetSort::NextReview => a.next_review_at.map(|d| d.to_string()),
        }
    }
}

/// The part of the register a caller may see: records tied to these parties, or these
/// records themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Within {
    /// Parties (owners, members, delegates).
    pub parties: Vec<Uuid>,
    /// Single records (assets reached by a delegation for that asset alone).
    pub ids: Vec<Uuid>,
}

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

/// Filters and paging of the assignment list.
#[derive(Clone, Debug, Default)]
pub struct AssignmentQuery {
    /// Page size.
    pub limit: u32,
    /// Where the page starts.
    pub cursor: Option<Cursor>,
    /// Of this asset.
    pub asset_id: Option<Uuid>,
    /// To this person.
    pub person_id: Option<Uuid>,
    /// To this host.
    pub host_id: Option<Uuid>,
    /// Custody or seats.
    pub kind: Option<AssignmentKind>,
    /// `Some(true)`: not returned yet; `Some(false)`: ended.
    pub open: Option<bool>,
    /// Only assignments off the premises.
    pub off_premises: Option<bool>,
    /// Newest first instead of oldest first.
    pub newest_first: bool,
}

/// Filters and paging of the acknowledgement list.
#[derive(Clone, Debug, Default)]
pub struct AcknowledgementQuery {
    /// Page size.
    pub limit: u32,
    /// Where the page starts.
    pub cursor: Option<Cursor>,
    /// Of any of these versions (empty: all).
    pub policy_ids: Vec<Uuid>,
    /// By this person.
    pub person_id: Option<Uuid>,
}

/// Filters and paging of the exception list.
#[derive(Clone, Debug, Default)]
pub struct ExceptionQuery {
    /// Page size.
    pub limit: u32,
    /// Where the page starts.
    pub cursor: Option<Cursor>,
    /// Covering this asset.
    pub asset_id: Option<Uuid>,
    /// Setting this rule aside.
    pub rule: Option<ExceptionRule>,
    /// As stored (`approved` includes those past their expiry).
    pub status: Option<ExceptionStatus>,
    /// Asked for by this person.
    pub requester_id: Option<Uuid>,
    /// Newest first instead of oldest first.
    pub newest_first: bool,
}

/// Filters and paging of the offboarding case list.
#[derive(Clone, Debug, Default)]
pub struct OffboardingQuery {
    /// Page size.
    pub limit: u32,
    /// Where the page starts.
    pub cursor: Option<Cursor>,
    /// About this person.
    pub person_id: Option<Uuid>,
    /// Open or closed.
    pub status: Option<CaseStatus>,
    /// Leaver or mover.
    pub kind: Option<CaseKind>,
    /// Newest first instead of oldest first.
    pub newest_first: bool,
}

/// Filters and paging of the stocktake list (newest first).
#[derive(Clone, Debug, Default)]
pub struct StocktakeQuery {
    /// Page size.
    pub limit: u32,
    /// Where the page starts.
    pub cursor: Option<Cursor>,
    /// Open or closed.
    pub status: Option<StocktakeStatus>,
    /// At this location.
    pub location_id: Option<Uuid>,
}

/// Filters and paging of a stocktake's scans (in the order they were recorded).
#[derive(Clone, Debug, Default)]
pub struct ScanQuery {
    /// Page size.
    pub limit: u32,
    /// Where the page starts.
    pub cursor: Option<Cursor>,
    /// The stocktake.
    pub stocktake_id: Uuid,
    /// Only scans with this result.
    pub result: Option<ScanResult>,
    /// Only scans of this asset.
    pub asset_id: Option<Uuid>,
    /// Only this scan.
    pub id: Option<Uuid>,
}

/// How a stocktake's report adds up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StocktakeCounts {
    /// Assets expected at the location: found plus missing.
    pub expected: i64,
    /// Expected assets scanned.
    pub found: i64,
    /// Expected assets not scanned.
    pub missing: i64,
    /// Assets scanned that were not expected here.
    pub unexpected: i64,
    /// Entries that matched no asset.
    pub unknown: i64,
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

/// An open write transaction.
#[async_trait]
pub trait Tx: Send {
    /// Reserves `n` fresh asset numbers with this prefix, skipping numbers already taken.
    async fn reserve_asset_numbers(&mut self, prefix: &str, n: usize) -> Result<Vec<String>>;
    /// Existing assets whose match key has one of these values.
    async fn find_assets(&mut self, key: MatchKey, values: &[String]) -> Result<Vec<Asset>>;
    /// Asset numbers among `numbers` that are taken.
    async fn taken_asset_numbers(&mut self, numbers: &[String]) -> Result<Vec<String>>;
    /// Gives back the last `n` numbers reserved in this transaction and not used.
    async fn release_asset_numbers(&mut self, prefix: &str, n: usize) -> Result<()>;
    /// Applies row changes and appends their events. A bulk transaction (see
    /// [`Store::begin_bulk`]) may only queue them: its failure is then reported by the
    /// next call, at the latest by `commit` or `rollback`.
    async fn apply(&mut self, changes: ChangeSet) -> Result<()>;
    /// Makes everything applied durable.
    async fn commit(self: Box<Self>) -> Result<()>;
    /// Throws everything applied away; answers the failure of a queued change, if one failed.
    async fn rollback(self: Box<Self>) -> Result<()>;
    /// Seals the whole chain anew under `key` (every checkpoint, and the head at commit),
    /// after checking the head against the key in use; later appends in this transaction
    /// are sealed with `key`. Answers the number of checkpoints resealed.
    async fn reseal_chain(&mut self, key: custodian_domain::audit::ChainKey) -> Result<u64>;
}

/// The storage of one register.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// Checks the database answers.
    async fn ping(&self) -> Result<()>;
    /// Opens a write transaction.
    async fn begin(&self) -> Result<Box<dyn Tx>>;
    /// Opens a write transaction for a great many rows (an import): the store may size its
    /// caches for it and write in the background while the caller prepares more.
    async fn begin_bulk(&self) -> Result<Box<dyn Tx>> {
        self.begin().await
    }
    /// Applies one change set in its own transaction.
    async fn commit(&self, changes: ChangeSet) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.apply(changes).await?;
        tx.commit().await
    }

    /// Reserves `n` fresh asset numbers in a transaction of their own.
    async fn reserve_asset_numbers(&self, prefix: &str, n: usize) -> Result<Vec<String>>;
    /// Existing assets (as committed) whose match key has one of these values.
    async fn find_assets(&self, key: MatchKey, values: &[String]) -> Result<Vec<Asset>>;
    /// Asset numbers among `numbers` that are taken (as committed).
    async fn taken_asset_numbers(&self, numbers: &[String]) -> Result<Vec<String>>;

    /// One asset.
    async fn asset(&self, id: Uuid) -> Result<Option<Asset>>;
    /// One asset by its number.
    async fn asset_by_number(&self, number: &str) -> Result<Option<Asset>>;
    /// A filtered page of assets, in creation order.
    async fn list_assets(&self, q: &AssetQuery) -> Result<Page<Asset>>;
    /// Counts assets (for metrics).
    async fn count_assets(&self) -> Result<i64>;
    /// How the register divides by kind, status and classification, and how many reviews
    /// are overdue on `today`.
    async fn asset_counts(&self, today: NaiveDate) -> Result<AssetCounts>;
    /// How many assets these parties own.
    async fn count_assets_owned_by(&self, owners: &[Uuid]) -> Result<i64>;
    /// Every relation that starts or ends at one of these assets.
    async fn relations_of(&self, ids: &[Uuid]) -> Result<Vec<Relation>>;
    /// One relation.
    async fn relation(&self, id: Uuid) -> Result<Option<Relation>>;
    /// The disposal record of an asset.
    async fn disposal(&self, asset_id: Uuid) -> Result<Option<DisposalRecord>>;
    /// The lost/stolen reports of an asset, oldest first.
    async fn incidents(&self, asset_id: Uuid) -> Result<Vec<IncidentReport>>;

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

    /// One location.
    async fn location(&self, id: Uuid) -> Result<Option<Location>>;
    /// A page of locations.
    async fn list_locations(&self, limit: u32, cursor: Option<Cursor>) -> Result<Page<Location>>;
    /// The classification scheme, by rank.
    async fn classifications(&self) -> Result<Vec<Classification>>;
    /// Number of assets using a level.
    async fn classification_usage(&self, key: &str) -> Result<i64>;
    /// Every custom field definition.
    async fn custom_fields(&self) -> Result<Vec<CustomFieldDef>>;

    /// Events about one entity, oldest first.
    async fn history(
        &self,
        entity_type: &str,
        entity_id: &str,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Event>>;
    /// Events after `seq`, in order (for verification and export).
    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<Event>>;
    /// The events of one entity type ordered by entity id (as text) then sequence, after
    /// the position `after` (for replaying the register record by record).
    async fn entity_events(
        &self,
        entity_type: &str,
        after: Option<(String, i64)>,
        limit: u32,
    ) -> Result<Vec<Event>>;
    /// Assets in id order after `after`, disposed ones included.
    async fn assets_by_id(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<Asset>>;
    /// The chain's head: the last sequence number and hash written.
    async fn audit_head(&self) -> Result<(i64, String)>;
    /// The chain's head with its seal.
    async fn sealed_head(&self) -> Result<SealedHead>;
    /// Checkpoint seals after `seq`, in order.
    async fn checkpoints_after(
        &self,
        seq: i64,
        limit: u32,
    ) -> Result<Vec<(i64, custodian_domain::audit::Seal)>>;
    /// Seals every change from now on with `key`, and refuses to extend a chain whose head
    /// it does not seal. An empty chain is sealed now when this process created it.
    async fn use_chain_key(&self, key: custodian_domain::audit::ChainKey) -> Result<()>;
    /// Claims a run of the job `name` if its last run started before `due_before` and is not
    /// still running: true for exactly one instance each interval.
    async fn claim_job(
        &self,
        name: &str,
        due_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Records how a claimed run ended.
    async fn finish_job(&self, name: &str, at: DateTime<Utc>, outcome: &str) -> Result<()>;
    /// Every job's last run.
    async fn job_runs(&self) -> Result<Vec<JobRun>>;
    /// Removes one-time setup links that have expired; answers how many.
    async fn purge_setup_links(&self, now: DateTime<Utc>) -> Result<u64>;
    /// Seals, once, the head of a chain written before seals; refused when it is sealed or
    /// when checkpoints exist.
    async fn seal_unsealed_chain(
        &self,
        key: &custodian_domain::audit::ChainKey,
    ) -> Result<SealedHead>;

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

    /// One policy version.
    async fn policy(&self, id: Uuid) -> Result<Option<PolicyVersion>>;
    /// Every version of a document (or of all documents), oldest first.
    async fn policies(&self, document: Option<PolicyDocument>) -> Result<Vec<PolicyVersion>>;
    /// A filtered page of acknowledgements, oldest first.
    async fn list_acknowledgements(
        &self,
        q: &AcknowledgementQuery,
    ) -> Result<Page<Acknowledgement>>;
    /// How many persons acknowledged any of these versions, and how many persons who have
    /// not left did not.
    async fn acknowledgement_counts(&self, policy_ids: &[Uuid]) -> Result<(i64, i64)>;
    /// Persons who have not left and acknowledged none of these versions, by name.
    async fn persons_without_acknowledgement(
        &self,
        policy_ids: &[Uuid],
        limit: u32,
    ) -> Result<Vec<Party>>;
    /// One assignment.
    async fn assignment(&self, id: Uuid) -> Result<Option<Assignment>>;
    /// A filtered page of assignments.
    async fn list_assignments(&self, q: &AssignmentQuery) -> Result<Page<Assignment>>;
    /// How many assignments of an asset are open.
    async fn count_open_assignments(&self, asset_id: Uuid) -> Result<i64>;
    /// One exception.
    async fn exception(&self, id: Uuid) -> Result<Option<PolicyException>>;
    /// A filtered page of exceptions.
    async fn list_exceptions(&self, q: &ExceptionQuery) -> Result<Page<PolicyException>>;
    /// The teams a person belongs to and the roles they hold.
    async fn memberships(&self, person_id: Uuid) -> Result<Vec<Uuid>>;
    /// One offboarding or handover case, with its items.
    async fn offboarding(&self, id: Uuid) -> Result<Option<Offboarding>>;
    /// A filtered page of cases, with their items.
    async fn list_offboardings(&self, q: &OffboardingQuery) -> Result<Page<Offboarding>>;
    /// One attestation campaign, with every owner it asks.
    async fn attestation(&self, id: Uuid) -> Result<Option<Attestation>>;
    /// A page of campaigns, newest first, with their owners.
    async fn list_attestations(
        &self,
        status: Option<AttestationStatus>,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Attestation>>;
    /// Every owner of assets not disposed of, with how many they own, by owner id.
    async fn asset_owner_counts(&self) -> Result<Vec<(Uuid, i64)>>;

    /// Assets whose number equals this one, whatever the case (at most two: enough to
    /// tell a match from an ambiguous one).
    async fn assets_by_number_nocase(&self, number: &str) -> Result<Vec<Asset>>;
    /// A location and every place inside it.
    async fn location_subtree(&self, root: Uuid) -> Result<Vec<Uuid>>;
    /// One stocktake.
    async fn stocktake(&self, id: Uuid) -> Result<Option<Stocktake>>;
    /// A filtered page of stocktakes, newest first.
    async fn list_stocktakes(&self, q: &StocktakeQuery) -> Result<Page<Stocktake>>;
    /// A filtered page of a stocktake's scans, oldest first.
    async fn list_stocktake_scans(&self, q: &ScanQuery) -> Result<Page<StocktakeScan>>;
    /// A page of the assets a stocktake expects and has not scanned, in registration
    /// order: as of now while it is open, as fixed at closing once it is closed. Expected
    /// are the assets at its location (and the places inside it, when it includes them)
    /// whose status is not one of [`custodian_domain::stocktake::NOT_EXPECTED`].
    async fn stocktake_missing(
        &self,
        stocktake: &Stocktake,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Asset>>;
    /// How a stocktake's report adds up (missing as in [`Store::stocktake_missing`]).
    async fn stocktake_counts(&self, stocktake: &Stocktake) -> Result<StocktakeCounts>;
}
