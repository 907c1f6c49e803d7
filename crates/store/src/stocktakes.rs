//! Stocktakes and their scans: the store's part for them.

use async_trait::async_trait;
use uuid::Uuid;

use custodian_domain::asset::Asset;
use custodian_domain::stocktake::{ScanResult, Stocktake, StocktakeScan, StocktakeStatus};

use crate::*;

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

/// A change to stocktakes and their scans.
#[derive(Clone, Debug)]
pub enum StocktakeWrite {
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
}

impl From<StocktakeWrite> for Write {
    fn from(w: StocktakeWrite) -> Self {
        Write::Stocktake(w)
    }
}

/// What the store reads of stocktakes and their scans.
#[async_trait]
pub trait StocktakeStore: Send + Sync {
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
