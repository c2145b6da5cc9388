//! `gridtrade bench --study FILE --workers 1 --workers 2`: a study's throughput on a real
//! server. For each worker count, a fresh `gridtrade serve --workers N` process (SQLite in
//! a temp dir, or `--database`) takes the study through SubmitStudy; the record says how
//! long it took from submission to its last case (the database's clock), the sum of the
//! cases' solve times, cases per hour, the overhead (queueing and storing: wall × workers −
//! Σ solve, over Σ solve) and the server's memory at rest and at its peak.

use gridtrade_bench::load::Server;
use gridtrade_client::{study_progress, Client};
use gridtrade_engine::error::Error;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// One run of a study.
#[derive(Debug, Serialize)]
pub struct StudyRecord {
    pub kind: &'static str,
    pub study: String,
    pub cases: u32,
    pub optimal: u32,
    pub workers: usize,
    /// `SQLite` or `PostgreSQL`.
    pub database: String,
    /// Submission to the last case's result, s (the database's clock).
    pub wall_s: f64,
    /// Sum of the cases' solve times, s.
    pub solve_s: f64,
    pub mean_case_s: f64,
    pub cases_per_hour: f64,
    /// (wall × workers − Σ solve) / Σ solve, %: time the workers were not solving — with
    /// one worker the queueing and storing alone; with more, also waiting for the last cases.
    pub idle_pct: f64,
    /// The server's resident memory once started (networks loaded), and its peak, MB.
    pub idle_rss_mb: f64,
    pub peak_rss_mb: f64,
    pub unix_time_s: u64,
}

fn serve(networks: &Path, database: &str, workers: usize) -> Result<Server, Error> {
    let exe = std::env::current_exe().map_err(|source| Error::Io {
        path: "gridtrade".into(),
        source,
    })?;
    let args: Vec<std::ffi::OsString> = vec![
        "--poll".into(),
        "0.2".into(),
        "--networks".into(),
        networks.into(),
        "--database".into(),
        database.into(),
        "--workers".into(),
        workers.to_string().into(),
    ];
    Server::spawn(&exe, &args).map_err(|e| Error::Format(format!("gridtrade serve: {e}")))
}

/// Run the study once on a server with `workers` workers.
fn run_once(study: &Path, workers: usize, database: Option<&str>) -> Result<StudyRecord, Error> {
    let tmp = std::env::temp_dir().join(format!("gridtrade-bench-study-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|source| Error::Io {
        path: tmp.clone(),
        source,
    })?;
    let sqlite = format!("sqlite://{}/studies-{workers}.sqlite", tmp.display());
    let db = database.unwrap_or(&sqlite);
    let networks = study.parent().unwrap_or(Path::new("."));
    let served = serve(networks, db, workers)?;
    let idle = served.rss_mb();
    let mut c = Client::connect(&served.url, None, None)?;
    let rpc = |e: gridtrade_client::Status| Error::Format(format!("server: {}", e.message()));
    let op = c
        .submit_study(crate::call_study::study_request(study)?)
        .map_err(rpc)?;
    let start = Instant::now();
    let op = loop {
        let op = c
            .wait_operation(&op.name, Duration::from_secs(2))
            .map_err(rpc)?;
        if op.done {
            break op;
        }
        if start.elapsed() > Duration::from_secs(24 * 3600) {
            return Err(Error::Format("the study did not finish in a day".into()));
        }
    };
    let peak = served.peak_rss_mb();
    served.kill();
    let _ = std::fs::remove_dir_all(&tmp);
    let p = study_progress(&op).unwrap_or_default();
    let wall_s = (p.finished_unix_ms - p.created_unix_ms) as f64 / 1000.0;
    Ok(StudyRecord {
        kind: "study",
        study: p.name.clone(),
        cases: p.cases,
        optimal: p.optimal,
        workers,
        database: if gridtrade_service::studies::db::is_postgres(db) {
            "PostgreSQL".into()
        } else {
            "SQLite".into()
        },
        wall_s,
        solve_s: p.solve_seconds,
        mean_case_s: p.solve_seconds / p.cases.max(1) as f64,
        cases_per_hour: p.cases as f64 / wall_s * 3600.0,
        idle_pct: (wall_s * workers as f64 - p.solve_seconds) / p.solve_seconds * 100.0,
        idle_rss_mb: idle,
        peak_rss_mb: peak,
        unix_time_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    })
}

/// Run the study with each worker count; print a table, append JSON lines to `out`.
pub fn run(
    study: &Path,
    workers: &[usize],
    database: Option<&str>,
    out: Option<&Path>,
) -> Result<ExitCode, Error> {
    println!(
        "{:<10} {:>7} {:>6} {:>9} {:>9} {:>9} {:>11} {:>10} {:>9} {:>9}",
        "database",
        "workers",
        "cases",
        "wall s",
        "solve s",
        "case s",
        "cases/hour",
        "idle",
        "idle MB",
        "peak MB"
    );
    let mut records = Vec::new();
    for &n in workers {
        let r = run_once(study, n.max(1), database)?;
        println!(
            "{:<10} {:>7} {:>6} {:>9.1} {:>9.1} {:>9.2} {:>11.0} {:>9.2}% {:>9.0} {:>9.0}",
            r.database,
            r.workers,
            r.cases,
            r.wall_s,
            r.solve_s,
            r.mean_case_s,
            r.cases_per_hour,
            r.idle_pct,
            r.idle_rss_mb,
            r.peak_rss_mb
        );
        records.push(r);
    }
    if let Some(path) = out {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        for r in &records {
            writeln!(f, "{}", serde_json::to_string(r).expect("serialises")).map_err(io)?;
        }
    }
    let unsolved = records.iter().any(|r| r.optimal < r.cases);
    Ok(if unsolved {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
