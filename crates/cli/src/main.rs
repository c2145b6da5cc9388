//! The command line: `gridtrade solve | validate | info | trade | serve | call`.
//!
//! Exit codes: 0 when the solve is optimal (or the check passes), 2 when the problem is
//! infeasible or unbounded or no solution was found in time (the diagnosis goes to stderr),
//! 1 on bad input or options.

use clap::{Args, Parser, Subcommand};
use gridtrade_engine::error::{Error, Findings};
use gridtrade_engine::formulation::{
    Choice, Contingencies, DcConvention, FormulationOptions, Kvl, NetworkModel, Outages,
};
use gridtrade_engine::network::Network;
use gridtrade_engine::solution::Status;
use gridtrade_engine::solve::{self, SolveOptions};
use gridtrade_engine::validate::{self, CheckOptions};
use gridtrade_engine::{io, report};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod bench;
mod bench_study;
mod call;
mod call_study;
mod plan;
mod progress;
mod study;
mod trade;

#[derive(Parser)]
#[command(
    name = "gridtrade",
    version,
    about = "Least-cost dispatch, DC power flow and cross-border electricity trade"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Solve the least-cost dispatch of a network (PyPSA CSV folder or MATPOWER .m file).
    Solve(SolveArgs),
    /// Check a network and list every problem found.
    Validate(ValidateArgs),
    /// Print what a network holds: buses, zones, lines, links, generators, horizon.
    Info(InfoArgs),
    /// Cross-border trade report: prices, flows, congestion, welfare and gains from trade,
    /// optionally for a scenario compared with the base or another scenario.
    Trade(trade::TradeArgs),
    /// Capacity expansion: which candidate (extendable element) pays for itself, the
    /// system-cost and CO2 saving, and each country's gain.
    Plan(plan::PlanArgs),
    /// Solve a study of many cases (scenario files or a grid of factors) here, cases in
    /// parallel up to --jobs, and print the table across cases (CSV).
    Study(study::StudyArgs),
    /// Run the gRPC server (gridtrade.v1) with every network under --networks.
    Serve(ServeArgs),
    /// Solve study cases queued in a shared database (PostgreSQL), without an API.
    Worker(WorkerArgs),
    /// Call a gridtrade server: networks, get, solve, trade, update, upload, delete.
    Call(call::CallArgs),
    /// Write a seeded synthetic network (PyPSA CSV folder) of any size.
    Synth(bench::SynthArgs),
    /// End-to-end benchmark: each case in a fresh process, one JSON record per case.
    Bench(bench::BenchArgs),
    /// One benchmark solve, measured (used by `bench`).
    #[command(hide = true)]
    BenchOne(bench::BenchOneArgs),
    /// Load and fault test: a `gridtrade serve` process under concurrent clients, killed
    /// with SIGKILL mid-way and restarted; figures as JSON (benches/README.md).
    Loadtest(bench::LoadtestArgs),
}

/// Where studies are queued and how workers take them (`serve`, `worker`).
#[derive(Args)]
pub(crate) struct QueueArgs {
    /// The study queue's database: `postgres://USER@HOST:PORT/DB` (shared by any number of
    /// replicas and workers; `serve` keeps uploads and edits there too, shared by the
    /// replicas, instead of under --data-dir), an SQLite file (`sqlite://PATH`) or
    /// `sqlite::memory:`. Default: DATA_DIR/studies.sqlite with --data-dir, else in memory.
    #[arg(long, value_name = "URL", env = "GRIDTRADE_DATABASE")]
    database: Option<String>,
    /// Workers on this process claiming study cases, one solve each (0: none, API only).
    /// Default: the number of cores.
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// How long a claimed case stays a worker's without a heartbeat (every third of it);
    /// a worker that dies holds its case this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    lease: f64,
    /// How often an idle worker looks for cases queued by other replicas.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.5)]
    poll: f64,
}

impl QueueArgs {
    fn config(&self, data_dir: Option<&Path>) -> Result<gridtrade_service::StudyConfig, Error> {
        let seconds = |option: &str, s: f64| {
            if s > 0.0 && s <= 86_400.0 {
                Ok(std::time::Duration::from_secs_f64(s))
            } else {
                Err(Error::option(
                    option,
                    format!("{s}: must be a number of seconds in (0, 86400]"),
                ))
            }
        };
        let database = match (&self.database, data_dir) {
            (Some(url), _) => url.clone(),
            (None, Some(dir)) => dir.join("studies.sqlite").display().to_string(),
            (None, None) => "sqlite::memory:".into(),
        };
        Ok(gridtrade_service::StudyConfig {
            database,
            workers: self.workers.unwrap_or_else(cores),
            lease: seconds("--lease", self.lease)?,
            poll: seconds("--poll", self.poll)?,
        })
    }
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Solve study cases queued in a shared database (no API): the networks of --networks
/// (and --data-dir) must be the ones the API replicas hold.
#[derive(Args)]
struct WorkerArgs {
    #[arg(long, default_value = "networks")]
    networks: PathBuf,
    /// Networks uploaded and edited through the API, replayed from this directory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    queue: QueueArgs,
    /// On SIGTERM: seconds running cases get to finish before they go back to the queue.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    shutdown_grace: f64,
    /// Serve grpc.health.v1 here (for Kubernetes' gRPC probes), e.g. 0.0.0.0:8081.
    #[arg(long, value_name = "ADDR")]
    health_addr: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: String,
    /// Folder whose PyPSA folders and MATPOWER files are loaded at start.
    #[arg(long, default_value = "networks")]
    networks: PathBuf,
    /// Solves running at once (default: the number of cores).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Solves that may wait for a slot; beyond it, RESOURCE_EXHAUSTED.
    #[arg(long, default_value_t = 16)]
    queue: usize,
    /// Keep uploaded and edited networks in DIR/gridtrade.sqlite, so a restart (even after
    /// kill -9) restores every acknowledged change. Without it they live in memory only.
    /// With a PostgreSQL --database they are kept there instead, shared by the replicas.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Require bearer tokens: a file of `ROLE TOKEN [NAME]` lines, ROLE viewer (list, read,
    /// solve, trade), planner (also upload, edit) or admin (also delete).
    #[arg(long, value_name = "FILE")]
    auth_tokens: Option<PathBuf>,
    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// On SIGTERM or Ctrl-C, give in-flight solves this many seconds to finish, then cancel
    /// them.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    shutdown_grace: f64,
    /// Log one JSON object per line instead of text.
    #[arg(long)]
    log_json: bool,
    /// HiGHS' time limit for a solve or study whose call carries no deadline, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0)]
    default_deadline: f64,
    /// The longest a solve or study may run, whatever the call's deadline, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600.0)]
    max_deadline: f64,
    /// Largest LP a call may build, columns (counted before building); beyond it,
    /// RESOURCE_EXHAUSTED.
    #[arg(long, value_name = "COLUMNS", default_value_t = 10_000_000)]
    max_lp_columns: u64,
    /// Uploads received at once; beyond, RESOURCE_EXHAUSTED.
    #[arg(long, value_name = "N", default_value_t = 2)]
    max_uploads: usize,
    /// Files one upload may hold.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    max_upload_files: usize,
    /// Newest versions of each network held in memory; older ones are read back from
    /// --data-dir or rebuilt from their base when a call asks for them.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..))]
    versions_in_memory: u64,
    /// Versions held in memory across all networks (those loaded from --networks and
    /// uploads without --data-dir not counted: they always stay); beyond, the oldest made
    /// are let go and made again when asked for.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    total_versions_in_memory: u64,
    /// Newest versions of each network kept at all (in memory and in --data-dir); older
    /// ones are dropped, except the upload the kept edits are built on. Default: all.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    keep_versions: Option<u64>,
    #[command(flatten)]
    studies: QueueArgs,
}

impl ServeArgs {
    /// The limits of one call, checked.
    fn limits(&self) -> Result<gridtrade_service::Limits, Error> {
        let seconds = |option: &str, s: f64| {
            if s > 0.0 && s <= 1e7 {
                Ok(std::time::Duration::from_secs_f64(s))
            } else {
                Err(Error::option(
                    option,
                    format!("{s}: must be a number of seconds in (0, 1e7]"),
                ))
            }
        };
        let limits = gridtrade_service::Limits {
            default_deadline: seconds("--default-deadline", self.default_deadline)?,
            max_deadline: seconds("--max-deadline", self.max_deadline)?,
            max_lp_columns: self.max_lp_columns,
            concurrent_uploads: self.max_uploads.max(1),
            max_upload_files: self.max_upload_files.max(1),
        };
        if limits.default_deadline > limits.max_deadline {
            return Err(Error::option(
                "--default-deadline",
                "must not exceed --max-deadline",
            ));
        }
        Ok(limits)
    }
}

#[derive(Args)]
struct SolveArgs {
    /// PyPSA CSV folder or MATPOWER .m file.
    path: PathBuf,
    /// Print one JSON object (the summary) on stdout instead of a table.
    #[arg(long)]
    json: bool,
    /// No progress on stderr (it is shown only when stderr is a terminal anyway).
    #[arg(long, short)]
    quiet: bool,
    /// Write full results as CSV files (PyPSA naming `<component>_t-<attr>.csv`) into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Solve only snapshot positions A..B (half-open, 0-based).
    #[arg(long, value_name = "A..B", value_parser = parse_range)]
    snapshots: Option<Range<usize>>,
    /// Network model between buses.
    #[arg(long, value_parser = crate::choice::<NetworkModel>(), default_value_t = NetworkModel::Dc)]
    model: NetworkModel,
    #[command(flatten)]
    common: SolveCommon,
    #[command(flatten)]
    security: SecurityArgs,
    /// Enforce branch angle-difference limits (MATPOWER angmin/angmax; dc model).
    #[arg(long)]
    angle_limits: bool,
    /// Approximate quadratic costs by N linear segments.
    #[arg(long, value_name = "N")]
    pwl_segments: Option<usize>,
    /// Stop the solver after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    time_limit: Option<f64>,
    /// Set a HiGHS option (repeatable), e.g. `--highs solver=ipm --highs threads=2`.
    /// gridtrade turns presolve off for LPs without Kirchhoff rows (transport, links only);
    /// `--highs presolve=on` turns it back on.
    #[arg(long = "highs", value_name = "NAME=VALUE", value_parser = parse_option)]
    highs_options: Vec<(String, String)>,
    /// Start HiGHS from scratch, not from the basis gridtrade assembles for a long horizon
    /// with storage (a coarse solve by day, then blocks of three days each solved alone,
    /// put side by side). Same optimum; for comparisons (benches/README.md).
    #[arg(long)]
    cold_start: bool,
}

/// A clap parser for one of the engine's named choices ([`Choice`]), each offered with its
/// help line.
pub(crate) fn choice<T: Choice + Send + Sync>() -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let values = T::CHOICES
        .iter()
        .map(|&(_, name, help)| PossibleValue::new(name).help(help));
    PossibleValuesParser::new(values).try_map(|s| s.parse::<T>())
}

fn parse_option(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .ok_or_else(|| format!("`{s}`: expected NAME=VALUE"))
}

/// N-1 security options of `solve` and `trade` (dc model, PTDF form).
#[derive(Args, Clone)]
pub(crate) struct SecurityArgs {
    /// N-1 security-constrained dispatch: `all` AC branches, or FILE with one line or
    /// transformer name per line (a `name` header and `#` comments allowed). After each
    /// outage every other branch stays within --contingency-rating times its rating
    /// (outage distribution factors; outages that island the grid are reported and skipped).
    #[arg(long, value_name = "all|FILE")]
    pub contingencies: Option<String>,
    /// Post-contingency limit as a multiple of the normal rating (PyPSA's SCLOPF: 1).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    pub contingency_rating: f64,
}

impl SecurityArgs {
    /// The contingencies asked for, the file read (an unreadable file is an error naming it).
    pub fn contingencies(&self) -> Result<Option<Contingencies>, Error> {
        let Some(what) = &self.contingencies else {
            return Ok(None);
        };
        let outages = if what == "all" {
            Outages::All
        } else {
            let path = PathBuf::from(what);
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let names: Vec<String> = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .enumerate()
                .filter(|&(i, l)| !(i == 0 && l == "name"))
                .map(|(_, l)| l.to_string())
                .collect();
            if names.is_empty() {
                return Err(Error::option(
                    "--contingencies",
                    format!("{}: names no branch", path.display()),
                ));
            }
            Outages::Branches(names)
        };
        Ok(Some(Contingencies {
            outages,
            rating: self.contingency_rating,
        }))
    }
}

/// Options every solving command shares (`solve`, `trade`, `call solve`).
#[derive(Args, Clone, Copy)]
pub(crate) struct SolveCommon {
    /// Branch susceptance convention of the dc model.
    #[arg(long, value_parser = crate::choice::<DcConvention>(), default_value_t = DcConvention::Matpower)]
    pub dc_convention: DcConvention,
    /// Value of lost load, currency/MWh: allow load shedding at this cost.
    #[arg(long, value_name = "PRICE")]
    pub voll: Option<f64>,
    /// CO2 price, currency per tonne (in `trade`, a scenario's `co2_price` replaces it).
    #[arg(long, value_name = "PRICE", default_value_t = 0.0)]
    pub co2_price: f64,
    /// Kirchhoff's voltage law in the dc model: by cycles (no angles), by bus angles, or by
    /// shift factors with lazy line limits (ptdf; auto: it was the fastest on every network
    /// measured, benches/README.md). --angle-limits always uses angles. Same optimum and
    /// prices.
    #[arg(long, value_parser = crate::choice::<Kvl>(), default_value_t = Kvl::Auto)]
    pub kvl: Kvl,
}

#[derive(Args)]
struct ValidateArgs {
    /// PyPSA CSV folder or MATPOWER .m file.
    path: PathBuf,
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
    /// Check as for a solve with this many cost segments (quadratic costs are then allowed).
    #[arg(long, value_name = "N")]
    pwl_segments: Option<usize>,
    /// Check as for a solve with load shedding (unreachable load is then a warning).
    #[arg(long, value_name = "PRICE")]
    voll: Option<f64>,
}

#[derive(Args)]
struct InfoArgs {
    /// PyPSA CSV folder or MATPOWER .m file.
    path: PathBuf,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

/// Parse `A..B` into a half-open range.
pub(crate) fn parse_range(s: &str) -> Result<Range<usize>, String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("`{s}`: expected A..B, e.g. 0..168"))?;
    let a: usize = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not a snapshot position"))?;
    let b: usize = b
        .trim()
        .parse()
        .map_err(|_| format!("`{b}` is not a snapshot position"))?;
    if a >= b {
        return Err(format!("`{s}`: the range is empty (A must be below B)"));
    }
    Ok(a..b)
}

/// Logs go to stderr, filtered by `GRIDTRADE_LOG` (e.g. `debug`); the default shows warnings,
/// and for `serve` one line per call. HiGHS' own status warnings are left to our messages.
fn init_logs(cli: &Cli) {
    let (default, json) = match &cli.command {
        Command::Serve(a) => ("info,highs=error", a.log_json),
        _ => ("warn,highs=error", false),
    };
    gridtrade_service::init_logs(default, json);
}

/// Exit code of bad input or options, command-line usage errors included (2 is reserved for
/// a problem with no solution).
const BAD_INPUT: u8 = 1;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; a usage error is bad input.
            let code = if e.use_stderr() { BAD_INPUT } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logs(&cli);
    let result = match cli.command {
        Command::Solve(a) => run_solve(a),
        Command::Validate(a) => run_validate(a),
        Command::Info(a) => run_info(a),
        Command::Trade(a) => trade::run(a),
        Command::Plan(a) => plan::run(a),
        Command::Study(a) => study::run(a),
        Command::Serve(a) => run_serve(a),
        Command::Worker(a) => run_worker(a),
        Command::Call(a) => call::run(a),
        Command::Synth(a) => bench::run_synth(a),
        Command::Bench(a) => bench::run_bench(a),
        Command::BenchOne(a) => bench::run_bench_one(a),
        Command::Loadtest(a) => bench::run_loadtest(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(BAD_INPUT)
        }
    }
}

/// Read a network, failing with every reading error listed.
pub(crate) fn read(path: &Path) -> Result<(Network, Findings), Error> {
    let (n, findings) = io::read(path)?;
    if findings.has_errors() {
        return Err(Error::Invalid(findings));
    }
    Ok((n, findings))
}

fn run_solve(a: SolveArgs) -> Result<ExitCode, Error> {
    let clock = Instant::now();
    let spinner = progress::Spinner::new(a.quiet);
    spinner.say(format!("reading {}", a.path.display()));
    let (mut n, read_findings) = read(&a.path)?;
    let read_s = clock.elapsed().as_secs_f64();
    if let Some(range) = a.snapshots.clone() {
        solve::select_snapshots(&mut n, range)?;
    }
    let opts = SolveOptions {
        formulation: FormulationOptions {
            model: a.model,
            dc_convention: a.common.dc_convention,
            angle_limits: a.angle_limits,
            kvl: a.common.kvl,
            voll: a.common.voll,
            co2_price: a.common.co2_price,
            pwl_segments: a.pwl_segments,
            slack_penalty: None,
            contingencies: a.security.contingencies()?,
            flow_domain: None,
        },
        time_limit: a.time_limit,
        highs_options: a.highs_options.clone(),
        start: if a.cold_start {
            solve::Start::Cold
        } else {
            solve::Start::Auto
        },
    };
    let solved = solve::solve_with(&n, &opts, &spinner.control());
    spinner.finish();
    let mut outcome = solved?;
    outcome.timings.read_s = read_s;
    let mut warnings = read_findings;
    warnings.extend(std::mem::take(&mut outcome.warnings));
    outcome.warnings = warnings;
    for w in &outcome.warnings.0 {
        eprintln!("{w}");
    }
    let summary = report::summary(&n, &outcome, &opts.formulation);
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&summary).expect("summary serialises")
        );
    } else {
        print!("{}", report::text(&summary));
    }
    if let (Some(dir), Some(r)) = (&a.out, &outcome.results) {
        let files = io::results::write_folder(dir, &n, r)?;
        let json = serde_json::to_string_pretty(&summary).expect("summary serialises");
        std::fs::write(dir.join("summary.json"), json).map_err(|source| Error::Io {
            path: dir.join("summary.json"),
            source,
        })?;
        if !a.json {
            println!(
                "\nwrote {} files and summary.json to {}",
                files.len(),
                dir.display()
            );
        }
    }
    match outcome.status {
        Status::Optimal => Ok(ExitCode::SUCCESS),
        other => {
            eprintln!("{}: {}", a.path.display(), other.as_str());
            if let Some(d) = &outcome.diagnosis {
                eprintln!("{}", d.summary);
            }
            Ok(ExitCode::from(2))
        }
    }
}

/// Two malloc arenas for the server, unless `MALLOC_ARENA_MAX` says otherwise. glibc gives
/// threads that allocate at once arenas of their own (up to eight per core), and the memory
/// a solve frees in one is not returned while others hold pieces of it: under the load
/// test (`gridtrade loadtest`, 16 clients) the server's RSS climbed from 600 MB to over
/// 1 GB in 90 s with the default, and stayed at ~470 MB with two arenas.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called before the server
        // starts its threads.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn run_serve(a: ServeArgs) -> Result<ExitCode, Error> {
    limit_malloc_arenas();
    use gridtrade_service::{auth::Tokens, GridTrade, Store, TlsIdentity};
    let (store, problems) = Store::load_dir(&a.networks)?;
    for p in &problems {
        eprintln!("not loaded: {p}");
    }
    let mut store = store.with_retention(gridtrade_service::Retention {
        in_memory: usize::try_from(a.versions_in_memory).unwrap_or(usize::MAX),
        total_in_memory: usize::try_from(a.total_versions_in_memory).unwrap_or(usize::MAX),
        keep: a
            .keep_versions
            .map(|k| usize::try_from(k).unwrap_or(usize::MAX)),
    });
    let studies = a.studies.config(a.data_dir.as_deref())?;
    let kept = keep_networks(&mut store, &studies.database, a.data_dir.as_deref())?;
    let tokens = a.auth_tokens.as_deref().map(Tokens::read).transpose()?;
    let read = |p: &PathBuf| {
        std::fs::read(p).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })
    };
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(c), Some(k)) => Some(TlsIdentity {
            cert_pem: read(c)?,
            key_pem: read(k)?,
        }),
        _ => None,
    };
    let limits = a.limits()?;
    if !(a.shutdown_grace >= 0.0 && a.shutdown_grace.is_finite()) {
        return Err(Error::option(
            "--shutdown-grace",
            "must be a number of seconds >= 0",
        ));
    }
    let names: Vec<String> = store
        .latest()
        .map_err(|s| Error::Database {
            path: kept.clone().into(),
            message: s.message().to_string(),
        })?
        .into_iter()
        .map(|s| format!("{} v{}", s.name, s.version))
        .collect();
    let concurrency = a.concurrency.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let mut service =
        GridTrade::new(std::sync::Arc::new(store), concurrency, a.queue).with_limits(limits);
    let auth = tokens.is_some();
    if let Some(t) = tokens {
        service = service.with_tokens(t);
    }
    let grace = std::time::Duration::from_secs_f64(a.shutdown_grace);
    let https = tls.is_some();
    let announce = |local: std::net::SocketAddr| {
        eprintln!(
            "gridtrade serving gridtrade.v1 on {}://{local} ({} networks: {}; {concurrency} solves at once; {}; {})",
            if https { "https" } else { "http" },
            names.len(),
            names.join(", "),
            if auth { "bearer tokens required" } else { "no authentication" },
            kept
        );
    };
    eprintln!(
        "studies queued in {}; {} workers",
        gridtrade_service::studies::db::redact(&studies.database),
        studies.workers
    );
    gridtrade_service::run_until_signal(&a.addr, service, tls, grace, studies, &announce)?;
    Ok(ExitCode::SUCCESS)
}

/// Where uploads and edits are kept: in PostgreSQL when the studies are (shared by every
/// replica), else in `DATA_DIR/gridtrade.sqlite`, else in memory only. Restores what the
/// database holds; returns where, for the start line.
fn keep_networks(
    store: &mut gridtrade_service::Store,
    database: &str,
    data_dir: Option<&Path>,
) -> Result<String, Error> {
    use gridtrade_service::studies::db::{is_postgres, redact};
    let (problems, place) = if is_postgres(database) {
        (store.open_shared(database)?, redact(database))
    } else if let Some(dir) = data_dir {
        let place = dir.join("gridtrade.sqlite").display().to_string();
        (store.open_database(dir)?, place)
    } else {
        return Ok("changes kept in memory only".into());
    };
    for p in problems {
        eprintln!("not restored: {p}");
    }
    Ok(format!("changes kept in {place}"))
}

fn run_worker(a: WorkerArgs) -> Result<ExitCode, Error> {
    limit_malloc_arenas();
    let (mut store, problems) = gridtrade_service::Store::load_dir(&a.networks)?;
    for p in &problems {
        eprintln!("not loaded: {p}");
    }
    if let Some(dir) = &a.data_dir {
        for p in store.open_database(dir)? {
            eprintln!("not restored: {p}");
        }
    }
    if !(a.shutdown_grace >= 0.0 && a.shutdown_grace.is_finite()) {
        return Err(Error::option(
            "--shutdown-grace",
            "must be a number of seconds >= 0",
        ));
    }
    let studies = a.queue.config(a.data_dir.as_deref())?;
    let grace = std::time::Duration::from_secs_f64(a.shutdown_grace);
    gridtrade_service::run_workers_until_signal(
        std::sync::Arc::new(store),
        studies,
        grace,
        a.health_addr.as_deref(),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn run_validate(a: ValidateArgs) -> Result<ExitCode, Error> {
    let (n, mut findings) = io::read(&a.path)?;
    validate::check(
        &n,
        &CheckOptions {
            pwl_segments: a.pwl_segments,
            voll: a.voll,
        },
        &mut findings,
    );
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&findings).expect("findings serialise")
        );
    } else {
        for f in &findings.0 {
            println!("{f}");
        }
        let errors = findings.errors().count();
        let warnings = findings.warnings().count();
        println!(
            "{}: {errors} error(s), {warnings} warning(s)",
            a.path.display()
        );
    }
    Ok(if findings.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(serde::Serialize)]
struct Info<'a> {
    name: &'a str,
    snapshots: usize,
    first_snapshot: Option<&'a str>,
    last_snapshot: Option<&'a str>,
    buses: usize,
    zones: Vec<ZoneInfo>,
    lines: usize,
    transformers: usize,
    links: usize,
    generators: usize,
    loads: usize,
    storage_units: usize,
    out_of_service: usize,
    /// Sum of generator capacities (load shedding excluded), MW.
    generation_capacity_mw: f64,
    /// Largest total load in any snapshot, MW.
    peak_load_mw: f64,
}

#[derive(serde::Serialize)]
struct ZoneInfo {
    name: String,
    buses: usize,
    generation_capacity_mw: f64,
    peak_load_mw: f64,
}

fn run_info(a: InfoArgs) -> Result<ExitCode, Error> {
    let (n, _) = read(&a.path)?;
    let nt = n.snapshots.len();
    let loads: Vec<Vec<f64>> = (0..nt).map(|t| n.bus_load(t)).collect();
    let peak = |buses: &dyn Fn(usize) -> bool| {
        loads
            .iter()
            .map(|l| {
                (0..n.buses.len())
                    .filter(|&b| buses(b))
                    .map(|b| l[b])
                    .sum::<f64>()
            })
            .fold(0.0, f64::max)
    };
    let capacity = |buses: &dyn Fn(usize) -> bool| {
        n.generators
            .iter()
            .filter(|g| {
                g.in_service
                    && buses(g.bus)
                    && g.carrier != gridtrade_engine::solution::LOAD_SHEDDING
            })
            .map(|g| g.p_nom * g.p_max_pu.max().max(0.0))
            .sum::<f64>()
    };
    let zones = n
        .zones()
        .into_iter()
        .map(|z| {
            let in_zone = |b: usize| n.buses[b].zone == z;
            ZoneInfo {
                buses: (0..n.buses.len()).filter(|&b| in_zone(b)).count(),
                generation_capacity_mw: capacity(&in_zone),
                peak_load_mw: peak(&in_zone),
                name: z.clone(),
            }
        })
        .collect();
    let count_kind = |k| n.branches.iter().filter(|b| b.kind == k).count();
    let out_of_service = n.branches.iter().filter(|b| !b.in_service).count()
        + n.links.iter().filter(|l| !l.in_service).count()
        + n.generators.iter().filter(|g| !g.in_service).count()
        + n.storage_units.iter().filter(|s| !s.in_service).count();
    let info = Info {
        name: &n.name,
        snapshots: nt,
        first_snapshot: n.snapshots.names.first().map(String::as_str),
        last_snapshot: n.snapshots.names.last().map(String::as_str),
        buses: n.buses.len(),
        zones,
        lines: count_kind(gridtrade_engine::network::BranchKind::Line),
        transformers: count_kind(gridtrade_engine::network::BranchKind::Transformer),
        links: n.links.len(),
        generators: n.generators.len(),
        loads: n.loads.len(),
        storage_units: n.storage_units.len(),
        out_of_service,
        generation_capacity_mw: capacity(&|_| true),
        peak_load_mw: peak(&|_| true),
    };
    if a.json {
        println!("{}", serde_json::to_string(&info).expect("info serialises"));
    } else {
        println!("network        {}", info.name);
        println!(
            "snapshots      {} ({} .. {})",
            info.snapshots,
            info.first_snapshot.unwrap_or(""),
            info.last_snapshot.unwrap_or("")
        );
        println!("buses          {}", info.buses);
        println!("lines          {}", info.lines);
        println!("transformers   {}", info.transformers);
        println!("links          {}", info.links);
        println!(
            "generators     {} ({:.1} MW)",
            info.generators, info.generation_capacity_mw
        );
        println!(
            "loads          {} (peak {:.1} MW)",
            info.loads, info.peak_load_mw
        );
        println!("storage units  {}", info.storage_units);
        println!("out of service {}", info.out_of_service);
        println!(
            "\n{:<16} {:>6} {:>14} {:>14}",
            "zone", "buses", "capacity MW", "peak load MW"
        );
        for z in &info.zones {
            println!(
                "{:<16} {:>6} {:>14.1} {:>14.1}",
                z.name, z.buses, z.generation_capacity_mw, z.peak_load_mw
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn snapshot_ranges_are_half_open() {
        assert_eq!(parse_range("0..168"), Ok(0..168));
        assert!(parse_range("5..5").is_err());
        assert!(parse_range("a..3").is_err());
        assert!(parse_range("3").is_err());
    }
}
