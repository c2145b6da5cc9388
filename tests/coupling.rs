//! Market coupling three ways (NTC, flow-based, nodal) on cases worked out by hand, and the
//! identities on a month of the CAREC network with physics.

mod common;

use common::*;
use gridtrade_engine::formulation::FormulationOptions;
use gridtrade_engine::Network;
use gridtrade_studies::coupling::{self, Coupling, FlowBasedOptions};
use gridtrade_studies::study::{self, Study, TradeRequest};
use std::path::Path;

fn coupled(n: &Network, c: Coupling, frm: f64) -> Study {
    let req = TradeRequest {
        autarky: false,
        coupling: Some(c),
        flow_based: FlowBasedOptions {
            frm,
            ..Default::default()
        },
        options: FormulationOptions::default(),
        ..Default::default()
    };
    study::run(n, &req, &Default::default())
        .unwrap()
        .unwrap()
        .study
}

/// What holds for any coupled market: net positions add up to the losses; a zonal result's
/// redispatch is feasible in every hour, leaves no overload and costs nothing negative.
fn assert_physical_identities(s: &Study) {
    let net: f64 = s.report.zones.iter().map(|z| z.net_position_mwh).sum();
    let losses = s.report.losses_mwh;
    assert!(
        (net - losses).abs() <= 1e-6 * losses.abs().max(1.0),
        "{net} vs {losses}"
    );
    if let Some(rd) = &s.coupling.as_ref().unwrap().redispatch {
        assert_eq!(rd.infeasible_hours, 0);
        assert!(
            rd.residual_overload_mw < 1e-3,
            "{}",
            rd.residual_overload_mw
        );
        assert!(rd.cost >= -1e-3, "{}", rd.cost);
    }
}

fn price(s: &Study, zone: &str) -> f64 {
    let z = s.report.zones.iter().find(|z| z.zone == zone).unwrap();
    z.prices.mean_price.unwrap()
}

fn net_position(s: &Study, zone: &str) -> f64 {
    let z = s.report.zones.iter().find(|z| z.zone == zone).unwrap();
    z.net_position_mwh
}

/// The triangle of `common::triangle`: three zones, one bus each, in a triangle of lines of
/// equal reactance; one hour.
///
/// ```text
///          A (a: 1000 MW @ 10)
///         / \
///   AB 1000   AC 300        (MW ratings; x = 0.1 each)
///       /       \
///  B (b: 1000 MW @ 25) --BC 1000-- C (c: 1000 MW @ 50, load 600)
/// ```
///
/// Shift factors with C as the slack (power injected at A and taken out at C splits 2/3
/// over AC and 1/3 over AB–BC): zPTDF[AC] = (A 2/3, B 1/3, C 0), zPTDF[AB] = (1/3, −1/3,
/// 0), zPTDF[BC] = (1/3, 2/3, 0).
///
/// **Nodal** (and flow-based with FRM 0): with NP_A = pA, NP_B = pB, the cost is
/// 10 pA + 25 pB + 50 (600 − pA − pB) and AC carries (2 pA + pB)/3 ≤ 300. B saves 25 per
/// MW for 1/3 MW of AC, A 40 per MW for 2/3 MW: B first, to pA + pB = 600 (c off), then
/// 2 pA + pB = 900: pA = 300, pB = 300, cost 3000 + 7500 = 10,500. Prices: A 10 and B 25
/// (their units are marginal); at C one more MW is 2 MW more from b and 1 MW less from a
/// (AC unchanged): 50 − 10 = 40. AC's shadow price μ: 40 − μ·2/3 = 10, μ = 45 (and
/// 40 − 45/3 = 25 at B). Congestion rent: consumers pay 40 × 600 = 24,000, producers earn
/// 3000 + 7500: 13,500 = μ × RAM = 45 × 300.
///
/// **Flow-based, FRM 10 %**: RAM[AC] = 270: 2 pA + pB = 810, pA = 210, pB = 390, cost
/// 2100 + 9750 = 11,850; the same prices (10, 25, 40; μ = 45), rent 45 × 270 = 12,150.
/// Physical flow on AC: 140 + 130 = 270 ≤ 300: no redispatch.
///
/// **NTC** (every line a controllable flow within its rating): A serves all 600 MW over
/// AC (300) and AB–BC (300) at 10 everywhere, cost 6000. Physically AC then carries
/// 2/3 × 600 = 400 MW: 100 over. The cheapest redispatch moves a → b (each MW takes 1/3 MW
/// off AC at 25 − 10 = 15) rather than a → c (2/3 MW at 40): 300 MW for 4500. Market plus
/// redispatch: 10,500, the nodal cost.
#[test]
fn triangle_clears_as_worked_by_hand_under_each_coupling() {
    let dir = triangle();
    let n = read(dir.path());
    let tol = 1e-6;

    // Nodal.
    let nodal = coupled(&n, Coupling::Nodal, 0.1);
    assert_abs(nodal.report.welfare.system_cost, 10_500.0, tol);
    for (z, p, np) in [("A", 10.0, 300.0), ("B", 25.0, 300.0), ("C", 40.0, -600.0)] {
        assert_abs(price(&nodal, z), p, tol);
        assert_abs(net_position(&nodal, z), np, tol);
    }
    let c = nodal.coupling.as_ref().unwrap();
    assert!(c.redispatch.is_none());
    assert_abs(c.total_cost, 10_500.0, tol);

    // Flow-based without a margin: the nodal result, the rent on AC's CNEC.
    let fb0 = coupled(&n, Coupling::FlowBased, 0.0);
    assert_abs(fb0.report.welfare.system_cost, 10_500.0, tol);
    for (z, p) in [("A", 10.0), ("B", 25.0), ("C", 40.0)] {
        assert_abs(price(&fb0, z), p, tol);
    }
    let c = fb0.coupling.as_ref().unwrap();
    let d = c.domain.as_ref().unwrap();
    assert_eq!(d.zones, ["A", "B", "C"]);
    assert_eq!(d.cnecs.len(), 3, "every line crosses a border");
    let ac = d
        .cnecs
        .iter()
        .find(|k| n.branches[k.monitored].name == "AC")
        .unwrap();
    // zPTDF relative to the slack (A, the first bus): differences are what count.
    let diff =
        |k: &gridtrade_engine::formulation::Cnec, a: usize, b: usize| k.zptdf[a] - k.zptdf[b];
    assert_abs(diff(ac, 0, 2), 2.0 / 3.0, 1e-12);
    assert_abs(diff(ac, 1, 2), 1.0 / 3.0, 1e-12);
    assert_abs(ac.ram_forward[0], 300.0, 1e-9);
    assert_abs(ac.ram_backward[0], 300.0, 1e-9);
    assert_eq!(c.cnecs.len(), 1, "{:?}", c.cnecs);
    assert_eq!(c.cnecs[0].name, "AC");
    assert_abs(c.cnecs[0].mean_shadow_price, 45.0, tol);
    assert_abs(c.cnecs[0].congestion_rent, 13_500.0, tol);
    assert_abs(fb0.report.welfare.congestion_rent, 13_500.0, tol);
    assert_eq!(c.redispatch.as_ref().unwrap().hours_overloaded, 0);

    // Flow-based with the 10 % margin.
    let fb = coupled(&n, Coupling::FlowBased, 0.1);
    assert_abs(fb.report.welfare.system_cost, 11_850.0, tol);
    for (z, p, np) in [("A", 10.0, 210.0), ("B", 25.0, 390.0), ("C", 40.0, -600.0)] {
        assert_abs(price(&fb, z), p, tol);
        assert_abs(net_position(&fb, z), np, tol);
    }
    let c = fb.coupling.as_ref().unwrap();
    assert_abs(c.cnecs[0].congestion_rent, 45.0 * 270.0, tol);
    let rd = c.redispatch.as_ref().unwrap();
    assert_eq!((rd.hours_overloaded, rd.volume_mwh), (0, 0.0));

    // NTC: the market overloads AC; the redispatch moves 300 MW from a to b for 4500.
    let ntc = coupled(&n, Coupling::Ntc, 0.1);
    assert_abs(ntc.report.welfare.system_cost, 6000.0, tol);
    for z in ["A", "B", "C"] {
        assert_abs(price(&ntc, z), 10.0, tol);
    }
    let c = ntc.coupling.as_ref().unwrap();
    let rd = c.redispatch.as_ref().unwrap();
    assert_eq!((rd.hours_overloaded, rd.infeasible_hours), (1, 0));
    assert_abs(rd.overload_mwh, 100.0, tol);
    assert_abs(rd.cost, 4500.0, 1e-6);
    assert_abs(rd.volume_mwh, 300.0, 1e-6);
    assert_abs(rd.residual_overload_mw, 0.0, 1e-6);
    assert_abs(c.total_cost, 10_500.0, 1e-6);
    assert_eq!(rd.most_overloaded.as_ref().unwrap().0, "AC");

    // Welfare: nodal ≥ flow-based (its margin) ≥ ... and NTC + redispatch = nodal here.
    assert!(nodal.report.welfare.system_cost <= fb.report.welfare.system_cost);
}

/// The flow-based domain as data: on a grid whose zones hold several buses the zonal
/// PTDFs follow the shift keys and the reference flow is what the zones' internal dispatch
/// puts on the element.
///
/// ```text
///   zone X: buses X1 (gen g1 100 MW @ 10), X2 (gen g2 300 MW @ 20)    zone Y: bus Y (load 150)
///   lines X1–X2, X1–Y, X2–Y, x = 0.1, 1000 MW
/// ```
///
/// Keys: X1 100/400 = 0.25, X2 0.75. Injection at X1 to Y: 2/3 over X1–Y, 1/3 over
/// X1–X2–Y; at X2: 2/3 over X2–Y, 1/3 over X2–X1–Y. zPTDF of X1–Y (X relative to Y):
/// 0.25·2/3 + 0.75·1/3 = 5/12. The nodal dispatch: g1 100, g2 50 (cheapest first); flow
/// on X1–Y = 100·2/3 + 50·1/3 = 250/3; NP_X = 150: F0 = 250/3 − 5/12·150 = 20.833 MW.
#[test]
fn domain_of_a_multi_bus_zone_follows_shift_keys_and_reference_flows() {
    let dir = folder(&[
        ("buses.csv", "name,zone\nX1,X\nX2,X\nY,Y\n"),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost\ng1,X1,100,10\ng2,X2,300,20\n",
        ),
        ("loads.csv", "name,bus,p_set\nl,Y,150\n"),
        (
            "lines.csv",
            "name,bus0,bus1,x,s_nom\nX1X2,X1,X2,0.1,1000\nX1Y,X1,Y,0.1,1000\nX2Y,X2,Y,0.1,1000\n",
        ),
    ]);
    let n = read(dir.path());
    assert_eq!(coupling::shift_keys(&n), [0.25, 0.75, 1.0]);
    let base = solve_ok(&n, &Default::default()).results.unwrap();
    let d = coupling::domain(
        &n,
        &base,
        &FlowBasedOptions {
            frm: 0.0,
            ..Default::default()
        },
    )
    .unwrap();
    let (zx, zy) = (0, 1);
    let x1y = d
        .cnecs
        .iter()
        .find(|k| n.branches[k.monitored].name == "X1Y")
        .unwrap();
    assert_abs(x1y.zptdf[zx] - x1y.zptdf[zy], 5.0 / 12.0, 1e-12);
    let f0 = 250.0 / 3.0 - 5.0 / 12.0 * 150.0;
    assert_abs(x1y.ram_forward[0], 1000.0 - f0, 1e-9);
    assert_abs(x1y.ram_backward[0], 1000.0 + f0, 1e-9);
    // X1–X2 is inside zone X; its zone-to-zone PTDF 0.25·1/3 − 0.75·1/3 = −1/6 reaches the
    // 5 % threshold: it is critical too.
    assert!(d
        .cnecs
        .iter()
        .any(|k| n.branches[k.monitored].name == "X1X2"));
    let csv = coupling::domain_csv(&n, &d);
    assert!(csv.starts_with(
        "cnec,monitored,outage,snapshot,ram_forward_mw,ram_backward_mw,zptdf_X,zptdf_Y\n"
    ));
    assert_eq!(csv.lines().count(), 1 + d.cnecs.len());
}

/// On a month of the CAREC network with physics: every coupling solves; the flow-based
/// market's congestion income equals Σ shadow price × RAM; its net positions add up to
/// zero in each synchronous area (Σ net positions over all zones = link losses); the
/// redispatch leaves no overload; nodal costs least.
#[test]
fn carec_month_couplings_keep_their_identities() {
    let mut n = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/carec"));
    gridtrade_engine::solve::select_snapshots(&mut n, 0..744).unwrap();
    let nodal = coupled(&n, Coupling::Nodal, 0.1);
    let fb = coupled(&n, Coupling::FlowBased, 0.1);
    let ntc = coupled(&n, Coupling::Ntc, 0.1);
    let rel = |x: f64, y: f64| (x - y).abs() <= 1e-6 * y.abs().max(1.0);
    for s in [&nodal, &fb, &ntc] {
        assert_physical_identities(s);
    }
    // The flow-based market's congestion income Σ_t w_t Σ_z price[z,t] × (−NP[z,t]) (what
    // importing zones pay beyond what exporting zones earn, over the AC grid) equals
    // Σ_k Σ_t w_t μ[k,t] RAM[k,t] (LP duality).
    let base = solve_ok(&n, &Default::default()).results.unwrap();
    let d = std::sync::Arc::new(coupling::domain(&n, &base, &FlowBasedOptions::default()).unwrap());
    let mut o = gridtrade_engine::solve::SolveOptions::default();
    o.formulation.flow_domain = Some(d.clone());
    let r = solve_ok(&n, &o).results.unwrap();
    let (zones, zone_of) = n.zone_of_buses();
    let mut income = 0.0;
    for z in 0..zones.len() {
        let bus = zone_of.iter().position(|&k| k == z).unwrap();
        for t in 0..744 {
            income -= n.snapshots.objective[t] * r.bus_price[bus][t] * r.net_position[z][t];
        }
    }
    let rent: f64 = coupling::cnec_summaries(&n, &d, &r)
        .iter()
        .map(|k| k.congestion_rent)
        .sum();
    assert!(rent > 1e6, "{rent}");
    assert!(rel(income, rent), "{income} vs {rent}");
    assert!(rel(r.objective, fb.report.welfare.system_cost));
    let total = |s: &Study| s.coupling.as_ref().unwrap().total_cost;
    assert!(total(&nodal) <= total(&fb) * (1.0 + 1e-9));
    assert!(total(&nodal) <= total(&ntc) * (1.0 + 1e-9));
}

/// Four zones in a ring of equal lines; A sells 400 MW to its neighbour B, one hour.
///
/// ```text
///   A (a: 1000 MW @ 10) ---- B (load 400)
///   |                        |
///   D ---------------------- C          (c, d: 1000 MW @ 50 each; every line x = 0.1, 1000 MW)
/// ```
///
/// Physically 3/4 of the sale takes the direct line and 1/4 goes round A–D–C–B: 300 MW on
/// A–B and 100 MW on each of A–D, D–C and C–B. The contract path is the one border A–B:
/// scheduled 400 MW there, nothing elsewhere. Unscheduled: 100 MW on every border (A–B
/// carries 100 MW less than scheduled; the other three 100 MW loop flow that C and D never
/// traded). A is the only exporter: its trade puts 300 MW on A–B and 100 MW on each of the
/// others.
#[test]
fn a_sale_between_neighbours_loops_round_the_ring() {
    let dir = folder(&[
        ("buses.csv", "name,zone\nA,A\nB,B\nC,C\nD,D\n"),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost\na,A,1000,10\nc,C,1000,50\nd,D,1000,50\n",
        ),
        ("loads.csv", "name,bus,p_set\nl,B,400\n"),
        (
            "lines.csv",
            "name,bus0,bus1,x,s_nom\nAB,A,B,0.1,1000\nBC,B,C,0.1,1000\nCD,C,D,0.1,1000\nDA,D,A,0.1,1000\n",
        ),
    ]);
    let n = read(dir.path());
    let s = coupled(&n, Coupling::Nodal, 0.1);
    let loops = &s.coupling.as_ref().unwrap().loop_flows;
    let border = |a: &str, b: &str| {
        loops
            .iter()
            .find(|l| l.zone_a == a && l.zone_b == b)
            .unwrap()
    };
    let tol = 1e-6;
    let ab = border("A", "B");
    assert_abs(ab.physical_mwh, 300.0, tol);
    assert_abs(ab.scheduled_mwh, 400.0, tol);
    assert_abs(ab.unscheduled_mwh, 100.0, tol);
    assert_eq!(ab.hourly.len(), 1);
    assert_abs(ab.hourly[0].0, 300.0, tol);
    assert_abs(ab.hourly[0].1, 400.0, tol);
    assert_eq!(ab.by_exporter.len(), 1);
    assert_eq!(ab.by_exporter[0].0, "A");
    assert_abs(ab.by_exporter[0].1, 300.0, tol);
    for (a, b) in [("A", "D"), ("C", "D"), ("B", "C")] {
        let l = border(a, b);
        assert_abs(l.physical_mwh, 100.0, tol);
        assert_abs(l.scheduled_mwh, 0.0, tol);
        assert_abs(l.unscheduled_mwh, 100.0, tol);
        assert_eq!(l.by_exporter[0].0, "A");
        assert_abs(l.by_exporter[0].1, 100.0, tol);
    }
    // D–C flows from D to C: against the border's a → b orientation (C → D).
    assert_abs(border("C", "D").hourly[0].0, -100.0, tol);
}

/// Bad coupling inputs are refused with the option or element named: a reliability margin
/// outside [0, 1), a zone split over two AC islands.
#[test]
fn bad_coupling_inputs_are_refused_by_name() {
    let dir = triangle();
    let n = read(dir.path());
    let req = TradeRequest {
        autarky: false,
        coupling: Some(Coupling::FlowBased),
        flow_based: FlowBasedOptions {
            frm: 1.5,
            ..Default::default()
        },
        ..Default::default()
    };
    let err = study::run(&n, &req, &Default::default()).unwrap_err();
    assert!(err.to_string().contains("--frm"), "{err}");
    // Zone A's second bus is an island of its own (no line): its net position would not be
    // one flow within one grid.
    let dir = folder(&[
        ("buses.csv", "name,zone\nA1,A\nA2,A\nB,B\n"),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost\na1,A1,100,10\na2,A2,100,20\nb,B,100,30\n",
        ),
        ("loads.csv", "name,bus,p_set\nla,A2,50\nlb,B,50\n"),
        ("lines.csv", "name,bus0,bus1,x,s_nom\nA1B,A1,B,0.1,100\n"),
    ]);
    let n = read(dir.path());
    let req = TradeRequest {
        flow_based: FlowBasedOptions::default(),
        ..req
    };
    let err = study::run(&n, &req, &Default::default()).unwrap_err();
    assert!(err.to_string().contains("zone 'A' spans"), "{err}");
}

/// `gridtrade trade --coupling flow-based --out DIR` prints the coupling section and writes
/// the domain, the binding CNECs and the loop flows as CSV.
#[test]
fn trade_command_writes_the_flow_based_domain() {
    let out = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = gridtrade()
        .args([
            "trade",
            "--quiet",
            "--no-autarky",
            "--coupling",
            "flow-based",
        ])
        .arg(root.join("networks/carec"))
        .args(["--snapshots", "0..48", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("coupling flow-based: market cost"), "{text}");
    assert!(
        text.contains("flow-based domain: 19 critical network elements"),
        "{text}"
    );
    let domain = std::fs::read_to_string(out.path().join("flow_based_domain.csv")).unwrap();
    // 19 CNECs (the AC lines in service, all between zones) × 48 snapshots, and a header.
    assert_eq!(domain.lines().count(), 1 + 19 * 48);
    assert!(domain
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("KZN-KZS:1,KZN-KZS:1,,2023-01-01 00:00:00,"));
    let loops = std::fs::read_to_string(out.path().join("loop_flows.csv")).unwrap();
    // 11 AC borders (7 between countries' zones, 4 between Uzbekistan's subzones) × 48
    // snapshots.
    assert_eq!(loops.lines().count(), 1 + 11 * 48);
    // The AC grid up close: the zones on lines (Uzbekistan's subzones among them), not the
    // zones joined only by links (Pakistan).
    let close = std::fs::read_to_string(out.path().join("map_ac_grid.svg")).unwrap();
    assert!(close.contains(">UZ_FERGANA<") && close.contains(">KG_S<"));
    assert!(!close.contains(">PK_N<"));
    let cnecs = std::fs::read_to_string(out.path().join("cnecs.csv")).unwrap();
    assert!(cnecs
        .starts_with("cnec,monitored,outage,hours_binding,mean_shadow_price,congestion_rent\n"));
    assert!(cnecs.lines().count() > 1);
}

/// The whole CAREC year under each coupling (no autarky): the nodal market is PyPSA's
/// solve of the same network (tests/data/REFERENCES.md: 5222560894.867492 USD); every
/// coupling keeps Σ net positions = losses; the zonal results are feasible on the grid
/// after their redispatch; total cost orders nodal ≤ flow-based ≤ NTC + redispatch (the
/// order the README's validation table reports and explains).
#[test]
fn carec_year_under_each_coupling() {
    let n = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/carec"));
    let nodal = coupled(&n, Coupling::Nodal, 0.1);
    assert_rel(nodal.report.welfare.system_cost, 5222560894.867492, 1e-9);
    let fb = coupled(&n, Coupling::FlowBased, 0.1);
    let ntc = coupled(&n, Coupling::Ntc, 0.1);
    for s in [&nodal, &fb, &ntc] {
        assert_physical_identities(s);
    }
    let total = |s: &Study| s.coupling.as_ref().unwrap().total_cost;
    assert!(total(&nodal) <= total(&fb) * (1.0 + 1e-9));
    assert!(total(&fb) <= total(&ntc) * (1.0 + 1e-9));
    // The NTC market ignores the loops: the grid cannot carry it without redispatch.
    let rd = ntc.coupling.as_ref().unwrap().redispatch.clone().unwrap();
    assert!(rd.hours_overloaded > 0 && rd.cost > 0.0);
}

/// N-1 in the flow-based domain, on the triangle (FRM 0): after the outage of BC, AC
/// carries everything A and B send (zPTDF 1 and 1 relative to C), so `pA + pB <= 300`
/// binds: a runs at 300, b stays off (cheaper to serve C's last 300 MW from c at 50 than to
/// take AC's capacity from a), c at 300. Cost 3000 + 15,000 = 18,000; prices A 10, C 50,
/// the CNEC "AC after BC" at 40 (= 50 − 10), B 50 − 40 = 10. The nodal N-1 dispatch
/// (PTDF form with LODFs) is the same.
#[test]
fn flow_based_domain_holds_n1_elements() {
    use gridtrade_engine::formulation::{Contingencies, Outages};
    let dir = triangle();
    let n = read(dir.path());
    let n1 = Some(Contingencies {
        outages: Outages::All,
        rating: 1.0,
    });
    let run = |c: Coupling| {
        let req = TradeRequest {
            autarky: false,
            coupling: Some(c),
            flow_based: FlowBasedOptions {
                frm: 0.0,
                ..Default::default()
            },
            options: FormulationOptions {
                contingencies: n1.clone(),
                ..Default::default()
            },
            ..Default::default()
        };
        study::run(&n, &req, &Default::default())
            .unwrap()
            .unwrap()
            .study
    };
    let fb = run(Coupling::FlowBased);
    let nodal = run(Coupling::Nodal);
    assert_abs(fb.report.welfare.system_cost, 18_000.0, 1e-6);
    assert_abs(nodal.report.welfare.system_cost, 18_000.0, 1e-6);
    for (z, p) in [("A", 10.0), ("B", 10.0), ("C", 50.0)] {
        assert_abs(price(&fb, z), p, 1e-6);
    }
    let c = fb.coupling.as_ref().unwrap();
    // 3 base-case elements and each monitored after each other outage: 3 + 3 × 2.
    assert_eq!(c.domain_cnecs, 9);
    assert_eq!(c.cnecs.len(), 1, "{:?}", c.cnecs);
    assert_eq!(c.cnecs[0].name, "AC after BC");
    assert_abs(c.cnecs[0].mean_shadow_price, 40.0, 1e-6);
    assert_abs(c.cnecs[0].congestion_rent, 40.0 * 300.0, 1e-6);
}
