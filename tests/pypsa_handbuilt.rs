//! A PyPSA CSV network written by hand, with every figure of its answer worked out below.
//!
//! ```text
//!   A (zone X)  ==link AB, 50 MW, one way==>  B (zone Y)  --line B-C/1 (x=1)--  C (zone Y)
//!   cheap: 100 MW @ 10                         dear: 500 MW @ 50  --line B-C/2 (x=3)--
//!                                              battery: 20 MW, 40 MWh, charge eff 0.9
//!   load B = [40, 40, 100, 100] MW,  load C = [0, 0, 40, 40] MW,  4 hourly snapshots.
//! ```
//!
//! Hours 0-1: B needs 40 MW; the link can bring 50 MW of cheap power, so the spare 10 MW
//! charges the battery (each MW stores 0.9 MWh, worth 50 later: 45 > 10). The link binds.
//! B's price is what one more MW of load there costs: 1 MW less charging, i.e. 0.9 MWh less
//! stored, i.e. 0.9 * 50 = **45**. A's price is the cheap generator's **10**. The link's
//! shadow price is the price difference, **35**.
//!
//! Hours 2-3: B and C need 140 MW; the link brings 50, the battery returns its 18 MWh and
//! the dear generator covers the rest, so B and C are priced at **50** and the link's shadow
//! price is **40**. C is fed through two parallel lines; Kirchhoff splits the 40 MW in
//! inverse proportion to the reactances: **30 MW** on x = 1 and **10 MW** on x = 3.
//!
//! Cost: cheap 4 h * 50 MW * 10 = 2000; dear (280 + 80 - 200 - 18) MWh = 162 MWh * 50 = 8100;
//! objective **10100**. The water value (one more MWh in store) is **50** in every hour.

mod common;

use common::*;
use gridtrade_engine::formulation::NetworkModel;
use gridtrade_engine::solve::SolveOptions;

fn network() -> tempfile::TempDir {
    folder(&[
        (
            "snapshots.csv",
            ",snapshot,objective,stores,generators\n\
             0,2025-01-01 00:00:00,1.0,1.0,1.0\n1,2025-01-01 01:00:00,1.0,1.0,1.0\n\
             2,2025-01-01 02:00:00,1.0,1.0,1.0\n3,2025-01-01 03:00:00,1.0,1.0,1.0\n",
        ),
        ("buses.csv", "name,v_nom,zone\nA,1.0,X\nB,1.0,Y\nC,1.0,Y\n"),
        (
            "generators.csv",
            "name,bus,carrier,p_nom,marginal_cost\ncheap,A,coal,100,10\ndear,B,gas,500,50\n",
        ),
        ("links.csv", "name,bus0,bus1,p_nom\nAB,A,B,50\n"),
        (
            "lines.csv",
            "name,bus0,bus1,x,s_nom\nB-C/1,B,C,1.0,100\nB-C/2,B,C,3.0,100\n",
        ),
        ("loads.csv", "name,bus\nload B,B\nload C,C\n"),
        (
            "loads-p_set.csv",
            ",load B,load C\n0,40,0\n1,40,0\n2,100,40\n3,100,40\n",
        ),
        (
            "storage_units.csv",
            "name,bus,p_nom,max_hours,efficiency_store\nbattery,B,20,2,0.9\n",
        ),
    ])
}

#[test]
fn storage_arbitrage_congested_link_and_prices_match_the_worked_answer() {
    let dir = network();
    let n = read(dir.path());
    let r = solve_ok(&n, &SolveOptions::default()).results.unwrap();
    assert_abs(r.objective, 10100.0, 1e-6);

    let bus = |name: &str| n.bus_id(name).unwrap();
    let price = |name: &str| r.bus_price[bus(name)].clone();
    for (t, (a, b)) in [(10.0, 45.0), (10.0, 45.0), (10.0, 50.0), (10.0, 50.0)]
        .into_iter()
        .enumerate()
    {
        assert_abs(price("A")[t], a, 1e-6);
        assert_abs(price("B")[t], b, 1e-6);
        assert_abs(price("C")[t], b, 1e-6);
        // The link is full every hour and its shadow price is the price difference.
        assert_abs(r.link_p0[0][t], 50.0, 1e-6);
        assert_abs(r.link_mu[0][t], price("B")[t] - price("A")[t], 1e-6);
        assert_abs(r.su_water_value[0][t], 50.0, 1e-6);
    }
    // Battery: charges 10 MW in hours 0-1 (18 MWh stored), returns it all in hours 2-3.
    assert_abs(r.su_store[0][0], 10.0, 1e-6);
    assert_abs(r.su_store[0][1], 10.0, 1e-6);
    assert_abs(r.su_soc[0][1], 18.0, 1e-6);
    assert_abs(r.su_soc[0][3], 0.0, 1e-6);
    assert_abs(r.su_dispatch[0][2] + r.su_dispatch[0][3], 18.0, 1e-6);
    // Kirchhoff on the parallel lines: 30 MW on x = 1, 10 MW on x = 3 when C draws 40 MW.
    for t in 0..4 {
        let c_load = if t >= 2 { 40.0 } else { 0.0 };
        assert_abs(r.branch_p0[0][t], 0.75 * c_load, 1e-6);
        assert_abs(r.branch_p0[1][t], 0.25 * c_load, 1e-6);
        assert_abs(r.branch_mu[0][t], 0.0, 1e-9);
    }
    // Dear generator: 162 MWh over the horizon.
    assert_abs(r.gen_p[1].iter().sum::<f64>(), 162.0, 1e-6);
}

#[test]
fn transport_and_copperplate_models_give_the_same_answer_here() {
    // No AC limit binds and the link is controllable in every model, so the dispatch cost is
    // the same; copperplate prices B and C together as zone Y.
    let dir = network();
    let n = read(dir.path());
    for model in [NetworkModel::Transport, NetworkModel::Copperplate] {
        let mut opts = SolveOptions::default();
        opts.formulation.model = model;
        let r = solve_ok(&n, &opts).results.unwrap();
        assert_abs(r.objective, 10100.0, 1e-6);
        assert_abs(r.bus_price[1][0], 45.0, 1e-6);
        assert_abs(r.bus_price[2][0], 45.0, 1e-6);
    }
}

#[test]
fn snapshots_range_and_voll_through_the_cli() {
    let dir = network();
    // Hours 2..4 alone: the battery starts empty, so nothing to shift: cheap 100 MWh,
    // dear 280 - 100 = 180 MWh => 1000 + 9000 = 10000.
    let v = json_of(&mut gridtrade().arg("solve").arg(dir.path()).args([
        "--snapshots",
        "2..4",
        "--json",
    ]));
    assert_eq!(v["status"], "optimal");
    assert!((v["objective"].as_f64().unwrap() - 10000.0).abs() < 1e-6);
    assert_eq!(v["snapshots"].as_array().unwrap().len(), 2);
    for key in ["read_s", "build_s", "solve_s", "extract_s"] {
        assert!(v["timings"][key].as_f64().unwrap() >= 0.0);
    }
    let b = v["buses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "B")
        .unwrap();
    assert_eq!(b["zone"], "Y");
    assert_eq!(b["price"].as_array().unwrap().len(), 2);
    let link = v["branches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "AB")
        .unwrap();
    assert_eq!(link["kind"], "link");
    assert!((link["shadow_price"][0].as_f64().unwrap() - 40.0).abs() < 1e-6);
    let g = v["generators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "dear")
        .unwrap();
    assert_eq!(g["bus"], "B");

    // A VOLL below the dear generator's cost: load at B is shed instead (exit code 0).
    let out = gridtrade()
        .arg("solve")
        .arg(dir.path())
        .args(["--voll", "30", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["load_shed_mwh"].as_f64().unwrap() > 100.0);
    // Past the end of the horizon: bad input, exit code 1, naming the option.
    let out = gridtrade()
        .arg("solve")
        .arg(dir.path())
        .args(["--snapshots", "2..9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--snapshots"));
}

#[test]
fn results_folder_uses_pypsa_names_and_signs() {
    let dir = network();
    let out_dir = tempfile::tempdir().unwrap();
    let out = gridtrade()
        .arg("solve")
        .arg(dir.path())
        .arg("--out")
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let read = |f: &str| std::fs::read_to_string(out_dir.path().join(f)).unwrap();
    let prices = read("buses_t-marginal_price.csv");
    let mut lines = prices.lines();
    assert_eq!(lines.next(), Some("snapshot,A,B,C"));
    assert_eq!(lines.next(), Some("2025-01-01 00:00:00,10.0,45.0,45.0"));
    // p1 = -efficiency * p0 at bus1, as PyPSA writes it.
    assert!(read("links_t-p1.csv").contains("2025-01-01 00:00:00,-50.0"));
    assert!(read("links_t-mu_upper.csv").contains("2025-01-01 00:00:00,35.0"));
    for f in [
        "generators_t-p.csv",
        "lines_t-p0.csv",
        "storage_units_t-state_of_charge.csv",
        "storage_units_t-water_value.csv",
        "summary.json",
    ] {
        assert!(out_dir.path().join(f).exists(), "{f} missing");
    }
}

#[test]
fn co2_price_raises_the_cost_by_price_times_intensity_over_efficiency() {
    // carriers.csv: coal 0.9 t/MWh of fuel; the cheap generator has efficiency 0.45, so it
    // emits 2 t/MWh of electricity, and a CO2 price of 10/t adds 20/MWh: 10 + 20 = 30. Storing
    // is still worth it (0.9 * 50 = 45 > 30), so the dispatch is unchanged: cheap 200 MWh * 30
    // + dear 8100 = 14100, A's price is 30, the link's shadow price 45 - 30 = 15 in hours
    // 0-1, and 400 t of CO2 are emitted.
    let dir = network();
    std::fs::write(
        dir.path().join("carriers.csv"),
        "name,co2_emissions\ncoal,0.9\ngas,0\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("generators.csv"),
        "name,bus,carrier,p_nom,marginal_cost,efficiency\ncheap,A,coal,100,10,0.45\ndear,B,gas,500,50,1\n",
    )
    .unwrap();
    let n = read(dir.path());
    let mut opts = SolveOptions::default();
    opts.formulation.co2_price = 10.0;
    let r = solve_ok(&n, &opts).results.unwrap();
    assert_abs(r.objective, 14100.0, 1e-6);
    assert_abs(r.co2_t, 400.0, 1e-6);
    for t in 0..4 {
        assert_abs(r.bus_price[0][t], 30.0, 1e-6);
    }
    assert_abs(r.link_mu[0][0], 15.0, 1e-6);
}

/// Progress goes to stderr only on a terminal: piped, `solve` and `trade` print their
/// answer and nothing else, with or without `--quiet`.
#[test]
fn progress_stays_off_pipes_and_quiet_is_accepted() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/example");
    for args in [
        vec!["solve"],
        vec!["solve", "--quiet"],
        vec!["trade", "-q", "--voll", "3000"],
    ] {
        let out = gridtrade().args(&args).arg(&example).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty());
    }
}
