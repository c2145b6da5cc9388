//! Helpers shared by the integration tests.
#![allow(dead_code)]

use gridtrade_engine::formulation::{DcConvention, FormulationOptions, NetworkModel};
use gridtrade_engine::solution::Status;
use gridtrade_engine::solve::{self, Outcome, SolveOptions};
use gridtrade_engine::Network;
use std::path::{Path, PathBuf};

pub fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cases")
        .join(name)
}

/// A seeded synthetic network of `buses` buses over `hours` hours (`gridtrade synth`), read
/// back.
pub fn synthetic(buses: usize, hours: usize) -> Network {
    let dir = tempfile::tempdir().unwrap();
    let spec = gridtrade_bench::synth::Spec::new(buses, hours);
    gridtrade_bench::synth::write(&spec, dir.path()).unwrap();
    read(dir.path())
}

pub fn read(path: &Path) -> Network {
    let (n, findings) = gridtrade_engine::io::read(path).expect("readable");
    assert!(!findings.has_errors(), "{findings}");
    n
}

/// The three statements of Kirchhoff's voltage law: every reference test of the dc model
/// runs in each.
pub const EVERY_KVL: [gridtrade_engine::formulation::Kvl; 3] = [
    gridtrade_engine::formulation::Kvl::Angles,
    gridtrade_engine::formulation::Kvl::Cycles,
    gridtrade_engine::formulation::Kvl::Ptdf,
];

/// [`options`] with Kirchhoff's voltage law stated as `kvl`.
pub fn options_kvl(
    model: NetworkModel,
    convention: DcConvention,
    kvl: gridtrade_engine::formulation::Kvl,
) -> SolveOptions {
    let mut o = options(model, convention);
    o.formulation.kvl = kvl;
    o
}

pub fn options(model: NetworkModel, convention: DcConvention) -> SolveOptions {
    SolveOptions {
        formulation: FormulationOptions {
            model,
            dc_convention: convention,
            ..Default::default()
        },
        time_limit: None,
        ..Default::default()
    }
}

pub fn solve_ok(n: &Network, opts: &SolveOptions) -> Outcome {
    let o = solve::solve(n, opts).expect("solvable");
    assert_eq!(o.status, Status::Optimal, "{:?}", o.diagnosis);
    o
}

/// Assert `actual` is within `rel` relative tolerance of `expected`.
#[track_caller]
pub fn assert_rel(actual: f64, expected: f64, rel: f64) {
    let err = (actual - expected).abs() / expected.abs().max(1.0);
    assert!(
        err <= rel,
        "expected {expected}, got {actual} (relative error {err:e} > {rel:e})"
    );
}

/// Assert `actual` is within `abs` of `expected`.
#[track_caller]
pub fn assert_abs(actual: f64, expected: f64, abs: f64) {
    assert!(
        (actual - expected).abs() <= abs,
        "expected {expected}, got {actual} (difference {} > {abs})",
        (actual - expected).abs()
    );
}

/// The `gridtrade` binary built for these tests.
pub fn gridtrade() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_gridtrade"))
}

/// Run a `gridtrade ... --json` command that must succeed; its stdout as JSON (stderr shown
/// when it fails).
#[track_caller]
pub fn json_of(cmd: &mut std::process::Command) -> serde_json::Value {
    let out = cmd.output().expect("gridtrade runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// A temporary folder holding the given files.
pub fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

/// Three zones A, B, C (one bus each) in a triangle of lines of equal reactance, one hour:
/// a (1000 MW @ 10) at A, b (1000 MW @ 25) at B, c (1000 MW @ 50) and a 600 MW load at C;
/// AB and BC rated 1000 MW, AC 300 MW. Worked by hand under each market coupling in
/// `tests/coupling.rs`.
pub fn triangle() -> tempfile::TempDir {
    folder(&[
        ("buses.csv", "name,zone,country\nA,A,AA\nB,B,BB\nC,C,CC\n"),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost\na,A,1000,10\nb,B,1000,25\nc,C,1000,50\n",
        ),
        ("loads.csv", "name,bus,p_set\nlc,C,600\n"),
        (
            "lines.csv",
            "name,bus0,bus1,x,s_nom\nAB,A,B,0.1,1000\nAC,A,C,0.1,300\nBC,B,C,0.1,1000\n",
        ),
    ])
}

/// A running `gridtrade serve` process: its address, its stderr so far; killed when dropped.
pub struct ServeProcess {
    pub url: String,
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
    pub child: std::process::Child,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `gridtrade serve --addr 127.0.0.1:0` with `args` (and `GRIDTRADE_LOG=log` when
/// given), and wait (at most 60 s) for the address it announces on stderr; stderr is kept
/// in `log`.
pub fn start_serve(args: &[&std::ffi::OsStr], log: Option<&str>) -> ServeProcess {
    use std::io::{BufRead, BufReader};
    let mut cmd = gridtrade();
    if let Some(filter) = log {
        cmd.env("GRIDTRADE_LOG", filter);
    }
    let mut child = cmd
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("gridtrade serving") {
                if let Some(rest) = line.split(" on ").nth(1) {
                    let _ = tx.send(rest.split(' ').next().unwrap().to_string());
                }
            }
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    let url = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("server did not start: {}", log.lock().unwrap()));
    ServeProcess { url, log, child }
}
