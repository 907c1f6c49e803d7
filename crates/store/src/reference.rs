//! Reference data: locations, the classification scheme, custom field definitions: the store's part for them.

use async_trait::async_trait;
use uuid::Uuid;

use custodian_domain::classification::Classification;
use custodian_domain::custom::CustomFieldDef;
use custodian_domain::location::Location;

use crate::*;

/// A change to reference data: locations, the classification scheme, custom field definitions.
#[derive(Clone, Debug)]
pub enum ReferenceWrite {
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
}

impl From<ReferenceWrite> for Write {
    fn from(w: ReferenceWrite) -> Self {
        Write::Reference(w)
    }
}

/// What the store reads of reference data: locations, the classification scheme, custom field definitions.
#[async_trait]
pub trait ReferenceStore: Send + Sync {
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

    /// A location and every place inside it.
    async fn location_subtree(&self, root: Uuid) -> Result<Vec<Uuid>>;
}
