//! Studies that outlive a call: `SubmitStudy` stores a scenario batch and queues its cases
//! in the database ([`queue`]: SQLite embedded, or PostgreSQL shared by many replicas);
//! workers ([`worker`]) on any replica claim the cases under leases; the standard
//! `google.longrunning.Operations` service reports, waits on, cancels and deletes the study
//! as the operation `studies/<id>`; `GetStudyResults` pages through its table and
//! `GetCaseResult` gives one case's full report.

pub mod db;
pub mod queue;
pub mod worker;

use crate::auth::Role;
use crate::calls::Call;
use crate::proto::longrunning::{self, operations_server::Operations};
use crate::proto::{self, google::rpc};
use crate::{status_of, GridTrade};
use gridtrade_engine::error::Error;
use gridtrade_engine::solver::Control;
use gridtrade_studies::batch::{Batch, CaseRow};
use prost::Message;
use queue::{Progress, Queue, StoredCase};
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status};

/// The study queue of a replica and how its workers use it.
pub struct Studies {
    pub queue: Queue,
    /// Told when this replica queued a study (its own workers start at once; others poll).
    pub(crate) submitted: tokio::sync::Notify,
    /// How long a claimed case stays a worker's without a heartbeat.
    pub lease: Duration,
    /// How often an idle worker looks for cases.
    pub poll: Duration,
}

impl Studies {
    /// The queue in the database at `url` (see [`db::Backend::open`]).
    pub async fn open(url: &str, lease: Duration, poll: Duration) -> Result<Arc<Studies>, Error> {
        let queue = Queue::open(db::Backend::open(url).await?).await?;
        Ok(Arc::new(Studies {
            queue,
            submitted: tokio::sync::Notify::new(),
            lease,
            poll,
        }))
    }
}

/// Start `n` workers on the current runtime, solving the networks of `store`: they take no
/// new case once `quit` is cancelled, and cancel (and release) their running case when
/// `stop` is.
pub fn spawn_workers(
    studies: &Arc<Studies>,
    store: Arc<crate::Store>,
    n: usize,
    quit: &Control,
    stop: &Control,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let w = worker::Worker::new(
                worker::worker_id(i),
                studies.clone(),
                store.clone(),
                quit.clone(),
                stop.clone(),
            );
            tokio::spawn(w.run())
        })
        .collect()
}

fn db_status(e: Error) -> Status {
    Status::unavailable(format!("the study database failed: {e}"))
}

/// `studies/<id>` → id.
fn study_id(name: &str) -> Result<&str, Status> {
    name.strip_prefix("studies/")
        .filter(|id| !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            Status::not_found(format!("`{name}`: operations here are named studies/<id>"))
        })
}

fn new_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    format!("{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>())
}

fn any<M: Message>(m: &M, name: &str) -> prost_types::Any {
    prost_types::Any {
        type_url: format!("type.googleapis.com/{name}"),
        value: m.encode_to_vec(),
    }
}

/// A study's progress in the API.
pub fn progress_message(p: &Progress) -> proto::StudyProgress {
    proto::StudyProgress {
        study: p.id.clone(),
        name: p.name.clone(),
        network: p.network.clone(),
        version: p.version,
        cases: p.cases,
        queued: p.queued,
        running: p.running,
        optimal: p.optimal,
        not_solved: p.not_solved,
        failed: p.failed,
        cancelled: p.cancelled,
        solve_seconds: p.solve_seconds,
        cancel_requested: p.cancel_requested,
        created_unix_ms: p.created_ms,
        finished_unix_ms: p.finished_ms.unwrap_or(0),
        retried: p.retried,
    }
}

/// A study as a long-running operation: done when no case waits or runs; then its response
/// is a `StudyResult`, or error CANCELLED when it was cancelled.
pub fn operation(p: &Progress) -> longrunning::Operation {
    use longrunning::operation::Result as R;
    let meta = progress_message(p);
    let result = p.done().then(|| {
        if p.cancel_requested {
            R::Error(rpc::Status {
                code: tonic::Code::Cancelled as i32,
                message: format!(
                    "the study was cancelled: {} of {} cases finished before",
                    p.optimal + p.not_solved + p.failed,
                    p.cases
                ),
                details: Vec::new(),
            })
        } else {
            R::Response(any(
                &proto::StudyResult {
                    progress: Some(meta.clone()),
                },
                "gridtrade.v1.StudyResult",
            ))
        }
    });
    longrunning::Operation {
        name: format!("studies/{}", p.id),
        metadata: Some(any(&meta, "gridtrade.v1.StudyProgress")),
        done: p.done(),
        result,
    }
}

/// A stored case as a table line in the API.
fn case_message(s: &StoredCase) -> Result<(proto::StudyCase, CaseRow), Status> {
    let row: CaseRow = serde_json::from_str(&s.row_json)
        .map_err(|e| Status::internal(format!("case {}: stored row: {e}", s.case)))?;
    let named = |v: &[(String, f64)]| {
        v.iter()
            .map(|(name, value)| proto::ZoneValue {
                name: name.clone(),
                value: *value,
            })
            .collect()
    };
    let msg = proto::StudyCase {
        case: row.case as u32,
        label: row.label.clone(),
        status: row.status.clone(),
        message: row.message.clone(),
        system_cost: row.system_cost,
        co2_t: row.co2_t,
        shed_mwh: row.shed_mwh,
        trade_saving: row.trade_saving,
        zone_prices: named(&row.zone_prices),
        borders: row
            .borders
            .iter()
            .map(|b| proto::BorderValue {
                border: b.border.clone(),
                flow_ab_mwh: b.flow_ab_mwh,
                flow_ba_mwh: b.flow_ba_mwh,
                rent: b.rent,
            })
            .collect(),
        gains: named(&row.gains),
        seconds: row.seconds,
        worker: s.worker.clone(),
        attempts: s.attempts,
    };
    Ok((msg, row))
}

/// A table line from the API, as the studies crate holds it (what a client puts back into a
/// CSV table with [`gridtrade_studies::batch::table_csv`]); the inverse of the rows
/// GetStudyResults sends.
pub fn case_row(c: &proto::StudyCase) -> CaseRow {
    use gridtrade_studies::batch::BorderRow;
    let named = |v: &[proto::ZoneValue]| v.iter().map(|z| (z.name.clone(), z.value)).collect();
    CaseRow {
        case: c.case as usize,
        label: c.label.clone(),
        status: c.status.clone(),
        message: c.message.clone(),
        system_cost: c.system_cost,
        co2_t: c.co2_t,
        shed_mwh: c.shed_mwh,
        trade_saving: c.trade_saving,
        zone_prices: named(&c.zone_prices),
        borders: c
            .borders
            .iter()
            .map(|b| BorderRow {
                border: b.border.clone(),
                flow_ab_mwh: b.flow_ab_mwh,
                flow_ba_mwh: b.flow_ba_mwh,
                rent: b.rent,
            })
            .collect(),
        gains: named(&c.gains),
        seconds: c.seconds,
    }
}

/// A page token: the offset of the page's first item.
fn offset(token: &str) -> Result<u64, Status> {
    if token.is_empty() {
        return Ok(0);
    }
    token
        .parse()
        .map_err(|_| Status::invalid_argument(format!("page_token `{token}` is not one we gave")))
}

impl GridTrade {
    fn studies(&self) -> Result<&Arc<Studies>, Status> {
        self.studies.as_ref().ok_or_else(|| {
            Status::failed_precondition("this server has no study queue (gridtrade serve has one)")
        })
    }

    async fn progress(&self, id: &str) -> Result<Progress, Status> {
        self.studies()?
            .queue
            .progress(id)
            .await
            .map_err(db_status)?
            .ok_or_else(|| Status::not_found(format!("no study studies/{id}")))
    }

    pub(crate) async fn do_submit_study(
        &self,
        req: Request<proto::SubmitStudyRequest>,
    ) -> Result<Response<longrunning::Operation>, Status> {
        let studies = self.studies()?.clone();
        let r = req.into_inner();
        let files = r
            .files
            .into_iter()
            .map(|f| match String::from_utf8(f.content) {
                Ok(text) => Ok((f.name, text)),
                Err(_) => Err(Status::invalid_argument(format!(
                    "files: `{}` is not UTF-8 text",
                    f.name
                ))),
            })
            .collect::<Result<std::collections::HashMap<String, String>, Status>>()?;
        let batch = Batch::parse(&r.study_toml, "study_toml", &|name| {
            files.get(name).cloned().ok_or_else(|| {
                Error::Format(format!(
                    "study_toml: case file `{name}` was not sent in `files`"
                ))
            })
        })
        .map_err(|e| status_of(&e))?;
        let (version, network) = self
            .network(&batch.network, batch.version.unwrap_or(0))
            .await?;
        if let Some(r) = batch
            .snapshots
            .as_ref()
            .filter(|r| r.end > network.snapshots.len())
        {
            return Err(Status::invalid_argument(format!(
                "study_toml: field `snapshots`: {}..{} goes past the {} snapshots of `{}`",
                r.start,
                r.end,
                network.snapshots.len(),
                batch.network
            )));
        }
        let span = batch
            .snapshots
            .as_ref()
            .map_or(network.snapshots.len(), |r| r.len());
        self.check_lp_size(&network, span)?;
        let checked = batch.clone();
        // Every case's scenario is checked now: a bad one is the caller's error, not a
        // failed case an hour later.
        tokio::task::spawn_blocking(move || check_cases(&checked, &network))
            .await
            .map_err(|e| Status::internal(format!("check task failed: {e}")))?
            .map_err(|e| status_of(&e))?;
        let store = self.store.clone();
        let name = batch.network.clone();
        // How any worker makes this version: shipped, or the upload's files, and the edits.
        let source = tokio::task::spawn_blocking(move || store.source(&name, version))
            .await
            .map_err(|e| Status::internal(format!("store task failed: {e}")))??;
        let id = new_id();
        studies
            .queue
            .submit(&id, &batch, version, &source)
            .await
            .map_err(db_status)?;
        studies.submitted.notify_waiters();
        tracing::info!(study = %id, cases = batch.cases.len(), network = %batch.network, version, "study submitted");
        Ok(Response::new(operation(&self.progress(&id).await?)))
    }

    pub(crate) async fn do_get_study_results(
        &self,
        req: Request<proto::GetStudyResultsRequest>,
    ) -> Result<Response<proto::GetStudyResultsResponse>, Status> {
        let r = req.into_inner();
        let id = study_id(&format!("studies/{}", r.study))?.to_string();
        let p = self.progress(&id).await?;
        let size = match r.page_size {
            0 => 100,
            n => n.min(1000),
        } as u64;
        let from = offset(&r.page_token)?;
        let stored = self
            .studies()?
            .queue
            .rows(&id, from, size)
            .await
            .map_err(db_status)?;
        let mut cases = Vec::with_capacity(stored.len());
        let mut rows = Vec::with_capacity(stored.len());
        for s in &stored {
            let (msg, row) = case_message(s)?;
            cases.push(msg);
            rows.push(row);
        }
        let finished = (p.optimal + p.not_solved + p.failed + p.cancelled) as u64;
        let next = from + stored.len() as u64;
        let more = stored.len() as u64 == size && next < finished;
        Ok(Response::new(proto::GetStudyResultsResponse {
            table_csv: gridtrade_studies::batch::table_csv(&rows),
            cases,
            next_page_token: if more {
                next.to_string()
            } else {
                String::new()
            },
        }))
    }

    pub(crate) async fn do_get_case_result(
        &self,
        req: Request<proto::GetCaseResultRequest>,
    ) -> Result<Response<proto::GetCaseResultResponse>, Status> {
        let r = req.into_inner();
        let id = study_id(&format!("studies/{}", r.study))?.to_string();
        self.progress(&id).await?;
        let stored = self
            .studies()?
            .queue
            .case(&id, r.case as usize)
            .await
            .map_err(db_status)?
            .ok_or_else(|| {
                Status::not_found(format!("study {id} has no finished case {}", r.case))
            })?;
        let (row, _) = case_message(&stored)?;
        Ok(Response::new(proto::GetCaseResultResponse {
            row: Some(row),
            report_json: stored.result_json.unwrap_or_default(),
        }))
    }
}

/// Apply every case's scenario to a copy of the network: the first bad one is an error.
fn check_cases(batch: &Batch, network: &gridtrade_engine::network::Network) -> Result<(), Error> {
    batch.formulation()?;
    let base = batch.base_network(network)?;
    for case in &batch.cases {
        let mut n = base.clone();
        case.scenario
            .apply(&mut n, &format!("case {} ({})", case.index, case.label))?;
    }
    Ok(())
}

impl GridTrade {
    async fn do_list_operations(
        &self,
        req: Request<longrunning::ListOperationsRequest>,
    ) -> Result<Response<longrunning::ListOperationsResponse>, Status> {
        let r = req.into_inner();
        if !(r.name.is_empty() || r.name == "studies") || !r.filter.is_empty() {
            return Err(Status::invalid_argument(
                "name: only `studies` (or empty) is listed here; filter: not supported",
            ));
        }
        let size = match r.page_size {
            n if n <= 0 => 50,
            n => n.min(1000),
        } as u64;
        let from = offset(&r.page_token)?;
        let list = self
            .studies()?
            .queue
            .list(from, size)
            .await
            .map_err(db_status)?;
        let next = if list.len() as u64 == size {
            (from + size).to_string()
        } else {
            String::new()
        };
        Ok(Response::new(longrunning::ListOperationsResponse {
            operations: list.iter().map(operation).collect(),
            next_page_token: next,
            unreachable: Vec::new(),
        }))
    }

    async fn do_get_operation(
        &self,
        req: Request<longrunning::GetOperationRequest>,
    ) -> Result<Response<longrunning::Operation>, Status> {
        let id = study_id(&req.get_ref().name)?.to_string();
        Ok(Response::new(operation(&self.progress(&id).await?)))
    }

    async fn do_delete_operation(
        &self,
        req: Request<longrunning::DeleteOperationRequest>,
    ) -> Result<Response<()>, Status> {
        let id = study_id(&req.get_ref().name)?.to_string();
        match self.studies()?.queue.delete(&id).await.map_err(db_status)? {
            true => Ok(Response::new(())),
            false => Err(Status::not_found(format!("no study studies/{id}"))),
        }
    }

    async fn do_cancel_operation(
        &self,
        req: Request<longrunning::CancelOperationRequest>,
    ) -> Result<Response<()>, Status> {
        let id = study_id(&req.get_ref().name)?.to_string();
        match self.studies()?.queue.cancel(&id).await.map_err(db_status)? {
            true => Ok(Response::new(())),
            false => Err(Status::not_found(format!("no study studies/{id}"))),
        }
    }

    async fn do_wait_operation(
        &self,
        req: Request<longrunning::WaitOperationRequest>,
    ) -> Result<Response<longrunning::Operation>, Status> {
        let call_deadline = crate::deadline(&req);
        let r = req.into_inner();
        let id = study_id(&r.name)?.to_string();
        let asked = r
            .timeout
            .and_then(|t| Duration::try_from(t).ok())
            .unwrap_or(Duration::from_secs(60));
        // Answer a little before the call's own deadline, so the answer arrives.
        let wait = call_deadline.map_or(asked, |d| {
            asked.min(d.saturating_sub(Duration::from_millis(200)))
        });
        let until = tokio::time::Instant::now() + wait.min(self.limits.max_deadline);
        loop {
            let p = self.progress(&id).await?;
            if p.done() || tokio::time::Instant::now() >= until {
                return Ok(Response::new(operation(&p)));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tonic::async_trait]
impl Operations for GridTrade {
    async fn list_operations(
        &self,
        req: Request<longrunning::ListOperationsRequest>,
    ) -> Result<Response<longrunning::ListOperationsResponse>, Status> {
        rpc!(
            self,
            req,
            "ListOperations",
            Role::Viewer,
            String::new(),
            |call| self.do_list_operations(req)
        )
    }

    async fn get_operation(
        &self,
        req: Request<longrunning::GetOperationRequest>,
    ) -> Result<Response<longrunning::Operation>, Status> {
        let name = req.get_ref().name.clone();
        rpc!(self, req, "GetOperation", Role::Viewer, name, |call| self
            .do_get_operation(req))
    }

    async fn delete_operation(
        &self,
        req: Request<longrunning::DeleteOperationRequest>,
    ) -> Result<Response<()>, Status> {
        let name = req.get_ref().name.clone();
        rpc!(self, req, "DeleteOperation", Role::Planner, name, |call| {
            self.do_delete_operation(req)
        })
    }

    async fn cancel_operation(
        &self,
        req: Request<longrunning::CancelOperationRequest>,
    ) -> Result<Response<()>, Status> {
        let name = req.get_ref().name.clone();
        rpc!(self, req, "CancelOperation", Role::Planner, name, |call| {
            self.do_cancel_operation(req)
        })
    }

    async fn wait_operation(
        &self,
        req: Request<longrunning::WaitOperationRequest>,
    ) -> Result<Response<longrunning::Operation>, Status> {
        let name = req.get_ref().name.clone();
        rpc!(self, req, "WaitOperation", Role::Viewer, name, |call| self
            .do_wait_operation(req))
    }
}
