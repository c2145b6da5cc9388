//! `gridtrade synth` (write a synthetic network) and `gridtrade bench` (the end-to-end
//! benchmark, one JSON record per case).

use clap::Args;
use gridtrade_bench::run::{self as bench, Record};
use gridtrade_bench::synth::{self, Spec};
use gridtrade_engine::error::Error;
use gridtrade_engine::formulation::{Kvl, NetworkModel};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct SynthArgs {
    /// Folder to write (PyPSA CSV).
    out: PathBuf,
    #[arg(long, default_value_t = 50)]
    buses: usize,
    /// Default: buses / 10, between 1 and 20.
    #[arg(long)]
    zones: Option<usize>,
    #[arg(long, default_value_t = 168)]
    hours: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of lines (0 to 1) given tight ratings (100–400 MW instead of 600–2000 MW), so
    /// more line limits bind.
    #[arg(long, default_value_t = 0.0)]
    congestion: f64,
}

pub fn run_synth(a: SynthArgs) -> Result<ExitCode, Error> {
    let mut spec = Spec::new(a.buses, a.hours);
    spec.seed = a.seed;
    spec.congestion = a.congestion;
    if let Some(z) = a.zones {
        spec.zones = z;
    }
    synth::write(&spec, &a.out)?;
    println!("wrote {} to {}", spec.name(), a.out.display());
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct BenchArgs {
    /// Only the small cases (what CI runs on every push).
    #[arg(long)]
    quick: bool,
    /// Only these cases (repeatable); `--list` shows them.
    #[arg(long = "case", value_name = "NAME")]
    cases: Vec<String>,
    /// A synthetic case of B buses over H hours (repeatable), e.g. `--synth 500x168`, with a
    /// share C of tightly rated lines as `BxHcC`, e.g. `200x24c0.3` (`synth --congestion`);
    /// only these run, with the `--case`s when given.
    #[arg(long = "synth", value_name = "BxH[cC]", value_parser = parse_size)]
    synth: Vec<(usize, usize, f64)>,
    /// The `--synth` cases as N-1 security-constrained dispatch (every line an outage;
    /// with `--pypsa`, PyPSA's SCLOPF on the same network), named `...-n1`.
    #[arg(long)]
    n1: bool,
    /// Also solve each case with HiGHS from scratch (`solve --cold-start`), a record beside
    /// the default one: what the seasonal start saves.
    #[arg(long)]
    cold_start: bool,
    /// Solve each dc case by these statements of Kirchhoff's voltage law (repeatable), one
    /// record each, side by side: e.g. `--kvl cycles --kvl ptdf`. Default: auto.
    #[arg(long = "kvl", value_parser = crate::choice::<Kvl>())]
    kvl: Vec<Kvl>,
    /// List the cases and stop.
    #[arg(long)]
    list: bool,
    /// Where synthetic networks are written (and reused).
    #[arg(long, default_value = "target/bench-networks")]
    dir: PathBuf,
    /// Append one JSON record per case and tool to FILE (JSON lines).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Compare with the records in FILE; exit 3 on a regression.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Allowed slowdown against the baseline (0.5 = 50 % slower, plus 0.25 s).
    #[arg(long, default_value_t = 0.5)]
    max_slowdown: f64,
    /// Also solve the PyPSA folders with PyPSA, using this Python (pypsa and highspy
    /// installed), through benches/pypsa_bench.py.
    #[arg(long, value_name = "PYTHON")]
    pypsa: Option<String>,
    /// Instead of the cases: submit this study file to a fresh `gridtrade serve` with each
    /// `--workers` count and record its throughput, overhead and memory (the server's
    /// networks are the folder the study file is in).
    #[arg(long, value_name = "FILE")]
    study: Option<PathBuf>,
    /// Workers of the `--study` server, one run each (default: 1 and 2).
    #[arg(long = "workers", value_name = "N", requires = "study")]
    workers: Vec<usize>,
    /// The `--study` server's database (default: SQLite in a temp dir).
    #[arg(long, value_name = "URL", requires = "study")]
    database: Option<String>,
}

#[derive(Args)]
pub struct BenchOneArgs {
    path: PathBuf,
    #[arg(long, value_parser = crate::choice::<NetworkModel>(), default_value_t = NetworkModel::Dc)]
    model: NetworkModel,
    #[arg(long, value_parser = crate::choice::<Kvl>(), default_value_t = Kvl::Auto)]
    kvl: Kvl,
    /// N-1 with every line an outage.
    #[arg(long)]
    n1: bool,
    /// HiGHS from scratch (no seasonal start).
    #[arg(long)]
    cold_start: bool,
}

/// The child side of `bench`: one solve, its measurement as JSON on stdout.
pub fn run_bench_one(a: BenchOneArgs) -> Result<ExitCode, Error> {
    let start = if a.cold_start {
        gridtrade_engine::solve::Start::Cold
    } else {
        gridtrade_engine::solve::Start::Auto
    };
    let m = bench::measure_here(&a.path, a.model, a.kvl, a.n1, start)?;
    println!("{}", serde_json::to_string(&m).expect("serialises"));
    Ok(ExitCode::SUCCESS)
}

fn row(r: &Record) -> String {
    let m = &r.measured;
    format!(
        "{:<24} {:<16} {:>6} {:>6} {:>9} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>7.1} {:>8.0} {:>18}",
        r.case,
        tool_name(r),
        m.buses,
        m.snapshots,
        m.columns,
        format!("{:.3}", m.read_s),
        format!("{:.3}", m.build_s),
        format!("{:.3}", m.highs_s),
        format!("{:.3}", m.extract_s),
        format!("{:.3}", r.wall_s),
        format!("{:.3}", r.overhead_s),
        r.overhead_pct,
        m.peak_rss_mb,
        m.objective
            .map(|o| format!("{o:.6}"))
            .unwrap_or_else(|| m.status.clone()),
    )
}

/// The tool of a record with the form gridtrade built, its lazy rounds and ` s` for the
/// seasonal start, e.g. `gridtrade ptdf 3r s`.
fn tool_name(r: &Record) -> String {
    let start = if r.measured.seasonal_start { " s" } else { "" };
    match r.measured.form.as_str() {
        "" => r.tool.clone(),
        "ptdf" => format!("{} ptdf {}r{start}", r.tool, r.measured.rounds),
        form => format!("{} {form}{start}", r.tool),
    }
}

/// `BxH` or `BxHcC`, e.g. `500x168` or `200x24c0.3`: buses and hours, both at least 1, and
/// the share of tightly rated lines (0 by default).
fn parse_size(s: &str) -> Result<(usize, usize, f64), String> {
    let bad =
        || format!("`{s}`: expected BUSESxHOURS or BUSESxHOURScSHARE, e.g. 500x168, 200x24c0.3");
    let (b, rest) = s.split_once('x').ok_or_else(bad)?;
    let (h, c) = rest.split_once('c').unwrap_or((rest, "0"));
    match (b.parse(), h.parse(), c.parse::<f64>()) {
        (Ok(b), Ok(h), Ok(c)) if b > 0 && h > 0 && (0.0..=1.0).contains(&c) => Ok((b, h, c)),
        _ => Err(bad()),
    }
}

pub fn run_bench(a: BenchArgs) -> Result<ExitCode, Error> {
    if let Some(study) = &a.study {
        let workers = if a.workers.is_empty() {
            vec![1, 2]
        } else {
            a.workers.clone()
        };
        return crate::bench_study::run(study, &workers, a.database.as_deref(), a.out.as_deref());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = if root.join("benches").exists() {
        root
    } else {
        PathBuf::from(".")
    };
    let all = bench::cases();
    if a.list {
        for c in &all {
            println!(
                "{:<20} {}{}",
                c.name,
                match &c.source {
                    bench::Source::Synth(s) => format!("synthetic {}", s.name()),
                    bench::Source::Path(p) => p.to_string(),
                },
                if c.quick { " (quick)" } else { "" }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    for name in &a.cases {
        if !all.iter().any(|c| c.name == *name) {
            return Err(Error::option(
                "--case",
                format!("no case `{name}`; `gridtrade bench --list` shows them"),
            ));
        }
    }
    // `--synth` alone runs only those; with `--case`, those cases too.
    let only_synth = !a.synth.is_empty() && a.cases.is_empty();
    let chosen: Vec<_> = all
        .into_iter()
        .filter(|c| {
            if only_synth {
                false
            } else if a.cases.is_empty() {
                !a.quick || c.quick
            } else {
                a.cases.iter().any(|n| *n == c.name)
            }
        })
        .chain(
            a.synth
                .iter()
                .map(|&(b, h, c)| bench::congested_synth_case(b, h, c))
                .map(|c| if a.n1 { bench::with_n1(c) } else { c }),
        )
        .collect();
    let baseline = a.baseline.as_deref().map(bench::read_records).transpose()?;
    let mut out = match &a.out {
        None => None,
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|source| Error::Io {
                    path: p.clone(),
                    source,
                })?,
        ),
    };
    println!(
        "{:<24} {:<16} {:>6} {:>6} {:>9} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>7} {:>8} {:>18}",
        "case",
        "tool",
        "buses",
        "hours",
        "columns",
        "read s",
        "build s",
        "HiGHS s",
        "extract s",
        "wall s",
        "ovh s",
        "ovh %",
        "peak MB",
        "objective"
    );
    let mut records = Vec::new();
    for case in &chosen {
        let path = bench::case_path(case, &root, &a.dir)?;
        let kvls = if a.kvl.is_empty() || case.model != NetworkModel::Dc || case.n1 {
            vec![Kvl::Auto]
        } else {
            a.kvl.clone()
        };
        let mut these = Vec::new();
        for &kvl in &kvls {
            these.push(bench::run_gridtrade(case, &path, kvl, false)?);
            if a.cold_start {
                these.push(bench::run_gridtrade(case, &path, kvl, true)?);
            }
        }
        let is_folder = path.is_dir();
        if let (Some(py), true) = (&a.pypsa, is_folder) {
            // PyPSA failing on a case (it cannot read every folder we can) is reported and
            // the run goes on; our own record stands.
            match bench::run_pypsa(case, &path, py, &root) {
                Ok(r) => these.push(r),
                Err(e) => eprintln!("warning: {e}\nwarning: no PyPSA record for {}", case.name),
            }
        }
        for r in these {
            println!("{}", row(&r));
            if let Some(f) = out.as_mut() {
                writeln!(f, "{}", serde_json::to_string(&r).expect("serialises")).map_err(
                    |source| Error::Io {
                        path: a.out.clone().unwrap_or_default(),
                        source,
                    },
                )?;
            }
            records.push(r);
        }
        let pypsa = records
            .last()
            .filter(|r| r.tool == "pypsa" && r.case == case.name);
        let ours = records
            .iter()
            .filter(|r| r.tool == "gridtrade" && r.case == case.name);
        for (ours, theirs) in ours.filter_map(|o| pypsa.map(|p| (o, p))) {
            {
                let rel = match (ours.measured.objective, theirs.measured.objective) {
                    (Some(x), Some(y)) => format!("{:.1e}", ((x - y) / y.abs().max(1.0)).abs()),
                    _ => "-".into(),
                };
                println!(
                    "{:<24} {}: speed-up {:.1}× whole process, memory {:.2}×, objectives differ by {rel} (relative)",
                    "",
                    tool_name(ours),
                    theirs.wall_s / ours.wall_s,
                    ours.measured.peak_rss_mb / theirs.measured.peak_rss_mb.max(1e-9),
                );
            }
        }
    }
    if let Some(base) = &baseline {
        let found = bench::regressions(&records, base, a.max_slowdown);
        if !found.is_empty() {
            for r in &found {
                eprintln!("regression: {}: {}", r.case, r.message);
            }
            return Ok(ExitCode::from(3));
        }
        println!(
            "\nno regression against {} (allowed slowdown {:.0} % + 0.25 s)",
            a.baseline.as_ref().expect("given").display(),
            100.0 * a.max_slowdown
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct LoadtestArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// How long the clients run, seconds.
    #[arg(long, default_value_t = 300.0)]
    seconds: f64,
    /// Kill the server (SIGKILL) this many seconds after the start and restart it on the
    /// same data; default: half-way. 0: no kill.
    #[arg(long)]
    kill_at: Option<f64>,
    /// The server's --networks (must hold `example` and `carec`).
    #[arg(long, default_value = "networks")]
    networks: PathBuf,
    /// The server's --data-dir; default: a fresh temporary folder.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Another argument of `gridtrade serve` (repeatable), e.g. `--serve-arg=--queue=8`.
    #[arg(long = "serve-arg", allow_hyphen_values = true)]
    serve_args: Vec<String>,
    /// Also write the report (JSON) to FILE.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `gridtrade loadtest`: run [`gridtrade_bench::load`] against this binary's server; the
/// report as JSON on stdout; exit 1 when an accepted change was lost, a call failed with an
/// undocumented status or a health check failed while the server was up.
pub fn run_loadtest(a: LoadtestArgs) -> Result<ExitCode, Error> {
    let io = |path: PathBuf| move |source| Error::Io { path, source };
    let seconds = a.seconds.max(1.0);
    let kill_at = a.kill_at.unwrap_or(seconds / 2.0);
    let config = gridtrade_bench::load::LoadConfig {
        server_bin: std::env::current_exe().map_err(io(PathBuf::from("gridtrade")))?,
        networks: a.networks,
        data_dir: a.data_dir,
        clients: a.clients.max(1),
        duration: std::time::Duration::from_secs_f64(seconds),
        kill_at: (kill_at > 0.0).then(|| std::time::Duration::from_secs_f64(kill_at)),
        server_args: a.serve_args,
    };
    let report = gridtrade_bench::load::run(&config).map_err(Error::Format)?;
    let json = serde_json::to_string_pretty(&report).expect("serialises");
    println!("{json}");
    if let Some(out) = a.out {
        std::fs::write(&out, format!("{json}\n")).map_err(io(out.clone()))?;
    }
    let clean =
        report.lost.is_empty() && report.undocumented_count == 0 && report.health_failures == 0;
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
