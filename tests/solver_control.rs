//! Progress reports and cancellation of a running solve (`gridtrade_engine::solver::Control`), on a
//! month of the CAREC network (a few seconds of HiGHS time).

mod common;

use gridtrade_engine::formulation::NetworkModel;
use gridtrade_engine::solution::Status;
use gridtrade_engine::solve::{self, select_snapshots, SolveOptions};
use gridtrade_engine::solver::{Control, Phase, Progress};
use std::path::Path;
use std::sync::{Arc, Mutex};

fn carec_january() -> gridtrade_engine::Network {
    let mut n = common::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/carec"));
    select_snapshots(&mut n, 0..744).unwrap();
    n
}

fn transport() -> SolveOptions {
    let mut o = SolveOptions::default();
    o.formulation.model = NetworkModel::Transport;
    o
}

#[test]
fn progress_reports_phases_in_order_the_highs_log_and_iterations() {
    let n = carec_january();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let control = Control::default().with_listener(move |p| sink.lock().unwrap().push(p));
    let o = solve::solve_with(&n, &transport(), &control).unwrap();
    assert_eq!(o.status, Status::Optimal);
    // The same answer as a solve without a listener.
    let plain = solve::solve(&n, &transport()).unwrap();
    common::assert_rel(
        o.results.as_ref().unwrap().objective,
        plain.results.as_ref().unwrap().objective,
        1e-9,
    );
    let events = events.lock().unwrap();
    let phases: Vec<Phase> = events
        .iter()
        .filter_map(|e| match e {
            Progress::Phase(p) => Some(*p),
            _ => None,
        })
        .collect();
    assert_eq!(
        phases,
        [
            Phase::Validating,
            Phase::Building,
            Phase::Solving,
            Phase::Extracting
        ]
    );
    let log: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Progress::Log(l) => Some(l.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        log.iter().any(|l| l.contains("HiGHS")),
        "HiGHS' banner is forwarded: {log:?}"
    );
    assert!(
        log.iter().any(|l| l.contains("Optimal")),
        "the model status line is forwarded: {log:?}"
    );
    // Log lines arrive between the solving and extracting phases.
    let solving = events
        .iter()
        .position(|e| *e == Progress::Phase(Phase::Solving))
        .unwrap();
    let first_log = events
        .iter()
        .position(|e| matches!(e, Progress::Log(_)))
        .unwrap();
    assert!(first_log > solving);
}

#[test]
fn cancelling_stops_highs_mid_solve() {
    let n = carec_january();
    let full = solve::solve(&n, &transport()).unwrap();
    let control = Control::default();
    let handle = control.clone();
    // Cancel at the first iteration report, a quarter second into HiGHS' solve.
    let control = control.with_listener(move |p| {
        if matches!(p, Progress::Iteration { .. }) {
            handle.cancel();
        }
    });
    let o = solve::solve_with(&n, &transport(), &control).unwrap();
    assert_eq!(o.status, Status::Cancelled);
    assert!(o.results.is_none());
    assert!(
        o.timings.solve_s < full.timings.solve_s,
        "stopped early: {} s against {} s for the whole solve",
        o.timings.solve_s,
        full.timings.solve_s
    );
}

#[test]
fn a_solve_cancelled_before_it_starts_builds_nothing() {
    let n = carec_january();
    let control = Control::default();
    control.cancel();
    let o = solve::solve_with(&n, &transport(), &control).unwrap();
    assert_eq!(o.status, Status::Cancelled);
    assert_eq!(o.size.columns, 0);
}

/// HiGHS' log of a solve, and its objective.
fn logged_solve(n: &gridtrade_engine::Network, o: &SolveOptions) -> (Vec<String>, f64) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let control = Control::default().with_listener(move |p| {
        if let Progress::Log(l) = p {
            sink.lock().unwrap().push(l);
        }
    });
    let out = solve::solve_with(n, o, &control).unwrap();
    assert_eq!(out.status, Status::Optimal);
    let lines = lines.lock().unwrap().clone();
    (lines, out.results.unwrap().objective)
}

fn presolved(log: &[String]) -> bool {
    log.iter().any(|l| l.contains("Presolving model"))
}

#[test]
fn presolve_is_off_without_kirchhoff_rows_unless_asked_for() {
    // CAREC (links only) in the transport model: no Kirchhoff rows, presolve off. From the
    // seasonal start (the default on a month with storage) HiGHS never presolves ("useful
    // basis"), so the user's option is checked from a cold start.
    let n = carec_january();
    let (log, objective) = logged_solve(&n, &transport());
    assert!(!presolved(&log), "{log:?}");
    let mut asked = transport();
    asked.start = gridtrade_engine::solve::Start::Cold;
    asked.highs_options = vec![("presolve".into(), "on".into())];
    let (log_on, objective_on) = logged_solve(&n, &asked);
    assert!(presolved(&log_on), "the user's option wins: {log_on:?}");
    common::assert_rel(objective, objective_on, 1e-9);

    // A meshed AC grid in the cycle form has Kirchhoff rows: presolve stays on.
    let case = common::read(&common::case("pglib_opf_case118_ieee.m"));
    let mut cycles = SolveOptions::default();
    cycles.formulation.kvl = gridtrade_engine::formulation::Kvl::Cycles;
    let (log, _) = logged_solve(&case, &cycles);
    assert!(presolved(&log), "{log:?}");
    // The PTDF form (the default) has none: presolve off.
    let (log, _) = logged_solve(&case, &SolveOptions::default());
    assert!(!presolved(&log), "{log:?}");
}
