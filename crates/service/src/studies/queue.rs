//! The study queue: studies and their cases in the database, claimed by workers under
//! leases.
//!
//! A worker claims the oldest claimable case (queued, or running under a lease that has run
//! out) in one statement — `UPDATE … WHERE (study, idx) = (SELECT … FOR UPDATE SKIP LOCKED)`
//! on PostgreSQL, so two workers never claim the same case — and extends its lease with a
//! heartbeat. A result is written only by the worker that holds the case's lease (`UPDATE …
//! WHERE state = 'running' AND worker = $me`): a worker that lost its lease (it stalled and
//! another took the case) writes nothing, so each case's result is written once. A worker
//! that dies loses only its lease; the case runs again elsewhere.
//!
//! Why not a job-queue crate: the maintained ones on PostgreSQL (apalis-postgres, sqlxmq,
//! graphile_worker) bring sqlx and tables of their own, run only on PostgreSQL (the embedded
//! SQLite default would need a second queue), and do not give per-case cancellation that
//! interrupts HiGHS or a result written once under a lease; the queue is these few
//! statements over `FOR UPDATE SKIP LOCKED`.

use super::db::{Backend, Statement, Value};
use crate::store::NetworkSource;
use gridtrade_engine::error::Error;
use gridtrade_studies::batch::Batch;
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS studies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    network TEXT NOT NULL,
    version BIGINT NOT NULL,
    -- the resolved study (every case's scenario), JSON
    batch TEXT NOT NULL,
    -- how a worker makes the network version: shipped or uploaded files, and edits (JSON)
    source TEXT NOT NULL,
    cases BIGINT NOT NULL,
    cancelled BOOLEAN NOT NULL DEFAULT FALSE,
    created_ms BIGINT NOT NULL,
    finished_ms BIGINT
);
CREATE TABLE IF NOT EXISTS cases (
    study TEXT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    -- queued, running (under a lease), done, cancelled
    state TEXT NOT NULL,
    -- when done: optimal, not solved, failed or cancelled
    status TEXT,
    worker TEXT,
    lease_until_ms BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    seconds DOUBLE PRECISION,
    -- the case's line of the table and its full trade report, JSON
    row_json TEXT,
    result_json TEXT,
    PRIMARY KEY (study, idx)
);
CREATE INDEX IF NOT EXISTS cases_by_state ON cases (state, lease_until_ms);
";

/// Leases a case may lose (its worker gone) before it is failed instead of tried again.
pub const MAX_ATTEMPTS: u32 = 3;

/// A case a worker holds the lease of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claimed {
    pub study: String,
    pub case: usize,
    /// Leases taken on it, this one included.
    pub attempts: u32,
}

/// What a heartbeat found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lease {
    /// Still held (extended); whether the study was cancelled.
    Held { cancelled: bool },
    /// Lost: the lease ran out and another worker took the case, or the study was deleted.
    Lost,
}

/// Where a study stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub id: String,
    pub name: String,
    pub network: String,
    pub version: u64,
    pub cases: u32,
    pub queued: u32,
    pub running: u32,
    pub optimal: u32,
    pub not_solved: u32,
    pub failed: u32,
    pub cancelled: u32,
    pub retried: u32,
    pub solve_seconds: f64,
    pub cancel_requested: bool,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
}

impl Progress {
    /// No case waits or runs.
    pub fn done(&self) -> bool {
        self.queued == 0 && self.running == 0
    }
}

/// A finished case as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCase {
    pub case: usize,
    pub row_json: String,
    pub result_json: Option<String>,
    pub worker: String,
    pub attempts: u32,
}

/// The queue over a database.
#[derive(Clone)]
pub struct Queue {
    db: Backend,
}

fn ms(d: Duration) -> Value {
    Value::Int(d.as_millis().min(i64::MAX as u128) as i64)
}

impl Queue {
    /// The queue in `db`, its tables made if missing.
    pub async fn open(db: Backend) -> Result<Queue, Error> {
        db.batch(SCHEMA).await?;
        Ok(Queue { db })
    }

    pub fn kind(&self) -> &'static str {
        self.db.kind()
    }

    /// Store a study (with how its network version is made) and queue its cases, in one
    /// transaction.
    pub async fn submit(
        &self,
        id: &str,
        batch: &Batch,
        version: u64,
        source: &NetworkSource,
    ) -> Result<(), Error> {
        let json = serde_json::to_string(batch).expect("a batch serialises");
        let source = serde_json::to_string(source).expect("a source serialises");
        let mut statements: Vec<Statement> = vec![(
            "INSERT INTO studies (id, name, network, version, batch, source, cases, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, {now})"
                .into(),
            vec![
                id.into(),
                batch.name.clone().into(),
                batch.network.clone().into(),
                (version as i64).into(),
                json.into(),
                source.into(),
                (batch.cases.len() as i64).into(),
            ],
        )];
        statements.extend(batch.cases.iter().map(|c| {
            (
                "INSERT INTO cases (study, idx, state) VALUES ($1, $2, 'queued')".to_string(),
                vec![id.into(), (c.index as i64).into()],
            )
        }));
        self.db.transaction(statements).await
    }

    /// Claim the oldest claimable case for `worker`, under a lease of `lease`. Cases of
    /// cancelled studies whose worker is gone are closed first, and cases that lost their
    /// worker [`MAX_ATTEMPTS`] times are failed.
    pub async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<Claimed>, Error> {
        self.close_abandoned().await?;
        self.give_up().await?;
        let rows = self
            .db
            .query(
                "UPDATE cases SET state = 'running', worker = $1, \
                     lease_until_ms = {now} + $2, attempts = attempts + 1 \
                 WHERE (study, idx) = ( \
                     SELECT c.study, c.idx FROM cases c JOIN studies s ON s.id = c.study \
                     WHERE NOT s.cancelled AND (c.state = 'queued' \
                         OR (c.state = 'running' AND c.lease_until_ms < {now} \
                             AND c.attempts < $3)) \
                     ORDER BY s.created_ms, s.id, c.idx LIMIT 1 {skip_locked}) \
                 RETURNING study, idx, attempts",
                vec![worker.into(), ms(lease), (MAX_ATTEMPTS as i64).into()],
            )
            .await?;
        Ok(rows.first().map(|r| Claimed {
            study: r[0].text().unwrap_or_default().to_string(),
            case: r[1].int().unwrap_or(0) as usize,
            attempts: r[2].int().unwrap_or(1) as u32,
        }))
    }

    /// Cases whose lease ran out [`MAX_ATTEMPTS`] times (each worker that took them died,
    /// e.g. killed for memory): failed, with a row that says so, so that one such case does
    /// not kill worker after worker.
    async fn give_up(&self) -> Result<(), Error> {
        let rows = self
            .db
            .query(
                "SELECT study, idx FROM cases \
                 WHERE state = 'running' AND lease_until_ms < {now} AND attempts >= $1",
                vec![(MAX_ATTEMPTS as i64).into()],
            )
            .await?;
        for r in rows {
            let (Some(study), Some(idx)) = (r[0].text(), r[1].int()) else {
                continue;
            };
            let label = match self.batch(study).await? {
                Some((b, _)) => b
                    .cases
                    .get(idx as usize)
                    .map_or(String::new(), |c| c.label.clone()),
                None => continue,
            };
            let case = gridtrade_studies::batch::Case {
                index: idx as usize,
                label,
                scenario: Default::default(),
            };
            let message = format!(
                "{MAX_ATTEMPTS} workers took this case and were lost before it finished \
                 (killed, out of memory?): not tried again"
            );
            let row = gridtrade_studies::batch::CaseRow::failed(&case, message, 0.0);
            let written = self
                .db
                .query(
                    "UPDATE cases SET state = 'done', status = 'failed', row_json = $3, \
                         lease_until_ms = NULL \
                     WHERE study = $1 AND idx = $2 AND state = 'running' \
                         AND lease_until_ms < {now} RETURNING idx",
                    vec![
                        study.into(),
                        idx.into(),
                        serde_json::to_string(&row).expect("rows serialise").into(),
                    ],
                )
                .await?;
            if !written.is_empty() {
                tracing::warn!(
                    study,
                    case = idx,
                    "case given up after {MAX_ATTEMPTS} lost leases"
                );
                self.finish_study(study).await?;
            }
        }
        Ok(())
    }

    /// Cases of cancelled studies left running by a worker that is gone (lease out): closed
    /// as cancelled, and their studies finished.
    async fn close_abandoned(&self) -> Result<(), Error> {
        let rows = self
            .db
            .query(
                "UPDATE cases SET state = 'done', status = 'cancelled', lease_until_ms = NULL \
                 WHERE state = 'running' AND lease_until_ms < {now} \
                     AND study IN (SELECT id FROM studies WHERE cancelled) \
                 RETURNING study",
                vec![],
            )
            .await?;
        for r in rows {
            if let Some(id) = r[0].text() {
                self.finish_study(id).await?;
            }
        }
        Ok(())
    }

    /// Extend `worker`'s lease on a case.
    pub async fn heartbeat(
        &self,
        c: &Claimed,
        worker: &str,
        lease: Duration,
    ) -> Result<Lease, Error> {
        let rows = self
            .db
            .query(
                "UPDATE cases SET lease_until_ms = {now} + $4 \
                 WHERE study = $1 AND idx = $2 AND state = 'running' AND worker = $3 \
                 RETURNING (SELECT cancelled FROM studies WHERE id = $1)",
                vec![
                    c.study.as_str().into(),
                    (c.case as i64).into(),
                    worker.into(),
                    ms(lease),
                ],
            )
            .await?;
        Ok(match rows.first() {
            Some(r) => Lease::Held {
                cancelled: r[0].bool(),
            },
            None => Lease::Lost,
        })
    }

    /// Write a finished case's result (`status`: optimal, not solved, failed, cancelled) if
    /// `worker` still holds its lease; false when it does not (nothing is written).
    pub async fn finish(
        &self,
        c: &Claimed,
        worker: &str,
        status: &str,
        seconds: f64,
        row_json: String,
        result_json: Option<String>,
    ) -> Result<bool, Error> {
        let result = match result_json {
            Some(r) => Value::Text(r),
            None => Value::Text(String::new()),
        };
        let rows = self
            .db
            .query(
                "UPDATE cases SET state = 'done', status = $4, seconds = $5, row_json = $6, \
                     result_json = NULLIF($7, ''), lease_until_ms = NULL \
                 WHERE study = $1 AND idx = $2 AND state = 'running' AND worker = $3 \
                 RETURNING idx",
                vec![
                    c.study.as_str().into(),
                    (c.case as i64).into(),
                    worker.into(),
                    status.into(),
                    seconds.into(),
                    row_json.into(),
                    result,
                ],
            )
            .await?;
        if rows.is_empty() {
            return Ok(false);
        }
        self.finish_study(&c.study).await?;
        Ok(true)
    }

    /// Give a case back (the worker is shutting down): queued again, the lease attempt not
    /// counted.
    pub async fn release(&self, c: &Claimed, worker: &str) -> Result<(), Error> {
        self.db
            .query(
                "UPDATE cases SET state = 'queued', worker = NULL, lease_until_ms = NULL, \
                     attempts = attempts - 1 \
                 WHERE study = $1 AND idx = $2 AND state = 'running' AND worker = $3",
                vec![
                    c.study.as_str().into(),
                    (c.case as i64).into(),
                    worker.into(),
                ],
            )
            .await?;
        Ok(())
    }

    /// Stamp the study finished once no case waits or runs.
    async fn finish_study(&self, id: &str) -> Result<(), Error> {
        self.db
            .query(
                "UPDATE studies SET finished_ms = {now} \
                 WHERE id = $1 AND finished_ms IS NULL AND NOT EXISTS ( \
                     SELECT 1 FROM cases WHERE study = $1 AND state IN ('queued', 'running'))",
                vec![id.into()],
            )
            .await?;
        Ok(())
    }

    /// A study's resolved batch and how its network version is made.
    pub async fn batch(&self, id: &str) -> Result<Option<(Batch, NetworkSource)>, Error> {
        let rows = self
            .db
            .query(
                "SELECT batch, source FROM studies WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let stored = |what: &str, e: serde_json::Error| {
            Error::Format(format!("study {id}: stored {what}: {e}"))
        };
        let batch: Batch = serde_json::from_str(r[0].text().unwrap_or_default())
            .map_err(|e| stored("batch", e))?;
        let source: NetworkSource = serde_json::from_str(r[1].text().unwrap_or_default())
            .map_err(|e| stored("network source", e))?;
        Ok(Some((batch, source)))
    }

    /// Where a study stands; none when there is no such study.
    pub async fn progress(&self, id: &str) -> Result<Option<Progress>, Error> {
        let rows = self
            .db
            .query(
                "SELECT id, name, network, version, cases, cancelled, created_ms, finished_ms \
                 FROM studies WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let mut p = progress_of(r);
        self.count(&mut p).await?;
        Ok(Some(p))
    }

    /// Fill the case counts of `p`.
    async fn count(&self, p: &mut Progress) -> Result<(), Error> {
        let rows = self
            .db
            .query(
                "SELECT state, COALESCE(status, ''), COUNT(*), COALESCE(SUM(seconds), 0.0), \
                     CAST(SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) AS BIGINT) \
                 FROM cases WHERE study = $1 GROUP BY state, status",
                vec![p.id.as_str().into()],
            )
            .await?;
        for r in rows {
            let n = r[2].int().unwrap_or(0) as u32;
            let slot = match (r[0].text().unwrap_or(""), r[1].text().unwrap_or("")) {
                ("queued", _) => &mut p.queued,
                ("running", _) => &mut p.running,
                (_, "optimal") => &mut p.optimal,
                (_, "not solved") => &mut p.not_solved,
                (_, "failed") => &mut p.failed,
                _ => &mut p.cancelled,
            };
            *slot += n;
            p.solve_seconds += r[3].real().unwrap_or(0.0);
            p.retried += r[4].int().unwrap_or(0) as u32;
        }
        Ok(())
    }

    /// Studies by submission, `limit` after the `offset` first.
    pub async fn list(&self, offset: u64, limit: u64) -> Result<Vec<Progress>, Error> {
        let rows = self
            .db
            .query(
                "SELECT id, name, network, version, cases, cancelled, created_ms, finished_ms \
                 FROM studies ORDER BY created_ms, id LIMIT $1 OFFSET $2",
                vec![(limit as i64).into(), (offset as i64).into()],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut p = progress_of(r);
            self.count(&mut p).await?;
            out.push(p);
        }
        Ok(out)
    }

    /// Ask a study to stop: its queued cases are cancelled now, running ones when their
    /// worker's next heartbeat sees it. False when there is no such study.
    pub async fn cancel(&self, id: &str) -> Result<bool, Error> {
        let rows = self
            .db
            .query(
                "UPDATE studies SET cancelled = TRUE WHERE id = $1 RETURNING id",
                vec![id.into()],
            )
            .await?;
        if rows.is_empty() {
            return Ok(false);
        }
        self.db
            .query(
                "UPDATE cases SET state = 'done', status = 'cancelled' \
                 WHERE study = $1 AND state = 'queued'",
                vec![id.into()],
            )
            .await?;
        self.finish_study(id).await?;
        Ok(true)
    }

    /// Delete a study and its results (a running case's worker loses its lease). False when
    /// there is no such study.
    pub async fn delete(&self, id: &str) -> Result<bool, Error> {
        self.db
            .query("DELETE FROM cases WHERE study = $1", vec![id.into()])
            .await?;
        let rows = self
            .db
            .query(
                "DELETE FROM studies WHERE id = $1 RETURNING id",
                vec![id.into()],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// Finished cases of a study with a row (solved or not), in case order from `offset`.
    pub async fn rows(&self, id: &str, offset: u64, limit: u64) -> Result<Vec<StoredCase>, Error> {
        let rows = self
            .db
            .query(
                "SELECT idx, row_json, '', COALESCE(worker, ''), attempts FROM cases \
                 WHERE study = $1 AND state = 'done' AND row_json IS NOT NULL \
                 ORDER BY idx LIMIT $2 OFFSET $3",
                vec![id.into(), (limit as i64).into(), (offset as i64).into()],
            )
            .await?;
        Ok(rows.iter().map(|r| stored(r)).collect())
    }

    /// One finished case with its full result.
    pub async fn case(&self, id: &str, case: usize) -> Result<Option<StoredCase>, Error> {
        let rows = self
            .db
            .query(
                "SELECT idx, row_json, COALESCE(result_json, ''), COALESCE(worker, ''), \
                     attempts FROM cases \
                 WHERE study = $1 AND idx = $2 AND state = 'done' AND row_json IS NOT NULL",
                vec![id.into(), (case as i64).into()],
            )
            .await?;
        Ok(rows.first().map(|r| stored(r)))
    }
}

fn stored(r: &[Value]) -> StoredCase {
    StoredCase {
        case: r[0].int().unwrap_or(0) as usize,
        row_json: r[1].text().unwrap_or_default().to_string(),
        result_json: r[2].text().filter(|s| !s.is_empty()).map(str::to_string),
        worker: r[3].text().unwrap_or_default().to_string(),
        attempts: r[4].int().unwrap_or(0) as u32,
    }
}

fn progress_of(r: &[Value]) -> Progress {
    Progress {
        id: r[0].text().unwrap_or_default().to_string(),
        name: r[1].text().unwrap_or_default().to_string(),
        network: r[2].text().unwrap_or_default().to_string(),
        version: r[3].int().unwrap_or(0) as u64,
        cases: r[4].int().unwrap_or(0) as u32,
        cancel_requested: r[5].bool(),
        created_ms: r[6].int().unwrap_or(0),
        finished_ms: r[7].int(),
        ..Progress::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Root;
    use gridtrade_studies::batch::{Case, CaseRow};

    async fn queue_with(cases: usize) -> (Queue, Batch) {
        let q = Queue::open(Backend::open("sqlite::memory:").await.unwrap())
            .await
            .unwrap();
        let prices: Vec<String> = (0..cases).map(|i| format!("{i}.0")).collect();
        let text = format!(
            "network = \"n\"\n[grid]\nco2_price = [{}]",
            prices.join(", ")
        );
        let batch = Batch::parse(&text, "t", &|_| unreachable!()).unwrap();
        let source = NetworkSource {
            root: Root::Shipped { version: 1 },
            edits: Vec::new(),
        };
        q.submit("ab12", &batch, 1, &source).await.unwrap();
        (q, batch)
    }

    fn row(case: usize) -> String {
        let c = Case {
            index: case,
            label: String::new(),
            scenario: Default::default(),
        };
        serde_json::to_string(&CaseRow::failed(&c, "test".into(), 0.0)).unwrap()
    }

    const GONE: Duration = Duration::from_millis(1);
    const HELD: Duration = Duration::from_secs(60);

    async fn expire() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    #[tokio::test]
    async fn a_lost_lease_is_claimed_again_and_only_its_holder_writes() {
        let (q, _) = queue_with(3).await;
        let first = q.claim("w1", GONE).await.unwrap().unwrap();
        assert_eq!((first.case, first.attempts), (0, 1));
        expire().await;
        // Case 0's lease ran out: it comes before the queued cases 1 and 2.
        let again = q.claim("w2", HELD).await.unwrap().unwrap();
        assert_eq!((again.case, again.attempts), (0, 2));
        assert_eq!(q.heartbeat(&first, "w1", HELD).await.unwrap(), Lease::Lost);
        let late = q.finish(&first, "w1", "optimal", 1.0, row(0), None);
        assert!(!late.await.unwrap(), "the lost lease writes nothing");
        let held = q.finish(&again, "w2", "optimal", 2.0, row(0), None);
        assert!(held.await.unwrap());
        let again_twice = q.finish(&again, "w2", "optimal", 2.0, row(0), None);
        assert!(!again_twice.await.unwrap(), "a result is written once");
        let p = q.progress("ab12").await.unwrap().unwrap();
        assert_eq!(
            (p.optimal, p.queued, p.retried, p.solve_seconds),
            (1, 2, 1, 2.0)
        );
        let next = q.claim("w1", HELD).await.unwrap().unwrap();
        assert_eq!(next.case, 1);
    }

    #[tokio::test]
    async fn a_case_whose_workers_keep_dying_is_failed_after_max_attempts() {
        let (q, _) = queue_with(1).await;
        for attempt in 1..=MAX_ATTEMPTS {
            let c = q
                .claim(&format!("w{attempt}"), GONE)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(c.attempts, attempt);
            expire().await;
        }
        assert_eq!(q.claim("w9", HELD).await.unwrap(), None);
        let p = q.progress("ab12").await.unwrap().unwrap();
        assert!(
            p.done() && p.failed == 1 && p.finished_ms.is_some(),
            "{p:?}"
        );
        let rows = q.rows("ab12", 0, 10).await.unwrap();
        assert!(
            rows[0].row_json.contains("3 workers took this case"),
            "{rows:?}"
        );
    }

    #[tokio::test]
    async fn cancelling_closes_queued_cases_and_the_running_one_hears_it() {
        let (q, _) = queue_with(3).await;
        let running = q.claim("w1", HELD).await.unwrap().unwrap();
        assert!(q.cancel("ab12").await.unwrap());
        assert_eq!(
            q.heartbeat(&running, "w1", HELD).await.unwrap(),
            Lease::Held { cancelled: true }
        );
        assert_eq!(
            q.claim("w2", HELD).await.unwrap(),
            None,
            "nothing new starts"
        );
        let p = q.progress("ab12").await.unwrap().unwrap();
        assert_eq!((p.cancelled, p.running, p.done()), (2, 1, false));
        let done = q.finish(&running, "w1", "cancelled", 0.5, row(0), None);
        assert!(done.await.unwrap());
        let p = q.progress("ab12").await.unwrap().unwrap();
        assert_eq!((p.cancelled, p.running, p.done()), (3, 0, true));
        assert!(q.delete("ab12").await.unwrap());
        assert_eq!(q.progress("ab12").await.unwrap(), None);
    }
}
