//! Policy documents and their acknowledgement (SPEC §6.2, §7): versions of the Acceptable
//! Use Policy and the Asset Management Policy, and who acknowledged which version.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::Problems;
use crate::input::Input;
use crate::value;

wire_enum! {
    /// Which policy document a version belongs to.
    PolicyDocument { AcceptableUse = "acceptable_use", AssetManagement = "asset_management" }
}

wire_enum! {
    /// Where a version is in its life: drafted, approved (the one in force), superseded.
    PolicyStatus { Draft = "draft", Approved = "approved", Superseded = "superseded" }
}

wire_enum! {
    /// How an acknowledgement reached the register.
    AckSource {
        /// The person acknowledged on their own page or through the API.
        Person = "person",
        /// Recorded for them from an earlier record (an import of past acknowledgements).
        Imported = "imported",
    }
}

wire_enum! {
    /// The renderings of a policy version people read (SPEC §7).
    DocumentFormat { Html = "html", Pdf = "pdf" }
}

impl DocumentFormat {
    /// The media type of the rendering.
    pub fn media_type(self) -> &'static str {
        match self {
            DocumentFormat::Html => "text/html; charset=utf-8",
            DocumentFormat::Pdf => "application/pdf",
        }
    }
}

/// A policy version's rendering as made once at its approval and kept: every later
/// download gives these bytes (SPEC §7).
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyRendering {
    /// The version rendered.
    pub policy_id: Uuid,
    /// HTML or PDF.
    pub format: DocumentFormat,
    /// The SHA-256 of `bytes`, in hex, as the approval event records it.
    pub sha256: String,
    /// The rendering.
    pub bytes: Vec<u8>,
    /// When it was made (the approval).
    pub created_at: DateTime<Utc>,
}

impl PolicyRendering {
    /// A rendering with its digest.
    pub fn new(
        policy_id: Uuid,
        format: DocumentFormat,
        bytes: Vec<u8>,
        created_at: DateTime<Utc>,
    ) -> Self {
        PolicyRendering {
            policy_id,
            format,
            sha256: crate::audit::sha256_hex(&bytes),
            bytes,
            created_at,
        }
    }
}

impl PolicyDocument {
    /// The document's fixed id as a subject of compliance findings (a document outlives
    /// its versions): `…a001` for the asset management policy, `…a002` for acceptable use.
    pub fn subject_id(self) -> Uuid {
        match self {
            PolicyDocument::AssetManagement => Uuid::from_u128(0xa001),
            PolicyDocument::AcceptableUse => Uuid::from_u128(0xa002),
        }
    }

    /// The document whose subject id is `id`.
    pub fn from_subject_id(id: Uuid) -> Option<Self> {
        Self::ALL.iter().copied().find(|d| d.subject_id() == id)
    }

    /// The document's title.
    pub fn title(self) -> &'static str {
        match self {
            PolicyDocument::AcceptableUse => "Acceptable Use Policy",
            PolicyDocument::AssetManagement => "Asset Management Policy",
        }
    }
}

/// The longest policy body accepted, in characters.
pub const MAX_BODY_CHARS: usize = 200_000;

/// The longest time an approved version may go without review (SPEC §7).
pub const MAX_REVIEW_DAYS: i64 = 365;

/// One version of a policy document.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PolicyVersion {
    /// Identifier.
    pub id: Uuid,
    /// The document.
    pub document: PolicyDocument,
    /// The version's number as people cite it (`2.1`); unique within the document.
    pub number: String,
    /// The title.
    pub title: String,
    /// The text, in Markdown.
    pub body: String,
    /// From when the version applies.
    pub effective_date: NaiveDate,
    /// Whether the change from the version before is material: everyone acknowledges
    /// again. The first version approved always asks everyone.
    pub material: bool,
    /// What changed.
    pub change_summary: Option<String>,
    /// The person who wrote it.
    pub author_id: Option<Uuid>,
    /// Draft, approved or superseded.
    pub status: PolicyStatus,
    /// The person who approved it.
    pub approved_by: Option<Uuid>,
    /// When it was approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// When it is next reviewed (at most a year after approval).
    pub next_review_at: Option<NaiveDate>,
    /// Record version for optimistic concurrency.
    pub version: i64,
    /// When it was drafted.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

const FIELDS: &[&str] = &[
    "document",
    "number",
    "title",
    "body",
    "effective_date",
    "material",
    "change_summary",
    "author_id",
];
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "approved_by",
    "approved_at",
    "next_review_at",
    "version",
    "created_at",
    "updated_at",
];

impl PolicyVersion {
    /// Builds a draft from a create request.
    pub fn from_input(obj: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(FIELDS, READ_ONLY, "a policy version");
        let document = r.required("document", PolicyDocument::from_json);
        let number = r.required("number", |v| value::text(v, 40));
        let title = r.optional("title", |v| value::text(v, 200));
        let body = r.required("body", |v| value::text(v, MAX_BODY_CHARS));
        let effective_date = r.required("effective_date", value::date);
        let material = r.or_default("material", true, value::boolean);
        let change_summary = r.optional("change_summary", |v| value::text(v, 2000));
        let author_id = r.optional("author_id", value::id);
        let Input { problems, .. } = r;
        let (
            Some(document),
            Some(number),
            Some(title),
            Some(body),
            Some(effective_date),
            Some(material),
            Some(change_summary),
            Some(author_id),
        ) = (
            document,
            number,
            title,
            body,
            effective_date,
            material,
            change_summary,
            author_id,
        )
        else {
            return Err(problems);
        };
        problems.into_result(PolicyVersion {
            id: crate::new_id(),
            document,
            title: title.unwrap_or_else(|| document.title().to_string()),
            number,
            body,
            effective_date,
            material,
            change_summary,
            author_id,
            status: PolicyStatus::Draft,
            approved_by: None,
            approved_at: None,
            next_review_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    /// Applies a merge patch to a draft; an approved or superseded version is never edited
    /// (what people acknowledged must stay what they read).
    pub fn patch(&self, obj: &Map<String, Value>, now: DateTime<Utc>) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(&FIELDS[1..], READ_ONLY, "a policy version");
        if obj.contains_key("document") {
            r.add(
                "document",
                "cannot change: draft a version of the other document instead",
            );
        }
        if self.status != PolicyStatus::Draft {
            r.add(
                "status",
                format!(
                    "version {} is {}: only drafts change; draft a new version instead",
                    self.number, self.status
                ),
            );
        }
        let mut next = self.clone();
        for (k, v) in obj {
            match k.as_str() {
                "number" => {
                    if let Some(s) = r.problems.check(k, value::text(v, 40)) {
                        next.number = s;
                    }
                }
                "title" => {
                    if let Some(s) = r.problems.check(k, value::text(v, 200)) {
                        next.title = s;
                    }
                }
                "body" => {
                    if let Some(s) = r.problems.check(k, value::text(v, MAX_BODY_CHARS)) {
                        next.body = s;
                    }
                }
                "effective_date" => {
                    if let Some(d) = r.problems.check(k, value::date(v)) {
                        next.effective_date = d;
                    }
                }
                "material" => {
                    if let Some(b) = r.problems.check(k, value::boolean(v)) {
                        next.material = b;
                    }
                }
                "change_summary" => {
                    if v.is_null() {
                        next.change_summary = None;
                    } else if let Some(s) = r.problems.check(k, value::text(v, 2000)) {
                        next.change_summary = Some(s);
                    }
                }
                "author_id" => {
                    if v.is_null() {
                        next.author_id = None;
                    } else if let Some(id) = r.problems.check(k, value::id(v)) {
                        next.author_id = Some(id);
                    }
                }
                _ => {}
            }
        }
        next.version += 1;
        next.updated_at = now;
        r.problems.into_result(next)
    }

    /// Approves a draft: `next_review_at` defaults to a year after approval and may not be
    /// later than that.
    pub fn approve(
        &self,
        approver: Uuid,
        next_review_at: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut p = Problems::new();
        if self.status != PolicyStatus::Draft {
            p.add(
                "status",
                format!("version {} is already {}", self.number, self.status),
            );
        }
        if self.author_id == Some(approver) {
            p.add(
                "approved_by",
                "the version's author cannot approve it: another admin must (as for exceptions)",
            );
        }
        let today = now.date_naive();
        let latest = today + TimeDelta::days(MAX_REVIEW_DAYS);
        let next_review = next_review_at.unwrap_or(latest);
        if next_review > latest {
            p.add(
                "next_review_at",
                format!("must be at most a year after approval (by {latest})"),
            );
        }
        if next_review <= today {
            p.add("next_review_at", "must be after today");
        }
        let mut next = self.clone();
        next.status = PolicyStatus::Approved;
        next.approved_by = Some(approver);
        next.approved_at = Some(now);
        next.next_review_at = Some(next_review);
        next.version += 1;
        next.updated_at = now;
        p.into_result(next)
    }

    /// The version in force after a review that changed nothing: its next review moves on
    /// a year. Only the version in force is reviewed; a draft is approved instead.
    pub fn reviewed(&self, now: DateTime<Utc>) -> Result<Self, Problems> {
        let mut p = Problems::new();
        if self.status != PolicyStatus::Approved {
            p.add(
                "status",
                format!(
                    "version {} is {}: only the version in force is reviewed (a draft is approved instead)",
                    self.number, self.status
                ),
            );
        }
        let mut next = self.clone();
        next.next_review_at = Some(now.date_naive() + TimeDelta::days(MAX_REVIEW_DAYS));
        next.version += 1;
        next.updated_at = now;
        p.into_result(next)
    }

    /// The version once a later one is approved.
    pub fn superseded(&self, now: DateTime<Utc>) -> Self {
        let mut next = self.clone();
        next.status = PolicyStatus::Superseded;
        next.version += 1;
        next.updated_at = now;
        next
    }

    /// The record as the audit trail and the API show it (without the body, which can be
    /// long: its length and a digest stand for it in events).
    pub fn audit_view(&self) -> Map<String, Value> {
        let mut m = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        m.remove("body");
        m.insert(
            "body_sha256".into(),
            Value::String(crate::audit::sha256_hex(self.body.as_bytes())),
        );
        m
    }
}

/// A review of the version in force that changed nothing (SPEC §7), as its event records
/// it.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PolicyReview {
    /// The version reviewed.
    pub policy_id: Uuid,
    /// When.
    pub reviewed_at: crate::value::Timestamp,
    /// Who (a person).
    pub reviewed_by: Option<Uuid>,
    /// What the reviewer noted.
    pub notes: Option<String>,
    /// `no_change`: the text stands as approved.
    pub outcome: String,
    /// When the next review falls due.
    pub next_review_at: Option<NaiveDate>,
}

/// A person's acknowledgement of one policy version.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Acknowledgement {
    /// Identifier.
    pub id: Uuid,
    /// The version acknowledged.
    pub policy_id: Uuid,
    /// The person.
    pub person_id: Uuid,
    /// When they acknowledged it.
    pub acknowledged_at: DateTime<Utc>,
    /// Whether they did it here or it was imported.
    pub source: AckSource,
    /// Where an imported acknowledgement came from (a signed form, an HR system).
    pub note: Option<String>,
    /// When it was recorded here.
    pub created_at: DateTime<Utc>,
}

/// Which approved versions a person's acknowledgement still counts for: the versions
/// from the last material one up to the one in force. `versions` are the document's
/// approved and superseded versions, in order of approval. Empty when none is approved.
pub fn accepted_versions(versions: &[PolicyVersion]) -> Vec<Uuid> {
    let approved: Vec<&PolicyVersion> = versions
        .iter()
        .filter(|v| v.status != PolicyStatus::Draft && v.approved_at.is_some())
        .collect();
    let baseline = approved.iter().rposition(|v| v.material).unwrap_or(0);
    approved[baseline..].iter().map(|v| v.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn draft(number: &str, material: bool) -> PolicyVersion {
        PolicyVersion::from_input(
            &obj(
                json!({"document": "acceptable_use", "number": number, "body": "# Use\nBe careful.",
                "effective_date": "2026-01-01", "material": material}),
            ),
            crate::now(),
        )
        .expect("valid")
    }

    #[test]
    fn a_draft_names_every_missing_field() {
        let e = PolicyVersion::from_input(&obj(json!({"document": "other", "x": 1})), crate::now())
            .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        for f in ["document", "number", "body", "effective_date", "x"] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
    }

    #[test]
    fn only_drafts_change_and_approval_is_reviewed_within_a_year() {
        let d = draft("1.0", true);
        assert_eq!(d.title, "Acceptable Use Policy");
        let now = crate::now();
        let late = now.date_naive() + TimeDelta::days(400);
        let e = d.approve(Uuid::nil(), Some(late), now).unwrap_err();
        assert_eq!(e.0[0].field, "next_review_at");
        let a = d.approve(Uuid::nil(), None, now).expect("approved");
        assert_eq!(a.status, PolicyStatus::Approved);
        assert_eq!(
            a.next_review_at,
            Some(now.date_naive() + TimeDelta::days(365))
        );
        let e = a.patch(&obj(json!({"body": "changed"})), now).unwrap_err();
        assert_eq!(e.0[0].field, "status");
        assert!(a.approve(Uuid::nil(), None, now).is_err());
    }

    #[test]
    fn a_material_change_asks_everyone_again() {
        let now = crate::now();
        let v1 = draft("1.0", false).approve(Uuid::nil(), None, now).unwrap();
        let v2 = draft("1.1", false).approve(Uuid::nil(), None, now).unwrap();
        assert_eq!(
            accepted_versions(&[v1.clone(), v2.clone()]),
            vec![v1.id, v2.id]
        );
        let v3 = draft("2.0", true).approve(Uuid::nil(), None, now).unwrap();
        assert_eq!(
            accepted_versions(&[v1.clone(), v2.clone(), v3.clone()]),
            vec![v3.id]
        );
        let v4 = draft("2.1", false).approve(Uuid::nil(), None, now).unwrap();
        assert_eq!(
            accepted_versions(&[v1, v2, v3.clone(), v4.clone()]),
            vec![v3.id, v4.id]
        );
        assert!(accepted_versions(&[draft("3.0", true)]).is_empty());
    }
}
