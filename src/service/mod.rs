//! The gRPC service (`proto/gridtrade/v1`): converts between proto messages and domain types
//! at the edge and runs solves on blocking threads under a concurrency limit.
//!
//! Status codes: bad input or options → INVALID_ARGUMENT (the message names the element and
//! field); unknown network or version → NOT_FOUND; infeasible or unbounded → FAILED_PRECONDITION
//! with the diagnosis; more solves than the limit and its queue → RESOURCE_EXHAUSTED.

mod convert;
mod jobs;
mod store;
mod upload;

pub mod proto {
    #![allow(clippy::all)]
    tonic::include_proto!("gridtrade.v1");
    /// The encoded descriptor set of the API, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/gridtrade_v1_descriptor.bin"));
}

use crate::error::Error;
use crate::solve::SolveOptions;
use crate::solver::Control;
pub use jobs::Assembler as StreamAssembler;
use jobs::{CancelOnDrop, SolveJob};
use proto::grid_trade_service_server::{GridTradeService, GridTradeServiceServer};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
pub use store::Store;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

/// Largest message the server accepts or sends, bytes (a whole PyPSA folder of a year fits;
/// larger networks go through `UploadNetworkStream`, larger results through `SolveStream`).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Largest network `UploadNetworkStream` accepts, bytes of files.
pub const MAX_UPLOAD_BYTES: usize = 1024 * 1024 * 1024;

/// The service state: the networks and the solve limits.
pub struct GridTrade {
    store: Arc<Store>,
    /// Solves running at once.
    running: Arc<Semaphore>,
    /// Solves running or waiting; beyond it, RESOURCE_EXHAUSTED.
    admitted: Arc<Semaphore>,
}

impl GridTrade {
    /// `concurrency` solves at once, up to `queue` more waiting.
    pub fn new(store: Arc<Store>, concurrency: usize, queue: usize) -> Self {
        GridTrade {
            store,
            running: Arc::new(Semaphore::new(concurrency.max(1))),
            admitted: Arc::new(Semaphore::new(concurrency.max(1) + queue)),
        }
    }

    /// A place in the queue, or RESOURCE_EXHAUSTED.
    fn admit(&self) -> Result<OwnedSemaphorePermit, Status> {
        self.admitted.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted("too many solves running and waiting; try again later")
        })
    }

    /// Check a solve request and admit it.
    fn solve_job(&self, req: Request<proto::SolveRequest>) -> Result<SolveJob, Status> {
        let time_limit = deadline(&req).map(|d| d.as_secs_f64());
        let r = req.into_inner();
        let (version, network) = self.store.get(&r.network, r.version)?;
        let opts = SolveOptions {
            formulation: convert::formulation(&r)?,
            time_limit,
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
        let (mut n, warnings) = tokio::task::spawn_blocking(move || upload::read(&files))
            .await
            .map_err(|e| Status::internal(format!("upload task failed: {e}")))??;
        n.name = name.clone();
        let version = self.store.insert(&name, n);
        let (_, n) = self.store.get(&name, version)?;
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
}

/// Map a domain error to a gRPC status.
pub fn status_of(e: &Error) -> Status {
    match e {
        Error::Invalid(_) | Error::Option { .. } | Error::Format(_) => {
            Status::invalid_argument(e.to_string())
        }
        Error::Io { .. } => Status::not_found(e.to_string()),
        Error::Solver(_) => Status::internal(e.to_string()),
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

#[tonic::async_trait]
impl GridTradeService for GridTrade {
    async fn list_networks(
        &self,
        _req: Request<proto::ListNetworksRequest>,
    ) -> Result<Response<proto::ListNetworksResponse>, Status> {
        let networks = self
            .store
            .latest()
            .iter()
            .map(|(name, v, n)| convert::summary(name, n, *v))
            .collect();
        Ok(Response::new(proto::ListNetworksResponse { networks }))
    }

    async fn get_network(
        &self,
        req: Request<proto::GetNetworkRequest>,
    ) -> Result<Response<proto::GetNetworkResponse>, Status> {
        let r = req.into_inner();
        let (version, n) = self.store.get(&r.name, r.version)?;
        Ok(Response::new(convert::network(&r.name, &n, version)))
    }

    async fn upload_network(
        &self,
        req: Request<proto::UploadNetworkRequest>,
    ) -> Result<Response<proto::UploadNetworkResponse>, Status> {
        let r = req.into_inner();
        let files = r.files.into_iter().map(|f| (f.name, f.content)).collect();
        Ok(Response::new(self.upload(r.name, files).await?))
    }

    async fn upload_network_stream(
        &self,
        req: Request<Streaming<proto::UploadNetworkStreamRequest>>,
    ) -> Result<Response<proto::UploadNetworkResponse>, Status> {
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
                    files.push((c.file_name, c.data));
                }
            }
        }
        let name = name.ok_or_else(|| Status::invalid_argument("no chunks sent"))?;
        Ok(Response::new(self.upload(name, files).await?))
    }

    async fn update_network(
        &self,
        req: Request<proto::UpdateNetworkRequest>,
    ) -> Result<Response<proto::UpdateNetworkResponse>, Status> {
        let r = req.into_inner();
        let edits = convert::edits(&r)?;
        let (_, base) = self.store.get(&r.name, r.base_version)?;
        let mut n = (*base).clone();
        n.apply(&edits).map_err(Status::invalid_argument)?;
        let mut findings = crate::error::Findings::default();
        crate::validate::check(&n, &Default::default(), &mut findings);
        if findings.has_errors() {
            return Err(status_of(&Error::Invalid(findings)));
        }
        let version = self.store.insert(&r.name, n);
        let (_, n) = self.store.get(&r.name, version)?;
        Ok(Response::new(proto::UpdateNetworkResponse {
            summary: Some(convert::summary(&r.name, &n, version)),
        }))
    }

    async fn delete_network(
        &self,
        req: Request<proto::DeleteNetworkRequest>,
    ) -> Result<Response<proto::DeleteNetworkResponse>, Status> {
        let name = req.into_inner().name;
        if self.store.remove(&name) {
            Ok(Response::new(proto::DeleteNetworkResponse {}))
        } else {
            Err(Status::not_found(format!("no network named `{name}`")))
        }
    }

    async fn solve(
        &self,
        req: Request<proto::SolveRequest>,
    ) -> Result<Response<proto::SolveResponse>, Status> {
        let job = self.solve_job(req)?;
        let control = Control::default();
        // The client going away drops this future, and the guard stops the solve.
        let _guard = CancelOnDrop(control.clone());
        let (n, outcome) = jobs::solve(self.running.clone(), &job, control).await?;
        Ok(Response::new(jobs::response(&job, &n, &outcome)?))
    }

    type SolveStreamStream =
        Pin<Box<dyn Stream<Item = Result<proto::SolveStreamResponse, Status>> + Send>>;

    async fn solve_stream(
        &self,
        req: Request<proto::SolveRequest>,
    ) -> Result<Response<Self::SolveStreamStream>, Status> {
        let job = self.solve_job(req)?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let events = tx.clone();
        let control = Control::default().with_listener(move |p| {
            let _ = events.send(Ok(jobs::event(p)));
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
                    return;
                }
            };
            match result.and_then(|(n, outcome)| jobs::response(&job, &n, &outcome)) {
                Ok(r) => {
                    for e in jobs::chunks(r) {
                        if tx.send(Ok(e)).is_err() {
                            return;
                        }
                    }
                }
                Err(status) => {
                    let _ = tx.send(Err(status));
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::UnboundedReceiverStream::new(rx),
        )))
    }

    async fn trade(
        &self,
        req: Request<proto::TradeRequest>,
    ) -> Result<Response<proto::TradeResponse>, Status> {
        let time_limit = deadline(&req).map(|d| d.as_secs_f64());
        let r = req.into_inner();
        let (version, network) = self.store.get(&r.network, r.version)?;
        let study = convert::trade_request(&r, time_limit)?;
        let _admitted = self.admit()?;
        let control = Control::default();
        let _guard = CancelOnDrop(control.clone());
        let range = (r.snapshot_start, r.snapshot_end);
        let c = control.clone();
        let out = jobs::on_solver_slot(self.running.clone(), &control, move || {
            let base = if range == (0, 0) {
                network
            } else {
                let mut part = (*network).clone();
                crate::solve::select_snapshots(&mut part, range.0 as usize..range.1 as usize)?;
                Arc::new(part)
            };
            crate::trade::study::run(&base, &study, &c)
        })
        .await?;
        match out {
            Ok(out) => Ok(Response::new(convert::trade_response(&out, version))),
            Err(crate::trade::study::NoReport::Cancelled) => {
                Err(Status::cancelled("the study was cancelled"))
            }
            Err(crate::trade::study::NoReport::NotSolved(m)) => {
                Err(Status::failed_precondition(format!("{}: {m}", r.network)))
            }
        }
    }
}

/// Serve on `listener` until `shutdown` completes: the API, health and reflection.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: GridTrade,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<GridTradeServiceServer<GridTrade>>()
        .await;
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
    tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(service.into_server())
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown,
        )
        .await
}
