//! `gridtrade call study FILE` (submit a study, follow it with a progress bar, print its
//! table), `call study-results STUDY`, `call operations` and `call operation ACTION NAME`:
//! long-running studies on a server through SubmitStudy and `google.longrunning.Operations`.

use super::call::{json, rpc_error};
use clap::{Args, Subcommand};
use gridtrade_client::{study_progress, Client};
use gridtrade_engine::error::Error;
use gridtrade_service::proto::{self, longrunning::Operation};
use gridtrade_studies::batch::Batch;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct StudyCall {
    /// The study file (TOML); `network` names a network the server holds. Scenario files it
    /// names are read here (relative to it) and sent with it.
    file: PathBuf,
    /// Print the operation's name and return at once (poll it with `call operation get`).
    #[arg(long)]
    detach: bool,
    /// Write the table here (CSV) instead of to stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args)]
pub struct ResultsCall {
    /// The study's id (`studies/<id>` also accepted).
    study: String,
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print one case's full trade report (JSON) instead of the table.
    #[arg(long, value_name = "N")]
    case: Option<u32>,
}

#[derive(Subcommand)]
pub enum OperationAction {
    /// Where a study stands.
    Get { name: String },
    /// Wait until it is done (at most SECONDS), then show it.
    Wait {
        name: String,
        #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
        timeout: f64,
    },
    /// Stop it: queued cases are cancelled, running ones interrupted.
    Cancel { name: String },
    /// Delete it and its results.
    Delete { name: String },
}

/// The study file's text and the scenario files it names, read relative to it.
pub(crate) fn study_request(file: &Path) -> Result<proto::SubmitStudyRequest, Error> {
    let io = |path: &Path, source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let text = std::fs::read_to_string(file).map_err(|e| io(file, e))?;
    let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let files = RefCell::new(Vec::new());
    Batch::parse(&text, &file.display().to_string(), &|name| {
        let path = dir.join(name);
        let content = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        files.borrow_mut().push(proto::File {
            name: name.to_string(),
            content: content.clone().into_bytes(),
        });
        Ok(content)
    })?;
    Ok(proto::SubmitStudyRequest {
        study_toml: text,
        files: files.into_inner(),
    })
}

pub fn study(c: &mut Client, a: StudyCall, as_json: bool) -> Result<ExitCode, Error> {
    let op = c.submit_study(study_request(&a.file)?).map_err(rpc_error)?;
    if a.detach {
        println!("{}", op.name);
        return Ok(ExitCode::SUCCESS);
    }
    let p = study_progress(&op).unwrap_or_default();
    let bar = super::study::case_bar(p.cases as usize, a.quiet || as_json);
    bar.set_message(op.name.clone());
    let op = follow(c, op, &bar)?;
    bar.finish_and_clear();
    finish(c, &op, a.out.as_deref(), as_json)
}

/// Poll the operation (WaitOperation, a second at a time) until it is done.
fn follow(
    c: &mut Client,
    mut op: Operation,
    bar: &indicatif::ProgressBar,
) -> Result<Operation, Error> {
    while !op.done {
        op = c
            .wait_operation(&op.name, Duration::from_secs(1))
            .map_err(rpc_error)?;
        if let Some(p) = study_progress(&op) {
            let finished = p.optimal + p.not_solved + p.failed + p.cancelled;
            bar.set_position(finished as u64);
            bar.set_message(format!("{} running, {} queued", p.running, p.queued));
        }
    }
    Ok(op)
}

/// Print a finished study's table (or its operation as JSON); exit 2 when a case was not
/// solved or the study was cancelled.
fn finish(
    c: &mut Client,
    op: &Operation,
    out: Option<&Path>,
    as_json: bool,
) -> Result<ExitCode, Error> {
    use proto::longrunning::operation::Result as R;
    let p = study_progress(op).unwrap_or_default();
    if as_json {
        println!("{}", json(&operation_json(op)));
    } else {
        write_table(c, &p.study, out)?;
    }
    if let Some(R::Error(e)) = &op.result {
        eprintln!("{}: {}", op.name, e.message);
        return Ok(ExitCode::from(2));
    }
    let unsolved = p.not_solved + p.failed;
    if unsolved > 0 {
        eprintln!(
            "{}: {unsolved} of {} cases not solved (see `status` and `message`)",
            op.name, p.cases
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// Every page of a study's table, as one CSV (header once).
fn write_table(c: &mut Client, study: &str, out: Option<&Path>) -> Result<(), Error> {
    let mut rows = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .get_study_results(proto::GetStudyResultsRequest {
                study: study.to_string(),
                page_size: 1000,
                page_token: token.clone(),
            })
            .map_err(rpc_error)?;
        rows.extend(page.cases.iter().map(gridtrade_service::studies::case_row));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let table = gridtrade_studies::batch::table_csv(&rows);
    match out {
        Some(path) => std::fs::write(path, table).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        }),
        None => {
            print!("{table}");
            Ok(())
        }
    }
}

pub fn results(c: &mut Client, a: ResultsCall) -> Result<ExitCode, Error> {
    let study = a.study.trim_start_matches("studies/");
    match a.case {
        Some(n) => {
            let r = c.get_case_result(study, n).map_err(rpc_error)?;
            println!("{}", r.report_json);
        }
        None => write_table(c, study, a.out.as_deref())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// An operation for `--json`: its name, done, metadata (progress) and error.
fn operation_json(op: &Operation) -> serde_json::Value {
    use proto::longrunning::operation::Result as R;
    serde_json::json!({
        "name": op.name,
        "done": op.done,
        "progress": study_progress(op),
        "error": match &op.result {
            Some(R::Error(e)) => Some(serde_json::json!({"code": e.code, "message": e.message})),
            _ => None,
        },
    })
}

/// One line about a study.
fn line(op: &Operation) -> String {
    let p = study_progress(op).unwrap_or_default();
    format!(
        "{:<42} {:<28} {:>5} {:>6} {:>7} {:>7} {:>6} {:>9}",
        op.name,
        format!("{} v{}", p.network, p.version),
        p.cases,
        p.queued,
        p.running,
        p.optimal,
        p.not_solved + p.failed,
        if !op.done {
            "running"
        } else if p.cancel_requested {
            "cancelled"
        } else {
            "done"
        }
    )
}

const HEADER: &str = "operation                                  network                      cases queued running optimal failed     state";

pub fn operations(c: &mut Client, as_json: bool) -> Result<ExitCode, Error> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = c.list_operations(1000, &token).map_err(rpc_error)?;
        all.extend(page.operations);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    if as_json {
        let list: Vec<_> = all.iter().map(operation_json).collect();
        println!("{}", serde_json::to_string_pretty(&list).expect("JSON"));
    } else {
        println!("{HEADER}");
        all.iter().for_each(|op| println!("{}", line(op)));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn operation(
    c: &mut Client,
    action: OperationAction,
    as_json: bool,
) -> Result<ExitCode, Error> {
    let name = |n: &str| {
        if n.starts_with("studies/") {
            n.to_string()
        } else {
            format!("studies/{n}")
        }
    };
    let op = match action {
        OperationAction::Get { name: n } => c.get_operation(&name(&n)),
        OperationAction::Wait { name: n, timeout } => {
            if !(timeout > 0.0 && timeout.is_finite()) {
                return Err(Error::option(
                    "--timeout",
                    "must be a positive number of seconds",
                ));
            }
            c.wait_operation(&name(&n), Duration::from_secs_f64(timeout))
        }
        OperationAction::Cancel { name: n } => {
            c.cancel_operation(&name(&n)).map_err(rpc_error)?;
            c.get_operation(&name(&n))
        }
        OperationAction::Delete { name: n } => {
            c.delete_operation(&name(&n)).map_err(rpc_error)?;
            println!("deleted {}", name(&n));
            return Ok(ExitCode::SUCCESS);
        }
    }
    .map_err(rpc_error)?;
    if as_json {
        println!("{}", json(&operation_json(&op)));
    } else {
        println!("{HEADER}\n{}", line(&op));
    }
    Ok(ExitCode::SUCCESS)
}
