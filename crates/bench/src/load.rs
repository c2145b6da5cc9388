//! The load and fault test (`gridtrade loadtest`, and `tests/load.rs` in CI, shorter): a
//! real `gridtrade serve` process with `--data-dir`, `clients` concurrent clients for a
//! while doing what planners do — solves, streamed solves, trades, uploads, edits, pages of
//! a network, solves they cancel and connections they drop — a health check every quarter
//! second, and optionally `kill -9` of the server in the middle, restarted at once on the
//! same data. At the end every upload and edit the server accepted is read back from the
//! server that is left.
//!
//! What it reports ([`LoadReport`]): calls by action and status, latency percentiles of the
//! calls that succeeded, health checks that failed, peak resident memory of each server
//! process (`VmHWM`), the time a restart took, and what was accepted and lost.

use gridtrade_proto::grid_trade_service_client::GridTradeServiceClient;
use gridtrade_proto::{self as proto, edit::Edit as E};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};
use tonic::Code;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The `gridtrade` binary.
    pub server_bin: PathBuf,
    /// `--networks` of the server: must hold `example` and `carec`.
    pub networks: PathBuf,
    /// `--data-dir` of the server; a fresh temporary folder when `None`.
    pub data_dir: Option<PathBuf>,
    pub clients: usize,
    pub duration: Duration,
    /// Kill the server with SIGKILL this long after the start, and start it again.
    pub kill_at: Option<Duration>,
    /// More arguments of `gridtrade serve` (limits, concurrency).
    pub server_args: Vec<String>,
}

/// Latency of the successful calls of one action, milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Percentiles {
    pub n: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// What happened.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    pub clients: usize,
    pub seconds: f64,
    pub calls: u64,
    /// `action status` -> calls, e.g. `solve OK`, `trade ResourceExhausted`.
    pub by_status: BTreeMap<String, u64>,
    /// Calls that failed with a status other than the documented RESOURCE_EXHAUSTED and
    /// DEADLINE_EXCEEDED while the server was up (the first 50, with their message).
    pub undocumented: Vec<String>,
    pub undocumented_count: u64,
    /// Calls that failed because the server was being killed and restarted.
    pub during_restart: u64,
    pub latency: BTreeMap<String, Percentiles>,
    pub health_checks: u64,
    /// Health checks that failed (or took over 2 s) while the server was up.
    pub health_failures: u64,
    /// Peak resident memory of each server process, MB (VmHWM).
    pub peak_rss_mb: Vec<f64>,
    /// Seconds from spawning the server to its first answer, first start and restart.
    pub start_s: f64,
    pub restart_s: Option<f64>,
    /// Seconds the clients took to finish their last call after the end.
    pub drain_s: f64,
    /// Seconds to read back every accepted upload and edit from the last server.
    pub verify_s: f64,
    pub accepted_uploads: usize,
    pub accepted_edits: usize,
    /// Accepted uploads and edits the last server does not have.
    pub lost: Vec<String>,
}

/// A running `gridtrade serve` process and where it listens (the load test's server, and
/// `gridtrade bench --study`'s); killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Server {
    fn start(c: &LoadConfig) -> Result<Server, String> {
        let mut args: Vec<std::ffi::OsString> =
            vec!["--networks".into(), c.networks.clone().into()];
        args.push("--data-dir".into());
        args.extend(c.data_dir.iter().map(Into::into));
        args.extend(c.server_args.iter().map(Into::into));
        Server::spawn(&c.server_bin, &args)
    }

    /// Start `bin serve --addr 127.0.0.1:0 ARGS` and wait (at most 2 minutes) for the
    /// address it announces on stderr.
    pub fn spawn(bin: &std::path::Path, args: &[std::ffi::OsString]) -> Result<Server, String> {
        let mut child = Command::new(bin)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.starts_with("gridtrade serving") {
                    if let Some(url) = line.split(" on ").nth(1).and_then(|r| r.split(' ').next()) {
                        let _ = tx.send(url.to_string());
                    }
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(120))
            .map_err(|_| "the server did not start within 2 minutes".to_string())?;
        Ok(Server { child, url })
    }

    /// Resident memory now, MB (`VmRSS` of /proc; 0 where there is no /proc).
    pub fn rss_mb(&self) -> f64 {
        self.status_mb("VmRSS:")
    }

    /// Peak resident memory so far, MB (`VmHWM` of /proc; 0 where there is no /proc).
    pub fn peak_rss_mb(&self) -> f64 {
        self.status_mb("VmHWM:")
    }

    fn status_mb(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()));
        status
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(field))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            })
            .map_or(0.0, |kb| kb / 1024.0)
    }

    /// Kill it (SIGKILL) and reap it; dropping it does the same.
    pub fn kill(self) {
        drop(self)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the clients send their calls; `generation` counts restarts, `down` is set while
/// the server is being killed and started again.
#[derive(Default)]
struct Target {
    url: String,
    generation: u64,
    down: bool,
}

/// What the clients record, shared.
#[derive(Default)]
struct Shared {
    report: LoadReport,
    latencies: BTreeMap<String, Vec<f64>>,
    /// Every accepted upload and edit.
    accepted: Vec<Change>,
}

/// Run the test; `Err` only when the server cannot be started.
pub fn run(c: &LoadConfig) -> Result<LoadReport, String> {
    let temp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut c = c.clone();
    c.data_dir.get_or_insert_with(|| temp.path().to_path_buf());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(run_async(&c))
}

async fn run_async(c: &LoadConfig) -> Result<LoadReport, String> {
    let spawned = Instant::now();
    let mut server = Server::start(c)?;
    let start_s = spawned.elapsed().as_secs_f64();
    let target = Arc::new(RwLock::new(Target {
        url: server.url.clone(),
        ..Default::default()
    }));
    let shared = Arc::new(Mutex::new(Shared::default()));
    let start = Instant::now();
    let end = start + c.duration;
    let mut tasks = Vec::new();
    for i in 0..c.clients {
        tasks.push(tokio::spawn(client_loop(
            i,
            end,
            target.clone(),
            shared.clone(),
        )));
    }
    tasks.push(tokio::spawn(health_loop(
        end,
        target.clone(),
        shared.clone(),
    )));
    let mut peaks = Vec::new();
    if let Some(at) = c.kill_at.filter(|at| *at < c.duration) {
        tokio::time::sleep(at).await;
        target.write().expect("target").down = true;
        peaks.push(server.peak_rss_mb());
        server.kill();
        let restarted = Instant::now();
        server = Server::start(c)?;
        let mut t = target.write().expect("target");
        (t.url, t.generation, t.down) = (server.url.clone(), t.generation + 1, false);
        shared.lock().expect("shared").report.restart_s = Some(restarted.elapsed().as_secs_f64());
    }
    for t in tasks {
        let _ = t.await;
    }
    let seconds = start.elapsed().as_secs_f64();
    let verifying = Instant::now();
    let lost = verify(&server.url, &shared).await;
    let verify_s = verifying.elapsed().as_secs_f64();
    peaks.push(server.peak_rss_mb());
    server.kill();
    let mut s = Arc::try_unwrap(shared)
        .map_err(|_| "clients still running")?
        .into_inner()
        .map_err(|e| e.to_string())?;
    s.report.clients = c.clients;
    s.report.seconds = c.duration.as_secs_f64();
    s.report.drain_s = seconds - c.duration.as_secs_f64();
    s.report.start_s = start_s;
    s.report.verify_s = verify_s;
    s.report.peak_rss_mb = peaks;
    s.report.lost = lost;
    s.report.accepted_uploads = s.accepted.iter().filter(|a| a.2.is_none()).count();
    s.report.accepted_edits = s.accepted.iter().filter(|a| a.2.is_some()).count();
    s.report.latency = s
        .latencies
        .iter()
        .map(|(k, v)| (k.clone(), percentiles(v)))
        .collect();
    Ok(s.report)
}

fn percentiles(ms: &[f64]) -> Percentiles {
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Percentiles {
        n: v.len(),
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: v.last().copied().unwrap_or(0.0),
    }
}

async fn channel(url: &str) -> Result<Channel, tonic::Status> {
    Endpoint::from_shared(url.to_string())
        .map_err(|e| tonic::Status::invalid_argument(e.to_string()))?
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))
}

fn client(ch: Channel) -> GridTradeServiceClient<Channel> {
    GridTradeServiceClient::new(ch)
        .max_decoding_message_size(proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(proto::MAX_MESSAGE_BYTES)
}

/// The actions a client cycles through.
const ACTIONS: &[&str] = &[
    "solve", "upload", "stream", "edit", "trade", "get", "cancel", "edit", "drop", "list",
];

async fn client_loop(
    i: usize,
    end: Instant,
    target: Arc<RwLock<Target>>,
    shared: Arc<Mutex<Shared>>,
) {
    let mut conn: Option<(u64, Channel)> = None;
    let mut mine: Option<String> = None;
    let mut k = 0usize;
    while Instant::now() < end {
        let (url, generation) = {
            let t = target.read().expect("target");
            (t.url.clone(), t.generation)
        };
        if conn.as_ref().is_none_or(|(g, _)| *g != generation) {
            conn = channel(&url).await.ok().map(|ch| (generation, ch));
        }
        let action = ACTIONS[(i + k) % ACTIONS.len()];
        k += 1;
        let Some((_, ch)) = conn.clone() else {
            record(
                &shared,
                &target,
                generation,
                action,
                Err(tonic::Status::unavailable("no connection")),
                0.0,
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let began = Instant::now();
        let result = act(action, (i, k), &ch, &url, &mut mine).await;
        let ms = began.elapsed().as_secs_f64() * 1e3;
        if let Ok(Some(change)) = &result {
            shared.lock().expect("shared").accepted.push(change.clone());
        }
        let unavailable = matches!(&result, Err(e) if e.code() == Code::Unavailable);
        record(&shared, &target, generation, action, result.map(|_| ()), ms);
        if unavailable {
            // The server is down (being restarted): try again shortly, on a new connection.
            conn = None;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// An accepted upload or edit: (network, version, capacity of KG-KZ_S set by an edit).
type Change = (String, u64, Option<f64>);

/// One call; `Ok(Some(..))` for an accepted upload or edit.
async fn act(
    action: &str,
    (i, k): (usize, usize),
    ch: &Channel,
    url: &str,
    mine: &mut Option<String>,
) -> Result<Option<Change>, tonic::Status> {
    let mut c = client(ch.clone());
    let example = |model: i32| proto::SolveRequest {
        network: "example".into(),
        snapshot_end: 24,
        model,
        ..Default::default()
    };
    let carec_month = proto::SolveRequest {
        network: "carec".into(),
        snapshot_end: 744,
        model: proto::NetworkModel::Transport as i32,
        ..Default::default()
    };
    match action {
        "solve" => c.solve(example((k % 2) as i32 + 1)).await.map(|_| None),
        "stream" => {
            let mut s = c.solve_stream(example(1)).await?.into_inner();
            while s.message().await?.is_some() {}
            Ok(None)
        }
        "trade" => {
            // The example's zones cannot all supply themselves: autarky sheds at VoLL.
            let req = proto::TradeRequest {
                network: "example".into(),
                snapshot_end: 24,
                voll: Some(3000.0),
                ..Default::default()
            };
            c.trade(req).await.map(|_| None)
        }
        "upload" => upload(&mut c, format!("load-c{i}-u{k}"), mine)
            .await
            .map(Some),
        "edit" => match mine.clone() {
            Some(name) => edit(&mut c, name, 100.0 + k as f64).await.map(Some),
            None => c
                .list_networks(proto::ListNetworksRequest {})
                .await
                .map(|_| None),
        },
        "get" => page_through(&mut c, "example").await.map(|_| None),
        "cancel" => {
            // A month of CAREC, given up after 300 ms: the call is dropped mid-way.
            match tokio::time::timeout(Duration::from_millis(300), c.solve(carec_month)).await {
                Ok(r) => r.map(|_| None),
                Err(_) => Err(tonic::Status::cancelled("given up by the client")),
            }
        }
        "drop" => {
            // A connection of its own, dropped after the first event of a stream.
            let mut own = client(channel(url).await?);
            let mut s = own.solve_stream(carec_month).await?.into_inner();
            let _ = s.message().await?;
            Ok(None)
        }
        _ => c
            .list_networks(proto::ListNetworksRequest {})
            .await
            .map(|_| None),
    }
}

/// Upload the example as `name`, which becomes the client's network to edit.
async fn upload(
    c: &mut GridTradeServiceClient<Channel>,
    name: String,
    mine: &mut Option<String>,
) -> Result<Change, tonic::Status> {
    let req = proto::UploadNetworkRequest {
        name: name.clone(),
        files: example_files(),
    };
    let v = c.upload_network(req).await?.into_inner();
    *mine = Some(name.clone());
    Ok((name, v.summary.map_or(1, |s| s.version), None))
}

/// Set the capacity of link KG-KZ_S of the newest version of `name`, MW.
async fn edit(
    c: &mut GridTradeServiceClient<Channel>,
    name: String,
    capacity: f64,
) -> Result<Change, tonic::Status> {
    let req = proto::UpdateNetworkRequest {
        name: name.clone(),
        base_version: 0,
        edits: vec![proto::Edit {
            edit: Some(E::SetAttribute(proto::SetAttribute {
                element: "KG-KZ_S".into(),
                attribute: "p_nom".into(),
                value: capacity,
            })),
        }],
    };
    let v = c.update_network(req).await?.into_inner();
    Ok((name, v.summary.map_or(0, |s| s.version), Some(capacity)))
}

/// Every page of network `name`, three elements at a time.
async fn page_through(
    c: &mut GridTradeServiceClient<Channel>,
    name: &str,
) -> Result<(), tonic::Status> {
    let mut token = String::new();
    loop {
        let req = proto::GetNetworkRequest {
            name: name.into(),
            page_size: 3,
            page_token: token,
            ..Default::default()
        };
        token = c.get_network(req).await?.into_inner().next_page_token;
        if token.is_empty() {
            return Ok(());
        }
    }
}

fn example_files() -> Vec<proto::File> {
    crate::EXAMPLE_FILES
        .iter()
        .map(|(name, content)| proto::File {
            name: (*name).into(),
            content: content.as_bytes().to_vec(),
        })
        .collect()
}

fn record(
    shared: &Mutex<Shared>,
    target: &RwLock<Target>,
    generation: u64,
    action: &str,
    result: Result<(), tonic::Status>,
    ms: f64,
) {
    let (now_generation, down) = {
        let t = target.read().expect("target");
        (t.generation, t.down)
    };
    let mut s = shared.lock().expect("shared");
    s.report.calls += 1;
    let status = match &result {
        Ok(()) => "OK".to_string(),
        Err(e) => format!("{:?}", e.code()),
    };
    *s.report
        .by_status
        .entry(format!("{action} {status}"))
        .or_default() += 1;
    match result {
        Ok(()) => s.latencies.entry(action.to_string()).or_default().push(ms),
        // The client gave up on purpose.
        Err(e) if e.code() == Code::Cancelled && action == "cancel" => {}
        Err(e) if matches!(e.code(), Code::ResourceExhausted | Code::DeadlineExceeded) => {}
        Err(_) if down || generation != now_generation => s.report.during_restart += 1,
        Err(e) => {
            s.report.undocumented_count += 1;
            if s.report.undocumented.len() < 50 {
                s.report
                    .undocumented
                    .push(format!("{action}: {:?} {}", e.code(), e.message()));
            }
        }
    }
}

async fn health_loop(end: Instant, target: Arc<RwLock<Target>>, shared: Arc<Mutex<Shared>>) {
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
    while Instant::now() < end {
        let (url, generation) = {
            let t = target.read().expect("target");
            (t.url.clone(), t.generation)
        };
        let check = async {
            let mut h = HealthClient::new(channel(&url).await?);
            h.check(HealthCheckRequest {
                service: String::new(),
            })
            .await
        };
        let ok = matches!(
            tokio::time::timeout(Duration::from_secs(2), check).await,
            Ok(Ok(_))
        );
        let (down, now) = {
            let t = target.read().expect("target");
            (t.down, t.generation)
        };
        {
            let mut s = shared.lock().expect("shared");
            s.report.health_checks += 1;
            if !ok && !down && now == generation {
                s.report.health_failures += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every accepted upload and edit, read back: the network at that version exists and an
/// edit's capacity is the one it set, and the restart left no version unrestored. Returns
/// what is missing, different or unrestored.
async fn verify(url: &str, shared: &Mutex<Shared>) -> Vec<String> {
    let accepted = shared.lock().expect("shared").accepted.clone();
    let Ok(ch) = channel(url).await else {
        return vec!["the last server does not answer".into()];
    };
    let mut c = client(ch);
    let mut lost = Vec::new();
    // A version cut short by the kill must not exist half-made: nothing left unrestored.
    match c.list_networks(proto::ListNetworksRequest {}).await {
        Ok(r) => lost.extend(r.into_inner().unrestored.into_iter().map(|u| {
            format!(
                "{} version {} not restored: {}",
                u.network, u.version, u.reason
            )
        })),
        Err(e) => lost.push(format!("ListNetworks: {}", e.message())),
    }
    for (name, version, capacity) in accepted {
        let req = proto::GetNetworkRequest {
            name: name.clone(),
            version,
            page_size: 100,
            ..Default::default()
        };
        match c.get_network(req).await {
            Err(e) => lost.push(format!("{name} v{version}: {}", e.message())),
            Ok(r) => {
                let got = r
                    .into_inner()
                    .branches
                    .iter()
                    .find(|b| b.name == "KG-KZ_S")
                    .map(|b| b.capacity_mw);
                if let (Some(want), Some(got)) = (capacity, got) {
                    if want != got {
                        lost.push(format!(
                            "{name} v{version}: KG-KZ_S {got} MW, the edit set {want}"
                        ));
                    }
                }
            }
        }
    }
    lost
}
