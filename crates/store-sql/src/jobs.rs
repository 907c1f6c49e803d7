//! Scheduled jobs' runs: claiming a run, once across every instance, and recording how it
//! ended.

use chrono::{DateTime, Utc};
use custodian_domain::value::format_timestamp;
use custodian_store::{JobRun, Result};

use super::*;
use crate::db::{Dialect, Pools, Sql};
use custodian_store::*;

/// How long a claimed run may go unfinished before another instance may claim the job
/// again (the claiming instance died mid-run).
const STALE_RUN_HOURS: i64 = 1;

/// Claims the job's run if it last started before `due_before`, and is not running
/// elsewhere. On PostgreSQL the claim is made under an advisory lock on the job's name,
/// so that instances starting together queue rather than race; the conditional upsert
/// then lets exactly one claim each interval on either database.
pub(crate) async fn claim(
    pools: &Pools,
    name: &str,
    due_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut conn = pools.begin().await?;
    if conn.dialect() == Dialect::Postgres {
        // Waited for, not tried: the lock only orders the claims, and the conditional
        // upsert below decides which one wins. Keyed by the schema too, so that registers
        // sharing a database (one per schema) do not wait on each other.
        conn.fetch_all(
            Sql::new("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' custodian job ' || $1))")
                .bind(name.to_string()),
        )
        .await?;
    }
    let stale = now - chrono::TimeDelta::hours(STALE_RUN_HOURS);
    let claimed = conn
        .fetch_all(
            Sql::new(
                "INSERT INTO job_runs (name, started_at) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, finished_at = NULL, outcome = NULL \
                 WHERE job_runs.started_at < $3 AND (job_runs.finished_at IS NOT NULL OR job_runs.started_at < $4) \
                 RETURNING name",
            )
            .bind(name.to_string())
            .bind(format_timestamp(&now))
            .bind(format_timestamp(&due_before))
            .bind(format_timestamp(&stale)),
        )
        .await?;
    conn.commit().await?;
    Ok(!claimed.is_empty())
}

/// Records how a claimed run ended.
pub(crate) async fn finish(
    pools: &Pools,
    name: &str,
    at: DateTime<Utc>,
    outcome: &str,
) -> Result<()> {
    let mut conn = pools.begin().await?;
    conn.execute(
        Sql::new("UPDATE job_runs SET finished_at = $1, outcome = $2 WHERE name = $3")
            .bind(format_timestamp(&at))
            .bind(outcome.to_string())
            .bind(name.to_string()),
    )
    .await?;
    conn.commit().await
}

/// Every job's last run.
pub(crate) async fn runs(pools: &Pools) -> Result<Vec<JobRun>> {
    pools
        .fetch_all(Sql::new(
            "SELECT name, started_at, finished_at, outcome FROM job_runs ORDER BY name",
        ))
        .await?
        .iter()
        .map(|r| {
            let time = |t: Option<String>| {
                t.and_then(|t| custodian_domain::value::parse_timestamp(&t).ok())
            };
            Ok(JobRun {
                name: r.get("name")?,
                started_at: time(Some(r.get("started_at")?)),
                finished_at: time(r.get("finished_at")?),
                outcome: r.get("outcome")?,
            })
        })
        .collect()
}

/// Removes setup links that expired (`setup:HASH` settings, [`SetupLink`]s).
///
/// [`SetupLink`]: custodian_domain::account::SetupLink
pub(crate) async fn purge_setup_links(pools: &Pools, now: DateTime<Utc>) -> Result<u64> {
    use custodian_domain::account::SetupLink;
    let rows = pools
        .fetch_all(
            Sql::new("SELECT key, value FROM settings WHERE key LIKE $1")
                .bind(format!("{}%", SetupLink::PREFIX)),
        )
        .await?;
    let expired: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let key: String = r.get("key").ok()?;
            let value: String = r.get("value").ok()?;
            // A value that is not a link is no link: it goes too.
            let live = SetupLink::decode(&value).is_some_and(|l| l.until >= now);
            (!live).then_some(key)
        })
        .collect();
    if expired.is_empty() {
        return Ok(0);
    }
    let mut conn = pools.begin().await?;
    let mut n = 0;
    for chunk in expired.chunks(400) {
        let mut sql = Sql::new("DELETE FROM settings WHERE key IN ");
        sql.push_list(chunk.iter().cloned());
        n += conn.execute(sql).await?;
    }
    conn.commit().await?;
    Ok(n)
}

#[async_trait]
impl JobStore for SqlStore {
    async fn claim_job(
        &self,
        name: &str,
        due_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        jobs::claim(&self.pools, name, due_before, now).await
    }

    async fn finish_job(&self, name: &str, at: DateTime<Utc>, outcome: &str) -> Result<()> {
        jobs::finish(&self.pools, name, at, outcome).await
    }

    async fn job_runs(&self) -> Result<Vec<custodian_store::JobRun>> {
        jobs::runs(&self.pools).await
    }
}
