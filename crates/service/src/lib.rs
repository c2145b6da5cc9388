//! The gRPC service (`proto/gridtrade/v1`): converts between proto messages and domain types
//! at the edge and runs solves on blocking threads under a concurrency limit.
//!
//! Status codes: bad input or options → INVALID_ARGUMENT (the message names the element and
//! field); unknown network or version → NOT_FOUND; infeasible or unbounded → FAILED_PRECONDITION
//! with the diagnosis; more solves than the limit and its queue → RESOURCE_EXHAUSTED.

/// Authorise a request, run its work and log it (request id, method, network, caller,
/// duration, status).
// Defined before the modules, so that `studies` uses it too.
macro_rules! rpc {
    ($self:ident, $req:ident, $method:literal, $role:expr, $network:expr, |$call:ident| $work:expr) => {{
        let mut $call = Call::begin($method, &$req, $network);
        let (caller, allowed) = $self.authorize(&$req, $role);
        $call.caller = caller;
        let result = match allowed {
            Ok(()) => $work.await,
            Err(e) => Err(e),
        };
        $call.end(result)
    }};
}

pub mod auth;
mod calls;
mod convert;
mod jobs;
mod store;
pub mod studies;
mod upload;

/// The API's messages and stubs (the `gridtrade-proto` crate).
pub use gridtrade_proto as proto;

use auth::{Role, Tokens};
use calls::Call;
use gridtrade_engine::error::Error;
use gridtrade_engine::network::Network;
use gridtrade_engine::solve::SolveOptions;
use gridtrade_engine::solver::Control;
use jobs::{CancelOnDrop, SolveJob};
use proto::grid_trade_service_server::{GridTradeService, GridTradeServiceServer};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
pub use store::{NetworkSource, Retention, Root, Store, Unrestored};
pub use studies::Studies;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

pub use proto::MAX_MESSAGE_BYTES;

/// Largest network `UploadNetworkStream` accepts, bytes of files.
pub const MAX_UPLOAD_BYTES: usize = 1024 * 1024 * 1024;

/// What one call may cost the server (`gridtrade serve` sets them from its options; the
/// defaults are what it uses without them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// HiGHS' time limit for a solve or study whose call carries no deadline.
    pub default_deadline: Duration,
    /// The longest a solve or study may run, whatever the call's deadline.
    pub max_deadline: Duration,
    /// Largest LP a call may build, columns (an upper bound counted before building, see
    /// `formulation::column_bound`); beyond it, RESOURCE_EXHAUSTED.
    pub max_lp_columns: u64,
    /// Uploads received at once; beyond, RESOURCE_EXHAUSTED.
    pub concurrent_uploads: usize,
    /// Files in one upload.
    pub max_upload_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default_deadline: Duration::from_secs(600),
            max_deadline: Duration::from_secs(3600),
            // The CAREC year is 1.1 million columns and takes 1.2 GB in HiGHS.
            max_lp_columns: 10_000_000,
            concurrent_uploads: 2,
            max_upload_files: 1000,
        }
    }
}

/// Progress events a SolveStream buffers for a slow client; beyond, progress is dropped
/// (never the result).
const STREAM_BUFFER: usize = 256;

/// The service state: the networks and the solve limits.
pub struct GridTrade {
    store: Arc<Store>,
    /// Solves running at once.
    running: Arc<Semaphore>,
    /// Solves running or waiting; beyond it, RESOURCE_EXHAUSTED.
    admitted: Arc<Semaphore>,
    /// Accepted bearer tokens; none = no authentication.
    tokens: Option<Tokens>,
    /// Cancels every running solve (after the shutdown grace period).
    stop: Control,
    limits: Limits,
    /// Uploads being received.
    uploads: Arc<Semaphore>,
    /// The study queue (SubmitStudy, the Operations service); none: those calls fail with
    /// FAILED_PRECONDITION.
    studies: Option<Arc<Studies>>,
}

impl GridTrade {
    /// `concurrency` solves at once, up to `queue` more waiting.
    pub fn new(store: Arc<Store>, concurrency: usize, queue: usize) -> Self {
        GridTrade {
            store,
            running: Arc::new(Semaphore::new(concurrency.max(1))),
            admitted: Arc::new(Semaphore::new(concurrency.max(1) + queue)),
            tokens: None,
            stop: Control::default(),
            limits: Limits::default(),
            uploads: Arc::new(Semaphore::new(Limits::default().concurrent_uploads)),
            studies: None,
        }
    }

    /// Take studies (SubmitStudy, the Operations service) into this queue.
    pub fn with_studies(mut self, studies: Arc<Studies>) -> Self {
        self.studies = Some(studies);
        self
    }

    /// The networks this server holds (what its workers solve).
    pub fn store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// Limit what one call may cost (see [`Limits`]).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.uploads = Arc::new(Semaphore::new(limits.concurrent_uploads.max(1)));
        self.limits = limits;
        self
    }

    /// HiGHS' time limit for a call: its deadline, or the default, at most the maximum, s.
    fn time_limit<T>(&self, req: &Request<T>) -> f64 {
        deadline(req)
            .unwrap_or(self.limits.default_deadline)
            .min(self.limits.max_deadline)
            .as_secs_f64()
    }

    /// RESOURCE_EXHAUSTED when the LP of `n` over `snapshots` could exceed the limit.
    fn check_lp_size(&self, n: &Network, snapshots: usize) -> Result<(), Status> {
        let bound = gridtrade_engine::formulation::column_bound(n, snapshots);
        if bound > self.limits.max_lp_columns {
            return Err(Status::resource_exhausted(format!(
                "the LP of {} elements over {snapshots} snapshots may have {bound} columns, \
                 more than this server's limit of {}; solve fewer snapshots",
                n.buses.len()
                    + n.branches.len()
                    + n.links.len()
                    + n.generators.len()
                    + n.storage_units.len(),
                self.limits.max_lp_columns
            )));
        }
        Ok(())
    }

    /// A handle that cancels every running and queued solve, e.g. when a shutdown's grace
    /// period is over.
    pub fn stopper(&self) -> Control {
        self.stop.clone()
    }

    /// Require a bearer token of the right role on every call.
    pub fn with_tokens(mut self, tokens: Tokens) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// The caller's name (`-` when unknown), and whether it may act as `role` (anyone may,
    /// without tokens).
    fn authorize<T>(&self, req: &Request<T>, role: Role) -> (String, Result<(), Status>) {
        match &self.tokens {
            None => ("anonymous".into(), Ok(())),
            Some(t) => match t.check(req.metadata(), role) {
                Ok(c) => (c.name, Ok(())),
                Err(e) => (
                    t.identify(req.metadata())
                        .map_or_else(|| "-".into(), |c| c.name.clone()),
                    Err(e),
                ),
            },
        }
    }

    /// Network `name` at `version` (0 = newest) from the store, off the runtime: a version
    /// not in memory is read back from the database or rebuilt from its base.
    async fn network(&self, name: &str, version: u64) -> Result<(u64, Arc<Network>), Status> {
        let store = self.store.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || store.get(&name, version))
            .await
            .map_err(|e| Status::internal(format!("store task failed: {e}")))?
    }

    /// A place in the queue, or RESOURCE_EXHAUSTED.
    fn admit(&self) -> Result<OwnedSemaphorePermit, Status> {
        self.admitted.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted("too many solves running and waiting; try again later")
        })
    }

    /// Check a solve request and admit it.
    async fn solve_job(&self, req: Request<proto::SolveRequest>) -> Result<SolveJob, Status> {
        let time_limit = Some(self.time_limit(&req));
        let r = req.into_inner();
        let (version, network) = self.network(&r.network, r.version).await?;
        self.check_lp_size(&network, span(&network, r.snapshot_start, r.snapshot_end))?;
        let opts = SolveOptions {
            formulation: convert::formulation(&r)?,
            time_limit,
            ..Default::default()
        };
        Ok(SolveJob {
            name: r.network,
            version,
            network,
            range: (r.snapshot_start, r.snapshot_end),
            opts,
            include_series: r.include_series,
            _admitted: self.admit()?,
        })
    }

    /// Read uploaded files and store them as a new version of `name`.
    async fn upload(
        &self,
        name: String,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<proto::UploadNetworkResponse, Status> {
        check_name("name", &name)?;
        let store = self.store.clone();
        let key = name.clone();
        // Reading a large folder and writing it to the database are blocking work.
        let (version, warnings) = tokio::task::spawn_blocking(move || {
            let (mut n, warnings) = upload::read(&files)?;
            n.name = key.clone();
            let version = store.add(&key, n, store::Record::Upload(&files))?;
            Ok::<_, Status>((version, warnings))
        })
        .await
        .map_err(|e| Status::internal(format!("upload task failed: {e}")))??;
        let (_, n) = self.network(&name, version).await?;
        Ok(proto::UploadNetworkResponse {
            summary: Some(convert::summary(&name, &n, version)),
            warnings,
        })
    }

    pub fn into_server(self) -> GridTradeServiceServer<GridTrade> {
        GridTradeServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// The API and the Operations service over one state.
    pub fn into_servers(
        self,
    ) -> (
        GridTradeServiceServer<GridTrade>,
        proto::longrunning::operations_server::OperationsServer<GridTrade>,
    ) {
        let shared = Arc::new(self);
        (
            GridTradeServiceServer::from_arc(shared.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
            proto::longrunning::operations_server::OperationsServer::from_arc(shared)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
    }
}

/// Map a domain error to a gRPC status.
pub fn status_of(e: &Error) -> Status {
    match e {
        Error::Invalid(_) | Error::Option { .. } | Error::Format(_) => {
            Status::invalid_argument(e.to_string())
        }
        Error::Io { .. } => Status::not_found(e.to_string()),
        Error::Solver(_) | Error::Database { .. } => Status::internal(e.to_string()),
    }
}

/// Names of networks and uploaded files: letters, digits, `_`, `-`, `.`; no `..`.
pub(crate) fn check_name(field: &str, name: &str) -> Result<(), Status> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Status::invalid_argument(format!(
            "{field} `{name}`: use 1-200 letters, digits, `_`, `-` or `.`"
        )))
    }
}

/// Snapshots a request's range `start..end` covers (`0..0`: all; a range past the end is
/// refused later, when it is cut out).
fn span(n: &Network, start: u32, end: u32) -> usize {
    if (start, end) == (0, 0) {
        n.snapshots.len()
    } else {
        (end as usize).saturating_sub(start as usize)
    }
}

/// The gRPC deadline (`grpc-timeout` header, e.g. `5S`, `250m`) as a duration.
fn deadline<T>(req: &Request<T>) -> Option<Duration> {
    let v = req.metadata().get("grpc-timeout")?.to_str().ok()?;
    let (num, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: u64 = num.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// The work of each RPC, after authorisation; the trait impl below wraps each in a logged,
/// authorised call.
impl GridTrade {
    async fn do_list_networks(
        &self,
        _req: Request<proto::ListNetworksRequest>,
    ) -> Result<Response<proto::ListNetworksResponse>, Status> {
        // Catching up with the database (other replicas' changes) is blocking work.
        let store = self.store.clone();
        let networks = tokio::task::spawn_blocking(move || store.latest())
            .await
            .map_err(|e| Status::internal(format!("list task failed: {e}")))??
            .iter()
            .map(|summary| (**summary).clone())
            .collect();
        let unrestored = self
            .store
            .unrestored()
            .into_iter()
            .map(|u| proto::Unrestored {
                network: u.network,
                version: u.version,
                reason: u.reason,
            })
            .collect();
        Ok(Response::new(proto::ListNetworksResponse {
            networks,
            unrestored,
        }))
    }

    async fn do_get_network(
        &self,
        req: Request<proto::GetNetworkRequest>,
    ) -> Result<Response<proto::GetNetworkResponse>, Status> {
        let r = req.into_inner();
        let (mut version, mut offset) = (r.version, 0);
        if !r.page_token.is_empty() {
            let (v, o) = convert::page_token(&r.page_token)?;
            if r.version != 0 && r.version != v {
                return Err(Status::invalid_argument(format!(
                    "page_token is for version {v}, not {}",
                    r.version
                )));
            }
            (version, offset) = (v, o);
        }
        let size = match r.page_size as usize {
            0 => convert::PAGE_SIZE.0,
            s => s.min(convert::PAGE_SIZE.1),
        };
        let (version, n) = self.network(&r.name, version).await?;
        let elements = n.buses.len()
            + n.branches.len()
            + n.links.len()
            + n.generators.len()
            + n.storage_units.len();
        if offset > elements {
            return Err(Status::invalid_argument(format!(
                "page_token: offset {offset} is past the network's {elements} elements"
            )));
        }
        Ok(Response::new(convert::network(
            &r.name, &n, version, offset, size,
        )))
    }

    async fn do_upload_network(
        &self,
        req: Request<proto::UploadNetworkRequest>,
    ) -> Result<Response<proto::UploadNetworkResponse>, Status> {
        let r = req.into_inner();
        let files = r.files.into_iter().map(|f| (f.name, f.content)).collect();
        Ok(Response::new(self.upload(r.name, files).await?))
    }

    async fn do_upload_network_stream(
        &self,
        req: Request<Streaming<proto::UploadNetworkStreamRequest>>,
    ) -> Result<Response<proto::UploadNetworkResponse>, Status> {
        let _receiving = self.uploads.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted("too many uploads under way; try again later")
        })?;
        let mut chunks = req.into_inner();
        let mut name = None;
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut total = 0usize;
        while let Some(chunk) = chunks.next().await {
            let c = chunk?;
            if name.is_none() {
                if c.name.is_empty() {
                    return Err(Status::invalid_argument(
                        "name: the first chunk must name the network",
                    ));
                }
                name = Some(c.name);
            }
            total += c.data.len();
            if total > MAX_UPLOAD_BYTES {
                return Err(Status::invalid_argument(format!(
                    "files: more than the {MAX_UPLOAD_BYTES} bytes an upload may hold"
                )));
            }
            match files.last_mut() {
                Some((f, data)) if *f == c.file_name => data.extend_from_slice(&c.data),
                _ => {
                    if files.iter().any(|(f, _)| *f == c.file_name) {
                        return Err(Status::invalid_argument(format!(
                            "file name `{}`: its chunks must follow each other",
                            c.file_name
                        )));
                    }
                    if files.len() == self.limits.max_upload_files {
                        return Err(Status::invalid_argument(format!(
                            "files: more than the {} files an upload may hold",
                            self.limits.max_upload_files
                        )));
                    }
                    files.push((c.file_name, c.data));
                }
            }
        }
        let name = name.ok_or_else(|| Status::invalid_argument("no chunks sent"))?;
        Ok(Response::new(self.upload(name, files).await?))
    }

    async fn do_update_network(
        &self,
        req: Request<proto::UpdateNetworkRequest>,
    ) -> Result<Response<proto::UpdateNetworkResponse>, Status> {
        let r = req.into_inner();
        let edits = convert::edits(&r)?;
        let (base_version, base) = self.network(&r.name, r.base_version).await?;
        // Copying, checking and storing (with its fsync) a large network is blocking work.
        let store = self.store.clone();
        let name = r.name.clone();
        let version = tokio::task::spawn_blocking(move || {
            let mut n = (*base).clone();
            n.apply(&edits).map_err(Status::invalid_argument)?;
            let mut findings = gridtrade_engine::error::Findings::default();
            gridtrade_engine::validate::check(&n, &Default::default(), &mut findings);
            if findings.has_errors() {
                return Err(status_of(&Error::Invalid(findings)));
            }
            let record = store::Record::Edit {
                base: base_version,
                edits: &edits,
            };
            store.add(&name, n, record)
        })
        .await
        .map_err(|e| Status::internal(format!("update task failed: {e}")))??;
        let (_, n) = self.network(&r.name, version).await?;
        Ok(Response::new(proto::UpdateNetworkResponse {
            summary: Some(convert::summary(&r.name, &n, version)),
        }))
    }

    async fn do_delete_network(
        &self,
        req: Request<proto::DeleteNetworkRequest>,
    ) -> Result<Response<proto::DeleteNetworkResponse>, Status> {
        let name = req.into_inner().name;
        let store = self.store.clone();
        let key = name.clone();
        // Deleting writes to the database (with its fsync): blocking work.
        let removed = tokio::task::spawn_blocking(move || store.remove(&key))
            .await
            .map_err(|e| Status::internal(format!("delete task failed: {e}")))??;
        if removed {
            Ok(Response::new(proto::DeleteNetworkResponse {}))
        } else {
            Err(Status::not_found(format!("no network named `{name}`")))
        }
    }

    async fn do_solve(
        &self,
        req: Request<proto::SolveRequest>,
    ) -> Result<Response<proto::SolveResponse>, Status> {
        let job = self.solve_job(req).await?;
        let control = self.stop.child();
        // The client going away drops this future, and the guard stops the solve.
        let _guard = CancelOnDrop(control.clone());
        let (n, outcome) = jobs::solve(self.running.clone(), &job, control).await?;
        Ok(Response::new(jobs::response(&job, &n, &outcome)?))
    }

    async fn do_solve_stream(
        &self,
        req: Request<proto::SolveRequest>,
        call: Call,
    ) -> Result<Response<EventStream>, Status> {
        let job = self.solve_job(req).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(STREAM_BUFFER);
        let events = tx.clone();
        // Progress is dropped when a slow client lets the buffer fill; results are not.
        let control = self.stop.child().with_listener(move |p| {
            let _ = events.try_send(Ok(jobs::event(p)));
        });
        let running = self.running.clone();
        tokio::spawn(async move {
            let solving = jobs::solve(running, &job, control.clone());
            tokio::pin!(solving);
            let result = tokio::select! {
                r = &mut solving => r,
                _ = tx.closed() => {
                    // The client went away: stop HiGHS; its thread frees the slot.
                    control.cancel();
                    call.log_end(Some(&Status::cancelled("the client went away")));
                    return;
                }
            };
            match result.and_then(|(n, outcome)| jobs::response(&job, &n, &outcome)) {
                Ok(r) => {
                    for e in jobs::chunks(r) {
                        if tx.send(Ok(e)).await.is_err() {
                            return;
                        }
                    }
                    call.log_end(None);
                }
                Err(status) => {
                    call.log_end(Some(&status));
                    let _ = tx.send(Err(status)).await;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn do_trade(
        &self,
        req: Request<proto::TradeRequest>,
    ) -> Result<Response<proto::TradeResponse>, Status> {
        let time_limit = Some(self.time_limit(&req));
        let r = req.into_inner();
        let (version, network) = self.network(&r.network, r.version).await?;
        self.check_lp_size(&network, span(&network, r.snapshot_start, r.snapshot_end))?;
        let study = convert::trade_request(&r, time_limit)?;
        let _admitted = self.admit()?;
        let control = self.stop.child();
        let _guard = CancelOnDrop(control.clone());
        let range = (r.snapshot_start, r.snapshot_end);
        let c = control.clone();
        let names = network.clone(); // the elements the coupling report names
        let out = jobs::on_solver_slot(self.running.clone(), &control, move || {
            let base = if range == (0, 0) {
                network
            } else {
                let mut part = (*network).clone();
                gridtrade_engine::solve::select_snapshots(
                    &mut part,
                    range.0 as usize..range.1 as usize,
                )?;
                Arc::new(part)
            };
            gridtrade_studies::study::run(&base, &study, &c)
        })
        .await?;
        match out {
            Ok(out) => Ok(Response::new(convert::trade_response(
                &out, version, &names,
            ))),
            Err(gridtrade_studies::study::NoReport::Cancelled) => {
                Err(Status::cancelled("the study was cancelled"))
            }
            Err(gridtrade_studies::study::NoReport::NotSolved(m)) => {
                Err(Status::failed_precondition(format!("{}: {m}", r.network)))
            }
        }
    }
}

impl GridTrade {
    async fn do_plan(
        &self,
        req: Request<proto::PlanRequest>,
    ) -> Result<Response<proto::PlanResponse>, Status> {
        let time_limit = Some(self.time_limit(&req));
        let r = req.into_inner();
        let (version, network) = self.network(&r.network, r.version).await?;
        self.check_lp_size(&network, span(&network, r.snapshot_start, r.snapshot_end))?;
        let plan = convert::plan_request(&r, time_limit)?;
        let _admitted = self.admit()?;
        let control = self.stop.child();
        let _guard = CancelOnDrop(control.clone());
        let range = (r.snapshot_start, r.snapshot_end);
        let c = control.clone();
        let out = jobs::on_solver_slot(self.running.clone(), &control, move || {
            let mut part = (*network).clone();
            if range != (0, 0) {
                let span = range.0 as usize..range.1 as usize;
                gridtrade_engine::solve::select_snapshots(&mut part, span)?;
            }
            gridtrade_studies::plan::run(&part, &plan, &c)
        })
        .await?;
        match out {
            Ok(p) => Ok(Response::new(convert::plan_response(
                &p, &r.network, version,
            ))),
            Err(gridtrade_studies::study::NoReport::Cancelled) => {
                Err(Status::cancelled("the plan was cancelled"))
            }
            Err(gridtrade_studies::study::NoReport::NotSolved(m)) => {
                Err(Status::failed_precondition(format!("{}: {m}", r.network)))
            }
        }
    }
}

/// A stream of `SolveStream` events.
type EventStream = Pin<Box<dyn Stream<Item = Result<proto::SolveStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl GridTradeService for GridTrade {
    async fn list_networks(
        &self,
        req: Request<proto::ListNetworksRequest>,
    ) -> Result<Response<proto::ListNetworksResponse>, Status> {
        rpc!(
            self,
            req,
            "ListNetworks",
            Role::Viewer,
            String::new(),
            |call| self.do_list_networks(req)
        )
    }

    async fn get_network(
        &self,
        req: Request<proto::GetNetworkRequest>,
    ) -> Result<Response<proto::GetNetworkResponse>, Status> {
        let network = req.get_ref().name.clone();
        rpc!(self, req, "GetNetwork", Role::Viewer, network, |call| self
            .do_get_network(req))
    }

    async fn upload_network(
        &self,
        req: Request<proto::UploadNetworkRequest>,
    ) -> Result<Response<proto::UploadNetworkResponse>, Status> {
        let network = req.get_ref().name.clone();
        rpc!(self, req, "UploadNetwork", Role::Planner, network, |call| {
            self.do_upload_network(req)
        })
    }

    async fn upload_network_stream(
        &self,
        req: Request<Streaming<proto::UploadNetworkStreamRequest>>,
    ) -> Result<Response<proto::UploadNetworkResponse>, Status> {
        rpc!(
            self,
            req,
            "UploadNetworkStream",
            Role::Planner,
            String::new(),
            |call| self.do_upload_network_stream(req)
        )
    }

    async fn update_network(
        &self,
        req: Request<proto::UpdateNetworkRequest>,
    ) -> Result<Response<proto::UpdateNetworkResponse>, Status> {
        let network = req.get_ref().name.clone();
        rpc!(self, req, "UpdateNetwork", Role::Planner, network, |call| {
            self.do_update_network(req)
        })
    }

    async fn delete_network(
        &self,
        req: Request<proto::DeleteNetworkRequest>,
    ) -> Result<Response<proto::DeleteNetworkResponse>, Status> {
        let network = req.get_ref().name.clone();
        rpc!(self, req, "DeleteNetwork", Role::Admin, network, |call| {
            self.do_delete_network(req)
        })
    }

    async fn solve(
        &self,
        req: Request<proto::SolveRequest>,
    ) -> Result<Response<proto::SolveResponse>, Status> {
        let network = req.get_ref().network.clone();
        rpc!(self, req, "Solve", Role::Viewer, network, |call| self
            .do_solve(req))
    }

    type SolveStreamStream = EventStream;

    async fn solve_stream(
        &self,
        req: Request<proto::SolveRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let network = req.get_ref().network.clone();
        rpc!(self, req, "SolveStream", Role::Viewer, network, |call| self
            .do_solve_stream(req, call.clone()))
    }

    async fn trade(
        &self,
        req: Request<proto::TradeRequest>,
    ) -> Result<Response<proto::TradeResponse>, Status> {
        let network = req.get_ref().network.clone();
        rpc!(self, req, "Trade", Role::Viewer, network, |call| self
            .do_trade(req))
    }

    async fn plan(
        &self,
        req: Request<proto::PlanRequest>,
    ) -> Result<Response<proto::PlanResponse>, Status> {
        let network = req.get_ref().network.clone();
        rpc!(self, req, "Plan", Role::Viewer, network, |call| self
            .do_plan(req))
    }

    async fn submit_study(
        &self,
        req: Request<proto::SubmitStudyRequest>,
    ) -> Result<Response<proto::longrunning::Operation>, Status> {
        rpc!(
            self,
            req,
            "SubmitStudy",
            Role::Planner,
            String::new(),
            |call| self.do_submit_study(req)
        )
    }

    async fn get_study_results(
        &self,
        req: Request<proto::GetStudyResultsRequest>,
    ) -> Result<Response<proto::GetStudyResultsResponse>, Status> {
        rpc!(
            self,
            req,
            "GetStudyResults",
            Role::Viewer,
            String::new(),
            |call| self.do_get_study_results(req)
        )
    }

    async fn get_case_result(
        &self,
        req: Request<proto::GetCaseResultRequest>,
    ) -> Result<Response<proto::GetCaseResultResponse>, Status> {
        rpc!(
            self,
            req,
            "GetCaseResult",
            Role::Viewer,
            String::new(),
            |call| self.do_get_case_result(req)
        )
    }
}

/// A server certificate chain and its private key, PEM.
#[derive(Clone)]
pub struct TlsIdentity {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// Serve on `listener` until `shutdown` completes: the API, health and reflection.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: GridTrade,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    serve_boxed(listener, service, None, Box::pin(shutdown)).await
}

/// [`serve`], with TLS when `tls` is given.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    service: GridTrade,
    tls: Option<TlsIdentity>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    serve_boxed(listener, service, tls, Box::pin(shutdown)).await
}

/// A shutdown signal of any kind, boxed.
type Shutdown = Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The server proper, not generic, so that the tonic server stack is compiled here once and
/// not again in every crate that starts a server.
async fn serve_boxed(
    listener: tokio::net::TcpListener,
    service: GridTrade,
    tls: Option<TlsIdentity>,
    shutdown: Shutdown,
) -> Result<(), tonic::transport::Error> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<GridTradeServiceServer<GridTrade>>()
        .await;
    let (api, operations) = service.into_servers();
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .expect("descriptor set is valid");
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .expect("descriptor set is valid");
    let mut builder = tonic::transport::Server::builder();
    if let Some(id) = tls {
        builder = builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(
            tonic::transport::Identity::from_pem(id.cert_pem, id.key_pem),
        ))?;
    }
    builder
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(api)
        .add_service(operations)
        .serve_with_incoming_shutdown(
            // TCP_NODELAY: without it a response of more than one segment waits for the
            // client's delayed ACK (40 ms per GetNetwork page on Linux, seen in the load test).
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await
}

/// Where a replica keeps its studies and how many workers it runs.
#[derive(Debug, Clone)]
pub struct StudyConfig {
    /// `postgres://…`, an SQLite file (`sqlite://PATH` or a path) or `sqlite::memory:`.
    pub database: String,
    /// Workers claiming cases on this replica (0: API only).
    pub workers: usize,
    /// A claimed case's lease; a heartbeat extends it every third.
    pub lease: Duration,
    /// How often an idle worker looks for cases.
    pub poll: Duration,
}

/// Run `service` on `addr` until SIGINT or SIGTERM, blocking the calling thread (the
/// command line's `gridtrade serve`): `announce` is told the address bound; on the signal
/// the server stops taking calls and its workers stop claiming cases, running solves get
/// `grace` to finish, then are cancelled (a worker's case goes back to the queue).
pub fn run_until_signal(
    addr: &str,
    service: GridTrade,
    tls: Option<TlsIdentity>,
    grace: Duration,
    studies: StudyConfig,
    announce: &dyn Fn(std::net::SocketAddr),
) -> Result<(), Error> {
    let stopper = service.stopper();
    let runtime = runtime()?;
    runtime.block_on(async move {
        let queue = Studies::open(&studies.database, studies.lease, studies.poll).await?;
        let quit = Control::default();
        let service = service.with_studies(queue.clone());
        let workers =
            studies::spawn_workers(&queue, service.store(), studies.workers, &quit, &stopper);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::option("--addr", format!("{addr}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::option("--addr", e.to_string()))?;
        announce(local);
        let shutdown = async move {
            wait_for_signal().await;
            eprintln!(
                "shutting down: in-flight solves have {} s to finish, then are cancelled",
                grace.as_secs_f64()
            );
            quit.cancel();
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                stopper.cancel();
            });
        };
        serve_boxed(listener, service, tls, Box::pin(shutdown))
            .await
            .map_err(|e| Error::Format(format!("server: {e}")))?;
        for w in workers {
            let _ = w.await;
        }
        Ok(())
    })
}

/// Run `workers` workers on the networks of `store` until SIGINT or SIGTERM, blocking the
/// calling thread (`gridtrade worker`): no API; on the signal they take no new case, and
/// running ones get `grace` to finish before they are cancelled and released.
pub fn run_workers_until_signal(
    store: Arc<Store>,
    studies: StudyConfig,
    grace: Duration,
    health_addr: Option<&str>,
) -> Result<(), Error> {
    runtime()?.block_on(async move {
        let queue = Studies::open(&studies.database, studies.lease, studies.poll).await?;
        if let Some(addr) = health_addr {
            serve_health(addr).await?;
        }
        let (quit, stop) = (Control::default(), Control::default());
        let workers = studies::spawn_workers(&queue, store, studies.workers.max(1), &quit, &stop);
        eprintln!(
            "gridtrade worker: {} workers on {} ({})",
            workers.len(),
            studies::db::redact(&studies.database),
            queue.queue.kind()
        );
        wait_for_signal().await;
        eprintln!(
            "stopping: running cases have {} s to finish, then go back to the queue",
            grace.as_secs_f64()
        );
        quit.cancel();
        let stopper = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            stopper.cancel();
        });
        for w in workers {
            let _ = w.await;
        }
        Ok(())
    })
}

/// `grpc.health.v1` alone on `addr` (a worker's probes), in the background.
async fn serve_health(addr: &str) -> Result<(), Error> {
    let (_, health) = tonic_health::server::health_reporter();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::option("--health-addr", format!("{addr}: {e}")))?;
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(health)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Runtime::new().map_err(|source| Error::Io {
        path: std::path::PathBuf::from("tokio runtime"),
        source,
    })
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Logs to stderr, filtered by `GRIDTRADE_LOG` (e.g. `debug`) or else by `default` (an
/// `EnvFilter` directive such as `warn,highs=error`); JSON lines with `json`. Call once.
pub fn init_logs(default: &str, json: bool) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("GRIDTRADE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter);
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
}
