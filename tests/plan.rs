//! Capacity expansion of the CAREC network: `networks/carec-plan` (the planned and
//! under-construction interconnectors as extendable candidates, costed in
//! `networks/sources/carec-grid/candidate_costs.csv`) and `gridtrade plan`.

mod common;

use common::*;
use gridtrade_engine::solve::{self, SolveOptions};
use gridtrade_engine::solver::Control;
use gridtrade_studies::plan::{self, PlanReport, PlanRequest};
use gridtrade_studies::scenario::Scenario;
use std::path::{Path, PathBuf};

fn networks(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("networks")
        .join(name)
}

/// The first `hours` snapshots of a shipped network.
fn first_hours(name: &str, hours: usize) -> gridtrade_engine::Network {
    let mut n = read(&networks(name));
    solve::select_snapshots(&mut n, 0..hours).unwrap();
    n
}

fn plan_of(n: &gridtrade_engine::Network, req: &PlanRequest) -> PlanReport {
    plan::run(n, req, &Control::default()).unwrap().unwrap()
}

/// January of the plan network, solved by PyPSA 1.4 itself
/// (`tests/data/carec_plan_month/make.py`): gridtrade gives its objective (1e-6) and the
/// capacity it builds of every candidate (1e-3 MW).
#[test]
fn carec_plan_january_gives_pypsa_objective_and_capacities() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/carec_plan_month");
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let n = first_hours("carec-plan", 744);
    assert_rel(n.years(), expected["nyears"].as_f64().unwrap(), 1e-12);
    let r = solve_ok(&n, &SolveOptions::default()).results.unwrap();
    assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
    let built = expected["p_nom_opt"].as_object().unwrap();
    assert_eq!(built.len(), 8);
    for (name, want) in built {
        let k = n.links.iter().position(|l| &l.name == name).unwrap();
        assert_abs(r.link_p_nom_opt[k], want.as_f64().unwrap(), 1e-3);
    }
    let l = n
        .branches
        .iter()
        .position(|b| b.name == "KZN-KZW_500")
        .unwrap();
    assert_abs(
        r.branch_s_nom_opt[l],
        expected["s_nom_opt"]["KZN-KZW_500"].as_f64().unwrap(),
        1e-3,
    );
}

/// The plan of January: "without the candidates" is the shipped network's own dispatch
/// (the same objective as `networks/carec`, where they are out of service); a candidate
/// built between its bounds earns exactly its cost in congestion rent, one at its maximum
/// earns at least its cost (LP duality); the countries' gains add up to the system saving.
#[test]
fn carec_plan_january_accounts_add_up() {
    let n = first_hours("carec-plan", 744);
    let r = plan_of(&n, &PlanRequest::default());
    let base = first_hours("carec", 744);
    let without = solve_ok(&base, &SolveOptions::default()).results.unwrap();
    assert_rel(r.system_cost_without, without.objective, 1e-6);
    assert!(r.saving > 0.0, "{}", r.saving);
    assert_eq!(r.candidates.len(), 9);
    let mut interior = 0;
    for c in &r.candidates {
        let max = c.nom_max.unwrap();
        if c.built > 1e-3 && c.built < max - 1e-3 {
            interior += 1;
            assert_rel(c.congestion_rent, c.cost, 1e-5);
            assert!(c.pays, "{}", c.name);
        } else if c.built >= max - 1e-3 {
            assert!(c.congestion_rent >= c.cost * (1.0 - 1e-6), "{}", c.name);
        }
    }
    assert!(interior >= 3, "{:?}", r.candidates);
    let gains: f64 = r.countries.iter().map(|c| c.gain).sum();
    assert_rel(gains, r.saving, 1e-6);
    let cost: f64 = r.candidates.iter().map(|c| c.cost).sum();
    let shares: f64 = r.countries.iter().map(|c| c.candidate_cost_share).sum();
    assert_rel(shares, cost, 1e-9);
}

/// A scenario fixes candidates: `build` at their largest capacity (its cost counted), and
/// `exclude` out, and caps CO2 (the plan reports the price the cap implies); leave-one-out gives each built candidate's own saving (positive for those
/// the plan chose, negative for the one forced in); names
/// that are no candidate are errors naming them; a network without candidates is refused.
#[test]
fn scenarios_fix_candidates_and_leave_one_out_values_each() {
    let n = first_hours("carec-plan", 168);
    let scenario = Scenario::parse(
        "build = [\"KZN-CNXJ\"]\nexclude = [\"CASA-HVDC\"]\nco2_cap = 4.5e6\n",
        "fix.toml",
    )
    .unwrap();
    let req = PlanRequest {
        scenario: Some((scenario, "fix.toml".into())),
        leave_one_out: true,
        ..Default::default()
    };
    let r = plan_of(&n, &req);
    let china = r.candidates.iter().find(|c| c.name == "KZN-CNXJ").unwrap();
    assert_abs(china.built, 6000.0, 1e-6);
    assert_rel(china.cost, china.cost_per_mw * 6000.0, 1e-12);
    assert!(r.candidates.iter().all(|c| c.name != "CASA-HVDC"));
    // The week's CO2 capped at 4.5 Mt binds in the plan: a positive CO2 price.
    let limit = r.co2_limit.as_ref().unwrap();
    assert_rel(r.co2_plan_t, 4.5e6, 1e-6);
    assert!(limit.co2_price > 0.0, "{limit:?}");
    // Forced in, the China link does not pay (the free plan does not build it): taking it
    // out saves money. Every candidate the plan chose itself saves some.
    assert!(china.saving.unwrap() < 0.0 && !china.pays, "{china:?}");
    for c in r
        .candidates
        .iter()
        .filter(|c| c.built > 1e-3 && c.name != "KZN-CNXJ")
    {
        let saving = c.saving.unwrap();
        assert!(
            saving > -1e-6 * r.system_cost_plan.abs(),
            "{}: {saving}",
            c.name
        );
    }
    let bad = Scenario::parse("exclude = [\"NOPE\"]\n", "bad.toml").unwrap();
    let req = PlanRequest {
        scenario: Some((bad, "bad.toml".into())),
        ..Default::default()
    };
    let err = plan::run(&n, &req, &Control::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("NOPE") && err.contains("exclude"), "{err}");
    let plain = first_hours("carec", 24);
    let err = plan::run(&plain, &PlanRequest::default(), &Control::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no extendable element"), "{err}");
}

/// `gridtrade plan --json` prints the library's report; the text form names every
/// candidate; a network without candidates exits 1 with the reason.
#[test]
fn plan_command_prints_the_report() {
    let path = networks("carec-plan");
    let v = json_of(
        gridtrade()
            .args(["plan", "--snapshots", "0..24", "--json"])
            .arg(&path),
    );
    let n = first_hours("carec-plan", 24);
    let want = plan_of(&n, &PlanRequest::default());
    assert_rel(
        v["system_cost_plan"].as_f64().unwrap(),
        want.system_cost_plan,
        1e-9,
    );
    assert_eq!(v["candidates"].as_array().unwrap().len(), 9);
    let out = gridtrade()
        .args(["plan", "--snapshots", "0..24"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CASA-HVDC") && text.contains("KZN-CNXJ"),
        "{text}"
    );
    let out = gridtrade()
        .args(["plan", "--snapshots", "0..24"])
        .arg(networks("carec"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no extendable element"));
}
