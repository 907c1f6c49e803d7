//! Offboarding and handover cases: the store's part for them.

use async_trait::async_trait;
use uuid::Uuid;

use custodian_domain::offboarding::{CaseKind, CaseStatus, Offboarding};

use crate::*;

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

/// A change to offboarding and handover cases.
#[derive(Clone, Debug)]
pub enum OffboardingWrite {
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
}

impl From<OffboardingWrite> for Write {
    fn from(w: OffboardingWrite) -> Self {
        Write::Offboarding(w)
    }
}

/// What the store reads of offboarding and handover cases.
#[async_trait]
pub trait OffboardingStore: Send + Sync {
    /// One offboarding or handover case, with its items.
    async fn offboarding(&self, id: Uuid) -> Result<Option<Offboarding>>;

    /// A filtered page of cases, with their items.
    async fn list_offboardings(&self, q: &OffboardingQuery) -> Result<Page<Offboarding>>;
}
