//! The audit trail: events, their chain and its seals: the store's part for them.

use async_trait::async_trait;

use custodian_domain::audit::Event;

use crate::*;

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

/// Filters of the audit trail read as a history, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Page size.
    pub limit: u32,
    /// Only events before this one (the page's start).
    pub before: Option<i64>,
    /// Only events after this one (the start of a time range).
    pub after: Option<i64>,
    /// By this actor (`user:ID` takes the user's tokens too).
    pub actor: Option<String>,
    /// This action (`asset.updated`), or every action under a prefix ending in `.`
    /// (`asset.`).
    pub action: Option<String>,
    /// About records of this type.
    pub entity_type: Option<String>,
    /// About this record.
    pub entity_id: Option<String>,
}

/// What the store reads of the audit trail: events, their chain and its seals.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Events about one entity, oldest first.
    async fn history(
        &self,
        entity_type: &str,
        entity_id: &str,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Event>>;

    /// Events matching `q`, newest first. Only a record's events (type and id) are read
    /// along an index; bound the others by `before` and `after`.
    async fn search_events(&self, q: &EventQuery) -> Result<Vec<Event>>;

    /// Events after `seq`, in order (for verification and export).
    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<Event>>;

    /// What the events after `seq` are about, in order: `(seq, entity_type, entity_id)`
    /// (for following the register's changes without reading what changed).
    async fn entities_after(&self, seq: i64, limit: u32) -> Result<Vec<(i64, String, String)>>;

    /// The events of one entity type ordered by entity id (as text) then sequence, after
    /// the position `after` and up to the event `until` (for replaying the register record
    /// by record, now or as it stood).
    async fn entity_events(
        &self,
        entity_type: &str,
        after: Option<(String, i64)>,
        until: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Event>>;

    /// The chain as it stood at `at`: the sequence number and hash of the last event
    /// recorded at or before then (`0` and the genesis hash before the first).
    async fn audit_head_at(&self, at: chrono::DateTime<chrono::Utc>) -> Result<(i64, String)>;

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

    /// Seals, once, the head of a chain written before seals; refused when it is sealed or
    /// when checkpoints exist.
    async fn seal_unsealed_chain(
        &self,
        key: &custodian_domain::audit::ChainKey,
    ) -> Result<SealedHead>;
}
