//! Assets, their disposal and incident records, and the links between them: the store's part for them.

use async_trait::async_trait;
use chrono::NaiveDate;
use uuid::Uuid;

use custodian_domain::asset::{Asset, AssetKind, Importance, Relation};
use custodian_domain::lifecycle::{DisposalRecord, IncidentReport, Status};

use crate::*;

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

/// A finding an asset must have to be listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FindingFilter {
    /// A finding of this check, open or excepted (`orphaned` is `owner_active`).
    Of(String),
    /// A finding of this check, or of any check when none, that is open: to fix.
    Open(Option<String>),
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
    /// Only assets with a finding (open or excepted) of each of these checks; `None` in
    /// the list means a finding of any check that is open.
    pub findings: Vec<FindingFilter>,
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

/// A change to assets, their disposal and incident records, and the links between them.
#[derive(Clone, Debug)]
pub enum AssetWrite {
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
}

impl From<AssetWrite> for Write {
    fn from(w: AssetWrite) -> Self {
        Write::Asset(w)
    }
}

/// What the store reads of assets, their disposal and incident records, and the links between them.
#[async_trait]
pub trait AssetStore: Send + Sync {
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

    /// Assets in id order after `after`, disposed ones included.
    async fn assets_by_id(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<Asset>>;

    /// Every owner of assets not disposed of, with how many they own, by owner id.
    async fn asset_owner_counts(&self) -> Result<Vec<(Uuid, i64)>>;

    /// Assets whose number equals this one, whatever the case (at most two: enough to
    /// tell a match from an ambiguous one).
    async fn assets_by_number_nocase(&self, number: &str) -> Result<Vec<Asset>>;
}
