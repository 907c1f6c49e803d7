//! Scheduled work, in one place: named jobs, each with an interval.
//!
//! A job of the register (the audit head's log line, the purges of expired sessions and
//! setup links) runs once per interval across every instance sharing the database: each
//! run is claimed in the `job_runs` table first (`Store::claim_job`). A job of the
//! instance — a cache or memory of its own, such as the register summary or the web edge's
//! rate windows — runs in every instance. `custodian serve` starts the runner; `/metrics`
//! shows each job's last run and outcome.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use custodian_domain::account::{SESSION_ABSOLUTE, SESSION_IDLE};

use crate::{App, Result};

/// How often the runner looks for due jobs: often enough that findings follow a change
/// within a minute (SPEC §8).
const TICK: Duration = Duration::from_secs(10);

/// The job of this instance that sums a large register up for the home page, at most
/// every [`crate::summary::SUMMARY_EVERY`] (a small one is counted on every visit).
pub const SUMMARY: &str = "register_summary";

/// A job of the register: run once per interval across instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Logs the audit trail's head, so that a copy of it lives outside the database.
    AuditHead,
    /// Removes sessions past their idle or absolute limit.
    PurgeSessions,
    /// Removes one-time setup links past their 24 hours.
    PurgeSetupLinks,
    /// Keeps the compliance findings and KPIs current, and the day's snapshot
    /// ([`crate::compliance`]).
    Compliance,
}

impl Job {
    /// Every job of the register.
    pub const ALL: [Job; 4] = [
        Job::AuditHead,
        Job::PurgeSessions,
        Job::PurgeSetupLinks,
        Job::Compliance,
    ];

    /// Its name (in `job_runs` and `/metrics`).
    pub fn name(self) -> &'static str {
        match self {
            Job::AuditHead => "audit_head",
            Job::PurgeSessions => "purge_sessions",
            Job::PurgeSetupLinks => "purge_setup_links",
            Job::Compliance => crate::compliance::JOB,
        }
    }

    /// How often it runs.
    pub fn every(self) -> Duration {
        match self {
            Job::AuditHead => Duration::from_secs(24 * 60 * 60),
            Job::PurgeSessions => Duration::from_secs(10 * 60),
            Job::PurgeSetupLinks => Duration::from_secs(60 * 60),
            Job::Compliance => Duration::from_secs(10),
        }
    }
}

/// A job of this instance: a closure over memory of the instance's own.
#[derive(Clone)]
pub struct LocalJob {
    /// Its name.
    pub name: &'static str,
    /// How often it runs.
    pub every: Duration,
    /// The work; answers what it did, or why it failed.
    pub run: Arc<dyn Fn() -> std::result::Result<String, String> + Send + Sync>,
}

/// How a job last ran in this instance.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobState {
    /// When its last run here finished.
    pub last_run: Option<DateTime<Utc>>,
    /// Whether that run succeeded.
    pub ok: Option<bool>,
    /// What it did, or why it failed.
    pub detail: String,
    /// Runs here since the start.
    pub runs: u64,
    /// Failed runs here since the start.
    pub failures: u64,
    /// How long the last run took.
    pub seconds: f64,
}

/// The jobs' states in this instance, by name.
pub type JobStates = Arc<Mutex<BTreeMap<&'static str, JobState>>>;

impl App {
    /// Starts the runner: every [`TICK`], the jobs that are due run, one after another.
    pub fn start_jobs(&self, local: Vec<LocalJob>) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                app.run_due_jobs(&local).await;
            }
        })
    }

    /// Runs every job that is due now: a job of the register if this instance claims its
    /// run, a local one if its interval has passed here.
    pub async fn run_due_jobs(&self, local: &[LocalJob]) {
        let now = custodian_domain::now();
        for job in Job::ALL {
            let due_before = now - chrono::TimeDelta::from_std(job.every()).unwrap_or_default();
            match self.store.claim_job(job.name(), due_before, now).await {
                Ok(true) => {
                    let started = std::time::Instant::now();
                    let result = self.run_job(job).await.map_err(|e| e.to_string());
                    let outcome = match &result {
                        Ok(_) => "ok".to_string(),
                        Err(e) => format!("failed: {e}"),
                    };
                    if let Err(e) = self
                        .store
                        .finish_job(job.name(), custodian_domain::now(), &outcome)
                        .await
                    {
                        tracing::warn!(job = job.name(), "cannot record the job's run: {e}");
                    }
                    self.record_job(job.name(), result, started.elapsed());
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(job = job.name(), "cannot claim the job's run: {e}"),
            }
        }
        // A large register's summary is kept fresh here once a first visit asked for one.
        let large = self
            .summary
            .lock()
            .ok()
            .and_then(|c| c.last.as_ref().map(|s| s.counts.total))
            .is_some_and(|n| n > self.settings.count_incomplete_now_up_to);
        if large {
            self.sum_up_in_background();
        }
        for job in local {
            let due = self
                .job_states()
                .get(job.name)
                .and_then(|s| s.last_run)
                .is_none_or(|t| (now - t).to_std().unwrap_or_default() >= job.every);
            if due {
                let started = std::time::Instant::now();
                let result = (job.run)();
                self.record_job(job.name, result, started.elapsed());
            }
        }
    }

    async fn run_job(&self, job: Job) -> Result<String> {
        let now = custodian_domain::now();
        match job {
            Job::AuditHead => {
                let h = self.store.sealed_head().await?;
                tracing::info!(
                    audit_seq = h.seq,
                    audit_hash = %h.hash,
                    "audit trail head: event {} with hash {}",
                    h.seq,
                    h.hash
                );
                Ok(format!("head at event {}", h.seq))
            }
            Job::PurgeSessions => {
                let n = self
                    .store
                    .purge_sessions(now - SESSION_IDLE, now - SESSION_ABSOLUTE)
                    .await?;
                Ok(format!("{n} sessions purged"))
            }
            Job::PurgeSetupLinks => {
                let n = self.store.purge_setup_links(now).await?;
                Ok(format!("{n} setup links purged"))
            }
            Job::Compliance => Ok(self.keep_compliance_current().await?.describe()),
        }
    }

    pub(crate) fn record_job(
        &self,
        name: &'static str,
        result: std::result::Result<String, String>,
        took: Duration,
    ) {
        if let Err(e) = &result {
            tracing::warn!(job = name, "the job failed: {e}");
        }
        if let Ok(mut states) = self.jobs.lock() {
            let s = states.entry(name).or_default();
            s.last_run = Some(custodian_domain::now());
            s.runs += 1;
            s.seconds = took.as_secs_f64();
            match result {
                Ok(d) => {
                    s.ok = Some(true);
                    s.detail = d;
                }
                Err(e) => {
                    s.ok = Some(false);
                    s.failures += 1;
                    s.detail = e;
                }
            }
        }
    }

    /// How each job last ran in this instance.
    pub fn job_states(&self) -> BTreeMap<&'static str, JobState> {
        self.jobs.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
