//! Custody and seat assignments: the store's part for them.

use async_trait::async_trait;
use uuid::Uuid;

use custodian_domain::custody::{Assignment, AssignmentKind};

use crate::*;

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

/// A change to custody and seat assignments.
#[derive(Clone, Debug)]
pub enum CustodyWrite {
    /// Insert an assignment (custody or seat).
    InsertAssignment(Box<Assignment>),
    /// Replace an assignment if its version is still `expected_version`.
    UpdateAssignment {
        /// The new record.
        assignment: Box<Assignment>,
        /// The version the change was based on.
        expected_version: i64,
    },
}

impl From<CustodyWrite> for Write {
    fn from(w: CustodyWrite) -> Self {
        Write::Custody(w)
    }
}

/// What the store reads of custody and seat assignments.
#[async_trait]
pub trait CustodyStore: Send + Sync {
    /// One assignment.
    async fn assignment(&self, id: Uuid) -> Result<Option<Assignment>>;

    /// A filtered page of assignments.
    async fn list_assignments(&self, q: &AssignmentQuery) -> Result<Page<Assignment>>;

    /// How many assignments of an asset are open.
    async fn count_open_assignments(&self, asset_id: Uuid) -> Result<i64>;
}
