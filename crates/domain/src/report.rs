//! Reports (SPEC §12): their kinds, their columns as people read them, and their cells.

use chrono::{DateTime, NaiveDate, Utc};

wire_enum! {
    /// The reports Custodian writes.
    ReportKind {
        Register = "register", Ropa = "ropa", Licences = "licences", Disposals = "disposals",
        Exceptions = "exceptions", Offboarding = "offboarding",
        Acknowledgements = "acknowledgements", Compliance = "compliance",
        OffPremises = "off-premises", Policy = "policy", Evidence = "evidence",
    }
}

wire_enum! {
    /// The formats a report is written in.
    ReportFormat {
        Csv = "csv", Json = "json", Xlsx = "xlsx", Html = "html", Pdf = "pdf", Zip = "zip",
    }
}

/// The formats of a report of rows: every one.
const ROW_FORMATS: &[ReportFormat] = &[
    ReportFormat::Csv,
    ReportFormat::Json,
    ReportFormat::Xlsx,
    ReportFormat::Html,
    ReportFormat::Pdf,
];

/// The most rows an HTML or PDF report shows: a document people read; the CSV, XLSX and
/// JSON hold every row.
pub const DOCUMENT_ROWS: usize = 5000;

impl ReportKind {
    /// What the report is, in a sentence.
    pub fn title(self) -> &'static str {
        match self {
            ReportKind::Register => "Asset register",
            ReportKind::Ropa => "Record of processing activities (GDPR Art. 30)",
            ReportKind::Licences => "Software licence position",
            ReportKind::Disposals => "Disposals, per serial",
            ReportKind::Exceptions => "Exception register",
            ReportKind::Offboarding => "Leavers' and movers' returns and hand-overs",
            ReportKind::Acknowledgements => "Acknowledgements of the Acceptable Use Policy",
            ReportKind::Compliance => "Compliance with the Asset Management Policy",
            ReportKind::OffPremises => "Assets off the premises",
            ReportKind::Policy => "A policy document as approved",
            ReportKind::Evidence => "The auditor's evidence pack",
        }
    }

    /// The formats it is written in (SPEC §12): the compliance report as HTML and PDF for
    /// people, XLSX and JSON for programs; a policy as its document.
    pub fn formats(self) -> &'static [ReportFormat] {
        match self {
            ReportKind::Compliance => &[
                ReportFormat::Html,
                ReportFormat::Pdf,
                ReportFormat::Xlsx,
                ReportFormat::Json,
            ],
            ReportKind::Policy => &[ReportFormat::Html, ReportFormat::Pdf],
            ReportKind::Evidence => &[ReportFormat::Zip],
            _ => ROW_FORMATS,
        }
    }

    /// The format written when none is asked for.
    pub fn default_format(self) -> ReportFormat {
        self.formats()[0]
    }

    /// The report's columns.
    pub fn columns(self) -> &'static [Column] {
        match self {
            ReportKind::Register => REGISTER,
            ReportKind::Ropa => ROPA,
            ReportKind::Licences => LICENCES,
            ReportKind::Disposals => DISPOSALS,
            ReportKind::Exceptions => EXCEPTIONS,
            ReportKind::Offboarding => OFFBOARDING,
            ReportKind::Acknowledgements => ACKNOWLEDGEMENTS,
            ReportKind::Compliance => FINDINGS,
            ReportKind::OffPremises => OFF_PREMISES,
            ReportKind::Policy | ReportKind::Evidence => &[],
        }
    }

    /// Whether it is read from the register's assets (rebuilt from the audit trail when
    /// read as at a past time), and so narrowed by the asset list's record filters.
    pub fn of_assets(self) -> bool {
        matches!(
            self,
            ReportKind::Register | ReportKind::Ropa | ReportKind::Licences | ReportKind::Disposals
        )
    }
}

impl ReportFormat {
    /// The media type of a download.
    pub fn media_type(self) -> &'static str {
        match self {
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Json => "application/json",
            ReportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ReportFormat::Html => "text/html; charset=utf-8",
            ReportFormat::Pdf => "application/pdf",
            ReportFormat::Zip => "application/zip",
        }
    }

    /// Whether it is written as the rows come (CSV, JSON), or whole at the end (XLSX, and
    /// the documents people read).
    pub fn streams(self) -> bool {
        matches!(self, ReportFormat::Csv | ReportFormat::Json)
    }
}

/// A column: its key (JSON) and its heading (people).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Column {
    /// The key of the cell in a JSON row.
    pub key: &'static str,
    /// The heading, in the policy's words.
    pub heading: &'static str,
}

const fn c(key: &'static str, heading: &'static str) -> Column {
    Column { key, heading }
}

const REGISTER: &[Column] = &[
    c("asset_number", "Asset number"),
    c("name", "Name"),
    c("kind", "Kind"),
    c("owner", "Owner"),
    c("classification", "Classification"),
    c("importance", "Importance"),
    c("status", "Status"),
    c("location", "Location"),
    c("tags", "Tags"),
    c("last_reviewed_at", "Last reviewed"),
    c("next_review_at", "Next review"),
    c("complete", "Record complete"),
    c("missing", "Missing from the record"),
];

const ROPA: &[Column] = &[
    c("asset_number", "Asset number"),
    c("name", "Processing activity"),
    c("purpose", "Purpose of processing"),
    c("controller", "Controller"),
    c("lawful_basis", "Lawful basis"),
    c("data_subject_categories", "Categories of data subjects"),
    c("personal_data_categories", "Categories of personal data"),
    c("special_category_data", "Special category data"),
    c("recipient_categories", "Categories of recipients"),
    c("international_transfers", "Transfers to third countries"),
    c("retention", "Retention"),
    c("security_measures", "Security measures"),
    c("owner", "Owner"),
    c("last_reviewed_at", "Last reviewed"),
    c("next_review_at", "Next review"),
    c("complete", "Record complete"),
    c("missing", "Missing from the record"),
];

const LICENCES: &[Column] = &[
    c("asset_number", "Asset number"),
    c("name", "Software"),
    c("software_version", "Version"),
    c("vendor", "Vendor"),
    c("licence_model", "Licence model"),
    c("cost", "Free or paid"),
    c("licences_purchased", "Licences purchased"),
    c("licences_used", "Licences used"),
    c("position", "Position"),
    c("deployed_on", "Where deployed"),
    c("licence_location", "Where the licence is kept"),
    c("licence_expires_at", "Licence expires"),
    c("days_left", "Days left"),
    c("owner", "Owner"),
];

const DISPOSALS: &[Column] = &[
    c("asset_number", "Asset number"),
    c("name", "Name"),
    c("kind", "Kind"),
    c("serial_number", "Serial number"),
    c("classification", "Classification"),
    c("required", "Minimum method of its level"),
    c("method", "Method"),
    c("meets", "Meets its level's minimum"),
    c("performed_by", "Performed by"),
    c("performed_at", "Performed"),
    c("certificate_ref", "Certificate"),
    c("verified_by", "Verified by"),
    c("notes", "Notes"),
    c("owner", "Owner"),
];

const EXCEPTIONS: &[Column] = &[
    c("rule", "Rule set aside"),
    c("assets", "Assets"),
    c("justification", "Justification"),
    c("compensating_controls", "Compensating controls"),
    c("requested_by", "Requested by"),
    c("requested_at", "Requested"),
    c("status", "Status"),
    c("decided_by", "Decided by"),
    c("decided_at", "Decided"),
    c("decision_notes", "Decision notes"),
    c("expires_at", "Expires"),
    c("in_force", "In force"),
];

const OFFBOARDING: &[Column] = &[
    c("person", "Person"),
    c("case_kind", "Leaver or mover"),
    c("reason", "Why"),
    c("end_date", "Last day"),
    c("case_status", "Case"),
    c("item", "Item"),
    c("item_kind", "What it asks"),
    c("item_status", "Item status"),
    c("settled_at", "Settled"),
    c("settled_by", "Settled by"),
    c("on_time", "By the last day"),
    c("successor", "Handed over to"),
    c("evidence", "Evidence"),
];

const ACKNOWLEDGEMENTS: &[Column] = &[
    c("person", "Person"),
    c("email", "E-mail"),
    c("person_status", "Employment status"),
    c("version_in_force", "Version in force"),
    c("acknowledged", "Acknowledged it"),
    c("acknowledged_at", "When"),
    c("last_version", "Last version acknowledged"),
    c("last_acknowledged_at", "Last acknowledged"),
    c("source", "How it was recorded"),
];

const FINDINGS: &[Column] = &[
    c("check", "Check"),
    c("controls", "Controls"),
    c("severity", "Severity"),
    c("subject", "Subject"),
    c("owner", "Owner to act"),
    c("status", "Status"),
    c("failing_since", "Failing since"),
    c("message", "What is wrong"),
    c("remediation", "What to do"),
];

/// The compliance report's KPIs per check.
pub const CHECK_COLUMNS: &[Column] = &[
    c("check", "Check"),
    c("title", "What it asks"),
    c("controls", "Controls"),
    c("severity", "Severity"),
    c("pass", "Pass"),
    c("fail", "Fail"),
    c("excepted", "Excepted"),
    c("not_applicable", "Not applicable"),
    c("pass_rate", "Pass rate (%)"),
];

/// The compliance report's roll-up per control.
pub const CONTROL_COLUMNS: &[Column] = &[
    c("control", "Control"),
    c("title", "Title"),
    c("status", "Status"),
    c("checks", "Checks"),
    c("pass", "Pass"),
    c("fail", "Fail"),
    c("excepted", "Excepted"),
    c("pass_rate", "Pass rate (%)"),
];

/// The compliance report's trend, a day per row.
pub const TREND_COLUMNS: &[Column] = &[
    c("date", "Day"),
    c("pass", "Pass"),
    c("fail", "Fail"),
    c("excepted", "Excepted"),
    c("pass_rate", "Pass rate (%)"),
];

/// The handling matrix: what each level of the classification scheme asks.
pub const HANDLING_COLUMNS: &[Column] = &[
    c("level", "Level"),
    c("rank", "Rank"),
    c("description", "What it means"),
    c("encryption_required", "Devices encrypted"),
    c("off_premises", "Off the premises"),
    c("external_sharing", "Shared outside"),
    c("label_required", "Carriers labelled"),
    c("disposal_method", "Least disposal method"),
    c("review_interval_days", "Review every (days)"),
];

/// The Statement of Applicability's rows in the evidence pack.
pub const SOA_COLUMNS: &[Column] = &[
    c("control", "Control"),
    c("title", "Title"),
    c("applicable", "Applicable"),
    c("implementation", "How it is met"),
    c("checks", "Checks that measure it"),
    c("status", "Status then"),
    c("evidence", "Evidence in this pack"),
];

const OFF_PREMISES: &[Column] = &[
    c("asset_number", "Asset number"),
    c("name", "Name"),
    c("classification", "Classification"),
    c("holder", "Holder"),
    c("location", "Where it is"),
    c("issued_at", "Since"),
    c("expected_return_at", "Due back"),
    c("overdue", "Overdue"),
    c("approved_by", "Approved by"),
    c("exception", "Under exception"),
    c("notes", "Notes"),
];

/// A cell of a report.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Nothing recorded.
    Empty,
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A number.
    Num(f64),
    /// Yes or no.
    Bool(bool),
    /// A day.
    Date(NaiveDate),
    /// A moment.
    Time(DateTime<Utc>),
}

impl Cell {
    /// Text, or nothing when empty.
    pub fn text(s: Option<impl Into<String>>) -> Cell {
        match s.map(Into::into) {
            Some(t) if !t.is_empty() => Cell::Text(t),
            _ => Cell::Empty,
        }
    }

    /// As a person reads it.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Num(n) => n.to_string(),
            Cell::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Time(t) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }

    /// As a program reads it.
    pub fn json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Cell::Empty => Value::Null,
            Cell::Text(t) => Value::String(t.clone()),
            Cell::Int(n) => (*n).into(),
            Cell::Num(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
            Cell::Bool(b) => (*b).into(),
            Cell::Date(d) => d.to_string().into(),
            Cell::Time(t) => crate::value::format_timestamp(t).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_has_distinct_keys_and_readable_headings() {
        for k in ReportKind::ALL
            .iter()
            .filter(|k| !matches!(k, ReportKind::Policy | ReportKind::Evidence))
        {
            let cols = k.columns();
            let mut keys: Vec<&str> = cols.iter().map(|c| c.key).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), cols.len(), "{k}");
            assert!(cols
                .iter()
                .all(|c| c.heading.chars().next().is_some_and(char::is_uppercase)));
            assert!(cols.iter().all(|c| !c.heading.contains('_')), "{k}");
        }
    }

    #[test]
    fn cells_read_as_people_and_programs_expect() {
        assert_eq!(Cell::Bool(true).display(), "yes");
        assert_eq!(Cell::text(Some("")), Cell::Empty);
        assert_eq!(Cell::Int(3).json(), serde_json::json!(3));
        assert_eq!(Cell::Empty.json(), serde_json::Value::Null);
    }
}
