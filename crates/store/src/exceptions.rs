//! Policy exceptions: the store's part for them.

use async_trait::async_trait;
use uuid::Uuid;

use custodian_domain::exception::{ExceptionRule, ExceptionStatus, PolicyException};

use crate::*;

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

/// A change to policy exceptions.
#[derive(Clone, Debug)]
pub enum ExceptionWrite {
    /// Insert a policy exception with the assets it covers.
    InsertException(Box<PolicyException>),
    /// Replace an exception (not its assets) if its version is still `expected_version`.
    UpdateException {
        /// The new record.
        exception: Box<PolicyException>,
        /// The version the change was based on.
        expected_version: i64,
    },
}

impl From<ExceptionWrite> for Write {
    fn from(w: ExceptionWrite) -> Self {
        Write::Exception(w)
    }
}

/// What the store reads of policy exceptions.
#[async_trait]
pub trait ExceptionStore: Send + Sync {
    /// One exception.
    async fn exception(&self, id: Uuid) -> Result<Option<PolicyException>>;

    /// A filtered page of exceptions.
    async fn list_exceptions(&self, q: &ExceptionQuery) -> Result<Page<PolicyException>>;
}
