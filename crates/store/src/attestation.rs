//! Attestation campaigns: the store's part for them.

use async_trait::async_trait;
use uuid::Uuid;

use custodian_domain::attestation::{Attestation, AttestationOwner, AttestationStatus};

use crate::*;

/// A change to attestation campaigns.
#[derive(Clone, Debug)]
pub enum AttestationWrite {
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
}

impl From<AttestationWrite> for Write {
    fn from(w: AttestationWrite) -> Self {
        Write::Attestation(w)
    }
}

/// What the store reads of attestation campaigns.
#[async_trait]
pub trait AttestationStore: Send + Sync {
    /// One attestation campaign, with every owner it asks.
    async fn attestation(&self, id: Uuid) -> Result<Option<Attestation>>;

    /// A page of campaigns, newest first, with their owners.
    async fn list_attestations(
        &self,
        status: Option<AttestationStatus>,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Attestation>>;
}
