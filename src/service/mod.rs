//! The gRPC service (`proto/gridtrade/v1`): converts between proto messages and domain types
//! at the edge and runs solves on blocking threads under a concurrency limit.
//!
//! Status codes: bad input or options → INVALID_ARGUMENT (the message names the element and
//! field); unknown network or version → NOT_FOUND; infeasible or unbounded → FAILED_PRECONDITION
//! with the diagnosis; more solves than the limit and its queue → RESOURCE_EXHAUSTED.

mod convert;
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
use crate::solution::Status as SolveStatus;
use crate::solve::{self, SolveOptions};
use proto::grid_trade_service_server::{GridTradeService, GridTradeServiceServer};
use std::sync::Arc;
use std::time::Duration;
pub use store::Store;
use tokio::sync::Semaphore;
use tonic::{Request, Response, Status};

/// Largest request the server accepts, bytes (a whole PyPSA folder of a year fits).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

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
        check_name("name", &r.name)?;
        let files: Vec<(String, Vec<u8>)> =
            r.files.into_iter().map(|f| (f.name, f.content)).collect();
        let (mut n, warnings) = tokio::task::spawn_blocking(move || upload::read(&files))
            .await
            .map_err(|e| Status::internal(format!("upload task failed: {e}")))??;
        n.name = r.name.clone();
        let version = self.store.insert(&r.name, n);
        let (_, n) = self.store.get(&r.name, version)?;
        Ok(Response::new(proto::UploadNetworkResponse {
            summary: Some(convert::summary(&r.name, &n, version)),
            warnings,
        }))
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
        let time_limit = deadline(&req).map(|d| d.as_secs_f64());
        let r = req.into_inner();
        let (version, network) = self.store.get(&r.network, r.version)?;
        let opts = SolveOptions {
            formulation: convert::formulation(&r)?,
            time_limit,
        };
        let Ok(_admitted) = self.admitted.clone().try_acquire_owned() else {
            return Err(Status::resource_exhausted(
                "too many solves running and waiting; try again later",
            ));
        };
        let _running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Status::unavailable("the server is shutting down"))?;
        let range = (r.snapshot_start, r.snapshot_end);
        let include_series = r.include_series;
        let name = r.network.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            // The stored version is shared; copy it only to cut out a snapshot range.
            let n = if range == (0, 0) {
                network
            } else {
                let mut part = (*network).clone();
                solve::select_snapshots(&mut part, range.0 as usize..range.1 as usize)?;
                Arc::new(part)
            };
            let outcome = solve::solve(&n, &opts)?;
            Ok::<_, Error>((n, outcome, opts))
        })
        .await
        .map_err(|e| Status::internal(format!("solve task failed: {e}")))?;
        let (n, outcome, opts) = outcome.map_err(|e| status_of(&e))?;
        match outcome.status {
            SolveStatus::Optimal | SolveStatus::TimeLimit if outcome.results.is_some() => {
                Ok(Response::new(convert::solve_response(
                    &n,
                    &name,
                    version,
                    &outcome,
                    &opts,
                    include_series,
                )))
            }
            SolveStatus::TimeLimit => Err(Status::deadline_exceeded(
                "no feasible dispatch found within the deadline",
            )),
            other => Err(Status::failed_precondition(format!(
                "{name}: {}: {}",
                other.as_str(),
                outcome
                    .diagnosis
                    .map(|d| d.summary)
                    .unwrap_or_else(|| "no diagnosis".into())
            ))),
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
