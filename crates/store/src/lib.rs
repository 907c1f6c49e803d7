//! Storage traits for Custodian.
//!
//! The application layer talks to storage only through [`Store`] and [`Tx`]. A write is
//! a [`ChangeSet`]: the rows to change and the audit events that record the change,
//! applied in one transaction, so that no change exists without its event.

use async_trait::async_trait;
use uuid::Uuid;

use custodian_domain::asset::Asset;
use custodian_domain::audit::NewEvent;

#[cfg(feature = "conformance")]
pub mod conformance;
mod cursor;

mod accounts;
mod assets;
mod attestation;
mod audit;
mod compliance;
mod custody;
mod exceptions;
mod jobs;
mod offboarding;
mod parties;
mod policies;
mod reference;
mod stocktakes;

pub use cursor::Cursor;

pub use accounts::*;
pub use assets::*;
pub use attestation::*;
pub use audit::*;
pub use compliance::*;
pub use custody::*;
pub use exceptions::*;
pub use jobs::*;
pub use offboarding::*;
pub use parties::*;
pub use policies::*;
pub use reference::*;
pub use stocktakes::*;

/// Every store trait, to bring their methods into scope: `use custodian_store::prelude::*;`.
pub mod prelude {
    pub use crate::AccountStore;
    pub use crate::AssetStore;
    pub use crate::AttestationStore;
    pub use crate::AuditStore;
    pub use crate::ComplianceStore;
    pub use crate::CustodyStore;
    pub use crate::ExceptionStore;
    pub use crate::JobStore;
    pub use crate::OffboardingStore;
    pub use crate::PartyStore;
    pub use crate::PolicyStore;
    pub use crate::ReferenceStore;
    pub use crate::StocktakeStore;
    pub use crate::{Store, Tx};
}

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

/// Storage result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

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

/// A page of a list.
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<Cursor>,
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

/// A row change, by record type (each type's changes are its own enum, in its module).
#[derive(Clone, Debug)]
pub enum Write {
    /// Assets, their disposal and incident records, and the links between them.
    Asset(AssetWrite),
    /// Persons, teams and roles, and delegations.
    Party(PartyWrite),
    /// Reference data: locations, the classification scheme, custom field definitions.
    Reference(ReferenceWrite),
    /// User accounts, sessions, API tokens and settings.
    Account(AccountWrite),
    /// Policy versions and acknowledgements.
    Policy(PolicyWrite),
    /// Custody and seat assignments.
    Custody(CustodyWrite),
    /// Policy exceptions.
    Exception(ExceptionWrite),
    /// Offboarding and handover cases.
    Offboarding(OffboardingWrite),
    /// Attestation campaigns.
    Attestation(AttestationWrite),
    /// Stocktakes and their scans.
    Stocktake(StocktakeWrite),
}

/// The storage of one register.
#[async_trait]
pub trait Store:
    AssetStore
    + PartyStore
    + ReferenceStore
    + AccountStore
    + PolicyStore
    + CustodyStore
    + ExceptionStore
    + OffboardingStore
    + AttestationStore
    + StocktakeStore
    + AuditStore
    + ComplianceStore
    + JobStore
    + Send
    + Sync
    + 'static
{
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
}
