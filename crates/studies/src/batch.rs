//! Scenario batches: a study of many cases of one network — scenario files, or a grid of
//! factors (`inflow_scale` × `demand_scale` × `co2_price` × interconnector sets) — each case
//! a trade study (with autarky, with a coupling mode), and a table across the cases.
//!
//! A study file (TOML):
//!
//! ```toml
//! name = "CAREC January: hydrology x demand x carbon"
//! network = "../networks/carec"     # a folder or .m file (local: relative to this file);
//!                                   # to a server: the name of a network it holds
//! version = 1                       # server only: the version (default: the newest)
//! snapshots = "0..744"              # solve these positions (half-open, 0-based)
//! model = "transport"               # dc, transport (default) or copperplate
//! coupling = "ntc"                  # optional: ntc, flow-based or nodal
//! autarky = true                    # gains from trade per country (default true)
//! time_limit = 600                  # seconds per solve
//!
//! [[case]]                          # listed cases: a scenario file or an inline scenario
//! file = "scenarios/casa1000.toml"
//! [[case]]
//! label = "dry"
//! scenario = { inflow_scale = { all = 0.7 } }
//!
//! [grid]                            # every listed case (or the base) × every combination
//! inflow_scale = [0.75, 1.0]        # "all" factor of every storage unit / hydro plant
//! demand_scale = [1.0, 1.05]        # "all" factor of every load
//! co2_price = [0.0, 30.0]           # currency per tonne
//! [[grid.interconnectors]]          # interconnector sets (switched on / off)
//! label = "today"
//! [[grid.interconnectors]]
//! label = "no CASA"
//! switch_off = ["CASA-HVDC"]
//! ```
//!
//! The cases are numbered from 0 in that order: listed cases (or the base) outermost, then
//! `inflow_scale`, `demand_scale`, `co2_price`, interconnector sets. A resolved study
//! ([`Batch`]) holds every case's scenario, so it can be stored and sent to a worker alone.

use crate::coupling::Coupling;
use crate::scenario::Scenario;
use crate::study::{self, Labelled, NoReport, TradeOutput, TradeRequest};
use gridtrade_engine::error::Error;
use gridtrade_engine::formulation::{FormulationOptions, NetworkModel};
use gridtrade_engine::network::Network;
use gridtrade_engine::solver::Control;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Instant;

/// A study file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct StudyFile {
    name: Option<String>,
    network: String,
    version: Option<u64>,
    snapshots: Option<String>,
    model: Option<String>,
    coupling: Option<String>,
    autarky: Option<bool>,
    time_limit: Option<f64>,
    #[serde(default)]
    case: Vec<CaseEntry>,
    grid: Option<Grid>,
}

/// A listed case: a scenario file (relative to the study file) or an inline scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseEntry {
    label: Option<String>,
    file: Option<String>,
    scenario: Option<Scenario>,
}

/// Factors crossed with every listed case.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Grid {
    #[serde(default)]
    inflow_scale: Vec<f64>,
    #[serde(default)]
    demand_scale: Vec<f64>,
    #[serde(default)]
    co2_price: Vec<f64>,
    #[serde(default)]
    interconnectors: Vec<InterconnectorSet>,
}

/// Interconnectors switched on and off in one set of the grid.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct InterconnectorSet {
    label: String,
    #[serde(default)]
    switch_on: Vec<String>,
    #[serde(default)]
    switch_off: Vec<String>,
}

/// What every case of a study is solved with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSettings {
    /// `dc`, `transport` or `copperplate`.
    pub model: String,
    pub coupling: Option<Coupling>,
    /// Solve autarky too, for the gains from trade.
    pub autarky: bool,
    /// Seconds per solve.
    pub time_limit: Option<f64>,
}

/// One case: its number in the study, label and scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub index: usize,
    pub label: String,
    pub scenario: Scenario,
}

/// A resolved study: the network it runs on and every case, scenario files read in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub name: String,
    /// A path (local) or a server's network name.
    pub network: String,
    /// Server only: the network's version (none: the newest at submission).
    pub version: Option<u64>,
    /// Snapshot positions solved.
    pub snapshots: Option<Range<usize>>,
    pub settings: CaseSettings,
    pub cases: Vec<Case>,
}

/// Largest number of cases a study may have (a grid multiplies quickly).
pub const MAX_CASES: usize = 10_000;

impl Batch {
    /// Parse a study file's text. `origin` names it in errors; `read` gives the text of a
    /// scenario file it names (relative to the study file).
    pub fn parse(
        text: &str,
        origin: &str,
        read: &dyn Fn(&str) -> Result<String, Error>,
    ) -> Result<Batch, Error> {
        let file: StudyFile = toml::from_str(text).map_err(|e| {
            let line = crate::scenario::toml_error_line(text, &e);
            Error::Format(format!("{origin}:{line}: {}", e.message()))
        })?;
        let settings = settings(&file, origin)?;
        let snapshots = match &file.snapshots {
            None => None,
            Some(s) => Some(parse_range(s).map_err(|m| field_error(origin, "snapshots", m))?),
        };
        let bases = listed_cases(&file.case, origin, read)?;
        let cases = cross(
            bases,
            file.grid.as_ref().unwrap_or(&Grid::default()),
            origin,
        )?;
        Ok(Batch {
            name: file.name.clone().unwrap_or_else(|| origin.to_string()),
            network: file.network,
            version: file.version,
            snapshots,
            settings,
            cases,
        })
    }

    /// Read a study file from disk (scenario files relative to it).
    pub fn read(path: &std::path::Path) -> Result<Batch, Error> {
        let text = read_text(path)?;
        let dir = path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf();
        Batch::parse(&text, &path.display().to_string(), &|name| {
            read_text(&dir.join(name))
        })
    }

    /// The formulation options of every case.
    pub fn formulation(&self) -> Result<FormulationOptions, Error> {
        let model: NetworkModel = self
            .settings
            .model
            .parse()
            .map_err(|m: String| Error::option("model", m))?;
        Ok(FormulationOptions {
            model,
            ..FormulationOptions::default()
        })
    }

    /// The network as every case starts from it: `base` cut to the study's snapshots.
    pub fn base_network(&self, base: &Network) -> Result<Network, Error> {
        let mut n = base.clone();
        if let Some(r) = &self.snapshots {
            gridtrade_engine::solve::select_snapshots(&mut n, r.clone())?;
        }
        Ok(n)
    }
}

fn read_text(path: &std::path::Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn field_error(origin: &str, field: &str, message: impl std::fmt::Display) -> Error {
    Error::Format(format!("{origin}: field `{field}`: {message}"))
}

/// `A..B`, half-open and not empty.
fn parse_range(s: &str) -> Result<Range<usize>, String> {
    let bad = || format!("`{s}`: expected A..B with A < B, e.g. 0..744");
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let a: usize = a.trim().parse().map_err(|_| bad())?;
    let b: usize = b.trim().parse().map_err(|_| bad())?;
    if a >= b {
        return Err(bad());
    }
    Ok(a..b)
}

fn settings(file: &StudyFile, origin: &str) -> Result<CaseSettings, Error> {
    let model = file.model.clone().unwrap_or_else(|| "transport".into());
    model
        .parse::<NetworkModel>()
        .map_err(|m| field_error(origin, "model", m))?;
    let coupling = match &file.coupling {
        None => None,
        Some(c) => Some(
            c.parse::<Coupling>()
                .map_err(|m| field_error(origin, "coupling", m))?,
        ),
    };
    if let Some(t) = file.time_limit {
        if !(t > 0.0 && t.is_finite()) {
            return Err(field_error(
                origin,
                "time_limit",
                format!("{t}: must be a positive number of seconds"),
            ));
        }
    }
    Ok(CaseSettings {
        model,
        coupling,
        autarky: file.autarky.unwrap_or(true),
        time_limit: file.time_limit,
    })
}

/// The listed cases as (label, scenario); none listed: the base network alone.
fn listed_cases(
    entries: &[CaseEntry],
    origin: &str,
    read: &dyn Fn(&str) -> Result<String, Error>,
) -> Result<Vec<(String, Scenario)>, Error> {
    if entries.is_empty() {
        return Ok(vec![("base".into(), Scenario::default())]);
    }
    let mut out = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let scenario = match (&e.file, &e.scenario) {
            (Some(f), None) => Scenario::parse(&read(f)?, f)?,
            (None, Some(s)) => s.clone(),
            (None, None) => Scenario::default(),
            (Some(_), Some(_)) => {
                return Err(field_error(
                    origin,
                    &format!("case[{i}]"),
                    "has both `file` and `scenario`: give one",
                ))
            }
        };
        let label = e
            .label
            .clone()
            .or_else(|| scenario.name.clone())
            .or_else(|| e.file.clone())
            .unwrap_or_else(|| format!("case {i}"));
        out.push((label, scenario));
    }
    Ok(out)
}

/// What one value of a grid factor does to a scenario.
type Apply = Box<dyn Fn(&mut Scenario) -> Result<(), String>>;

/// One axis of the grid: label parts and what each value does to a scenario.
type Axis = Vec<(String, Apply)>;

/// Every listed case × every combination of the grid's factors.
fn cross(bases: Vec<(String, Scenario)>, grid: &Grid, origin: &str) -> Result<Vec<Case>, Error> {
    let axes = axes(grid, origin)?;
    let size = axes
        .iter()
        .try_fold(bases.len(), |n, a| n.checked_mul(a.len().max(1)));
    if size.is_none_or(|s| s > MAX_CASES) {
        return Err(field_error(
            origin,
            "grid",
            format!("more than {MAX_CASES} cases: split the study"),
        ));
    }
    let mut cases: Vec<(String, Scenario)> = bases;
    for axis in axes.iter().filter(|a| !a.is_empty()) {
        let mut next = Vec::with_capacity(cases.len() * axis.len());
        for (label, s) in &cases {
            for (part, apply) in axis {
                let mut s = s.clone();
                apply(&mut s).map_err(|m| field_error(origin, "grid", format!("{label}: {m}")))?;
                next.push((format!("{label} {part}"), s));
            }
        }
        cases = next;
    }
    Ok(cases
        .into_iter()
        .enumerate()
        .map(|(index, (label, scenario))| Case {
            index,
            label: label.trim_start_matches("base ").to_string(),
            scenario,
        })
        .collect())
}

fn axes(grid: &Grid, origin: &str) -> Result<Vec<Axis>, Error> {
    for (field, values) in [
        ("inflow_scale", &grid.inflow_scale),
        ("demand_scale", &grid.demand_scale),
        ("co2_price", &grid.co2_price),
    ] {
        if let Some(v) = values.iter().find(|v| !(**v >= 0.0 && v.is_finite())) {
            return Err(field_error(
                origin,
                &format!("grid.{field}"),
                format!("{v}: must be a non-negative number"),
            ));
        }
    }
    let scale = |key: &'static str, values: &[f64]| -> Axis {
        values
            .iter()
            .map(|&f| {
                let apply: Apply = Box::new(move |s: &mut Scenario| {
                    let map: &mut BTreeMap<String, f64> = match key {
                        "inflow" => &mut s.inflow_scale,
                        _ => &mut s.demand_scale,
                    };
                    match map.insert("all".into(), f) {
                        None => Ok(()),
                        Some(_) => Err(format!(
                            "the case has its own `{key}_scale.all` and the grid sets one"
                        )),
                    }
                });
                (format!("{key}={f}"), apply)
            })
            .collect()
    };
    let co2: Axis = grid
        .co2_price
        .iter()
        .map(|&p| {
            let apply: Apply = Box::new(move |s: &mut Scenario| {
                s.co2_price = Some(p);
                Ok(())
            });
            (format!("co2={p}"), apply)
        })
        .collect();
    let sets: Axis = grid
        .interconnectors
        .iter()
        .map(|set| {
            let set = set.clone();
            let label = format!("set={}", set.label);
            let apply: Apply = Box::new(move |s: &mut Scenario| {
                s.switch_on.extend(set.switch_on.iter().cloned());
                s.switch_off.extend(set.switch_off.iter().cloned());
                Ok(())
            });
            (label, apply)
        })
        .collect();
    Ok(vec![
        scale("inflow", &grid.inflow_scale),
        scale("demand", &grid.demand_scale),
        co2,
        sets,
    ])
}

/// How a case ended.
#[derive(Debug, Clone)]
pub enum CaseOutcome {
    Solved(Box<TradeOutput>),
    /// Not optimal (infeasible, time limit, …): the diagnosis.
    NotSolved(String),
    Cancelled,
}

/// Solve one case on `base` (the study's base network, [`Batch::base_network`]): its trade
/// study. Bad scenarios are errors; a case that does not solve is [`CaseOutcome::NotSolved`].
pub fn run_case(
    base: &Network,
    batch: &Batch,
    case: &Case,
    control: &Control,
) -> Result<CaseOutcome, Error> {
    let req = TradeRequest {
        scenario: Some(Labelled {
            scenario: case.scenario.clone(),
            label: case.label.clone(),
            origin: format!("case {} ({})", case.index, case.label),
        }),
        autarky: batch.settings.autarky,
        options: batch.formulation()?,
        time_limit: batch.settings.time_limit,
        coupling: batch.settings.coupling,
        ..TradeRequest::default()
    };
    Ok(match study::run(base, &req, control)? {
        Ok(out) => CaseOutcome::Solved(Box::new(out)),
        Err(NoReport::NotSolved(why)) => CaseOutcome::NotSolved(why),
        Err(NoReport::Cancelled) => CaseOutcome::Cancelled,
    })
}

/// One case's line of the study table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRow {
    pub case: usize,
    pub label: String,
    /// `optimal`, `not solved` or `failed` (a bad scenario: `message` says why).
    pub status: String,
    pub message: String,
    /// Production cost (the objective), currency; the market's cost plus redispatch with a
    /// zonal coupling.
    pub system_cost: Option<f64>,
    pub co2_t: Option<f64>,
    pub shed_mwh: Option<f64>,
    /// Autarky's cost less the coupled cost, currency (with `autarky`).
    pub trade_saving: Option<f64>,
    /// Mean hourly price per zone, currency/MWh.
    pub zone_prices: Vec<(String, f64)>,
    pub borders: Vec<BorderRow>,
    /// Gain from trade per country, currency (with `autarky`).
    pub gains: Vec<(String, f64)>,
    /// Wall time of the case's solves, s.
    pub seconds: f64,
}

/// A border's flows and rent in one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BorderRow {
    /// `ZONE_A-ZONE_B`.
    pub border: String,
    pub flow_ab_mwh: f64,
    pub flow_ba_mwh: f64,
    /// Congestion rent, currency.
    pub rent: f64,
}

impl CaseRow {
    /// The row of a case that ended with `outcome` after `seconds`.
    pub fn of(case: &Case, outcome: &CaseOutcome, seconds: f64) -> CaseRow {
        let mut row = CaseRow::empty(case, seconds);
        match outcome {
            CaseOutcome::Solved(out) => row.fill(out),
            CaseOutcome::NotSolved(why) => {
                row.status = "not solved".into();
                row.message = why.clone();
            }
            CaseOutcome::Cancelled => row.status = "cancelled".into(),
        }
        row
    }

    /// The row of a case that failed before solving (a bad scenario): `message` says why.
    pub fn failed(case: &Case, message: String, seconds: f64) -> CaseRow {
        CaseRow {
            status: "failed".into(),
            message,
            ..CaseRow::empty(case, seconds)
        }
    }

    fn empty(case: &Case, seconds: f64) -> CaseRow {
        CaseRow {
            case: case.index,
            label: case.label.clone(),
            status: String::new(),
            message: String::new(),
            system_cost: None,
            co2_t: None,
            shed_mwh: None,
            trade_saving: None,
            zone_prices: Vec::new(),
            borders: Vec::new(),
            gains: Vec::new(),
            seconds,
        }
    }

    fn fill(&mut self, out: &TradeOutput) {
        let s = &out.study;
        let r = &s.report;
        self.status = "optimal".into();
        self.system_cost = Some(
            s.coupling
                .as_ref()
                .map_or(r.welfare.system_cost, |c| c.total_cost),
        );
        self.co2_t = Some(r.co2_t);
        self.shed_mwh = Some(r.shed_mwh);
        self.trade_saving = s.gains.as_ref().map(|g| g.saving);
        self.zone_prices = r
            .zones
            .iter()
            .filter_map(|z| z.prices.mean_price.map(|p| (z.zone.clone(), p)))
            .collect();
        self.borders = r
            .borders
            .iter()
            .map(|b| BorderRow {
                border: format!("{}-{}", b.zone_a, b.zone_b),
                flow_ab_mwh: b.flow_ab_mwh,
                flow_ba_mwh: b.flow_ba_mwh,
                rent: b.congestion_rent,
            })
            .collect();
        self.gains = s.gains.as_ref().map_or(Vec::new(), |g| {
            g.countries
                .iter()
                .map(|c| (c.country.clone(), c.gain))
                .collect()
        });
    }
}

/// A case's row and, when it was solved, its full result.
pub type Solved = (CaseRow, Option<TradeOutput>);

/// Run every case of `batch` on `base` (the study's base network), `jobs` at a time;
/// `done` is called as each case ends. Returns the rows in case order and each solved
/// case's full result.
pub fn run_local(
    base: &Network,
    batch: &Batch,
    jobs: usize,
    control: &Control,
    done: &(dyn Fn(&CaseRow) + Sync),
) -> Vec<Solved> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Solved>>> = Mutex::new(vec![None; batch.cases.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(batch.cases.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = batch.cases.get(i) else {
                    break;
                };
                let (row, out) = if control.is_cancelled() {
                    (CaseRow::of(case, &CaseOutcome::Cancelled, 0.0), None)
                } else {
                    solve_one(base, batch, case, control)
                };
                done(&row);
                results.lock().expect("no thread panics holding it")[i] = Some((row, out));
            });
        }
    });
    results
        .into_inner()
        .expect("no thread panics holding it")
        .into_iter()
        .map(|r| r.expect("every case ran"))
        .collect()
}

/// One case's row and full result (a bad scenario is a failed row).
pub fn solve_one(base: &Network, batch: &Batch, case: &Case, control: &Control) -> Solved {
    let clock = Instant::now();
    match run_case(base, batch, case, control) {
        Ok(outcome) => {
            let row = CaseRow::of(case, &outcome, clock.elapsed().as_secs_f64());
            let out = match outcome {
                CaseOutcome::Solved(out) => Some(*out),
                _ => None,
            };
            (row, out)
        }
        Err(e) => (
            CaseRow::failed(case, e.to_string(), clock.elapsed().as_secs_f64()),
            None,
        ),
    }
}

/// The study table as CSV: one line per case; fixed columns, then `price:<zone>`,
/// `flow_ab:<border>`, `flow_ba:<border>`, `rent:<border>` and `gain:<country>` in the
/// order first met. A value a case does not have is empty.
pub fn table_csv(rows: &[CaseRow]) -> String {
    let mut dynamic: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut add = |c: String| {
        if seen.insert(c.clone()) {
            dynamic.push(c);
        }
    };
    for r in rows {
        r.zone_prices
            .iter()
            .for_each(|(z, _)| add(format!("price:{z}")));
        for b in &r.borders {
            add(format!("flow_ab:{}", b.border));
            add(format!("flow_ba:{}", b.border));
            add(format!("rent:{}", b.border));
        }
        r.gains.iter().for_each(|(c, _)| add(format!("gain:{c}")));
    }
    let fixed = [
        "case",
        "label",
        "status",
        "system_cost",
        "co2_t",
        "shed_mwh",
        "trade_saving",
        "seconds",
    ];
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = fixed
        .iter()
        .map(|s| s.to_string())
        .chain(dynamic.iter().cloned())
        .chain(std::iter::once("message".to_string()));
    // Writing to memory fails only on a bug (the records are strings).
    w.write_record(header).expect("CSV to memory");
    for r in rows {
        let values = r.values();
        let num = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
        let mut line = vec![
            r.case.to_string(),
            r.label.clone(),
            r.status.clone(),
            num(r.system_cost),
            num(r.co2_t),
            num(r.shed_mwh),
            num(r.trade_saving),
            format!("{:.3}", r.seconds),
        ];
        line.extend(dynamic.iter().map(|c| num(values.get(c).copied())));
        line.push(r.message.clone());
        w.write_record(&line).expect("CSV to memory");
    }
    String::from_utf8(w.into_inner().expect("CSV to memory")).expect("UTF-8 fields")
}

impl CaseRow {
    /// The row's dynamic columns by name.
    fn values(&self) -> std::collections::HashMap<String, f64> {
        let mut v = std::collections::HashMap::new();
        for (z, p) in &self.zone_prices {
            v.insert(format!("price:{z}"), *p);
        }
        for b in &self.borders {
            v.insert(format!("flow_ab:{}", b.border), b.flow_ab_mwh);
            v.insert(format!("flow_ba:{}", b.border), b.flow_ba_mwh);
            v.insert(format!("rent:{}", b.border), b.rent);
        }
        for (c, g) in &self.gains {
            v.insert(format!("gain:{c}"), *g);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_files(name: &str) -> Result<String, Error> {
        Err(Error::Format(format!("no file {name}")))
    }

    #[test]
    fn listed_cases_cross_the_grid_in_order() {
        let text = r#"
network = "carec"
snapshots = "0..24"
[[case]]
label = "base"
[[case]]
file = "dry.toml"
[grid]
co2_price = [0, 30]
[[grid.interconnectors]]
label = "today"
[[grid.interconnectors]]
label = "no CASA"
switch_off = ["CASA-HVDC"]
"#;
        let read = |name: &str| match name {
            "dry.toml" => Ok("name = \"dry\"\n[inflow_scale]\nall = 0.75\n".to_string()),
            other => no_files(other),
        };
        let b = Batch::parse(text, "s.toml", &read).unwrap();
        let labels: Vec<&str> = b.cases.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "co2=0 set=today",
                "co2=0 set=no CASA",
                "co2=30 set=today",
                "co2=30 set=no CASA",
                "dry co2=0 set=today",
                "dry co2=0 set=no CASA",
                "dry co2=30 set=today",
                "dry co2=30 set=no CASA",
            ]
        );
        assert_eq!(b.snapshots, Some(0..24));
        let dry_no_casa = &b.cases[7];
        assert_eq!(dry_no_casa.index, 7);
        assert_eq!(dry_no_casa.scenario.co2_price, Some(30.0));
        assert_eq!(dry_no_casa.scenario.inflow_scale.get("all"), Some(&0.75));
        assert_eq!(dry_no_casa.scenario.switch_off, ["CASA-HVDC"]);
        assert!(b.cases[6].scenario.switch_off.is_empty());
        // Defaults: transport, with autarky; a batch survives a round trip through JSON.
        assert_eq!(
            (b.settings.model.as_str(), b.settings.autarky),
            ("transport", true)
        );
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<Batch>(&json).unwrap(), b);
    }

    #[test]
    fn bad_study_files_name_the_field() {
        for (text, says) in [
            ("network = \"n\"\nsnapshots = \"3..3\"", "snapshots"),
            ("network = \"n\"\ncoupling = \"zonal\"", "coupling"),
            (
                "network = \"n\"\n[grid]\ndemand_scale = [inf]",
                "grid.demand_scale",
            ),
            (
                "network = \"n\"\n[[case]]\nfile = \"a\"\nscenario = {}",
                "case[0]",
            ),
            (
                "network = \"n\"\n[[case]]\nfile = \"missing.toml\"",
                "missing.toml",
            ),
            ("network = \"n\"\n\nfoo = 1", "s.toml:3"),
        ] {
            let e = Batch::parse(text, "s.toml", &no_files)
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn the_table_has_a_column_per_zone_border_and_country_met() {
        let case = |i: usize| Case {
            index: i,
            label: format!("c{i}"),
            scenario: Scenario::default(),
        };
        let mut a = CaseRow::empty(&case(0), 1.5);
        a.status = "optimal".into();
        a.system_cost = Some(10.0);
        a.zone_prices = vec![("Z1".into(), 20.5)];
        a.borders = vec![BorderRow {
            border: "Z1-Z2".into(),
            flow_ab_mwh: 3.0,
            flow_ba_mwh: 0.0,
            rent: 7.25,
        }];
        let mut b = CaseRow::failed(&case(1), "bad, \"quoted\"".into(), 0.0);
        b.gains = vec![("KZ".into(), -1.0)];
        let t = table_csv(&[a, b]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "case,label,status,system_cost,co2_t,shed_mwh,trade_saving,seconds,price:Z1,flow_ab:Z1-Z2,flow_ba:Z1-Z2,rent:Z1-Z2,gain:KZ,message"
        );
        assert_eq!(lines[1], "0,c0,optimal,10,,,,1.500,20.5,3,0,7.25,,");
        assert_eq!(
            lines[2],
            "1,c1,failed,,,,,0.000,,,,,-1,\"bad, \"\"quoted\"\"\""
        );
    }
}
