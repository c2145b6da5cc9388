//! Solver workers: claim a case, solve it on a blocking thread while a heartbeat extends
//! the lease (and cancels HiGHS when the study is cancelled or the lease was lost), write
//! the result if the lease is still held.

use super::queue::{Claimed, Lease, Queue};
use super::Studies;
use crate::store::Store;
use gridtrade_engine::network::Network;
use gridtrade_engine::solver::Control;
use gridtrade_studies::batch::{self, Batch, CaseRow};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The base network and batch of the study a worker last worked on (cases of one study
/// come one after another; cutting the snapshots once per study saves a copy per case).
type Cached = Option<(String, Arc<Batch>, Arc<Network>)>;

/// One worker: claims and solves one case at a time until `stop` is cancelled.
pub struct Worker {
    pub id: String,
    studies: Arc<Studies>,
    store: Arc<Store>,
    /// Stops claiming new cases (a shutdown began).
    quit: Control,
    /// Cancels the running solve (the shutdown's grace period is over): its case is
    /// released to the queue.
    stop: Control,
    cached: Mutex<Cached>,
}

/// A name for a worker, unique across machines: host, process and number.
pub fn worker_id(n: usize) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    format!("{host}-{}-{n}", std::process::id())
}

impl Worker {
    pub fn new(
        id: String,
        studies: Arc<Studies>,
        store: Arc<Store>,
        quit: Control,
        stop: Control,
    ) -> Worker {
        Worker {
            id,
            studies,
            store,
            quit,
            stop,
            cached: Mutex::new(None),
        }
    }

    fn queue(&self) -> &Queue {
        &self.studies.queue
    }

    /// Claim and solve cases until told to quit; wait for work (a submission on this replica, or
    /// the poll interval) when there is none.
    pub async fn run(self) {
        tracing::info!(worker = %self.id, "worker started");
        while !self.quit.is_cancelled() && !self.stop.is_cancelled() {
            match self.queue().claim(&self.id, self.studies.lease).await {
                Ok(Some(c)) => self.work(c).await,
                Ok(None) => {
                    let _ =
                        tokio::time::timeout(self.studies.poll, self.studies.submitted.notified())
                            .await;
                }
                Err(e) => {
                    tracing::warn!(worker = %self.id, "claiming a case: {e}");
                    tokio::time::sleep(self.studies.poll).await;
                }
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }

    /// Solve a claimed case under its lease and record the result.
    async fn work(&self, c: Claimed) {
        let clock = Instant::now();
        let (batch, base) = match self.base(&c.study).await {
            Ok(b) => b,
            Err(NoBase::Database(message)) => {
                // Not the case's fault: give it back and wait before trying again.
                tracing::warn!(worker = %self.id, study = %c.study, "{message}");
                let _ = self.queue().release(&c, &self.id).await;
                tokio::time::sleep(self.studies.poll).await;
                return;
            }
            Err(NoBase::Network(message)) => {
                let row = failed_row(&c, message);
                self.record(&c, &row, None).await;
                return;
            }
        };
        let control = self.stop.child();
        let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let heartbeat = tokio::spawn(heartbeat(
            self.queue().clone(),
            c.clone(),
            self.id.clone(),
            self.studies.lease,
            control.clone(),
            lost.clone(),
        ));
        let (b, n, ctl, index) = (batch.clone(), base.clone(), control.clone(), c.case);
        let solved = tokio::task::spawn_blocking(move || match b.cases.get(index) {
            Some(case) => batch::solve_one(&n, &b, case, &ctl),
            None => (
                failed_row(
                    &Claimed {
                        case: index,
                        ..Default::default()
                    },
                    "no such case".into(),
                ),
                None,
            ),
        })
        .await;
        heartbeat.abort();
        let (row, out) = match solved {
            Ok(r) => r,
            Err(e) => (failed_row(&c, format!("the solve panicked: {e}")), None),
        };
        if lost.load(std::sync::atomic::Ordering::SeqCst) {
            tracing::warn!(worker = %self.id, study = %c.study, case = c.case, "lease lost: result dropped");
            return;
        }
        if row.status == "cancelled" && self.stop.is_cancelled() {
            // This worker is stopping, not the study: the case goes back to the queue.
            if let Err(e) = self.queue().release(&c, &self.id).await {
                tracing::warn!("releasing study {} case {}: {e}", c.study, c.case);
            }
            return;
        }
        let json = out.map(|o| serde_json::to_string(&o).expect("reports serialise"));
        self.record(&c, &row, json).await;
        tracing::info!(worker = %self.id, study = %c.study, case = c.case, status = %row.status,
            seconds = clock.elapsed().as_secs_f64(), "case finished");
    }

    async fn record(&self, c: &Claimed, row: &CaseRow, result: Option<String>) {
        let row_json = serde_json::to_string(row).expect("rows serialise");
        match self
            .queue()
            .finish(c, &self.id, &row.status, row.seconds, row_json, result)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(worker = %self.id, study = %c.study, case = c.case, "lease lost before the result was written: dropped")
            }
            Err(e) => tracing::warn!("writing study {} case {}: {e}", c.study, c.case),
        }
    }

    /// The study's batch and base network (cut to its snapshots), from the cache or the
    /// queue and this worker's store.
    async fn base(&self, study: &str) -> Result<(Arc<Batch>, Arc<Network>), NoBase> {
        if let Some((id, b, n)) = &*self.cached.lock().unwrap_or_else(|e| e.into_inner()) {
            if id == study {
                return Ok((b.clone(), n.clone()));
            }
        }
        let (batch, source) = self
            .queue()
            .batch(study)
            .await
            .map_err(|e| NoBase::Database(e.to_string()))?
            .ok_or_else(|| NoBase::Network(format!("study {study} was deleted")))?;
        let store = self.store.clone();
        let batch = Arc::new(batch);
        let b = batch.clone();
        let base = tokio::task::spawn_blocking(move || {
            let n = store.make(&b.network, &source)?;
            b.base_network(&n).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("making the network failed: {e}"))
        .and_then(|r| r)
        .map_err(NoBase::Network)?;
        let base = Arc::new(base);
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((study.to_string(), batch.clone(), base.clone()));
        Ok((batch, base))
    }
}

/// Why a worker has no network for a case: the database failed (the case goes back), or the
/// network cannot be made here (the case fails, saying why).
enum NoBase {
    Database(String),
    Network(String),
}

fn failed_row(c: &Claimed, message: String) -> CaseRow {
    let case = gridtrade_studies::batch::Case {
        index: c.case,
        label: String::new(),
        scenario: Default::default(),
    };
    CaseRow::failed(&case, message, 0.0)
}

/// Extend the lease every third of it; cancel the solve when the study is cancelled or the
/// lease is lost (then mark it lost: the result is not written).
async fn heartbeat(
    queue: Queue,
    c: Claimed,
    worker: String,
    lease: Duration,
    control: Control,
    lost: Arc<std::sync::atomic::AtomicBool>,
) {
    let every = lease / 3;
    loop {
        tokio::time::sleep(every).await;
        match queue.heartbeat(&c, &worker, lease).await {
            Ok(Lease::Held { cancelled: false }) => {}
            Ok(Lease::Held { cancelled: true }) => control.cancel(),
            Ok(Lease::Lost) => {
                lost.store(true, std::sync::atomic::Ordering::SeqCst);
                control.cancel();
                return;
            }
            // The database is unreachable: keep solving; the lease runs out if it stays so.
            Err(e) => tracing::warn!(worker = %worker, "heartbeat: {e}"),
        }
    }
}
