//! The shipped CAREC network: it validates clean, it is exactly what `build-carec` makes from
//! the committed sources, and a month of it solves with the region's winter pattern.

mod common;

use common::*;
use gridtrade_engine::solve::{self, SolveOptions};
use gridtrade_engine::validate::{self, CheckOptions};
use std::path::{Path, PathBuf};

fn carec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/carec")
}

#[test]
fn carec_validates_clean() {
    let (n, mut f) = gridtrade_engine::io::read(&carec()).unwrap();
    validate::check(&n, &CheckOptions::default(), &mut f);
    assert!(f.is_empty(), "{f}");
    assert_eq!(n.snapshots.len(), 8760);
    assert_eq!(n.buses.len(), 28);
    assert_eq!(n.zones().len(), 28);
    assert_eq!(n.buses.iter().filter(|b| b.country == "KZ").count(), 3);
    // Uzbekistan is five subzones, so the ring's loops run through it.
    assert_eq!(n.buses.iter().filter(|b| b.country == "UZ").count(), 5);
    // Only existing corridors are in service; CASA-1000 is present but switched off.
    let casa = n.links.iter().find(|l| l.name == "CASA-HVDC").unwrap();
    assert!(!casa.in_service);
    let tm_uz = n.links.iter().find(|l| l.name == "TM-UZ:rev").unwrap();
    assert!(tm_uz.in_service);
    assert_eq!(
        (
            n.buses[tm_uz.bus0].name.as_str(),
            n.buses[tm_uz.bus1].name.as_str()
        ),
        ("UZ_ZARAFSHAN", "TM")
    );
    // The synchronous corridors are AC lines, one per circuit: 16 (12 in service), and 8
    // between Uzbekistan's subzones (7 in service); the parallel circuits of a corridor
    // share its capacity by susceptance.
    assert_eq!(n.branches.len(), 24);
    assert_eq!(n.links.len(), 66);
    let live: Vec<&str> = (0..n.branches.len())
        .filter(|&l| n.branch_live(l))
        .map(|l| n.branches[l].name.as_str())
        .collect();
    assert_eq!(live.len(), 19, "{live:?}");
    let ns: Vec<_> = n
        .branches
        .iter()
        .filter(|b| b.name.starts_with("KZN-KZS:"))
        .collect();
    assert_eq!(ns.len(), 3);
    let total: f64 = ns.iter().map(|b| b.s_max).sum();
    assert!((total - 2100.0).abs() < 1e-3, "{total}");
    let flow_share = |b: &&gridtrade_engine::network::Branch| b.s_max * b.x;
    assert!((flow_share(&ns[0]) - flow_share(&ns[2])).abs() < 1e-3 * flow_share(&ns[0]));
    assert!(!n.links.iter().any(|l| l.name.starts_with("KZS-UZ")));
    let ends = |name: &str| {
        let b = n.branches.iter().find(|b| b.name == name).unwrap();
        (n.buses[b.bus0].name.as_str(), n.buses[b.bus1].name.as_str())
    };
    assert_eq!(ends("KZS-UZ"), ("KZ_S", "UZ_TASHKENT"));
    assert_eq!(ends("KGS-UZ"), ("KG_S", "UZ_FERGANA"));
    assert_eq!(ends("TJS-UZ:1"), ("TJ_S", "UZ_SOUTH"));
    assert_eq!(ends("UZ-TASH-FER:2"), ("UZ_TASHKENT", "UZ_FERGANA"));
}

#[test]
fn uzbekistan_split_keeps_the_national_demand_and_fleet() {
    // zones.csv: UZ 80.756 TWh; generators.csv: UZ solar 2,600 MW, gas 4,215 + 7,827 MW.
    let n = read(&carec());
    let uz = |b: usize| n.buses[b].country == "UZ";
    let twh: f64 = n
        .loads
        .iter()
        .filter(|l| uz(l.bus))
        .map(|l| (0..8760).map(|t| l.p_set.at(t)).sum::<f64>())
        .sum::<f64>()
        / 1e6;
    assert!((twh - 80.756).abs() < 1e-3, "{twh}");
    let capacity = |carrier: &str| -> f64 {
        n.generators
            .iter()
            .filter(|g| uz(g.bus) && g.carrier == carrier)
            .map(|g| g.p_nom)
            .sum()
    };
    assert!((capacity("solar") - 2600.0).abs() < 1e-3);
    assert!((capacity("gas_ccgt") + capacity("gas_ocgt") - 12042.0).abs() < 1e-3);
    // Population shares (stat.uz, 1 Jan 2022): the Fergana valley has 10,080,960 of
    // 35,271,276 people, so 28.58 % of the demand.
    let fergana = n
        .loads
        .iter()
        .find(|l| l.name == "UZ_FERGANA load")
        .unwrap();
    let valley: f64 = (0..8760).map(|t| fergana.p_set.at(t)).sum::<f64>() / 1e6;
    assert!(
        (valley - 80.756 * 10080960.0 / 35271276.0).abs() < 1e-3,
        "{valley}"
    );
}

/// `build-carec` writes `networks/carec` and `networks/carec-plan` (the planned
/// interconnectors as expansion candidates) exactly as committed.
#[test]
fn committed_folders_are_what_build_carec_makes() {
    let tmp = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_build-carec"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--out")
        .arg(tmp.path().join("carec"))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for (folder, at_least) in [("carec", 10), ("carec-plan", 12)] {
        let made = tmp.path().join(folder);
        let committed = carec().with_file_name(folder);
        let mut files: Vec<_> = std::fs::read_dir(&made)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        files.sort();
        assert!(files.len() >= at_least, "{folder}: {files:?}");
        for f in files {
            // The plan's shared files are symbolic links: read through them.
            let ours = std::fs::read(made.join(&f)).unwrap();
            let theirs = std::fs::read(committed.join(&f)).unwrap_or_default();
            assert!(
                ours == theirs,
                "{f:?} differs from the committed networks/{folder}: rebuild it"
            );
        }
    }
}

#[test]
fn demand_and_inflows_show_winter_peak_and_summer_surplus() {
    let n = read(&carec());
    let month = |series: &gridtrade_engine::network::Series, from: usize, hours: usize| {
        (from..from + hours).map(|t| series.at(t)).sum::<f64>() / hours as f64
    };
    // January vs July (hours 4344.. = 1 July).
    let uz = n
        .loads
        .iter()
        .find(|l| l.name == "UZ_TASHKENT load")
        .unwrap();
    assert!(month(&uz.p_set, 0, 744) > 1.1 * month(&uz.p_set, 4344, 744));
    let pk = n.loads.iter().find(|l| l.name == "PK_N load").unwrap();
    assert!(
        month(&pk.p_set, 4344, 744) > month(&pk.p_set, 0, 744),
        "Pakistan peaks in summer"
    );
    let toktogul = n
        .storage_units
        .iter()
        .find(|s| s.name == "Toktogul")
        .unwrap();
    assert!(month(&toktogul.inflow, 4344, 744) > 3.0 * month(&toktogul.inflow, 0, 744));
}

#[test]
fn january_solves_with_a_southern_winter_deficit_that_casa_1000_would_ease() {
    let mut n = read(&carec());
    solve::select_snapshots(&mut n, 0..744).unwrap();
    let base = solve_ok(&n, &SolveOptions::default()).results.unwrap();
    let price = |r: &gridtrade_engine::solution::Results, zone: &str| {
        let b = n.bus_id(zone).unwrap();
        r.bus_price[b].iter().sum::<f64>() / 744.0
    };
    // Coal-rich northern Kazakhstan is cheap; the hydro south is short in winter.
    assert!(price(&base, "KZ_N") < 40.0, "{}", price(&base, "KZ_N"));
    assert!(price(&base, "TJ_S") > 5.0 * price(&base, "KZ_N"));
    assert!(base.shed_mwh > 0.0);
    for corridor in ["CASA-AC-KG", "CASA-AC-TJ", "CASA-HVDC", "CASA-B2B-AF"] {
        assert!(n.set_in_service_group(corridor, true));
    }
    let casa = solve_ok(&n, &SolveOptions::default()).results.unwrap();
    assert!(casa.objective < base.objective);
    assert!(casa.shed_mwh < base.shed_mwh);
}

#[test]
fn hydro_countries_import_in_winter_and_export_in_summer() {
    // Each month solved alone (reservoirs cyclic within the month): Tajikistan and
    // Kyrgyzstan import in January and export in July, the region's seasonal pattern.
    let base = read(&carec());
    let o = gridtrade_engine::formulation::FormulationOptions {
        model: gridtrade_engine::formulation::NetworkModel::Transport,
        ..Default::default()
    };
    let month = |range: std::ops::Range<usize>| {
        let mut n = base.clone();
        solve::select_snapshots(&mut n, range).unwrap();
        let r = solve_ok(
            &n,
            &SolveOptions {
                formulation: o.clone(),
                time_limit: None,
                ..Default::default()
            },
        )
        .results
        .unwrap();
        gridtrade_studies::trade::analyse(&n, &r, &o)
    };
    let (january, july) = (month(0..744), month(4344..5088));
    let position = |report: &gridtrade_studies::trade::TradeReport, country: &str| {
        report
            .zones
            .iter()
            .filter(|z| z.country == country)
            .map(|z| z.net_position_mwh)
            .sum::<f64>()
    };
    for country in ["TJ", "KG"] {
        let (jan, jul) = (position(&january, country), position(&july, country));
        assert!(
            jan < 0.0 && jul > 0.0,
            "{country}: January {jan} MWh, July {jul} MWh"
        );
    }
}
