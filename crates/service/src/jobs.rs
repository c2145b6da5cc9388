//! Solves and trade studies on the server: admission (a bounded queue), a solver slot per
//! running job (held on the blocking thread, so a slot is only freed when HiGHS has really
//! stopped), progress events for `SolveStream`, and cancellation when the caller goes away.

use super::{convert, proto, status_of};
use gridtrade_engine::error::Error;
use gridtrade_engine::network::Network;
use gridtrade_engine::solution::Status as SolveStatus;
use gridtrade_engine::solve::{self, Outcome, SolveOptions};
use gridtrade_engine::solver::{Control, Phase, Progress};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;

/// Cancels its control when dropped: a handler future dropped because the client went away
/// (or its deadline passed) stops the solve it started.
pub struct CancelOnDrop(pub Control);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// An admitted solve: what to solve, and the admission permit, held until the job is dropped.
pub struct SolveJob {
    pub name: String,
    pub version: u64,
    pub network: Arc<Network>,
    /// Snapshot positions; (0, 0) = the whole horizon.
    pub range: (u32, u32),
    pub opts: SolveOptions,
    pub include_series: bool,
    pub _admitted: OwnedSemaphorePermit,
}

/// Run `work` on a blocking thread once a solver slot is free. The slot is held by the
/// blocking thread itself.
pub async fn on_solver_slot<T: Send + 'static>(
    running: Arc<Semaphore>,
    control: &Control,
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Status> {
    control.emit(Progress::Phase(Phase::Queued));
    let slot = running
        .acquire_owned()
        .await
        .map_err(|_| Status::unavailable("the server is shutting down"))?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
    .map_err(|e| Status::internal(format!("solve task failed: {e}")))?
    .map_err(|e| status_of(&e))
}

/// Solve a job: returns the solved network (the stored version, or the snapshot range cut
/// out of it) and the outcome.
pub async fn solve(
    running: Arc<Semaphore>,
    job: &SolveJob,
    control: Control,
) -> Result<(Arc<Network>, Outcome), Status> {
    let network = job.network.clone();
    let range = job.range;
    let opts = job.opts.clone();
    let c = control.clone();
    on_solver_slot(running, &control, move || {
        // The stored version is shared; copy it only to cut out a snapshot range.
        let n = if range == (0, 0) {
            network
        } else {
            let mut part = (*network).clone();
            solve::select_snapshots(&mut part, range.0 as usize..range.1 as usize)?;
            Arc::new(part)
        };
        let outcome = solve::solve_with(&n, &opts, &c)?;
        Ok((n, outcome))
    })
    .await
}

/// The response to a finished solve, or the status that says why there is none.
pub fn response(
    job: &SolveJob,
    n: &Network,
    outcome: &Outcome,
) -> Result<proto::SolveResponse, Status> {
    match outcome.status {
        SolveStatus::Optimal | SolveStatus::TimeLimit if outcome.results.is_some() => {
            Ok(convert::solve_response(
                n,
                &job.name,
                job.version,
                outcome,
                &job.opts,
                job.include_series,
            ))
        }
        SolveStatus::TimeLimit => Err(Status::deadline_exceeded(
            "no feasible dispatch found within the deadline",
        )),
        SolveStatus::Cancelled => Err(Status::cancelled("the solve was cancelled")),
        other => Err(Status::failed_precondition(format!(
            "{}: {}: {}",
            job.name,
            other.as_str(),
            outcome
                .diagnosis
                .as_ref()
                .map(|d| d.summary.as_str())
                .unwrap_or("no diagnosis")
        ))),
    }
}

/// A progress report as a stream event.
pub fn event(p: Progress) -> proto::SolveStreamResponse {
    use proto::solve_stream_response::Event;
    let e = match p {
        Progress::Phase(p) => Event::Phase(phase(p) as i32),
        Progress::Log(line) => Event::Log(line),
        Progress::Iteration {
            simplex,
            ipm,
            objective,
            seconds,
        } => Event::Iteration(proto::SolveIteration {
            simplex_iterations: simplex,
            ipm_iterations: ipm,
            objective,
            seconds,
        }),
        Progress::LazyRound {
            round,
            violated,
            limit_rows,
        } => Event::LazyRound(proto::LazyRound {
            round: round as u32,
            violated: violated as u64,
            limit_rows: limit_rows as u64,
        }),
    };
    proto::SolveStreamResponse { event: Some(e) }
}

/// A phase in the API.
pub fn phase(p: Phase) -> proto::SolvePhase {
    match p {
        Phase::Queued => proto::SolvePhase::Queued,
        Phase::Validating => proto::SolvePhase::Validating,
        Phase::Building => proto::SolvePhase::Building,
        Phase::Solving => proto::SolvePhase::Solving,
        Phase::Extracting => proto::SolvePhase::Extracting,
        Phase::Diagnosing => proto::SolvePhase::Diagnosing,
    }
}

/// Largest series chunk of a streamed result, bytes of values.
pub const CHUNK_BYTES: usize = 1 << 20;

/// A result as stream events: the result without series, then its series in chunks of at
/// most [`CHUNK_BYTES`] (a single series larger than that goes alone).
pub fn chunks(mut r: proto::SolveResponse) -> Vec<proto::SolveStreamResponse> {
    use proto::solve_stream_response::Event;
    let kinds = [
        (
            proto::SeriesKind::BusPrices,
            std::mem::take(&mut r.bus_prices),
        ),
        (
            proto::SeriesKind::BranchFlows,
            std::mem::take(&mut r.branch_flows),
        ),
        (
            proto::SeriesKind::BranchShadowPrices,
            std::mem::take(&mut r.branch_shadow_prices),
        ),
        (
            proto::SeriesKind::GeneratorOutput,
            std::mem::take(&mut r.generator_output),
        ),
    ];
    let mut out = vec![proto::SolveStreamResponse {
        event: Some(Event::Result(r)),
    }];
    for (kind, series) in kinds {
        let mut chunk: Vec<proto::Series> = Vec::new();
        let mut bytes = 0;
        for s in series {
            let size = s.values.len() * 8 + s.name.len();
            if !chunk.is_empty() && bytes + size > CHUNK_BYTES {
                out.push(series_event(kind, std::mem::take(&mut chunk)));
                bytes = 0;
            }
            bytes += size;
            chunk.push(s);
        }
        if !chunk.is_empty() {
            out.push(series_event(kind, chunk));
        }
    }
    out
}

fn series_event(kind: proto::SeriesKind, series: Vec<proto::Series>) -> proto::SolveStreamResponse {
    proto::SolveStreamResponse {
        event: Some(proto::solve_stream_response::Event::Series(
            proto::SeriesChunk {
                kind: kind as i32,
                series,
            },
        )),
    }
}
