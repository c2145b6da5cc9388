//! Trade analysis: a hand-built three-zone case with every figure worked out, the
//! accounting identities on a month of the CAREC network, and scenario files.

mod common;

use common::*;
use gridtrade_engine::formulation::{FormulationOptions, NetworkModel};
use gridtrade_engine::solve::{self, SolveOptions};
use gridtrade_engine::Network;
use gridtrade_studies::autarky::{borders, without_borders};
use gridtrade_studies::scenario::Scenario;
use gridtrade_studies::trade::{self, TradeReport};
use std::path::Path;

/// ```text
///   A (country AA) ==AB, 30 MW both ways==> B (country BB) ==BC, 100 MW one way, eff 0.9==> C (country CC)
///   a: 100 MW @ 10, load 20         b: 100 MW @ 30, load 60           c: 100 MW @ 50, load 50
/// ```
///
/// One hour. A sells 30 MW to B (AB binds), so a runs at 50 MW and sets A's price at 10. B's
/// own b is marginal at 30. C is cheaper to serve over BC (30 / 0.9 = 33.33 per MWh delivered)
/// than by c (50): BC sends 55.556 MW and delivers 50; c stays off; C's price is 33.333.
///
/// - prices A 10, B 30, C 33.333; AB shadow price 20 (= 30 − 10), BC 0.
/// - flows: A→B 30 sent; B→C 55.556 sent, 50 received; losses 5.556 = Σ net positions
///   (A +30, B +25.556, C −50).
/// - congestion rent: AB 30·30 − 30·10 = 600; BC 50·33.333 − 55.556·30 = 0; absolute BC
///   55.556·3.333 = 185.185.
/// - consumers pay 200 + 1800 + 1666.667 = 3666.667 = producers' 500 + 2566.667 + rent 600.
/// - system cost 500 + 2566.667 = 3066.667; producer surplus 0 (both running units marginal).
/// - countries (trade at zonal prices, rent shared half-half): AA 500 − 300 − 300 = −100;
///   BB 2566.667 + 900 − 1666.667 − 300 = 1500; CC 1666.667.
/// - autarky: 200 + 1800 + 2500 = 4500, saving 1433.333; gains AA 300, BB 300, CC 833.333.
fn three_zones() -> tempfile::TempDir {
    folder(&[
        ("buses.csv", "name,zone,country\nA,A,AA\nB,B,BB\nC,C,CC\n"),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost\na,A,100,10\nb,B,100,30\nc,C,100,50\n",
        ),
        ("loads.csv", "name,bus,p_set\nla,A,20\nlb,B,60\nlc,C,50\n"),
        (
            "links.csv",
            "name,bus0,bus1,p_nom,p_min_pu,efficiency\nAB,A,B,30,-1,1\nBC,B,C,100,0,0.9\n",
        ),
    ])
}

/// The dc model in the cycle form (what can be re-solved warm for another network).
fn cycles_form() -> SolveOptions {
    let mut o = SolveOptions::default();
    o.formulation.kvl = gridtrade_engine::formulation::Kvl::Cycles;
    o
}

fn report(n: &Network, o: &FormulationOptions) -> TradeReport {
    let r = solve_ok(
        n,
        &SolveOptions {
            formulation: o.clone(),
            time_limit: None,
            ..Default::default()
        },
    )
    .results
    .unwrap();
    trade::analyse(n, &r, o)
}

#[test]
fn three_zone_case_gives_every_trade_figure() {
    let dir = three_zones();
    let n = read(dir.path());
    let o = FormulationOptions {
        model: NetworkModel::Transport,
        ..Default::default()
    };
    let r = report(&n, &o);
    let tol = 1e-6;
    let z = |name: &str| r.zones.iter().find(|z| z.zone == name).unwrap();
    let price = |p: Option<f64>| p.expect("a zone with load and prices has every statistic");
    assert_abs(price(z("A").prices.mean_price), 10.0, tol);
    assert_abs(price(z("B").prices.load_weighted_price), 30.0, tol);
    assert_abs(price(z("C").prices.max_price), 100.0 / 3.0, tol);
    assert_abs(z("A").net_position_mwh, 30.0, tol);
    assert_abs(z("B").net_position_mwh, 500.0 / 9.0 - 30.0, tol);
    assert_abs(z("C").net_position_mwh, -50.0, tol);
    assert_abs(z("C").imports_mwh, 50.0, tol);
    assert_abs(z("B").exports_mwh, 500.0 / 9.0, tol);
    assert_abs(r.losses_mwh, 50.0 / 9.0, tol);
    assert_abs(r.matrix[0][1], 30.0, tol);
    assert_abs(r.matrix[1][2], 500.0 / 9.0, tol);
    assert_abs(r.matrix[1][0] + r.matrix[2][1] + r.matrix[0][2], 0.0, tol);

    let border = |a: &str, b: &str| {
        r.borders
            .iter()
            .find(|x| x.zone_a == a && x.zone_b == b)
            .unwrap()
    };
    let ab = border("A", "B");
    assert_abs(ab.flow_ab_mwh, 30.0, tol);
    assert_eq!((ab.hours_congested_ab, ab.hours_congested_ba), (1, 0));
    assert_abs(ab.shadow_price_ab, 20.0, tol);
    assert_abs(ab.congestion_rent, 600.0, tol);
    assert_abs(ab.congestion_rent_abs, 600.0, tol);
    let bc = border("B", "C");
    assert_eq!(bc.hours_congested_ab, 0);
    assert_abs(bc.congestion_rent, 0.0, tol);
    assert_abs(bc.congestion_rent_abs, 500.0 / 9.0 * 10.0 / 3.0, tol);
    assert_abs(bc.losses_mwh, 50.0 / 9.0, tol);

    let w = &r.welfare;
    assert_abs(w.consumer_payments, 200.0 + 1800.0 + 5000.0 / 3.0, tol);
    assert_abs(
        w.producer_revenue,
        500.0 + 30.0 * (60.0 + 500.0 / 9.0 - 30.0),
        tol,
    );
    assert_abs(w.congestion_rent, 600.0, tol);
    assert_abs(w.producer_surplus, 0.0, tol);
    assert_abs(
        w.system_cost,
        500.0 + 30.0 * (60.0 + 500.0 / 9.0 - 30.0),
        tol,
    );

    let c = |name: &str| r.countries.iter().find(|c| c.country == name).unwrap();
    assert_abs(c("AA").net_cost, -100.0, tol);
    assert_abs(c("BB").net_cost, 1500.0, tol);
    assert_abs(c("CC").net_cost, 5000.0 / 3.0, tol);
    assert_abs(c("BB").import_bill, 900.0, tol);
    assert_abs(c("BB").export_revenue, 5000.0 / 3.0, tol);
    assert_abs(c("AA").rent_share, 300.0, tol);

    let alone = report(&without_borders(&n), &o);
    let g = trade::gains(&r, &alone);
    assert_abs(g.autarky_cost, 4500.0, tol);
    assert_abs(
        g.saving,
        4500.0 - 500.0 - 30.0 * (60.0 + 500.0 / 9.0 - 30.0),
        tol,
    );
    let gain = |name: &str| g.countries.iter().find(|c| c.country == name).unwrap();
    assert_abs(gain("AA").gain, 300.0, tol);
    assert_abs(gain("AA").production_cost_saving, -300.0, tol);
    assert_abs(gain("BB").gain, 300.0, tol);
    assert_abs(gain("CC").gain, 2500.0 - 5000.0 / 3.0, tol);
    assert_abs(
        g.countries.iter().map(|c| c.gain).sum::<f64>(),
        g.saving,
        tol,
    );
}

#[test]
fn accounting_identities_hold_on_a_month_of_carec() {
    let mut n = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/carec"));
    solve::select_snapshots(&mut n, 0..744).unwrap();
    let o = FormulationOptions {
        model: NetworkModel::Transport,
        ..Default::default()
    };
    let results = solve_ok(
        &n,
        &SolveOptions {
            formulation: o.clone(),
            time_limit: None,
            ..Default::default()
        },
    )
    .results
    .unwrap();
    let r = trade::analyse(&n, &results, &o);
    let rel = |x: f64, y: f64| (x - y).abs() <= 1e-6 * y.abs().max(1.0);

    // Per border: the rent is flow × price difference (with losses: price × received −
    // price × sent), summed over hours, recomputed here from the raw results.
    for b in &r.borders {
        let mut rent = 0.0;
        let on_border = |bus0: usize, bus1: usize| {
            let (za, zb) = (&n.buses[bus0].zone, &n.buses[bus1].zone);
            (za == &b.zone_a && zb == &b.zone_b) || (za == &b.zone_b && zb == &b.zone_a)
        };
        let mut add = |bus0: usize, bus1: usize, efficiency: f64, p0: &[f64]| {
            for (t, p0) in p0.iter().enumerate() {
                rent +=
                    results.bus_price[bus1][t] * efficiency * p0 - results.bus_price[bus0][t] * p0;
            }
        };
        for (k, l) in n.links.iter().enumerate() {
            if on_border(l.bus0, l.bus1) {
                add(l.bus0, l.bus1, l.efficiency, &results.link_p0[k]);
            }
        }
        for (k, l) in n.branches.iter().enumerate() {
            if on_border(l.bus0, l.bus1) {
                add(l.bus0, l.bus1, 1.0, &results.branch_p0[k]);
            }
        }
        assert!(
            rel(b.congestion_rent, rent),
            "{}-{}: {} vs {rent}",
            b.zone_a,
            b.zone_b,
            b.congestion_rent
        );
    }
    // Net positions add up to the losses.
    let net: f64 = r.zones.iter().map(|z| z.net_position_mwh).sum();
    assert!(rel(net, r.losses_mwh), "{net} vs {}", r.losses_mwh);
    // Welfare terms add up: consumers pay producers plus the rent; costs are the objective.
    let w = &r.welfare;
    assert!(rel(
        w.consumer_payments,
        w.producer_revenue + w.congestion_rent
    ));
    assert!(
        rel(w.system_cost, results.objective),
        "{} vs {}",
        w.system_cost,
        results.objective
    );
    assert!(rel(w.producer_surplus, w.producer_revenue - w.system_cost));
    // Country accounts share out the system cost; trading never costs the region more.
    let countries: f64 = r.countries.iter().map(|c| c.net_cost).sum();
    assert!(rel(countries, w.system_cost));
    let alone = report(&without_borders(&n), &o);
    let g = trade::gains(&r, &alone);
    assert!(g.coupled_cost <= g.autarky_cost);
    assert!(rel(
        g.countries.iter().map(|c| c.gain).sum::<f64>(),
        g.saving
    ));
}

#[test]
fn shipped_scenarios_apply_to_carec() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = read(&root.join("networks/carec"));
    for file in ["casa1000", "under_construction", "carbon30", "dry_year"] {
        let path = root.join(format!("networks/scenarios/{file}.toml"));
        let s = Scenario::read(&path).unwrap();
        let mut n = base.clone();
        s.apply(&mut n, file).unwrap();
        match file {
            "casa1000" => {
                for l in ["CASA-HVDC", "CASA-HVDC:rev", "CASA-B2B-AF:rev"] {
                    assert!(
                        n.links.iter().find(|x| x.name == l).unwrap().in_service,
                        "{l}"
                    );
                }
                // Its AC part is lines (KG_S-TJ_N and TJ_N-TJ_S).
                for l in ["CASA-AC-KG", "CASA-AC-TJ"] {
                    let b = n.branches.iter().position(|x| x.name == l).unwrap();
                    assert!(n.branch_live(b), "{l}");
                }
            }
            "carbon30" => assert_eq!(s.co2_price, Some(30.0)),
            "dry_year" => {
                let t = |n: &Network| {
                    n.storage_units
                        .iter()
                        .find(|s| s.name == "Toktogul")
                        .unwrap()
                        .inflow
                        .at(3000)
                };
                assert_abs(t(&n), 0.75 * t(&base), 1e-9);
            }
            _ => assert!(
                n.links.iter().filter(|l| l.in_service).count()
                    > base.links.iter().filter(|l| l.in_service).count()
            ),
        }
    }
}

#[test]
fn scenario_errors_name_the_file_and_the_element() {
    let dir = folder(&[
        (
            "bad.toml",
            "switch_on = [\"NOPE\"]\n[demand_scale]\nMars = 2.0\n",
        ),
        ("broken.toml", "name = \"x\"\nswitch_on = 3\n"),
        ("typo.toml", "swich_on = []\n"),
    ]);
    let n = read(&three_zones().path().to_path_buf());
    let s = Scenario::read(&dir.path().join("bad.toml")).unwrap();
    let msg = s.apply(&mut n.clone(), "bad.toml").unwrap_err().to_string();
    assert!(
        msg.contains("bad.toml") && msg.contains("element 'NOPE'") && msg.contains("switch_on"),
        "{msg}"
    );
    assert!(
        msg.contains("key 'Mars'") && msg.contains("demand_scale"),
        "{msg}"
    );
    let msg = Scenario::read(&dir.path().join("broken.toml"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("broken.toml line 2"), "{msg}");
    let msg = Scenario::read(&dir.path().join("typo.toml"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("swich_on"), "{msg}");
}

#[test]
fn trade_command_writes_tables_json_and_charts() {
    let dir = three_zones();
    let out = tempfile::tempdir().unwrap();
    let run = gridtrade()
        .arg("trade")
        .arg(dir.path())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("gains from trade"), "{text}");
    for f in [
        "zones.csv",
        "borders.csv",
        "trade_matrix.csv",
        "countries.csv",
        "gains.csv",
        "monthly_net_position.csv",
        "report.json",
        "map.svg",
        "price_duration.svg",
        "monthly_net_position.svg",
    ] {
        let p = out.path().join(f);
        assert!(p.exists(), "{f} missing");
        if f.ends_with(".svg") {
            let svg = std::fs::read_to_string(&p).unwrap();
            assert!(
                svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
                "{f}"
            );
        }
    }
    assert!(std::fs::read_to_string(out.path().join("map.svg"))
        .unwrap()
        .contains(">A<"));
    let run = gridtrade()
        .arg("trade")
        .arg(dir.path())
        .args(["--json", "--no-autarky"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(
        (v["study"]["report"]["welfare"]["congestion_rent"]
            .as_f64()
            .unwrap()
            - 600.0)
            .abs()
            < 1e-6
    );
    assert!(v["study"]["gains"].is_null());
}

#[test]
fn period_reports_part_of_the_solved_horizon() {
    // The hand-built PyPSA case of tests/pypsa_handbuilt.rs has 4 hours; here: 2 of 3 hours.
    let dir = folder(&[
        (
            "snapshots.csv",
            ",snapshot\n0,2025-01-01 00:00:00\n1,2025-01-01 01:00:00\n2,2025-02-01 00:00:00\n",
        ),
        ("buses.csv", "name,zone,country\nA,A,AA\nB,B,BB\n"),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost\na,A,100,10\nb,B,100,30\n",
        ),
        ("loads.csv", "name,bus\nlb,B\n"),
        ("loads-p_set.csv", ",lb\n0,20\n1,50\n2,50\n"),
        ("links.csv", "name,bus0,bus1,p_nom\nAB,A,B,30\n"),
    ]);
    let run = |extra: &[&str]| {
        gridtrade()
            .arg("trade")
            .arg(dir.path())
            .args(["--json", "--no-autarky"])
            .args(extra)
            .output()
            .unwrap()
    };
    let whole: serde_json::Value = serde_json::from_slice(&run(&[]).stdout).unwrap();
    let part: serde_json::Value =
        serde_json::from_slice(&run(&["--period", "1..3"]).stdout).unwrap();
    // Whole: A sends 20 + 30 + 30; hours 1..3: 60. Rent only when AB binds (hours 1, 2): 2 * 30 * 20.
    let sent = |v: &serde_json::Value| v["study"]["report"]["matrix"][0][1].as_f64().unwrap();
    assert!((sent(&whole) - 80.0).abs() < 1e-9);
    assert!((sent(&part) - 60.0).abs() < 1e-9);
    assert_eq!(part["study"]["report"]["snapshots"], 2);
    assert!(
        (part["study"]["report"]["welfare"]["congestion_rent"]
            .as_f64()
            .unwrap()
            - 1200.0)
            .abs()
            < 1e-6
    );
    let months = part["study"]["report"]["monthly_net_position"]
        .as_array()
        .unwrap();
    assert_eq!(months.len(), 2);
    assert_eq!(months[1][0], "2025-02");
    let bad = run(&["--period", "2..9"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--period"));
}

/// Gains from trade with autarky re-solved warm in the coupled LP (borders cut: flows fixed
/// at 0, Kirchhoff rows of cross-border cycles freed) equal those of autarky built and
/// solved as a network of its own: links (three zones, CAREC) and AC lines across borders
/// in the dc model, with cycles and with angles.
#[test]
fn warm_autarky_equals_cold_autarky() {
    use gridtrade_engine::formulation::Kvl;
    use gridtrade_studies::study::{run, TradeRequest};
    let three = three_zones();
    let mut carec = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/carec"));
    // Under 144 snapshots: the seasonal start does not apply, autarky is re-solved warm.
    solve::select_snapshots(&mut carec, 0..120).unwrap();
    let grid = synthetic(60, 24);
    let transport = FormulationOptions {
        model: NetworkModel::Transport,
        ..Default::default()
    };
    let dc = |kvl| FormulationOptions {
        model: NetworkModel::Dc,
        kvl,
        ..Default::default()
    };
    let cases = [
        ("three zones", read(three.path()), transport.clone()),
        ("CAREC week", carec, transport),
        ("60-bus grid, cycles", grid.clone(), dc(Kvl::Cycles)),
        ("60-bus grid, angles", grid, dc(Kvl::Angles)),
    ];
    for (what, n, options) in cases {
        let gains = |cold| {
            let req = TradeRequest {
                autarky: true,
                options: options.clone(),
                cold,
                ..Default::default()
            };
            let out = run(&n, &req, &Default::default()).unwrap().unwrap();
            out.study.gains.unwrap()
        };
        let (warm, cold) = (gains(false), gains(true));
        let tol = 1e-7 * cold.autarky_cost.abs().max(1.0);
        assert!(cold.saving > tol, "{what}: trade saves nothing");
        assert_abs(warm.autarky_cost, cold.autarky_cost, tol);
        assert_abs(warm.saving, cold.saving, tol);
        assert_abs(
            warm.autarky_co2_t,
            cold.autarky_co2_t,
            1e-6 * cold.autarky_co2_t.max(1.0),
        );
        assert_eq!(warm.countries.len(), cold.countries.len(), "{what}");
        for (w, c) in warm.countries.iter().zip(&cold.countries) {
            assert_eq!(w.country, c.country);
            assert_abs(w.gain, c.gain, tol);
            assert_abs(w.production_cost_saving, c.production_cost_saving, tol);
        }
    }
}

/// A scenario that changes only bounds, costs and which links are in service (inflows, CO2
/// price, CASA-1000 and the other interconnectors under construction) is solved warm in the
/// main case's HiGHS instance, after its autarky, with the optimum it has on its own, and
/// the main case keeps its own optimum and zero flow on the links it does not have. One that
/// switches a generator has another LP and is left to a solve of its own.
#[test]
fn a_scenario_of_bounds_costs_and_links_is_solved_warm_with_its_own_optimum() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut carec = read(&dir.join("networks/carec"));
    solve::select_snapshots(&mut carec, 0..168).unwrap();
    let transport = SolveOptions {
        formulation: FormulationOptions {
            model: NetworkModel::Transport,
            ..Default::default()
        },
        ..Default::default()
    };
    let grid = synthetic(60, 24);
    let apply = |n: &Network, opts: &SolveOptions, s: &Scenario, origin: &str| {
        let (mut n, mut opts) = (n.clone(), opts.clone());
        s.apply(&mut n, origin).unwrap();
        if let Some(p) = s.co2_price {
            opts.formulation.co2_price = p;
        }
        (n, opts)
    };
    let file = |name: &str| Scenario::read(&dir.join("networks/scenarios").join(name)).unwrap();
    // CASA-1000's DC parts and the other links under construction (its AC part is lines:
    // switching lines changes the LP, see below).
    let casa_dc =
        Scenario::parse("switch_on = [\"CASA-B2B-AF\", \"CASA-HVDC\"]", "casa-dc").unwrap();
    let links_built =
        Scenario::parse("switch_on = [\"UZ-AFN_500\", \"TUTAP-TM-AFN\"]", "links").unwrap();
    let (casa, casa_opts) = apply(&carec, &transport, &casa_dc, "casa-dc");
    let cases = [
        (
            "CAREC week, dry year",
            carec.clone(),
            transport.clone(),
            file("dry_year.toml"),
        ),
        (
            "CAREC week, carbon 30",
            carec.clone(),
            transport.clone(),
            file("carbon30.toml"),
        ),
        (
            "CAREC week, CASA-1000's DC links on",
            carec.clone(),
            transport.clone(),
            casa_dc.clone(),
        ),
        (
            "CASA-1000 week, other links under construction",
            casa.clone(),
            casa_opts.clone(),
            links_built,
        ),
        (
            // The cycle form: the PTDF form adds rows while it solves, so another network
            // is solved on its own there.
            "60-bus dc grid, carbon 30",
            grid,
            cycles_form(),
            file("carbon30.toml"),
        ),
    ];
    let objective = |o: &solve::Outcome| o.results.as_ref().unwrap().objective;
    for (what, n, opts, scenario) in cases {
        let (other, other_opts) = apply(&n, &opts, &scenario, what);
        let control = Default::default();
        let cases = solve::solve_cases(
            &n,
            &opts,
            &control,
            Some(&borders(&n)),
            Some((&other, &other_opts)),
        )
        .unwrap();
        let warm = cases.other.expect(what);
        assert!(cases.outage.is_some(), "{what}");
        let alone = solve_ok(&other, &other_opts);
        assert_rel(objective(&warm), objective(&alone), 1e-9);
        let main_alone = solve_ok(&n, &opts);
        assert_rel(objective(&cases.main), objective(&main_alone), 1e-9);
        assert!(
            (objective(&warm) - objective(&cases.main)).abs() > 1e-6 * objective(&alone),
            "{what}: the scenario changes the optimum"
        );
        // Links out of service in a case carry nothing in its results.
        for (case, net) in [(&cases.main, &n), (&warm, &other)] {
            let r = case.results.as_ref().unwrap();
            for (k, link) in net.links.iter().enumerate() {
                if !link.in_service {
                    assert!(
                        r.link_p0[k].iter().all(|&p| p == 0.0),
                        "{what}: {}",
                        link.name
                    );
                    assert!(
                        r.link_mu[k].iter().all(|&m| m == 0.0),
                        "{what}: {}",
                        link.name
                    );
                }
            }
        }
    }
    // Switching CASA-1000 back off from the CASA week: warm the other way round too.
    let cases = solve::solve_cases(
        &casa,
        &casa_opts,
        &Default::default(),
        None,
        Some((&carec, &transport)),
    )
    .unwrap();
    assert_rel(
        objective(cases.other.as_ref().expect("CASA-1000 off")),
        objective(&solve_ok(&carec, &transport)),
        1e-9,
    );
    // Switching AC lines (the under-construction scenario) changes the LP's columns: not
    // warm, but the same optimum as on its own.
    let (built, built_opts) = apply(&carec, &transport, &file("under_construction.toml"), "uc");
    let cases = solve::solve_cases(
        &carec,
        &transport,
        &Default::default(),
        None,
        Some((&built, &built_opts)),
    )
    .unwrap();
    assert!(cases.other.is_none(), "lines switched: not warm");
    // A generator switched off changes the LP's columns: not warm.
    let mut less = carec.clone();
    less.generators[0].in_service = false;
    let cases = solve::solve_cases(
        &carec,
        &transport,
        &Default::default(),
        None,
        Some((&less, &transport)),
    )
    .unwrap();
    assert!(cases.other.is_none(), "a generator switched: not warm");
    assert_rel(
        objective(&cases.main),
        objective(&solve_ok(&carec, &transport)),
        1e-9,
    );
}

/// `gridtrade trade --compare` gives the same comparison warm as cold.
#[test]
fn warm_comparison_equals_cold_comparison() {
    use gridtrade_studies::study::{run, Compare, Labelled, TradeRequest};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut carec = read(&dir.join("networks/carec"));
    solve::select_snapshots(&mut carec, 0..168).unwrap();
    let labelled = |file: &str| Labelled {
        scenario: Scenario::read(&dir.join("networks/scenarios").join(file)).unwrap(),
        label: file.into(),
        origin: file.into(),
    };
    let study = |cold| {
        let req = TradeRequest {
            scenario: Some(labelled("carbon30.toml")),
            compare: Some(Compare::Scenario(labelled("dry_year.toml"))),
            autarky: true,
            options: FormulationOptions {
                model: NetworkModel::Transport,
                ..Default::default()
            },
            cold,
            ..Default::default()
        };
        run(&carec, &req, &Default::default()).unwrap().unwrap()
    };
    let (warm, cold) = (study(false), study(true));
    for (w, c) in [
        (&warm.study, &cold.study),
        (
            warm.compare.as_ref().unwrap(),
            cold.compare.as_ref().unwrap(),
        ),
    ] {
        assert_eq!(w.label, c.label);
        let tol = 1e-9 * c.report.welfare.system_cost;
        assert_abs(
            w.report.welfare.system_cost,
            c.report.welfare.system_cost,
            tol,
        );
        assert_abs(w.report.shed_mwh, c.report.shed_mwh, 1e-6);
    }
    let (w, c) = (warm.study.gains.unwrap(), cold.study.gains.unwrap());
    assert_abs(w.saving, c.saving, 1e-9 * c.autarky_cost);
}

/// The welfare's system cost is the objective, term by term: with a link's own cost (a
/// wheeling charge on its flow) and a quadratic cost the LP saw as chords (--pwl-segments),
/// where the trade accounts used to leave out the first and price the second exactly.
#[test]
fn system_cost_is_the_objective_with_link_costs_and_piecewise_linear_quadratics() {
    let dir = folder(&[
        ("buses.csv", "name,zone,country\nA,A,AA\nB,B,BB\nC,C,CC\n"),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost,marginal_cost_quadratic\n\
             a,A,100,10,0\nb,B,100,30,0.05\nc,C,100,50,0\n",
        ),
        ("loads.csv", "name,bus,p_set\nla,A,20\nlb,B,60\nlc,C,50\n"),
        (
            "links.csv",
            "name,bus0,bus1,p_nom,p_min_pu,efficiency,marginal_cost\n\
             AB,A,B,30,-1,1,2\nBC,B,C,100,0,0.9,0\n",
        ),
    ]);
    let n = read(dir.path());
    let o = FormulationOptions {
        model: NetworkModel::Transport,
        pwl_segments: Some(5),
        ..Default::default()
    };
    let opts = SolveOptions {
        formulation: o.clone(),
        ..Default::default()
    };
    let r = solve_ok(&n, &opts).results.unwrap();
    let w = trade::analyse(&n, &r, &o).welfare;
    assert_rel(w.system_cost, r.objective, 1e-12);
    // A sells 30 MW over AB (10 + 2 < b's 30): the link's charge is 2 · 30.
    assert_abs(r.link_p0[0][0], 30.0, 1e-9);
    let generation: f64 = (0..3).map(|g| r.gen_cost[g][0]).sum();
    assert_abs(w.system_cost - generation, 60.0, 1e-9);
    // b runs at 30 + 55.556 = 85.556 MW, between the chords' breakpoints 80 and 100,
    // where the chord lies above the parabola: the LP's cost, not the exact one, counts.
    let p = r.gen_p[1][0];
    assert_abs(p, 30.0 + 500.0 / 9.0, 1e-6);
    let exact = 30.0 * p + 0.05 * p * p;
    let chord = {
        let f = |x: f64| 30.0 * x + 0.05 * x * x;
        f(80.0) + (f(100.0) - f(80.0)) / 20.0 * (p - 80.0)
    };
    assert_abs(r.gen_cost[1][0], chord, 1e-6);
    assert!(chord - exact > 1.0, "the test tells the two apart");
}

/// A generator and a storage unit on a bus out of service (a substation switched off)
/// produce nothing, earn nothing and cost nothing: the zone's accounts stay numbers (the
/// bus has no price, and 0 · NaN used to make its zone's revenue NaN).
#[test]
fn elements_on_a_bus_out_of_service_leave_the_accounts_finite() {
    let dir = folder(&[
        (
            "buses.csv",
            "name,zone,country,active\nA,A,AA,True\nA2,A,AA,False\nB,B,BB,True\n",
        ),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost\na,A,100,10\na2,A2,100,5\nb,B,100,30\n",
        ),
        (
            "storage_units.csv",
            "name,bus,p_nom,max_hours\ns2,A2,10,2\n",
        ),
        ("loads.csv", "name,bus,p_set\nla,A,20\nlb,B,60\n"),
        ("links.csv", "name,bus0,bus1,p_nom,p_min_pu\nAB,A,B,30,-1\n"),
    ]);
    let n = read(dir.path());
    let o = FormulationOptions {
        model: NetworkModel::Transport,
        ..Default::default()
    };
    let r = report(&n, &o);
    for z in &r.zones {
        for (what, v) in [
            ("producer_revenue", z.producer_revenue),
            ("production_cost", z.production_cost),
            ("consumer_payments", z.consumer_payments),
            ("generation_mwh", z.generation_mwh),
        ] {
            assert!(v.is_finite(), "zone {} {what} = {v}", z.zone);
        }
    }
    // a sells 30 MW to B and serves A's 20 MW at 10: revenue 500 in A.
    let a = r.zones.iter().find(|z| z.zone == "A").unwrap();
    assert_abs(a.producer_revenue, 500.0, 1e-9);
    assert_abs(a.generation_mwh, 50.0, 1e-9);
}

/// One meaning per price field, in `solve`'s summary and the trade report alike: a zone with
/// load has all four statistics; a zone without load (B, two hours) has a mean, min and max
/// but no load-weighted price; a zone whose only bus is out of service (D) has none. Absent,
/// never NaN.
#[test]
fn price_statistics_mean_the_same_in_solve_and_trade_and_are_absent_not_nan() {
    let dir = folder(&[
        ("snapshots.csv", "snapshot,objective\nh1,1\nh2,3\n"),
        (
            "buses.csv",
            "name,zone,country,active\nA,A,AA,True\nB,B,BB,True\nD,D,DD,False\n",
        ),
        (
            "generators.csv",
            "name,bus,p_nom,marginal_cost\na,A,100,40\nb,B,100,10\n",
        ),
        ("loads-p_set.csv", "snapshot,la\nh1,20\nh2,60\n"),
        ("loads.csv", "name,bus\nla,A\n"),
        ("links.csv", "name,bus0,bus1,p_nom,p_min_pu\nBA,B,A,30,0\n"),
    ]);
    let n = read(dir.path());
    let o = FormulationOptions {
        model: NetworkModel::Transport,
        ..Default::default()
    };
    let trade = report(&n, &o);
    let out = solve_ok(
        &n,
        &SolveOptions {
            formulation: o.clone(),
            time_limit: None,
            ..Default::default()
        },
    );
    let summary = gridtrade_engine::report::summary(&n, &out, &o);
    let solve_prices = |zone: &str| {
        summary
            .zones
            .iter()
            .find(|z| z.name == zone)
            .unwrap()
            .prices
    };
    let trade_prices = |zone: &str| trade.zones.iter().find(|z| z.zone == zone).unwrap().prices;
    // h1: 20 MW in A come over BA from b at 10 (BA not binding): A and B at 10.
    // h2: 60 MW in A, BA brings 30, a makes 30 at 40: A at 40, B at 10.
    // A: mean (10 + 40) / 2 = 25; load-weighted (1·20·10 + 3·60·40) / (20 + 180) = 37.
    let a = solve_prices("A");
    assert_abs(a.mean_price.unwrap(), 25.0, 1e-9);
    assert_abs(a.load_weighted_price.unwrap(), 37.0, 1e-9);
    assert_eq!((a.min_price, a.max_price), (Some(10.0), Some(40.0)));
    let b = solve_prices("B");
    assert_eq!(b.load_weighted_price, None, "B has no load");
    assert_eq!(
        (b.mean_price, b.min_price, b.max_price),
        (Some(10.0), Some(10.0), Some(10.0))
    );
    let d = solve_prices("D");
    assert_eq!(
        d,
        gridtrade_engine::report::PriceStatistics::default(),
        "D has no price"
    );
    for zone in ["A", "B", "D"] {
        assert_eq!(solve_prices(zone), trade_prices(zone), "zone {zone}");
    }
    let json = serde_json::to_value(&trade).unwrap();
    let d_json = json["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["zone"] == "D")
        .unwrap();
    assert!(d_json["mean_price"].is_null() && d_json["load_weighted_price"].is_null());
}

/// A scenario's `co2_cap` caps the CO2 of the solved horizon, and the trade report gives
/// the CO2 price it implies: on PyPSA's CO2 reference network without its own limit
/// (`tests/data/pypsa_co2_cap`), `co2_cap = 3500` gives PyPSA's objective and shadow price
/// (72.04 /t, `expected.json`); a negative cap is refused by name.
#[test]
fn scenario_co2_cap_reports_the_implied_co2_price() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypsa_co2_cap");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let mut n = read(&dir.join("network"));
    n.co2_constraint = None;
    let uncapped = solve_ok(&n, &SolveOptions::default()).results.unwrap();
    assert!(uncapped.co2_t > 3500.0, "{}", uncapped.co2_t);
    Scenario::parse("co2_cap = 3500", "cap")
        .unwrap()
        .apply(&mut n, "cap")
        .unwrap();
    let o = FormulationOptions::default();
    let r = solve_ok(&n, &SolveOptions::default()).results.unwrap();
    assert_rel(r.objective, expected["objective"].as_f64().unwrap(), 1e-6);
    let report = trade::analyse(&n, &r, &o);
    let limit = report.co2_limit.expect("the cap in the report");
    assert_eq!(
        (limit.name.as_str(), limit.sense.as_str()),
        ("co2_cap", "<=")
    );
    assert_abs(limit.co2_price, -expected["co2_mu"].as_f64().unwrap(), 1e-6);
    assert_rel(report.co2_t, 3500.0, 1e-9);
    let err = Scenario::parse("co2_cap = -1", "cap")
        .unwrap()
        .apply(&mut n, "cap.toml")
        .unwrap_err();
    assert!(err.to_string().contains("co2_cap"), "{err}");
    // The shipped scenario: 190 Mt over the CAREC year.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut carec = read(&root.join("networks/carec"));
    Scenario::read(&root.join("networks/scenarios/co2_cap.toml"))
        .unwrap()
        .apply(&mut carec, "co2_cap.toml")
        .unwrap();
    assert_eq!(carec.co2_constraint.unwrap().limit_t, 190e6);
}
