//! `gridtrade plan`: which capacity-expansion candidate (extendable element) pays for itself,
//! what the plan saves and what each country gains ([`gridtrade_studies::plan`]).

use super::{parse_range, read};
use clap::Args;
use gridtrade_engine::error::Error;
use gridtrade_engine::formulation::{FormulationOptions, NetworkModel};
use gridtrade_engine::solve;
use gridtrade_studies::plan::{self, PlanReport, PlanRequest};
use gridtrade_studies::scenario::Scenario;
use gridtrade_studies::study::NoReport;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct PlanArgs {
    /// PyPSA CSV folder whose extendable elements are the candidates (e.g. networks/carec-plan).
    path: PathBuf,
    /// Apply this scenario file (TOML): its `build` and `exclude` fix candidates in or out,
    /// `co2_cap` sets a CO2 limit.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Solve only snapshot positions A..B (half-open, 0-based); the candidates' costs shrink
    /// to the share of the horizon's hours.
    #[arg(long, value_name = "A..B", value_parser = parse_range)]
    snapshots: Option<Range<usize>>,
    /// Network model between buses.
    #[arg(long, value_parser = crate::choice::<NetworkModel>(), default_value_t = NetworkModel::Dc)]
    model: NetworkModel,
    #[command(flatten)]
    common: super::SolveCommon,
    /// Also re-solve the plan once per candidate built, with it fixed out: the system cost
    /// each saves given the others.
    #[arg(long)]
    leave_one_out: bool,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// No progress on stderr.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(a: PlanArgs) -> Result<ExitCode, Error> {
    let spinner = super::progress::Spinner::new(a.quiet);
    spinner.say(format!("reading {}", a.path.display()));
    let (mut n, _) = read(&a.path)?;
    if let Some(range) = a.snapshots.clone() {
        solve::select_snapshots(&mut n, range)?;
    }
    let scenario = match &a.scenario {
        Some(file) => Some((Scenario::read(file)?, file.display().to_string())),
        None => None,
    };
    let req = PlanRequest {
        scenario,
        options: FormulationOptions {
            model: a.model,
            dc_convention: a.common.dc_convention,
            kvl: a.common.kvl,
            voll: a.common.voll,
            co2_price: a.common.co2_price,
            ..Default::default()
        },
        time_limit: None,
        leave_one_out: a.leave_one_out,
    };
    spinner.say("solving without the candidates and with the plan");
    let planned = plan::run(&n, &req, &spinner.control());
    spinner.finish();
    let report = match planned? {
        Ok(r) => r,
        Err(NoReport::NotSolved(e)) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
        Err(NoReport::Cancelled) => unreachable!("nothing cancels a local plan"),
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&report).expect("report serialises")
        );
    } else {
        print!("{}", text(&report));
    }
    Ok(ExitCode::SUCCESS)
}

const MILLION: f64 = 1e6;

/// The plan as tables for a terminal (shared with `gridtrade call plan`).
pub(crate) fn text(r: &PlanReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plan over {} snapshots: system cost {:.3} M without the candidates, {:.3} M with the plan (saving {:.3} M); CO2 {:.4} -> {:.4} Mt; load shed {:.1} -> {:.1} MWh\n",
        r.snapshots,
        r.system_cost_without / MILLION,
        r.system_cost_plan / MILLION,
        r.saving / MILLION,
        r.co2_without_t / 1e6,
        r.co2_plan_t / 1e6,
        r.shed_without_mwh,
        r.shed_plan_mwh
    );
    if let Some(c) = &r.co2_limit {
        let _ = writeln!(
            out,
            "CO2 limit {} {} {:.3} Mt: implied CO2 price {:.2}/t with the plan\n",
            c.name,
            c.sense,
            c.limit_t / 1e6,
            c.co2_price
        );
    }
    let _ = writeln!(
        out,
        "{:<14} {:<16} {:>10} {:>10} {:>10} {:>10} {:>9} {:>10} {:>5}",
        "component",
        "candidate",
        "max MW",
        "built MW",
        "cost M",
        "rent M",
        "TWh",
        "saving M",
        "pays"
    );
    for c in &r.candidates {
        let max = c.nom_max.map_or("-".to_string(), |m| format!("{m:.0}"));
        let saving = c
            .saving
            .map_or("-".to_string(), |s| format!("{:.3}", s / MILLION));
        let _ = writeln!(
            out,
            "{:<14} {:<16} {:>10} {:>10.1} {:>10.3} {:>10.3} {:>9.3} {:>10} {:>5}",
            c.component,
            c.name,
            max,
            c.built,
            c.cost / MILLION,
            c.congestion_rent / MILLION,
            c.energy_mwh / 1e6,
            saving,
            if c.pays { "yes" } else { "no" }
        );
    }
    let _ = writeln!(
        out,
        "\n{:<8} {:>14} {:>14} {:>12} {:>10} {:>12}",
        "country", "net cost w/o M", "net cost plan M", "cand. cost M", "gain M", "CO2 change t"
    );
    for c in &r.countries {
        let _ = writeln!(
            out,
            "{:<8} {:>14.3} {:>14.3} {:>12.3} {:>10.3} {:>12.0}",
            c.country,
            c.net_cost_without / MILLION,
            c.net_cost_plan / MILLION,
            c.candidate_cost_share / MILLION,
            c.gain / MILLION,
            c.co2_plan_t - c.co2_without_t
        );
    }
    out
}
