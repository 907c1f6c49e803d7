//! Policy versions and acknowledgements: the store's part for them.

use async_trait::async_trait;
use uuid::Uuid;

use custodian_domain::party::Party;
use custodian_domain::policy::{
    Acknowledgement, DocumentFormat, PolicyDocument, PolicyRendering, PolicyVersion,
};

use crate::*;

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
    /// By any of these persons (empty: anyone; at most a page of them).
    pub person_ids: Vec<Uuid>,
}

/// A change to policy versions and acknowledgements.
#[derive(Clone, Debug)]
pub enum PolicyWrite {
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
    /// Keep an approved version's rendering (never changed afterwards).
    InsertRendering(Box<PolicyRendering>),
}

impl From<PolicyWrite> for Write {
    fn from(w: PolicyWrite) -> Self {
        Write::Policy(w)
    }
}

/// What the store reads of policy versions and acknowledgements.
#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// One policy version.
    async fn policy(&self, id: Uuid) -> Result<Option<PolicyVersion>>;

    /// A version's rendering as kept at its approval.
    async fn policy_rendering(
        &self,
        policy_id: Uuid,
        format: DocumentFormat,
    ) -> Result<Option<PolicyRendering>>;

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
}
