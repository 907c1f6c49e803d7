//! Compliance measurement: its SQL. Findings, outcomes, tallies and snapshots are written
//! by the evaluation in transactions of their own (see `custodian_store::compliance`).

use chrono::NaiveDate;
use custodian_domain::compliance::kpi::Tally;
use custodian_domain::compliance::{FindingStatus, SubjectType};
use custodian_domain::custody::Assignment;
use custodian_domain::lifecycle::DisposalRecord;
use custodian_store::Result;
use uuid::Uuid;

use super::*;
use crate::db::{Arg, Row, Sql, TxConn};
use crate::rows::word;
use custodian_store::*;

const FINDING_COLS: &str = "seq, id, check_id, subject_type, subject_id, status, first_failed_at, resolved_at, message, owner_id, exception_id, changed_at";

/// Rows per multi-row statement: well under either database's limit on arguments.
const CHUNK: usize = 500;

fn finding(row: &Row) -> Result<(i64, Finding)> {
    Ok((
        row.get("seq")?,
        Finding {
            id: row.get("id")?,
            check_id: row.get("check_id")?,
            subject_type: word(row, "subject_type", SubjectType::parse)?,
            subject_id: row.get("subject_id")?,
            status: word(row, "status", FindingStatus::parse)?,
            first_failed_at: row.get("first_failed_at")?,
            resolved_at: row.get("resolved_at")?,
            message: row.get("message")?,
            owner_id: row.get("owner_id")?,
            exception_id: row.get("exception_id")?,
            changed_at: row.get("changed_at")?,
        },
    ))
}

fn finding_args(f: &Finding) -> [Arg; 11] {
    [
        f.id.into(),
        f.check_id.clone().into(),
        f.subject_type.as_str().into(),
        f.subject_id.into(),
        f.status.as_str().into(),
        f.first_failed_at.into(),
        f.resolved_at.into(),
        f.message.clone().into(),
        f.owner_id.into(),
        f.exception_id.into(),
        f.changed_at.into(),
    ]
}

fn outcome(row: &Row) -> Result<SubjectOutcome> {
    let bits = |c: &str| row.get::<i64>(c).map(|b| b as u64);
    Ok(SubjectOutcome {
        subject_type: word(row, "subject_type", SubjectType::parse)?,
        subject_id: row.get("subject_id")?,
        applicable: bits("applicable")?,
        failing: bits("failing")?,
        excepted: bits("excepted")?,
    })
}

fn tally(row: &Row) -> Result<Tally> {
    Ok(Tally {
        pass: row.get("pass")?,
        fail: row.get("fail")?,
        excepted: row.get("excepted")?,
        not_applicable: row.get("not_applicable")?,
    })
}

fn snapshot(row: &Row) -> Result<Snapshot> {
    Ok(Snapshot {
        day: row.get("day")?,
        check_id: row.get("check_id")?,
        tally: tally(row)?,
        audit_seq: row.get("audit_seq")?,
        audit_hash: row.get("audit_hash")?,
        computed_at: row.get("computed_at")?,
    })
}

/// The multi-row statements that insert `rows`: `head` up to `VALUES`, `tail` after the
/// tuples (an `ON CONFLICT` clause, or nothing); each row gives its arguments.
fn insert_many<R, const N: usize>(
    head: &str,
    tail: &str,
    rows: &[R],
    args: impl Fn(&R) -> [Arg; N],
) -> Vec<Sql> {
    rows.chunks(CHUNK)
        .map(|chunk| {
            let mut sql = Sql::new("");
            let tuples: Vec<String> = chunk.iter().map(|r| sql.list(args(r))).collect();
            sql.text = format!("{head} VALUES {}{tail}", tuples.join(", "));
            sql
        })
        .collect()
}

/// Runs `statements` in `conn`: how many rows they changed.
async fn run_all(conn: &mut TxConn, statements: Vec<Sql>) -> Result<u64> {
    let mut n = 0;
    for sql in statements {
        n += conn.execute(sql).await?;
    }
    Ok(n)
}

impl SqlStore {
    /// The next `limit + 1` findings after the cursor in `seq` order, of one check or any.
    async fn findings_in_order(
        &self,
        q: &FindingQuery,
        check: Option<&String>,
        limit: u32,
    ) -> Result<Vec<(i64, Finding)>> {
        let mut sql = Sql::new("");
        let mut conds = Vec::new();
        if let Some(c) = check {
            conds.push(format!("check_id = {}", sql.arg(c.as_str())));
        }
        if let Some(s) = q.status {
            conds.push(format!("status = {}", sql.arg(s.as_str())));
        }
        if let Some(t) = q.subject_type {
            conds.push(format!("subject_type = {}", sql.arg(t.as_str())));
        }
        if let Some(id) = q.subject_id {
            conds.push(format!("subject_id = {}", sql.arg(id)));
        }
        if let Some(o) = q.owner_id {
            conds.push(format!("owner_id = {}", sql.arg(o)));
        }
        if let Some(w) = &q.within {
            conds.push(within(&mut sql, w, &["owner_id"], "subject_id"));
        }
        let (op, order) = if q.newest_first {
            ("<", "seq DESC")
        } else {
            (">", "seq")
        };
        if let Some(c) = q.cursor {
            conds.push(format!("seq {op} {}", sql.arg(c.0)));
        }
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        sql.text = format!(
            "SELECT {FINDING_COLS} FROM compliance_findings{filter} ORDER BY {order} LIMIT {}",
            limit + 1
        );
        self.pools.fetch_rows(sql, finding).await
    }

    /// The rows of `table` about subjects `ids` of type `t`.
    async fn about<T>(
        &self,
        cols: &str,
        table: &str,
        t: SubjectType,
        ids: &[Uuid],
        map: fn(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let mut sql = Sql::new("");
            let ty = sql.arg(t.as_str());
            let list = sql.list(chunk.iter().copied());
            sql.text = format!(
                "SELECT {cols} FROM {table} WHERE subject_type = {ty} AND subject_id IN {list}"
            );
            out.extend(self.pools.fetch_rows(sql, &map).await?);
        }
        Ok(out)
    }

    /// The rows of `table` whose `col` is one of `ids`.
    async fn of_assets<T>(
        &self,
        select: &str,
        col: &str,
        ids: &[Uuid],
        map: impl Fn(&Row) -> Result<T> + Copy,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut sql = Sql::new("");
            let list = sql.list(chunk.iter().copied());
            sql.text = format!("{select} AND {col} IN {list}");
            out.extend(self.pools.fetch_rows(sql, map).await?);
        }
        Ok(out)
    }
}

#[async_trait]
impl ComplianceStore for SqlStore {
    async fn compliance_state(&self) -> Result<Option<ComplianceState>> {
        let sql = Sql::new("SELECT follow_seq, full_day, layout, computed_at, audit_seq, audit_hash FROM compliance_state WHERE id = 1");
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| {
                Ok(ComplianceState {
                    follow_seq: r.get("follow_seq")?,
                    full_day: r.get("full_day")?,
                    layout: r.get("layout")?,
                    computed_at: r.get("computed_at")?,
                    audit_seq: r.get("audit_seq")?,
                    audit_hash: r.get("audit_hash")?,
                })
            })
            .transpose()
    }

    async fn outcomes_of(&self, t: SubjectType, ids: &[Uuid]) -> Result<Vec<SubjectOutcome>> {
        self.about(
            "subject_type, subject_id, applicable, failing, excepted",
            "compliance_outcomes",
            t,
            ids,
            outcome,
        )
        .await
    }

    async fn findings_of(&self, t: SubjectType, ids: &[Uuid]) -> Result<Vec<Finding>> {
        self.about(FINDING_COLS, "compliance_findings", t, ids, |r| {
            finding(r).map(|(_, f)| f)
        })
        .await
    }

    async fn list_findings(&self, q: &FindingQuery) -> Result<Page<Finding>> {
        let limit = clamp(q.limit);
        let rows = match q.check_ids.as_deref() {
            None => self.findings_in_order(q, None, limit).await?,
            Some([]) => vec![],
            Some([one]) => self.findings_in_order(q, Some(one), limit).await?,
            // Several checks (a control's, a framework's): one walk per check along its
            // own index, merged by `seq`, rather than one query that sorts them all.
            Some(many) => {
                let mut rows = Vec::new();
                for c in many {
                    rows.extend(self.findings_in_order(q, Some(c), limit).await?);
                }
                if q.newest_first {
                    rows.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
                } else {
                    rows.sort_by_key(|(seq, _)| *seq);
                }
                rows.truncate(limit as usize + 1);
                rows
            }
        };
        Ok(page(rows, limit))
    }

    async fn findings_at(
        &self,
        at: DateTime<Utc>,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<Page<Finding>> {
        let limit = clamp(limit);
        // Each finding's last change by then; one row a finding, whatever shares a time.
        let last = |col: &str| {
            format!("(SELECT x.{col} FROM compliance_finding_events x WHERE x.finding_id = f.id AND x.at <= $2 ORDER BY x.at DESC LIMIT 1)")
        };
        let sql = Sql::new(format!(
            "SELECT seq, id, check_id, subject_type, subject_id, status, first_failed_at, resolved_at, message, owner_id, exception_id, changed_at FROM \
             (SELECT f.seq, f.id, f.check_id, f.subject_type, f.subject_id, {} AS status, f.first_failed_at, \
              f.resolved_at, {} AS message, f.owner_id, f.exception_id, {} AS changed_at \
              FROM compliance_findings f WHERE f.seq > $1 AND f.first_failed_at <= $2) AS t \
             WHERE status IS NOT NULL ORDER BY seq LIMIT {}",
            last("status"),
            last("message"),
            last("at"),
            limit + 1
        ))
        .bind(cursor.map_or(0, |c| c.0))
        .bind(at);
        let rows = self.pools.fetch_rows(sql, finding).await?;
        Ok(page(rows, limit))
    }

    async fn finding(&self, id: Uuid) -> Result<Option<Finding>> {
        let sql = Sql::new(format!(
            "SELECT {FINDING_COLS} FROM compliance_findings WHERE id = $1"
        ))
        .bind(id);
        self.pools
            .fetch_optional(sql)
            .await?
            .map(|r| finding(&r).map(|(_, f)| f))
            .transpose()
    }

    async fn finding_history(&self, id: Uuid) -> Result<Vec<FindingEvent>> {
        let sql = Sql::new(
            "SELECT finding_id, at, status, message FROM compliance_finding_events WHERE finding_id = $1 ORDER BY at",
        )
        .bind(id);
        self.pools
            .fetch_rows(sql, |r| {
                Ok(FindingEvent {
                    finding_id: r.get("finding_id")?,
                    at: r.get("at")?,
                    status: word(r, "status", FindingStatus::parse)?,
                    message: r.get("message")?,
                })
            })
            .await
    }

    async fn tallies(&self) -> Result<Vec<(String, Tally)>> {
        let sql = Sql::new(
            "SELECT check_id, pass, fail, excepted, not_applicable FROM compliance_tallies ORDER BY check_id",
        );
        self.pools
            .fetch_rows(sql, |r| Ok((r.get("check_id")?, tally(r)?)))
            .await
    }

    async fn record_evaluation(&self, b: EvaluationBatch) -> Result<()> {
        if b.is_empty() {
            return Ok(());
        }
        let mut conn = self.pools.begin().await?;
        if b.reset {
            conn.execute(Sql::new("DELETE FROM compliance_outcomes"))
                .await?;
            conn.execute(Sql::new("DELETE FROM compliance_tallies"))
                .await?;
        }
        let statements = insert_many(
            "INSERT INTO compliance_outcomes (subject_type, subject_id, applicable, failing, excepted)",
            " ON CONFLICT (subject_type, subject_id) DO UPDATE SET applicable = excluded.applicable, failing = excluded.failing, excepted = excluded.excepted",
            &b.outcomes,
            |o| {
                [
                    o.subject_type.as_str().into(),
                    o.subject_id.into(),
                    (o.applicable as i64).into(),
                    (o.failing as i64).into(),
                    (o.excepted as i64).into(),
                ]
            },
        );
        run_all(&mut conn, statements).await?;
        let statements = insert_many(
            "INSERT INTO compliance_findings (id, check_id, subject_type, subject_id, status, first_failed_at, resolved_at, message, owner_id, exception_id, changed_at)",
            "",
            &b.new_findings,
            finding_args,
        );
        run_all(&mut conn, statements).await?;
        for f in &b.changed_findings {
            let mut sql = Sql::new("");
            let a = finding_args(f);
            let [id, _, _, _, status, _, resolved, message, owner, exception, changed] = a;
            sql.text = format!(
                "UPDATE compliance_findings SET status = {}, resolved_at = {}, message = {}, owner_id = {}, exception_id = {}, changed_at = {} WHERE id = {}",
                sql.arg(status),
                sql.arg(resolved),
                sql.arg(message),
                sql.arg(owner),
                sql.arg(exception),
                sql.arg(changed),
                sql.arg(id)
            );
            conn.execute(sql).await?;
        }
        let statements = insert_many(
            "INSERT INTO compliance_finding_events (finding_id, at, status, message)",
            "",
            &b.events,
            |e| {
                [
                    e.finding_id.into(),
                    e.at.into(),
                    e.status.as_str().into(),
                    e.message.clone().into(),
                ]
            },
        );
        run_all(&mut conn, statements).await?;
        let statements = insert_many(
            "INSERT INTO compliance_tallies (check_id, pass, fail, excepted, not_applicable)",
            " ON CONFLICT (check_id) DO UPDATE SET pass = compliance_tallies.pass + excluded.pass, fail = compliance_tallies.fail + excluded.fail, excepted = compliance_tallies.excepted + excluded.excepted, not_applicable = compliance_tallies.not_applicable + excluded.not_applicable",
            &b.tallies,
            |(c, t)| {
                [
                    c.clone().into(),
                    t.pass.into(),
                    t.fail.into(),
                    t.excepted.into(),
                    t.not_applicable.into(),
                ]
            },
        );
        run_all(&mut conn, statements).await?;
        if let Some(s) = &b.state {
            let sql = Sql::new(
                "INSERT INTO compliance_state (id, follow_seq, full_day, layout, computed_at, audit_seq, audit_hash) VALUES (1, $1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (id) DO UPDATE SET follow_seq = excluded.follow_seq, full_day = excluded.full_day, layout = excluded.layout, computed_at = excluded.computed_at, audit_seq = excluded.audit_seq, audit_hash = excluded.audit_hash",
            )
            .bind(s.follow_seq)
            .bind(s.full_day)
            .bind(s.layout.clone())
            .bind(s.computed_at)
            .bind(s.audit_seq)
            .bind(s.audit_hash.clone());
            conn.execute(sql).await?;
        }
        conn.commit().await
    }

    async fn keep_snapshots(&self, snapshots: &[Snapshot]) -> Result<u64> {
        let mut conn = self.pools.begin().await?;
        let statements = insert_many(
            "INSERT INTO compliance_snapshots (check_id, day, pass, fail, excepted, not_applicable, audit_seq, audit_hash, computed_at)",
            " ON CONFLICT (check_id, day) DO NOTHING",
            snapshots,
            |s| {
                [
                    s.check_id.clone().into(),
                    s.day.into(),
                    s.tally.pass.into(),
                    s.tally.fail.into(),
                    s.tally.excepted.into(),
                    s.tally.not_applicable.into(),
                    s.audit_seq.into(),
                    s.audit_hash.clone().into(),
                    s.computed_at.into(),
                ]
            },
        );
        let n = run_all(&mut conn, statements).await?;
        conn.commit().await?;
        Ok(n)
    }

    async fn snapshots(
        &self,
        check_ids: Option<&[String]>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Snapshot>> {
        let mut sql = Sql::new("");
        let (f, t) = (sql.arg(from), sql.arg(to));
        let mut text = format!(
            "SELECT check_id, day, pass, fail, excepted, not_applicable, audit_seq, audit_hash, computed_at FROM compliance_snapshots WHERE day >= {f} AND day <= {t}"
        );
        if let Some(ids) = check_ids {
            if ids.is_empty() {
                return Ok(vec![]);
            }
            let list = sql.list(ids.iter().map(String::as_str));
            text.push_str(&format!(" AND check_id IN {list}"));
        }
        text.push_str(" ORDER BY day, check_id");
        sql.text = text;
        self.pools.fetch_rows(sql, snapshot).await
    }

    async fn open_assignments_of(&self, asset_ids: &[Uuid]) -> Result<Vec<Assignment>> {
        let select = format!(
            "SELECT {} FROM assignments WHERE returned_at IS NULL",
            rows::ASSIGNMENT_COLS
        );
        self.of_assets(&select, "asset_id", asset_ids, |r| {
            rows::assignment(r).map(|(_, a)| a)
        })
        .await
    }

    async fn disposals_of(&self, asset_ids: &[Uuid]) -> Result<Vec<DisposalRecord>> {
        let select = "SELECT asset_id, method, performed_by, performed_at, certificate_ref, verified_by, notes FROM disposals WHERE 1 = 1";
        self.of_assets(select, "asset_id", asset_ids, rows::disposal)
            .await
    }

    async fn holders(&self) -> Result<Vec<(Uuid, i64)>> {
        let sql = Sql::new(
            "SELECT person_id, COUNT(*) AS n FROM assignments WHERE returned_at IS NULL AND person_id IS NOT NULL GROUP BY person_id",
        );
        self.pools
            .fetch_rows(sql, |r| Ok((r.get("person_id")?, r.get("n")?)))
            .await
    }

    async fn acknowledged_by(&self, policy_ids: &[Uuid], persons: &[Uuid]) -> Result<Vec<Uuid>> {
        if policy_ids.is_empty() {
            return Ok(vec![]);
        }
        let mut out = Vec::new();
        for chunk in persons.chunks(CHUNK) {
            let mut sql = Sql::new("");
            let policies = sql.list(policy_ids.iter().copied());
            let people = sql.list(chunk.iter().copied());
            sql.text = format!("SELECT DISTINCT person_id FROM acknowledgements WHERE policy_id IN {policies} AND person_id IN {people}");
            out.extend(
                self.pools
                    .fetch_rows(sql, |r| r.get::<Uuid>("person_id"))
                    .await?,
            );
        }
        Ok(out)
    }
}
