//! Scheduled jobs' runs: the store's part for them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::*;

/// A scheduled job's last run, as every instance sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRun {
    /// The job's name.
    pub name: String,
    /// When its last run started.
    pub started_at: Option<DateTime<Utc>>,
    /// When that run finished (none while it runs).
    pub finished_at: Option<DateTime<Utc>>,
    /// `ok` or `failed: …`.
    pub outcome: Option<String>,
}

/// What the store reads of scheduled jobs' runs.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Claims a run of the job `name` if its last run started before `due_before` and is not
    /// still running: true for exactly one instance each interval.
    async fn claim_job(
        &self,
        name: &str,
        due_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// Records how a claimed run ended.
    async fn finish_job(&self, name: &str, at: DateTime<Utc>, outcome: &str) -> Result<()>;

    /// Every job's last run.
    async fn job_runs(&self) -> Result<Vec<JobRun>>;
}
