//! N-1 security-constrained dispatch (`--contingencies`) against PyPSA 1.4's own
//! `n.optimize.optimize_security_constrained` on the same network, and against an
//! independent check: each outage's post-contingency flows recomputed from the shift
//! factors of the network without the branch. How the folder and `expected.json` were
//! made: `tests/data/pypsa_sclopf/make.py` (figures in tests/data/REFERENCES.md).

mod common;

use common::*;
use gridtrade_engine::formulation::{Contingencies, DcConvention, Kvl, Outages};
use gridtrade_engine::network::Outage;
use gridtrade_engine::solve::{self, SolveOptions};
use gridtrade_engine::topology::ptdf::ShiftFactors;
use std::path::Path;

fn sclopf_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_sclopf")
}

fn expected() -> serde_json::Value {
    let text = std::fs::read_to_string(sclopf_dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn n1(outages: Outages, rating: f64) -> SolveOptions {
    let mut o = SolveOptions::default();
    o.formulation.contingencies = Some(Contingencies { outages, rating });
    o
}

#[test]
fn n1_dispatch_gives_pypsa_sclopf_objective_prices_and_flows() {
    let want = expected();
    let n = read(&sclopf_dir().join("network"));
    // Without contingencies: PyPSA's plain optimum.
    let base = solve_ok(&n, &SolveOptions::default()).results.unwrap();
    assert_rel(
        base.objective,
        want["objective_without_contingencies"].as_f64().unwrap(),
        1e-6,
    );
    let o = solve_ok(&n, &n1(Outages::All, 1.0));
    let r = o.results.unwrap();
    assert_rel(r.objective, want["objective"].as_f64().unwrap(), 1e-6);
    assert!(r.objective > base.objective + 1000.0, "N-1 binds here");
    for (bus, series) in want["marginal_price"].as_object().unwrap() {
        let b = n.bus_id(bus).unwrap();
        for (t, p) in series.as_array().unwrap().iter().enumerate() {
            assert_abs(r.bus_price[b][t], p.as_f64().unwrap(), 1e-4);
        }
    }
    for (line, series) in want["line_p0"].as_object().unwrap() {
        let l = n.branches.iter().position(|b| b.name == *line).unwrap();
        for (t, f) in series.as_array().unwrap().iter().enumerate() {
            assert_abs(r.branch_p0[l][t], f.as_f64().unwrap(), 1e-4);
        }
    }
    // The radial line to G islands G: reported and skipped, as its LODFs are 0 in PyPSA.
    let eg = n.branches.iter().position(|b| b.name == "E-G").unwrap();
    assert_eq!(r.islanding_outages, vec![eg]);
    assert!(!r.contingency_limits.is_empty());
    assert!(o.size.limit_rows > 0 && o.size.rounds >= 2);
}

/// Every post-contingency flow of the N-1 optimum, recomputed without outage factors (the
/// shift factors of the network without the outaged branch, the same injections), stays
/// within the rating; the limits reported as binding are at their rating there.
#[test]
fn n1_flows_hold_after_every_outage_by_an_independent_power_flow() {
    let n = read(&sclopf_dir().join("network"));
    let r = solve_ok(&n, &n1(Outages::All, 1.0)).results.unwrap();
    let (b, phi) = DcConvention::Matpower.branch_parameters(&n);
    let injections = |t: usize| -> Vec<f64> {
        let mut p = vec![0.0; n.buses.len()];
        for (g, gen) in n.generators.iter().enumerate() {
            p[gen.bus] += r.gen_p[g][t];
        }
        for load in &n.loads {
            p[load.bus] -= load.p_set.at(t);
        }
        p
    };
    let mut binding_seen = 0;
    for k in 0..n.branches.len() {
        if r.islanding_outages.contains(&k) {
            continue;
        }
        let rest = n.without(&Outage {
            branches: vec![k],
            links: vec![],
        });
        let sf = ShiftFactors::new(&rest, &b, &phi).unwrap();
        for t in 0..n.snapshots.len() {
            let flows = sf.flows(&injections(t));
            for (m, f) in flows.iter().enumerate() {
                let s = n.branches[m].s_max;
                assert!(
                    f.abs() <= s * (1.0 + 1e-6),
                    "outage {k}: branch {m} {f} > {s}"
                );
                let binds = r
                    .contingency_limits
                    .iter()
                    .any(|c| c.outage == k && c.monitored == m && c.mu[t] > 1e-6);
                if binds {
                    assert_abs(f.abs(), s, 1e-4);
                    binding_seen += 1;
                }
            }
        }
    }
    assert!(binding_seen > 0);
}

/// A looser post-contingency rating costs less; a named list of outages costs at most what
/// all of them cost.
#[test]
fn contingency_rating_and_lists_order_the_cost() {
    let n = read(&sclopf_dir().join("network"));
    let obj = |o: SolveOptions| solve_ok(&n, &o).results.unwrap().objective;
    let all = obj(n1(Outages::All, 1.0));
    let loose = obj(n1(Outages::All, 1.2));
    let two = obj(n1(Outages::Branches(vec!["A-B".into(), "F-A".into()]), 1.0));
    let base = obj(SolveOptions::default());
    assert!(
        loose < all - 1.0 && loose >= base - 1e-6,
        "{base} {loose} {all}"
    );
    assert!(
        two <= all + 1e-6 && two >= base - 1e-6,
        "{base} {two} {all}"
    );
}

#[test]
fn contingencies_refuse_what_they_cannot_do() {
    let n = read(&sclopf_dir().join("network"));
    let err = |o: SolveOptions| solve::solve(&n, &o).unwrap_err().to_string();
    let unknown = err(n1(Outages::Branches(vec!["Z-Z".into()]), 1.0));
    assert!(
        unknown.contains("'Z-Z'") && unknown.contains("--contingencies"),
        "{unknown}"
    );
    let mut cycles = n1(Outages::All, 1.0);
    cycles.formulation.kvl = Kvl::Cycles;
    assert!(err(cycles).contains("--kvl ptdf"));
    let mut transport = n1(Outages::All, 1.0);
    transport.formulation.model = gridtrade_engine::formulation::NetworkModel::Transport;
    assert!(err(transport).contains("dc model"));
    for bad in [0.0, -1.0, f64::NAN] {
        assert!(err(n1(Outages::All, bad)).contains("--contingency-rating"));
    }
}

/// `trade` with N-1: the study's system cost is PyPSA's SCLOPF objective, its zonal prices
/// are PyPSA's marginal prices weighted by load, and its N-1 section lists the same binding
/// post-contingency limits as the solve summary; a reported period cuts their shadow prices.
#[test]
fn trade_reports_n1_security_with_pypsa_sclopf_prices() {
    use gridtrade_studies::study::{self, TradeRequest};
    let want = expected();
    let mut n = read(&sclopf_dir().join("network"));
    for b in n.buses.iter_mut() {
        let west = ["A", "B", "C"].contains(&b.name.as_str());
        b.zone = if west { "W" } else { "E" }.into();
        b.country = b.zone.clone();
    }
    let o = n1(Outages::All, 1.0);
    let req = |period| TradeRequest {
        autarky: true,
        period,
        options: o.formulation.clone(),
        ..Default::default()
    };
    let control = gridtrade_engine::solver::Control::default();
    let out = study::run(&n, &req(None), &control).unwrap().unwrap();
    let r = &out.study.report;
    assert_rel(
        r.welfare.system_cost,
        want["objective"].as_f64().unwrap(),
        1e-6,
    );
    assert_eq!(r.borders.len(), 1, "W-E");
    for z in &r.zones {
        let (mut paid, mut load) = (0.0, 0.0);
        for t in 0..n.snapshots.len() {
            for (b, l) in n.bus_load(t).into_iter().enumerate() {
                if n.buses[b].zone == z.zone {
                    paid += want["marginal_price"][&n.buses[b].name][t]
                        .as_f64()
                        .unwrap()
                        * l;
                    load += l;
                }
            }
        }
        assert!(load > 0.0);
        assert_rel(z.prices.load_weighted_price.unwrap(), paid / load, 1e-6);
    }
    let solved = solve_ok(&n, &o).results.unwrap();
    let summary = gridtrade_engine::report::security_summary(&n, &solved, &o.formulation).unwrap();
    let sec = r.security.as_ref().expect("an N-1 section");
    assert_eq!(sec.islanding_outages, vec!["E-G".to_string()]);
    assert!(!sec.binding.is_empty());
    assert_eq!(sec.binding.len(), summary.binding.len());
    for (a, b) in sec.binding.iter().zip(&summary.binding) {
        assert_eq!((&a.outage, &a.monitored), (&b.outage, &b.monitored));
        assert_eq!(a.snapshots_binding, b.snapshots_binding);
        assert_rel(a.mean_shadow_price, b.mean_shadow_price, 1e-6);
    }
    assert!(out.study.gains.is_some(), "autarky solved with N-1 too");
    let part = study::run(&n, &req(Some(1..3)), &control).unwrap().unwrap();
    let psec = part.study.report.security.unwrap();
    assert!(psec.binding.iter().all(|b| b.shadow_price.len() == 2));
}
