//! Stocktakes (SPEC §6.7): a session at a location lists what should be there; scanning an
//! asset's QR label, or typing its number, marks it found and records who checked it and
//! when; the session reports found, missing, unexpected and unknown entries.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::asset::AssetKind;
use crate::error::Problems;
use crate::input::Input;
use crate::lifecycle::Status;
use crate::value;

wire_enum! {
    /// Where a stocktake is in its life.
    StocktakeStatus {
        /// Scans are being recorded.
        Open = "open",
        /// Finished: the report is fixed, nothing more is scanned.
        Closed = "closed",
    }
}

wire_enum! {
    /// What a scan turned out to be.
    ScanResult {
        /// An asset expected at the location.
        Found = "found",
        /// An asset of the register that is not expected here (elsewhere, or lost, stolen or
        /// disposed of).
        Unexpected = "unexpected",
        /// An entry that matches no asset.
        Unknown = "unknown",
    }
}

wire_enum! {
    /// The parts of a stocktake's report.
    ReportSection {
        /// Expected and scanned.
        Found = "found",
        /// Expected and not scanned.
        Missing = "missing",
        /// Scanned and not expected here.
        Unexpected = "unexpected",
        /// Entries that matched no asset.
        Unknown = "unknown",
    }
}

/// Statuses of assets that are not expected on the shelf.
pub const NOT_EXPECTED: &[Status] = &[Status::Disposed, Status::Lost, Status::Stolen];

/// The longest entry kept (a scanner's line, a typed number).
pub const MAX_ENTRY: usize = 500;

/// A stocktake session at one location.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Stocktake {
    /// Identifier.
    pub id: Uuid,
    /// The location counted.
    pub location_id: Uuid,
    /// Whether assets at places inside the location are expected too.
    pub include_sublocations: bool,
    /// Open or closed.
    pub status: StocktakeStatus,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// The person who started it.
    pub started_by: Option<Uuid>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The person who closed it.
    pub closed_by: Option<Uuid>,
    /// What the counters noted.
    pub notes: Option<String>,
    /// Record version for optimistic concurrency.
    pub version: i64,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One entry scanned or typed during a stocktake.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StocktakeScan {
    /// Identifier.
    pub id: Uuid,
    /// The stocktake.
    pub stocktake_id: Uuid,
    /// The asset the entry named, if it named one.
    pub asset_id: Option<Uuid>,
    /// What was scanned or typed, as received (trimmed).
    pub entered: String,
    /// When.
    pub scanned_at: DateTime<Utc>,
    /// The person who scanned it.
    pub scanned_by: Option<Uuid>,
    /// Found, unexpected or unknown.
    pub result: ScanResult,
    /// Where the register had the asset when it was scanned.
    pub registered_location_id: Option<Uuid>,
}

impl Stocktake {
    /// Starts a stocktake from its input (`location_id`, `include_sublocations`, `notes`).
    pub fn from_input(
        obj: &Map<String, Value>,
        started_by: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(
            &["location_id", "include_sublocations", "notes"],
            &[
                "id",
                "status",
                "started_at",
                "started_by",
                "closed_at",
                "closed_by",
                "version",
                "created_at",
                "updated_at",
            ],
            "a stocktake",
        );
        let location_id = r.required("location_id", value::id);
        let include = r.or_default("include_sublocations", true, value::boolean);
        let notes = r.optional("notes", |v| value::text(v, 4000));
        let Input { problems, .. } = r;
        let (Some(location_id), Some(include_sublocations), Some(notes)) =
            (location_id, include, notes)
        else {
            return Err(problems);
        };
        problems.into_result(Stocktake {
            id: crate::new_id(),
            location_id,
            include_sublocations,
            status: StocktakeStatus::Open,
            started_at: now,
            started_by,
            closed_at: None,
            closed_by: None,
            notes,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    /// Closes an open stocktake; `notes`, when given, replace the earlier ones.
    pub fn close(
        &self,
        by: Option<Uuid>,
        notes: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut p = Problems::new();
        if self.status != StocktakeStatus::Open {
            p.add("status", "the stocktake is closed already");
        }
        let mut next = self.clone();
        next.status = StocktakeStatus::Closed;
        next.closed_at = Some(now);
        next.closed_by = by;
        if notes.is_some() {
            next.notes = notes;
        }
        next.version += 1;
        next.updated_at = now;
        p.into_result(next)
    }

    /// Whether an asset with this status, at a place inside the counted area or not, is
    /// expected here.
    pub fn expects(&self, status: Status, in_area: bool) -> bool {
        in_area && !NOT_EXPECTED.contains(&status)
    }

    /// What a scan of a known asset is: found when expected, else unexpected.
    pub fn result_for(&self, status: Status, in_area: bool) -> ScanResult {
        if self.expects(status, in_area) {
            ScanResult::Found
        } else {
            ScanResult::Unexpected
        }
    }
}

/// Whether checking an asset in a stocktake is its review: SPEC §2.2 makes "last checked"
/// the review of devices (physical and virtual); other kinds are reviewed by assessing
/// them, which a sighting is not.
pub fn check_is_review(kind: AssetKind) -> bool {
    matches!(kind, AssetKind::Physical | AssetKind::Virtual)
}

/// What an entry names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// An asset id: a bare UUID, or a link to an asset's page (what a label encodes).
    Id(Uuid),
    /// Anything else, to be matched against asset numbers (case-insensitively).
    Number(String),
}

/// Reads a scan: `{"entry": …}`, the text a scanner or a person typed.
pub fn scan_input(obj: &Map<String, Value>) -> Result<(String, Entry), Problems> {
    let mut r = Input::new(obj);
    r.reject_unknown(&["entry"], &[], "a scan");
    let entry = r.required("entry", |v| value::text(v, MAX_ENTRY));
    let Input { problems, .. } = r;
    match entry {
        Some(e) => {
            let parsed = parse_entry(&e);
            problems.into_result((e, parsed))
        }
        None => Err(problems),
    }
}

/// Reads what was scanned or typed: a link containing `/assets/{id}`, a bare id, or an
/// asset number.
pub fn parse_entry(raw: &str) -> Entry {
    let s = raw.trim();
    if let Ok(id) = Uuid::parse_str(s) {
        return Entry::Id(id);
    }
    if let Some(pos) = s.find("/assets/") {
        let rest = &s[pos + "/assets/".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
            .unwrap_or(rest.len());
        if let Ok(id) = Uuid::parse_str(&rest[..end]) {
            return Entry::Id(id);
        }
    }
    Entry::Number(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_stocktake_needs_a_location_and_names_unknown_fields() {
        let e =
            Stocktake::from_input(&obj(json!({"where": "HQ"})), None, crate::now()).unwrap_err();
        let mut fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        fields.sort();
        assert_eq!(fields, ["location_id", "where"]);
        let id = crate::new_id();
        let s = Stocktake::from_input(
            &obj(json!({"location_id": id.to_string(), "status": "closed"})),
            None,
            crate::now(),
        )
        .unwrap();
        assert!(s.include_sublocations);
        assert_eq!(s.status, StocktakeStatus::Open);
        let closed = s.close(None, Some("done".into()), crate::now()).unwrap();
        assert_eq!(closed.version, 2);
        assert_eq!(closed.notes.as_deref(), Some("done"));
        assert_eq!(
            closed.close(None, None, crate::now()).unwrap_err().0[0].field,
            "status"
        );
    }

    #[test]
    fn entries_are_links_ids_or_numbers() {
        let id = crate::new_id();
        assert_eq!(
            parse_entry(&format!("https://custodian.example.com/assets/{id}")),
            Entry::Id(id)
        );
        assert_eq!(parse_entry(&format!("  {id} ")), Entry::Id(id));
        assert_eq!(parse_entry(&format!("/assets/{id}?x=1")), Entry::Id(id));
        assert_eq!(
            parse_entry(" ast-000123 "),
            Entry::Number("ast-000123".into())
        );
        assert_eq!(
            parse_entry("https://x/assets/not-an-id"),
            Entry::Number("https://x/assets/not-an-id".into())
        );
        assert_eq!(scan_input(&obj(json!({}))).unwrap_err().0[0].field, "entry");
        let e = scan_input(&obj(json!({"entry": "A", "asset": 1}))).unwrap_err();
        assert_eq!(e.0[0].field, "asset");
    }

    #[test]
    fn lost_stolen_and_disposed_assets_are_not_expected() {
        let s = Stocktake::from_input(
            &obj(json!({"location_id": crate::new_id().to_string()})),
            None,
            crate::now(),
        )
        .unwrap();
        assert_eq!(s.result_for(Status::InUse, true), ScanResult::Found);
        assert_eq!(s.result_for(Status::InUse, false), ScanResult::Unexpected);
        assert_eq!(s.result_for(Status::Lost, true), ScanResult::Unexpected);
        assert!(check_is_review(AssetKind::Physical));
        assert!(!check_is_review(AssetKind::Data));
    }
}
