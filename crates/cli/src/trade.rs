//! `gridtrade trade`: the trade report of a network (or a scenario of it), with the gains
//! from trade against autarky and an optional side-by-side comparison.

use super::{parse_range, read};
use clap::Args;
use gridtrade_engine::error::Error;
use gridtrade_engine::formulation::{FormulationOptions, NetworkModel};
use gridtrade_engine::network::Network;
use gridtrade_engine::solve;
use gridtrade_studies::scenario::Scenario;
use gridtrade_studies::study::{self, Compare, Labelled, NoReport, Study, TradeRequest};
use gridtrade_studies::trade::{self, TradeReport};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What a trade study covers: the scenario and comparison, the horizon, the model and its
/// options (`trade` and `call trade`).
#[derive(Args)]
pub(crate) struct TradeScope {
    /// Apply this scenario file (TOML) to the network.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Also solve `base` (the network without the scenario) or another scenario file, and
    /// report the two side by side.
    #[arg(long, value_name = "base|FILE")]
    pub compare: Option<String>,
    /// Solve only snapshot positions A..B (half-open, 0-based).
    #[arg(long, value_name = "A..B", value_parser = parse_range)]
    pub snapshots: Option<Range<usize>>,
    /// Report only positions A..B of the solved horizon (e.g. one month of a year's solve);
    /// the solve itself covers `--snapshots`.
    #[arg(long, value_name = "A..B", value_parser = parse_range)]
    pub period: Option<Range<usize>>,
    /// Network model between buses.
    #[arg(long, value_parser = crate::choice::<NetworkModel>(), default_value_t = NetworkModel::Transport)]
    pub model: NetworkModel,
    #[command(flatten)]
    pub common: super::SolveCommon,
    #[command(flatten)]
    pub security: super::SecurityArgs,
    /// Skip the autarky solve (no gains from trade).
    #[arg(long)]
    pub no_autarky: bool,
    /// Clear the market as `ntc` (zones as copper plates, elements between zones
    /// controllable within their ratings), `flow-based` (zones' net positions within the
    /// flow-based domain of the critical network elements, around the nodal dispatch) or
    /// `nodal` (linear power flow): overrides `--model` and adds the coupling report (CNECs,
    /// redispatch; `--out`: flow_based_domain.csv).
    #[arg(long, value_name = "ntc|flow-based|nodal")]
    pub coupling: Option<gridtrade_studies::coupling::Coupling>,
    /// Flow-based: flow reliability margin, a share of each element's rating.
    #[arg(long, value_name = "SHARE", default_value_t = 0.1)]
    pub frm: f64,
}

#[derive(Args)]
pub struct TradeArgs {
    /// PyPSA CSV folder or MATPOWER .m file.
    path: PathBuf,
    #[command(flatten)]
    scope: TradeScope,
    /// Build and solve autarky and the `--compare` case each from scratch instead of
    /// re-solving the coupled LP warm from its optimum (autarky: the borders cut; the
    /// comparison: its bounds, costs and links, when it differs in nothing else). Same
    /// answers; slower.
    #[arg(long, alias = "cold-autarky")]
    cold: bool,
    /// Set a HiGHS option (repeatable), e.g. `--highs solver=ipm`.
    #[arg(long = "highs", value_name = "NAME=VALUE", value_parser = super::parse_option)]
    highs_options: Vec<(String, String)>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// No progress on stderr (it is shown only when stderr is a terminal anyway).
    #[arg(long, short)]
    quiet: bool,
    /// Write CSV tables, the JSON report and SVG charts (map, price duration, monthly net
    /// position) into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// A scenario file read and labelled (by its `name`, else its file stem).
fn labelled(file: &Path) -> Result<Labelled, Error> {
    let scenario = Scenario::read(file)?;
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Labelled {
        label: scenario.label(&stem),
        scenario,
        origin: file.display().to_string(),
    })
}

pub fn run(a: TradeArgs) -> Result<ExitCode, Error> {
    let spinner = super::progress::Spinner::new(a.quiet);
    spinner.say(format!("reading {}", a.path.display()));
    let (mut base, _) = read(&a.path)?;
    if let Some(range) = a.scope.snapshots.clone() {
        solve::select_snapshots(&mut base, range)?;
    }
    let req = TradeRequest {
        scenario: a.scope.scenario.as_deref().map(labelled).transpose()?,
        compare: match a.scope.compare.as_deref() {
            None => None,
            Some("base") => Some(Compare::Base),
            Some(file) => Some(Compare::Scenario(labelled(Path::new(file))?)),
        },
        autarky: !a.scope.no_autarky,
        period: a.scope.period.clone(),
        options: FormulationOptions {
            model: a.scope.model,
            dc_convention: a.scope.common.dc_convention,
            kvl: a.scope.common.kvl,
            voll: a.scope.common.voll,
            co2_price: a.scope.common.co2_price,
            contingencies: a.scope.security.contingencies()?,
            ..Default::default()
        },
        time_limit: None,
        cold: a.cold,
        highs_options: a.highs_options,
        coupling: a.scope.coupling,
        flow_based: gridtrade_studies::coupling::FlowBasedOptions {
            frm: a.scope.frm,
            ..Default::default()
        },
    };
    let studied = study::run(&base, &req, &spinner.control());
    spinner.finish();
    let out = match studied? {
        Ok(out) => out,
        Err(NoReport::NotSolved(e)) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
        Err(NoReport::Cancelled) => unreachable!("nothing cancels a local study"),
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&out).expect("report serialises")
        );
    } else {
        print!("{}", text(&out.study, out.compare.as_ref()));
    }
    if let Some(dir) = &a.out {
        let mut n = base.clone();
        if let Some(s) = &req.scenario {
            s.scenario.apply(&mut n, &s.origin)?;
        }
        write_out(dir, &n, &out.study, out.compare.as_ref())?;
        if !a.json {
            println!(
                "\nwrote tables, report.json and charts to {}",
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

const TWH: f64 = 1e6;
const MILLION: f64 = 1e6;

/// The report as tables for a terminal (shared with `gridtrade call trade`).
pub(crate) fn text(s: &Study, other: Option<&Study>) -> String {
    let r = &s.report;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "trade report: {} ({} snapshots, {} .. {})",
        s.label, r.snapshots, r.first_snapshot, r.last_snapshot
    );
    let w = &r.welfare;
    let _ = writeln!(
        out,
        "system cost {:.2} M, CO2 {:.3} Mt, load shed {:.3} TWh, losses {:.3} TWh\n",
        w.system_cost / MILLION,
        r.co2_t / 1e6,
        r.shed_mwh / TWH,
        r.losses_mwh / TWH
    );
    if let Some(c) = &r.co2_limit {
        let _ = writeln!(
            out,
            "CO2 limit {} {} {:.3} Mt: implied CO2 price {:.2}/t\n",
            c.name,
            c.sense,
            c.limit_t / 1e6,
            c.co2_price
        );
    }
    let _ = writeln!(
        out,
        "{:<9} {:<4} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "zone",
        "ctry",
        "mean",
        "loadwt",
        "min",
        "max",
        "load TWh",
        "gen TWh",
        "exp TWh",
        "imp TWh",
        "net TWh"
    );
    for z in &r.zones {
        let _ = writeln!(
            out,
            "{:<9} {:<4} {:>8} {:>8} {:>8} {:>8} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            z.zone,
            z.country,
            price_cell(z.prices.mean_price),
            price_cell(z.prices.load_weighted_price),
            price_cell(z.prices.min_price),
            price_cell(z.prices.max_price),
            z.load_mwh / TWH,
            z.generation_mwh / TWH,
            z.exports_mwh / TWH,
            z.imports_mwh / TWH,
            z.net_position_mwh / TWH
        );
    }
    let _ = writeln!(
        out,
        "\n{:<18} {:>9} {:>9} {:>7} {:>7} {:>9} {:>9} {:>10} {:>10}",
        "border a-b",
        "a>b TWh",
        "b>a TWh",
        "h a>b",
        "h b>a",
        "mu a>b",
        "mu b>a",
        "rent M",
        "|rent| M"
    );
    let mut borders: Vec<_> = r.borders.iter().collect();
    borders.sort_by(|a, b| b.congestion_rent_abs.total_cmp(&a.congestion_rent_abs));
    for b in borders {
        let _ = writeln!(
            out,
            "{:<18} {:>9.3} {:>9.3} {:>7} {:>7} {:>9.2} {:>9.2} {:>10.2} {:>10.2}",
            format!("{}-{}", b.zone_a, b.zone_b),
            b.flow_ab_mwh / TWH,
            b.flow_ba_mwh / TWH,
            b.hours_congested_ab,
            b.hours_congested_ba,
            b.shadow_price_ab,
            b.shadow_price_ba,
            b.congestion_rent / MILLION,
            b.congestion_rent_abs / MILLION
        );
    }
    let mut trades: Vec<(usize, usize, f64)> = Vec::new();
    for (i, row) in r.matrix.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            if *v > 0.0 {
                trades.push((i, j, *v));
            }
        }
    }
    trades.sort_by(|a, b| b.2.total_cmp(&a.2));
    let _ = writeln!(
        out,
        "\nlargest bilateral trades (seller -> buyer, TWh sent):"
    );
    for (i, j, v) in trades.iter().take(15) {
        let _ = writeln!(
            out,
            "  {:<9} -> {:<9} {:>9.3}",
            r.zones[*i].zone,
            r.zones[*j].zone,
            v / TWH
        );
    }
    let _ = writeln!(out, "\nwelfare (M): consumer payments {:.2}, producer revenue {:.2}, producer surplus {:.2}, congestion rent {:.2}, system cost {:.2}", w.consumer_payments / MILLION, w.producer_revenue / MILLION, w.producer_surplus / MILLION, w.congestion_rent / MILLION, w.system_cost / MILLION);
    if let Some(sec) = &r.security {
        gridtrade_engine::report::write_security(&mut out, sec);
    }
    if let Some(c) = &s.coupling {
        coupling_text(&mut out, c, w.system_cost);
    }
    if let Some(g) = &s.gains {
        let _ = writeln!(out, "\ngains from trade: autarky {:.2} M - coupled {:.2} M = saving {:.2} M; CO2 {:.3} -> {:.3} Mt; shed {:.3} -> {:.3} TWh", g.autarky_cost / MILLION, g.coupled_cost / MILLION, g.saving / MILLION, g.autarky_co2_t / 1e6, g.coupled_co2_t / 1e6, g.autarky_shed_mwh / TWH, g.coupled_shed_mwh / TWH);
        let _ = writeln!(
            out,
            "{:<8} {:>10} {:>12} {:>10} {:>10} {:>10} {:>11} {:>11}",
            "country",
            "gain M",
            "prod. saved",
            "exp. rev.",
            "imp. bill",
            "rent share",
            "CO2 aut Mt",
            "CO2 cpl Mt"
        );
        for c in &g.countries {
            let _ = writeln!(
                out,
                "{:<8} {:>10.2} {:>12.2} {:>10.2} {:>10.2} {:>10.2} {:>11.3} {:>11.3}",
                c.country,
                c.gain / MILLION,
                c.production_cost_saving / MILLION,
                c.export_revenue / MILLION,
                c.import_bill / MILLION,
                c.rent_share / MILLION,
                c.autarky_co2_t / 1e6,
                c.coupled_co2_t / 1e6
            );
        }
    }
    if let Some(o) = other {
        out.push_str(&comparison(s, o));
    }
    out
}

/// The coupling report's unscheduled flows for the map (none without `--coupling`).
fn loop_arrows(s: &Study) -> Vec<trade::map::LoopArrow> {
    let Some(c) = &s.coupling else {
        return Vec::new();
    };
    c.loop_flows
        .iter()
        .map(|b| trade::map::LoopArrow {
            zone_a: b.zone_a.clone(),
            zone_b: b.zone_b.clone(),
            net_mwh: b.hourly.iter().map(|(f, s)| f - s).sum(),
            abs_mwh: b.unscheduled_mwh,
        })
        .collect()
}

/// The coupling section: the market, the CNECs that bound (flow-based) and the redispatch
/// the grid needs (zonal couplings).
fn coupling_text(out: &mut String, c: &study::CouplingReport, market_cost: f64) {
    let _ = writeln!(
        out,
        "
coupling {}: market cost {:.2} M + redispatch {:.2} M = {:.2} M",
        c.coupling.name(),
        market_cost / MILLION,
        c.redispatch.as_ref().map_or(0.0, |r| r.cost) / MILLION,
        c.total_cost / MILLION
    );
    if let Some(rd) = &c.redispatch {
        let worst = rd.most_overloaded.as_ref().map_or(String::new(), |(l, k)| {
            format!("; most often {l} ({k} snapshots)")
        });
        let _ = writeln!(
            out,
            "  physical grid: overloaded in {} snapshots ({:.3} TWh over ratings){worst}; redispatch {:.3} TWh up and down, {} snapshots without a feasible redispatch",
            rd.hours_overloaded,
            rd.overload_mwh / TWH,
            rd.volume_mwh / TWH,
            rd.infeasible_hours
        );
    }
    if !c.loop_flows.is_empty() {
        let _ = writeln!(
            out,
            "  loop flows on the AC borders (TWh; unscheduled = |physical - scheduled| summed over snapshots):"
        );
        let _ = writeln!(
            out,
            "  {:<14} {:>9} {:>9} {:>11} {:>8}  {}",
            "border",
            "physical",
            "scheduled",
            "unscheduled",
            "h against",
            "loaded by (exporters' trades, TWh)"
        );
        for b in &c.loop_flows {
            let by: Vec<String> = b
                .by_exporter
                .iter()
                .take(4)
                .map(|(z, v)| format!("{z} {:.3}", v / TWH))
                .collect();
            let _ = writeln!(
                out,
                "  {:<14} {:>9.3} {:>9.3} {:>11.3} {:>8}  {}",
                format!("{}-{}", b.zone_a, b.zone_b),
                b.physical_mwh / TWH,
                b.scheduled_mwh / TWH,
                b.unscheduled_mwh / TWH,
                b.hours_against_schedule,
                by.join(", ")
            );
        }
    }
    if c.domain_cnecs > 0 {
        let _ = writeln!(
            out,
            "  flow-based domain: {} critical network elements; binding (by rent):",
            c.domain_cnecs
        );
        let _ = writeln!(
            out,
            "  {:<36} {:>8} {:>10} {:>10}",
            "CNEC", "hours", "mean mu", "rent M"
        );
        for k in c.cnecs.iter().take(15) {
            let _ = writeln!(
                out,
                "  {:<36} {:>8} {:>10.2} {:>10.2}",
                k.name,
                k.hours_binding,
                k.mean_shadow_price,
                k.congestion_rent / MILLION
            );
        }
    }
}

/// Key figures of two studies side by side (`this` and `other`, difference this − other).
/// N-1: one row per binding post-contingency limit (shadow price in currency/MWh, ≥ 0).
fn contingencies_csv(sec: &gridtrade_engine::report::SecuritySummary) -> String {
    let mut c = String::from("outage,monitored,snapshots_binding,mean_shadow_price\n");
    for b in &sec.binding {
        let _ = writeln!(
            c,
            "{},{},{},{}",
            b.outage, b.monitored, b.snapshots_binding, b.mean_shadow_price
        );
    }
    c
}

/// A price for the terminal, "-" where there is none (a zone without load or prices).
fn price_cell(p: Option<f64>) -> String {
    p.map_or_else(|| "-".into(), |p| format!("{p:.2}"))
}

/// A price for a CSV file, empty where there is none.
fn csv_cell(p: Option<f64>) -> String {
    p.map_or_else(String::new, |p| p.to_string())
}

fn comparison(this: &Study, other: &Study) -> String {
    let (a, b) = (&this.report, &other.report);
    let mut out = String::new();
    let _ = writeln!(out, "\ncomparison: {} vs {}", this.label, other.label);
    let _ = writeln!(
        out,
        "{:<24} {:>14} {:>14} {:>14}",
        "",
        this.label.chars().take(14).collect::<String>(),
        other.label.chars().take(14).collect::<String>(),
        "difference"
    );
    for (name, x, y) in [
        (
            "system cost (M)",
            a.welfare.system_cost / MILLION,
            b.welfare.system_cost / MILLION,
        ),
        ("CO2 (Mt)", a.co2_t / 1e6, b.co2_t / 1e6),
        ("load shed (TWh)", a.shed_mwh / TWH, b.shed_mwh / TWH),
        (
            "congestion rent (M)",
            a.welfare.congestion_rent / MILLION,
            b.welfare.congestion_rent / MILLION,
        ),
        ("losses (TWh)", a.losses_mwh / TWH, b.losses_mwh / TWH),
    ] {
        let _ = writeln!(out, "{name:<24} {x:>14.3} {y:>14.3} {:>14.3}", x - y);
    }
    let _ = writeln!(out, "load-weighted price by zone:");
    for z in &a.zones {
        if let Some(zb) = b.zones.iter().find(|x| x.zone == z.zone) {
            let _ = writeln!(
                out,
                "  {:<22} {:>14} {:>14} {:>14}",
                z.zone,
                price_cell(z.prices.load_weighted_price),
                price_cell(zb.prices.load_weighted_price),
                price_cell(
                    z.prices
                        .load_weighted_price
                        .zip(zb.prices.load_weighted_price)
                        .map(|(a, b)| a - b)
                )
            );
        }
    }
    let _ = writeln!(out, "net flow a>b by border (TWh):");
    let mut keys: Vec<(String, String)> = a
        .borders
        .iter()
        .map(|x| (x.zone_a.clone(), x.zone_b.clone()))
        .collect();
    for x in &b.borders {
        if !keys.contains(&(x.zone_a.clone(), x.zone_b.clone())) {
            keys.push((x.zone_a.clone(), x.zone_b.clone()));
        }
    }
    let net = |r: &TradeReport, k: &(String, String)| {
        r.borders
            .iter()
            .find(|x| x.zone_a == k.0 && x.zone_b == k.1)
            .map(|x| (x.flow_ab_mwh - x.flow_ba_mwh) / TWH)
            .unwrap_or(0.0)
    };
    for k in keys {
        let (x, y) = (net(a, &k), net(b, &k));
        if x.abs() + y.abs() > 0.0 {
            let _ = writeln!(
                out,
                "  {:<22} {x:>14.3} {y:>14.3} {:>14.3}",
                format!("{}-{}", k.0, k.1),
                x - y
            );
        }
    }
    out
}

fn write_out(dir: &Path, n: &Network, s: &Study, other: Option<&Study>) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let put = |file: &str, text: String| -> Result<(), Error> {
        std::fs::write(dir.join(file), text).map_err(|source| Error::Io {
            path: dir.join(file),
            source,
        })
    };
    let r = &s.report;
    let mut z = String::from("zone,country,mean_price,load_weighted_price,min_price,max_price,load_mwh,generation_mwh,shed_mwh,exports_mwh,imports_mwh,net_position_mwh,consumer_payments,producer_revenue,production_cost,producer_surplus,co2_t\n");
    for x in &r.zones {
        let _ = writeln!(
            z,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            x.zone,
            x.country,
            csv_cell(x.prices.mean_price),
            csv_cell(x.prices.load_weighted_price),
            csv_cell(x.prices.min_price),
            csv_cell(x.prices.max_price),
            x.load_mwh,
            x.generation_mwh,
            x.shed_mwh,
            x.exports_mwh,
            x.imports_mwh,
            x.net_position_mwh,
            x.consumer_payments,
            x.producer_revenue,
            x.production_cost,
            x.producer_surplus,
            x.co2_t
        );
    }
    put("zones.csv", z)?;
    if let Some(c) = &s.coupling {
        if let Some(d) = &c.domain {
            put(
                "flow_based_domain.csv",
                gridtrade_studies::coupling::domain_csv(n, d),
            )?;
        }
        let mut k =
            String::from("cnec,monitored,outage,hours_binding,mean_shadow_price,congestion_rent\n");
        for x in &c.cnecs {
            use gridtrade_studies::coupling::csv_field;
            let _ = writeln!(
                k,
                "{},{},{},{},{},{}",
                csv_field(&x.name),
                csv_field(&x.monitored),
                csv_field(x.outage.as_deref().unwrap_or("")),
                x.hours_binding,
                x.mean_shadow_price,
                x.congestion_rent
            );
        }
        put("cnecs.csv", k)?;
        let mut l =
            String::from("zone_a,zone_b,snapshot,physical_mw,scheduled_mw,unscheduled_mw\n");
        for b in &c.loop_flows {
            for (t, (f, s)) in b.hourly.iter().enumerate() {
                let _ = writeln!(
                    l,
                    "{},{},{},{f},{s},{}",
                    b.zone_a,
                    b.zone_b,
                    n.snapshots.names[t],
                    f - s
                );
            }
        }
        put("loop_flows.csv", l)?;
    }
    let mut b = String::from("zone_a,zone_b,elements,flow_ab_mwh,flow_ba_mwh,hours_congested_ab,hours_congested_ba,shadow_price_ab,shadow_price_ba,congestion_rent,congestion_rent_abs,losses_mwh\n");
    for x in &r.borders {
        let _ = writeln!(
            b,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            x.zone_a,
            x.zone_b,
            x.elements.join(" "),
            x.flow_ab_mwh,
            x.flow_ba_mwh,
            x.hours_congested_ab,
            x.hours_congested_ba,
            x.shadow_price_ab,
            x.shadow_price_ba,
            x.congestion_rent,
            x.congestion_rent_abs,
            x.losses_mwh
        );
    }
    put("borders.csv", b)?;
    let mut m = String::from("from\\to");
    for x in &r.zones {
        let _ = write!(m, ",{}", x.zone);
    }
    m.push('\n');
    for (i, row) in r.matrix.iter().enumerate() {
        let _ = write!(m, "{}", r.zones[i].zone);
        for v in row {
            let _ = write!(m, ",{v}");
        }
        m.push('\n');
    }
    put("trade_matrix.csv", m)?;
    let mut c = String::from("country,production_cost,export_revenue,import_bill,rent_share,net_cost,co2_t,shed_mwh,exports_mwh,imports_mwh\n");
    for x in &r.countries {
        let _ = writeln!(
            c,
            "{},{},{},{},{},{},{},{},{},{}",
            x.country,
            x.production_cost,
            x.export_revenue,
            x.import_bill,
            x.rent_share,
            x.net_cost,
            x.co2_t,
            x.shed_mwh,
            x.exports_mwh,
            x.imports_mwh
        );
    }
    put("countries.csv", c)?;
    if let Some(g) = &s.gains {
        let mut c = String::from("country,gain,production_cost_saving,export_revenue,import_bill,rent_share,autarky_co2_t,coupled_co2_t,autarky_shed_mwh,coupled_shed_mwh\n");
        for x in &g.countries {
            let _ = writeln!(
                c,
                "{},{},{},{},{},{},{},{},{},{}",
                x.country,
                x.gain,
                x.production_cost_saving,
                x.export_revenue,
                x.import_bill,
                x.rent_share,
                x.autarky_co2_t,
                x.coupled_co2_t,
                x.autarky_shed_mwh,
                x.coupled_shed_mwh
            );
        }
        let _ = writeln!(
            c,
            "region,{},,,,,{},{},{},{}",
            g.saving, g.autarky_co2_t, g.coupled_co2_t, g.autarky_shed_mwh, g.coupled_shed_mwh
        );
        put("gains.csv", c)?;
    }
    let mut mn = String::from("month");
    for x in &r.zones {
        let _ = write!(mn, ",{}", x.zone);
    }
    mn.push('\n');
    for (month, v) in &r.monthly_net_position {
        let _ = write!(mn, "{month}");
        for x in v {
            let _ = write!(mn, ",{x}");
        }
        mn.push('\n');
    }
    put("monthly_net_position.csv", mn)?;
    if let Some(sec) = &r.security {
        put("contingencies.csv", contingencies_csv(sec))?;
        let skipped: String = sec
            .islanding_outages
            .iter()
            .map(|o| format!("{o}\n"))
            .collect();
        put("islanding_outages.csv", format!("outage\n{skipped}"))?;
    }
    if let Some(o) = other {
        put("comparison.txt", comparison(s, o))?;
    }
    put(
        "report.json",
        serde_json::to_string_pretty(&(s, other)).expect("report serialises"),
    )?;
    put(
        "map.svg",
        trade::map::map_with_loops(
            n,
            r,
            &format!("{}: prices and cross-border flows", s.label),
            &loop_arrows(s),
        ),
    )?;
    if let Some(svg) = trade::map::ac_grid_map(
        n,
        r,
        &format!(
            "{}: the AC grid up close (zones outside the frame not drawn)",
            s.label
        ),
        &loop_arrows(s),
    ) {
        put("map_ac_grid.svg", svg)?;
    }
    put(
        "price_duration.svg",
        trade::svg::price_duration(r, &format!("{}: price-duration curves", s.label)),
    )?;
    put(
        "monthly_net_position.svg",
        trade::svg::monthly_net_position(
            r,
            &format!("{}: monthly net position by country", s.label),
        ),
    )?;
    Ok(())
}
