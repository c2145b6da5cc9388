//! `gridtrade study FILE`: a scenario batch solved here, cases in parallel up to `--jobs`,
//! and its table across cases (CSV). `gridtrade call study` runs the same file on a server.

use super::read;
use clap::Args;
use gridtrade_engine::error::Error;
use gridtrade_engine::solver::Control;
use gridtrade_studies::batch::{self, Batch, CaseRow};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct StudyArgs {
    /// The study file (TOML): network, cases and/or a grid of factors (see README).
    file: PathBuf,
    /// Cases solved at once (each solve is one HiGHS instance on one core).
    #[arg(long, short, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: u64,
    /// Write the table here (CSV) instead of to stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Also write each solved case's full trade report as `DIR/case-<n>.json`.
    #[arg(long, value_name = "DIR")]
    results: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// The network a local study names: relative to the study file, else as given.
pub(crate) fn network_path(file: &Path, network: &str) -> PathBuf {
    let beside = file.parent().unwrap_or(Path::new(".")).join(network);
    if beside.exists() {
        beside
    } else {
        PathBuf::from(network)
    }
}

/// A progress bar over a study's cases (hidden when quiet or not a terminal).
pub(crate) fn case_bar(cases: usize, quiet: bool) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(cases as u64)
    };
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} cases {elapsed:>4} (eta {eta}) {msg}")
    {
        bar.set_style(style);
    }
    bar
}

pub fn run(a: StudyArgs) -> Result<ExitCode, Error> {
    let batch = Batch::read(&a.file)?;
    let (network, _) = read(&network_path(&a.file, &batch.network))?;
    let base = batch.base_network(&network)?;
    batch.formulation()?;
    let bar = case_bar(batch.cases.len(), a.quiet);
    let done = |row: &CaseRow| {
        bar.inc(1);
        bar.set_message(format!("{}: {}", row.label, row.status));
    };
    let results = batch::run_local(&base, &batch, a.jobs as usize, &Control::default(), &done);
    bar.finish_and_clear();
    if let Some(dir) = &a.results {
        write_results(dir, &results)?;
    }
    let rows: Vec<CaseRow> = results.into_iter().map(|(r, _)| r).collect();
    let table = batch::table_csv(&rows);
    match &a.out {
        Some(path) => std::fs::write(path, table).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?,
        None => print!("{table}"),
    }
    let unsolved: Vec<&CaseRow> = rows.iter().filter(|r| r.status != "optimal").collect();
    for r in &unsolved {
        eprintln!("case {} ({}): {}: {}", r.case, r.label, r.status, r.message);
    }
    Ok(if unsolved.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn write_results(
    dir: &Path,
    results: &[(CaseRow, Option<gridtrade_studies::study::TradeOutput>)],
) -> Result<(), Error> {
    let io = |path: &Path, source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    for (row, out) in results {
        if let Some(out) = out {
            let path = dir.join(format!("case-{}.json", row.case));
            let json = serde_json::to_string_pretty(out).expect("reports serialise");
            std::fs::write(&path, json).map_err(|e| io(&path, e))?;
        }
    }
    Ok(())
}
