//! gridtrade-client: a blocking client of a gridtrade server (`gridtrade call`, or any Rust program): TLS with
//! a private certificate authority, bearer tokens, message sizes as the server's, and
//! SolveStream put back together with its progress reported as it comes.
//!
//! Each call returns the server's `tonic::Status` on failure, so a caller can tell an
//! infeasible problem (FAILED_PRECONDITION) from a refused or broken call.

use gridtrade_engine::error::Error;
use gridtrade_engine::solver::{Phase, Progress};
use gridtrade_proto::longrunning::{self, Operation};
use gridtrade_proto::{
    self as proto, grid_trade_service_client::GridTradeServiceClient, MAX_MESSAGE_BYTES,
};
use std::path::Path;
use std::time::Duration;
pub use tonic::{Code, Status};

/// A study's progress from its operation's metadata.
pub fn study_progress(op: &Operation) -> Option<proto::StudyProgress> {
    use prost::Message;
    op.metadata
        .as_ref()
        .and_then(|m| proto::StudyProgress::decode(m.value.as_slice()).ok())
}

/// Adds the bearer token to every call.
#[derive(Clone)]
struct Auth(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

type Stub = GridTradeServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Auth>,
>;

type OpsStub = gridtrade_proto::longrunning::operations_client::OperationsClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Auth>,
>;

/// A connection to a server, with its own runtime: every method blocks until the answer.
pub struct Client {
    runtime: tokio::runtime::Runtime,
    stub: Stub,
    /// `google.longrunning.Operations` on the same connection (studies).
    ops: OpsStub,
}

/// A request with an optional deadline (the server stops the solve when it passes).
fn request<T>(message: T, timeout: Option<Duration>) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    if let Some(t) = timeout {
        req.set_timeout(t);
    }
    req
}

impl Client {
    /// Connect to `server` (`http://HOST:PORT`, or `https://HOST:PORT` trusting `ca_cert`),
    /// sending `token` as a bearer token with every call.
    pub fn connect(
        server: &str,
        token: Option<&str>,
        ca_cert: Option<&Path>,
    ) -> Result<Client, Error> {
        use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
        let fail = |e: &dyn std::fmt::Display| Error::Format(format!("cannot reach {server}: {e}"));
        let mut endpoint = Endpoint::from_shared(server.to_string()).map_err(|e| fail(&e))?;
        if server.starts_with("https://") {
            let mut tls = ClientTlsConfig::new();
            if let Some(ca) = ca_cert {
                let pem = std::fs::read(ca).map_err(|source| Error::Io {
                    path: ca.to_path_buf(),
                    source,
                })?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint.tls_config(tls).map_err(|e| fail(&e))?;
        } else if ca_cert.is_some() {
            return Err(Error::option("--ca-cert", "needs an https:// --server"));
        }
        let token = match token {
            None => None,
            Some(t) => Some(
                format!("Bearer {t}")
                    .parse()
                    .map_err(|_| Error::option("--token", "must be printable ASCII"))?,
            ),
        };
        let runtime = tokio::runtime::Runtime::new().map_err(|source| Error::Io {
            path: std::path::PathBuf::from("tokio runtime"),
            source,
        })?;
        let channel = runtime.block_on(endpoint.connect()).map_err(|e| fail(&e))?;
        let ops = longrunning::operations_client::OperationsClient::with_interceptor(
            channel.clone(),
            Auth(token.clone()),
        )
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let stub = GridTradeServiceClient::with_interceptor(channel, Auth(token))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        Ok(Client { runtime, stub, ops })
    }

    pub fn list_networks(&mut self) -> Result<proto::ListNetworksResponse, Status> {
        let stub = &mut self.stub;
        self.runtime
            .block_on(stub.list_networks(proto::ListNetworksRequest {}))
            .map(tonic::Response::into_inner)
    }

    /// Every page of a network (version 0: the newest), put together.
    pub fn get_network(
        &mut self,
        name: &str,
        version: u64,
    ) -> Result<proto::GetNetworkResponse, Status> {
        let page = |page_token| proto::GetNetworkRequest {
            name: name.to_string(),
            version,
            page_token,
            ..Default::default()
        };
        let stub = &mut self.stub;
        self.runtime.block_on(async move {
            let mut r = stub.get_network(page(String::new())).await?.into_inner();
            while !r.next_page_token.is_empty() {
                let token = std::mem::take(&mut r.next_page_token);
                let next = stub.get_network(page(token)).await?.into_inner();
                r.buses.extend(next.buses);
                r.branches.extend(next.branches);
                r.generators.extend(next.generators);
                r.storage_units.extend(next.storage_units);
                r.next_page_token = next.next_page_token;
            }
            Ok(r)
        })
    }

    /// Solve through SolveStream: `progress` hears each phase, HiGHS' iterations and log
    /// lines as they arrive; returns the result put back together.
    pub fn solve_stream(
        &mut self,
        req: proto::SolveRequest,
        timeout: Option<Duration>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<proto::SolveResponse, Status> {
        let stub = &mut self.stub;
        self.runtime.block_on(async move {
            let mut stream = stub.solve_stream(request(req, timeout)).await?.into_inner();
            let mut assembler = StreamAssembler::default();
            while let Some(event) = stream.message().await? {
                if let Some(p) = assembler.push(event) {
                    progress(p);
                }
            }
            assembler
                .finish()
                .ok_or_else(|| Status::internal("the stream ended without a result"))
        })
    }

    pub fn trade(
        &mut self,
        req: proto::TradeRequest,
        timeout: Option<Duration>,
    ) -> Result<proto::TradeResponse, Status> {
        let stub = &mut self.stub;
        self.runtime
            .block_on(stub.trade(request(req, timeout)))
            .map(tonic::Response::into_inner)
    }

    pub fn plan(
        &mut self,
        req: proto::PlanRequest,
        timeout: Option<Duration>,
    ) -> Result<proto::PlanResponse, Status> {
        let stub = &mut self.stub;
        self.runtime
            .block_on(stub.plan(request(req, timeout)))
            .map(tonic::Response::into_inner)
    }

    pub fn update_network(
        &mut self,
        req: proto::UpdateNetworkRequest,
    ) -> Result<proto::UpdateNetworkResponse, Status> {
        let stub = &mut self.stub;
        self.runtime
            .block_on(stub.update_network(req))
            .map(tonic::Response::into_inner)
    }

    /// Upload through UploadNetworkStream (see [`upload_chunks`]).
    pub fn upload(
        &mut self,
        chunks: Vec<proto::UploadNetworkStreamRequest>,
    ) -> Result<proto::UploadNetworkResponse, Status> {
        let stub = &mut self.stub;
        self.runtime
            .block_on(stub.upload_network_stream(tokio_stream::iter(chunks)))
            .map(tonic::Response::into_inner)
    }

    /// Submit a study (SubmitStudy): its operation.
    pub fn submit_study(&mut self, req: proto::SubmitStudyRequest) -> Result<Operation, Status> {
        let stub = &mut self.stub;
        self.runtime
            .block_on(stub.submit_study(req))
            .map(tonic::Response::into_inner)
    }

    pub fn get_study_results(
        &mut self,
        req: proto::GetStudyResultsRequest,
    ) -> Result<proto::GetStudyResultsResponse, Status> {
        let stub = &mut self.stub;
        self.runtime
            .block_on(stub.get_study_results(req))
            .map(tonic::Response::into_inner)
    }

    pub fn get_case_result(
        &mut self,
        study: &str,
        case: u32,
    ) -> Result<proto::GetCaseResultResponse, Status> {
        let stub = &mut self.stub;
        let req = proto::GetCaseResultRequest {
            study: study.to_string(),
            case,
        };
        self.runtime
            .block_on(stub.get_case_result(req))
            .map(tonic::Response::into_inner)
    }

    pub fn get_operation(&mut self, name: &str) -> Result<Operation, Status> {
        let ops = &mut self.ops;
        let req = longrunning::GetOperationRequest {
            name: name.to_string(),
        };
        self.runtime
            .block_on(ops.get_operation(req))
            .map(tonic::Response::into_inner)
    }

    /// WaitOperation: the operation when done, or after `timeout` as it then stands.
    pub fn wait_operation(&mut self, name: &str, timeout: Duration) -> Result<Operation, Status> {
        let ops = &mut self.ops;
        let req = longrunning::WaitOperationRequest {
            name: name.to_string(),
            timeout: prost_types::Duration::try_from(timeout).ok(),
        };
        self.runtime
            .block_on(ops.wait_operation(req))
            .map(tonic::Response::into_inner)
    }

    pub fn list_operations(
        &mut self,
        page_size: i32,
        page_token: &str,
    ) -> Result<longrunning::ListOperationsResponse, Status> {
        let ops = &mut self.ops;
        let req = longrunning::ListOperationsRequest {
            name: "studies".into(),
            page_size,
            page_token: page_token.to_string(),
            ..Default::default()
        };
        self.runtime
            .block_on(ops.list_operations(req))
            .map(tonic::Response::into_inner)
    }

    pub fn cancel_operation(&mut self, name: &str) -> Result<(), Status> {
        let ops = &mut self.ops;
        let req = longrunning::CancelOperationRequest {
            name: name.to_string(),
        };
        self.runtime.block_on(ops.cancel_operation(req)).map(|_| ())
    }

    pub fn delete_operation(&mut self, name: &str) -> Result<(), Status> {
        let ops = &mut self.ops;
        let req = longrunning::DeleteOperationRequest {
            name: name.to_string(),
        };
        self.runtime.block_on(ops.delete_operation(req)).map(|_| ())
    }

    pub fn delete_network(&mut self, name: &str) -> Result<(), Status> {
        let stub = &mut self.stub;
        let req = proto::DeleteNetworkRequest {
            name: name.to_string(),
        };
        self.runtime.block_on(stub.delete_network(req)).map(|_| ())
    }
}

/// Size of an upload chunk, bytes.
const UPLOAD_CHUNK: usize = 1 << 20;

fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A PyPSA folder's .csv files, or one file, as upload chunks (the first names the network).
pub fn upload_chunks(
    name: &str,
    path: &Path,
) -> Result<Vec<proto::UploadNetworkStreamRequest>, Error> {
    let mut files = Vec::new();
    if path.is_dir() {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        for e in std::fs::read_dir(path).map_err(io)? {
            let p = e.map_err(io)?.path();
            if p.extension().is_some_and(|x| x == "csv") {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut chunks = Vec::new();
    for p in files {
        let data = read_file(&p)?;
        let file_name = p
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pieces: Vec<&[u8]> = if data.is_empty() {
            vec![&[]]
        } else {
            data.chunks(UPLOAD_CHUNK).collect()
        };
        for piece in pieces {
            chunks.push(proto::UploadNetworkStreamRequest {
                name: if chunks.is_empty() {
                    name.to_string()
                } else {
                    String::new()
                },
                file_name: file_name.clone(),
                data: piece.to_vec(),
            });
        }
    }
    Ok(chunks)
}

/// A client's side of `SolveStream`: puts the result back together with its series
/// appended, and hands progress events back to show.
#[derive(Default)]
pub struct StreamAssembler {
    result: Option<proto::SolveResponse>,
}

impl StreamAssembler {
    /// Take one event; progress events are returned for the caller to show.
    pub fn push(&mut self, e: proto::SolveStreamResponse) -> Option<Progress> {
        use proto::solve_stream_response::Event;
        match e.event? {
            Event::Result(r) => self.result = Some(r),
            Event::Series(c) => {
                let r = self.result.as_mut()?;
                let field = match proto::SeriesKind::try_from(c.kind).ok()? {
                    proto::SeriesKind::BusPrices => &mut r.bus_prices,
                    proto::SeriesKind::BranchFlows => &mut r.branch_flows,
                    proto::SeriesKind::BranchShadowPrices => &mut r.branch_shadow_prices,
                    proto::SeriesKind::GeneratorOutput => &mut r.generator_output,
                    proto::SeriesKind::Unspecified => return None,
                };
                field.extend(c.series);
            }
            Event::Phase(p) => {
                return Some(Progress::Phase(
                    match proto::SolvePhase::try_from(p).ok()? {
                        proto::SolvePhase::Validating => Phase::Validating,
                        proto::SolvePhase::Building => Phase::Building,
                        proto::SolvePhase::Solving => Phase::Solving,
                        proto::SolvePhase::Extracting => Phase::Extracting,
                        proto::SolvePhase::Diagnosing => Phase::Diagnosing,
                        proto::SolvePhase::Queued => Phase::Queued,
                        proto::SolvePhase::Unspecified => return None,
                    },
                ))
            }
            Event::Log(l) => return Some(Progress::Log(l)),
            Event::Iteration(i) => {
                return Some(Progress::Iteration {
                    simplex: i.simplex_iterations,
                    ipm: i.ipm_iterations,
                    objective: i.objective,
                    seconds: i.seconds,
                })
            }
            Event::LazyRound(r) => {
                return Some(Progress::LazyRound {
                    round: r.round as usize,
                    violated: r.violated as usize,
                    limit_rows: r.limit_rows as usize,
                })
            }
        }
        None
    }

    pub fn finish(self) -> Option<proto::SolveResponse> {
        self.result
    }
}
