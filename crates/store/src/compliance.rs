//! Compliance measurement: the store's part for it. Findings, each subject's outcomes,
//! the tallies per check, the daily snapshots and where the evaluation stands.
//!
//! These are derived from the register (SPEC §8): the evaluation recomputes them from the
//! records and the audit trail, and writes them with [`ComplianceStore::record_evaluation`]
//! in one transaction of their own, outside the audit chain. A snapshot names the audit
//! head it was computed at, so that every figure leads back to the register it measured.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use custodian_domain::compliance::kpi::Tally;
use custodian_domain::compliance::{FindingStatus, SubjectType};
use custodian_domain::custody::Assignment;
use custodian_domain::lifecycle::DisposalRecord;

use crate::*;

/// One failing (check, subject).
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// Identifier (UUID v7).
    pub id: Uuid,
    /// The check.
    pub check_id: String,
    /// What it is about.
    pub subject_type: SubjectType,
    /// The subject's id.
    pub subject_id: Uuid,
    /// Open, excepted or resolved.
    pub status: FindingStatus,
    /// When the subject first failed the check.
    pub first_failed_at: DateTime<Utc>,
    /// When it last passed again (while resolved).
    pub resolved_at: Option<DateTime<Utc>>,
    /// What is wrong, in words, as last measured.
    pub message: String,
    /// The party to act: the asset's owner, the person, the exception's requester.
    pub owner_id: Option<Uuid>,
    /// The exception that sets it aside (while excepted).
    pub exception_id: Option<Uuid>,
    /// When its status last changed.
    pub changed_at: DateTime<Utc>,
}

/// One change of a finding's status, in its history.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingEvent {
    /// The finding.
    pub finding_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// The status it took.
    pub status: FindingStatus,
    /// What was wrong then (for a resolution: what had been wrong).
    pub message: String,
}

/// A subject's outcomes: one bit per check, by the check's place in the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubjectOutcome {
    /// The subject's type.
    pub subject_type: SubjectType,
    /// The subject.
    pub subject_id: Uuid,
    /// The checks it is in the population of.
    pub applicable: u64,
    /// Of those, the ones it fails (excepted ones included).
    pub failing: u64,
    /// Of the failing, the ones an exception sets aside.
    pub excepted: u64,
}

/// Where the evaluation stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComplianceState {
    /// The audit event up to which changes have been followed.
    pub follow_seq: i64,
    /// The day of the last full evaluation.
    pub full_day: Option<NaiveDate>,
    /// The catalogue the stored outcomes were computed with (ids in order).
    pub layout: String,
    /// When the figures were last brought up to date.
    pub computed_at: Option<DateTime<Utc>>,
    /// The audit head they were computed at.
    pub audit_seq: i64,
    /// Its hash.
    pub audit_hash: String,
}

/// One check's tally on one day, with the audit head it was computed at.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The day.
    pub day: NaiveDate,
    /// The check.
    pub check_id: String,
    /// Its tally.
    pub tally: Tally,
    /// The audit event the register stood at.
    pub audit_seq: i64,
    /// Its hash.
    pub audit_hash: String,
    /// When it was taken.
    pub computed_at: DateTime<Utc>,
}

/// Filters and paging of the findings list.
#[derive(Clone, Debug, Default)]
pub struct FindingQuery {
    /// Page size.
    pub limit: u32,
    /// Where the page starts.
    pub cursor: Option<Cursor>,
    /// Of these checks (a check, or the checks of a control or framework).
    pub check_ids: Option<Vec<String>>,
    /// In this status.
    pub status: Option<FindingStatus>,
    /// About subjects of this type.
    pub subject_type: Option<SubjectType>,
    /// About this subject.
    pub subject_id: Option<Uuid>,
    /// For this party to act.
    pub owner_id: Option<Uuid>,
    /// Only findings for these parties to act, or about these subjects.
    pub within: Option<Within>,
    /// Newest first instead of oldest first.
    pub newest_first: bool,
}

/// What one evaluation step writes, in one transaction.
#[derive(Clone, Debug, Default)]
pub struct EvaluationBatch {
    /// Forget every stored outcome and tally first (the catalogue changed).
    pub reset: bool,
    /// Subjects' outcomes, inserted or replaced.
    pub outcomes: Vec<SubjectOutcome>,
    /// Findings opened for the first time.
    pub new_findings: Vec<Finding>,
    /// Findings whose status or message changed (replaced whole).
    pub changed_findings: Vec<Finding>,
    /// Their history: one event per status change.
    pub events: Vec<FindingEvent>,
    /// What to add to each check's tally (by check id).
    pub tallies: Vec<(String, Tally)>,
    /// Where the evaluation stands now, if it moved.
    pub state: Option<ComplianceState>,
}

impl EvaluationBatch {
    /// Whether it writes nothing.
    pub fn is_empty(&self) -> bool {
        !self.reset
            && self.outcomes.is_empty()
            && self.new_findings.is_empty()
            && self.changed_findings.is_empty()
            && self.events.is_empty()
            && self.tallies.is_empty()
            && self.state.is_none()
    }
}

/// What the store reads and writes of compliance measurement.
#[async_trait]
pub trait ComplianceStore: Send + Sync {
    /// Where the evaluation stands (none before the first).
    async fn compliance_state(&self) -> Result<Option<ComplianceState>>;

    /// The stored outcomes of these subjects.
    async fn outcomes_of(&self, t: SubjectType, ids: &[Uuid]) -> Result<Vec<SubjectOutcome>>;

    /// Every finding (in any status) about these subjects.
    async fn findings_of(&self, t: SubjectType, ids: &[Uuid]) -> Result<Vec<Finding>>;

    /// A filtered page of findings.
    async fn list_findings(&self, q: &FindingQuery) -> Result<Page<Finding>>;

    /// One finding.
    async fn finding(&self, id: Uuid) -> Result<Option<Finding>>;

    /// A finding's history, oldest first.
    async fn finding_history(&self, id: Uuid) -> Result<Vec<FindingEvent>>;

    /// A page of findings as they stood at `at`, oldest first: each opened by then, with
    /// the status and message of its last change by then (resolved ones included).
    async fn findings_at(
        &self,
        at: DateTime<Utc>,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<Page<Finding>>;

    /// Each check's tally, by check id.
    async fn tallies(&self) -> Result<Vec<(String, Tally)>>;

    /// Writes one evaluation step.
    async fn record_evaluation(&self, batch: EvaluationBatch) -> Result<()>;

    /// Keeps a day's snapshots; a check and day already kept is left as it is. Answers
    /// how many were new.
    async fn keep_snapshots(&self, snapshots: &[Snapshot]) -> Result<u64>;

    /// The snapshots of these checks (all when `None`) from `from` to `to`, by day.
    async fn snapshots(
        &self,
        check_ids: Option<&[String]>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Snapshot>>;

    /// The open custodies and seats of these assets.
    async fn open_assignments_of(&self, asset_ids: &[Uuid]) -> Result<Vec<Assignment>>;

    /// The disposal records of these assets.
    async fn disposals_of(&self, asset_ids: &[Uuid]) -> Result<Vec<DisposalRecord>>;

    /// The persons holding anything (an open custody or seat), with how many.
    async fn holders(&self) -> Result<Vec<(Uuid, i64)>>;

    /// The persons among `persons` who acknowledged one of `policy_ids`.
    async fn acknowledged_by(&self, policy_ids: &[Uuid], persons: &[Uuid]) -> Result<Vec<Uuid>>;
}
