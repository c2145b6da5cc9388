//! A trade study: solve a network (or a scenario of it), analyse the trade, and compare with
//! autarky (gains from trade) and, on request, with the base network or another scenario.
//! Shared by `gridtrade trade` and the `Trade` RPC.

use crate::autarky;
use crate::coupling::{self, redispatch, Coupling, FlowBasedOptions};
use crate::scenario::Scenario;
use crate::trade::{self, GainsFromTrade, TradeReport};
use gridtrade_engine::error::Error;
use gridtrade_engine::formulation::FormulationOptions;
use gridtrade_engine::network::Network;
use gridtrade_engine::solution::Status;
use gridtrade_engine::solve::{self, SolveOptions};
use gridtrade_engine::solver::Control;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// One solved case: its label, report and (unless skipped) gains from trade.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Study {
    pub label: String,
    pub report: TradeReport,
    pub gains: Option<GainsFromTrade>,
    /// With `--coupling`: how the market was cleared and what the grid made of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupling: Option<CouplingReport>,
}

/// What a coupled market adds to its trade report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CouplingReport {
    pub coupling: Coupling,
    /// Flow-based: the CNECs that bound, by congestion rent.
    #[serde(default)]
    pub cnecs: Vec<coupling::CnecSummary>,
    /// Flow-based: how many CNECs the domain has.
    #[serde(default)]
    pub domain_cnecs: usize,
    /// Zonal couplings: the redispatch the physical grid needs (none for nodal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redispatch: Option<redispatch::Redispatch>,
    /// The market's system cost plus the redispatch cost, currency.
    pub total_cost: f64,
    /// Per border of AC lines: physical flow against the scheduled exchange, and whose
    /// exports load it.
    #[serde(default)]
    pub loop_flows: Vec<coupling::loops::BorderLoop>,
    /// Flow-based: the domain (for `--out` and the API; not in the JSON report).
    #[serde(skip)]
    pub domain: Option<std::sync::Arc<gridtrade_engine::formulation::FlowDomain>>,
}

/// What `gridtrade trade --json` prints and the `Trade` RPC returns as `report_json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TradeOutput {
    pub network: String,
    pub study: Study,
    pub compare: Option<Study>,
}

/// A scenario with the label it is reported under.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub scenario: Scenario,
    pub label: String,
    /// Where it came from (a file, a request field), for error messages.
    pub origin: String,
}

/// What to compare the main study with.
#[derive(Debug, Clone)]
pub enum Compare {
    Base,
    Scenario(Labelled),
}

/// A trade study request.
#[derive(Debug, Clone, Default)]
pub struct TradeRequest {
    /// Applied to the network before solving; none = the network as it is.
    pub scenario: Option<Labelled>,
    pub compare: Option<Compare>,
    /// Solve autarky too (every cross-border element off) for the gains from trade.
    pub autarky: bool,
    /// Report only these positions of the solved horizon.
    pub period: Option<Range<usize>>,
    pub options: FormulationOptions,
    /// Stop HiGHS after this many seconds (per solve).
    pub time_limit: Option<f64>,
    /// Build and solve autarky and the comparison each as a network of its own instead of
    /// re-solving the coupled LP warm (with the borders cut; with the other case's bounds,
    /// costs and links): the same optima, a check. Always so where the seasonal start
    /// applies (storage over at least 144 snapshots), where it is the faster way.
    pub cold: bool,
    /// HiGHS options by name (see [`SolveOptions::highs_options`]).
    pub highs_options: Vec<(String, String)>,
    /// Clear the market this way (overrides the network model of `options`); none: as
    /// `options` say, without the coupling report.
    pub coupling: Option<Coupling>,
    /// The flow-based domain's choices (`coupling: FlowBased`).
    pub flow_based: FlowBasedOptions,
}

/// Why a study has no report: a solve was not optimal (the message says which case and the
/// diagnosis), or it was cancelled.
#[derive(Debug, Clone, PartialEq)]
pub enum NoReport {
    NotSolved(String),
    Cancelled,
}

/// Analyse the outcome of solving `n` (over `period` when given), or say why there is no
/// report.
fn report(
    n: &Network,
    req: &TradeRequest,
    o: &FormulationOptions,
    outcome: solve::Outcome,
) -> Result<TradeReport, NoReport> {
    match (outcome.status, outcome.results) {
        (Status::Optimal, Some(r)) => Ok(match &req.period {
            None => trade::analyse(n, &r, o),
            Some(p) => {
                let mut part = n.clone();
                part.restrict_snapshots(p.clone());
                trade::analyse(&part, &r.restrict(p.clone()), o)
            }
        }),
        (status, _) => Err(why_not(status, outcome.diagnosis)),
    }
}

/// Why a solve that ended with `status` (not optimal) gives no report: cancelled, or not
/// solved as its diagnosis' summary says (it names the status and says why).
pub(crate) fn why_not(status: Status, diagnosis: Option<solve::Diagnosis>) -> NoReport {
    match (status, diagnosis) {
        (Status::Cancelled, _) => NoReport::Cancelled,
        (_, Some(d)) => NoReport::NotSolved(d.summary),
        (status, None) => NoReport::NotSolved(status.as_str().to_string()),
    }
}

/// The study of one solved case: its report and, when `autarky` holds the autarky outcome
/// (`Some(None)`: not solved yet, solve it here), the gains from trade.
fn study(
    n: &Network,
    req: &TradeRequest,
    opts: &SolveOptions,
    label: String,
    coupled: solve::Outcome,
    autarky: Option<Option<solve::Outcome>>,
    control: &Control,
) -> Result<Result<Study, NoReport>, Error> {
    let labelled = |e: NoReport, what: &str| match e {
        NoReport::NotSolved(m) => NoReport::NotSolved(format!("{label}{what}: {m}")),
        c => c,
    };
    let o = &opts.formulation;
    let report = match report(n, req, o, coupled) {
        Ok(r) => r,
        Err(e) => return Ok(Err(labelled(e, ""))),
    };
    let gains = match autarky {
        Some(warm) => {
            let alone = autarky::without_borders(n);
            let outcome = match warm {
                Some(outcome) => outcome,
                None => solve::solve_with(&alone, opts, control)?,
            };
            match self::report(&alone, req, o, outcome) {
                Ok(a) => Some(trade::gains(&report, &a)),
                Err(e) => return Ok(Err(labelled(e, " in autarky"))),
            }
        }
        None => None,
    };
    Ok(Ok(Study {
        label,
        report,
        gains,
        coupling: None,
    }))
}

/// The options of a coupling: the network model it clears with and, for flow-based, the
/// domain around the nodal dispatch of `n` (solved here).
fn coupling_options(
    n: &Network,
    req: &TradeRequest,
    o: &FormulationOptions,
    control: &Control,
) -> Result<Result<FormulationOptions, NoReport>, Error> {
    use gridtrade_engine::formulation::NetworkModel;
    let mut o = o.clone();
    o.flow_domain = None;
    match req.coupling {
        None => {}
        Some(Coupling::Ntc) => o.model = NetworkModel::Copperplate,
        Some(Coupling::Nodal) => o.model = NetworkModel::Dc,
        Some(Coupling::FlowBased) => {
            o.model = NetworkModel::Dc;
            let base_opts = SolveOptions {
                formulation: FormulationOptions {
                    contingencies: None,
                    ..o.clone()
                },
                time_limit: req.time_limit,
                highs_options: req.highs_options.clone(),
                start: Default::default(),
            };
            let base = solve::solve_with(n, &base_opts, control)?;
            let r = match (base.status, base.results) {
                (Status::Optimal, Some(r)) => r,
                (status, _) => {
                    return Ok(Err(match why_not(status, base.diagnosis) {
                        NoReport::NotSolved(why) => NoReport::NotSolved(format!(
                            "the nodal base case of the flow-based domain: {why}"
                        )),
                        cancelled => cancelled,
                    }))
                }
            };
            let fb = FlowBasedOptions {
                contingencies: o.contingencies.take(),
                convention: o.dc_convention,
                ..req.flow_based.clone()
            };
            o.flow_domain = Some(std::sync::Arc::new(coupling::domain(n, &r, &fb)?));
        }
    }
    Ok(Ok(o))
}

/// The coupling report of a solved market: its CNECs (flow-based) and the redispatch the
/// grid needs (zonal couplings).
fn coupling_report(
    n: &Network,
    c: Coupling,
    o: &FormulationOptions,
    outcome: &solve::Outcome,
) -> Result<Option<CouplingReport>, Error> {
    let (Status::Optimal, Some(r)) = (outcome.status, outcome.results.as_ref()) else {
        return Ok(None); // the study says why there is no report
    };
    let domain = o.flow_domain.clone();
    let grid = coupling::OnTheGrid::of(n, r, o.dc_convention)?;
    let redispatch = match c {
        Coupling::Nodal => None,
        _ => Some(redispatch::redispatch(n, r, o, &grid)),
    };
    Ok(Some(CouplingReport {
        coupling: c,
        cnecs: domain
            .as_ref()
            .map_or(Vec::new(), |d| coupling::cnec_summaries(n, d, r)),
        domain_cnecs: domain.as_ref().map_or(0, |d| d.cnecs.len()),
        total_cost: r.objective + redispatch.as_ref().map_or(0.0, |d| d.cost),
        redispatch,
        loop_flows: coupling::loops::loop_flows(n, r, c, &grid),
        domain,
    }))
}

/// The network with a scenario applied, its label and options.
fn with_scenario(
    base: &Network,
    scenario: Option<&Labelled>,
    o: &FormulationOptions,
) -> Result<(Network, String, FormulationOptions), Error> {
    let Some(s) = scenario else {
        return Ok((base.clone(), "base".into(), o.clone()));
    };
    let mut n = base.clone();
    s.scenario.apply(&mut n, &s.origin)?;
    let mut o = o.clone();
    if let Some(p) = s.scenario.co2_price {
        o.co2_price = p;
    }
    Ok((n, s.label.clone(), o))
}

/// Run the study `req` on `base`: the main case (with autarky when asked) and the
/// comparison. Bad scenarios are errors; a case that does not solve is a `NoReport`.
pub fn run(
    base: &Network,
    req: &TradeRequest,
    control: &Control,
) -> Result<Result<TradeOutput, NoReport>, Error> {
    if let Some(p) = &req.period {
        if p.start >= p.end || p.end > base.snapshots.len() {
            return Err(Error::option(
                "--period",
                format!(
                    "{}..{} goes past the {} solved snapshots or is empty",
                    p.start,
                    p.end,
                    base.snapshots.len()
                ),
            ));
        }
    }
    if let Some(name) = base.extendable_element() {
        return Err(Error::option(
            "trade",
            format!("`{name}` is extendable: a trade study takes the capacities as given; `gridtrade plan` (the Plan RPC) studies the expansion, `gridtrade solve` solves it"),
        ));
    }
    let hourly = base.branches.iter().find(|b| b.s_max_pu.is_hourly());
    if let (Some(b), Some(_)) = (hourly, req.coupling) {
        return Err(Error::option(
            "--coupling",
            format!("{} `{}` has a rating that varies by snapshot (s_max_pu): the coupling report (flow-based domain, redispatch) takes fixed ratings", b.kind_name(), b.name),
        ));
    }
    let (n, label, o) = with_scenario(base, req.scenario.as_ref(), &req.options)?;
    let o = match coupling_options(&n, req, &o, control)? {
        Ok(o) => o,
        Err(e) => return Ok(Err(e)),
    };
    let compare = match &req.compare {
        None => None,
        Some(Compare::Base) => Some(with_scenario(base, None, &req.options)?),
        Some(Compare::Scenario(s)) => Some(with_scenario(base, Some(s), &req.options)?),
    };
    let compare = match compare {
        None => None,
        Some((cn, clabel, co)) => match coupling_options(&cn, req, &co, control)? {
            Ok(co) => Some((cn, clabel, co)),
            Err(e) => return Ok(Err(e)),
        },
    };
    let opts = |o: &FormulationOptions| SolveOptions {
        formulation: o.clone(),
        time_limit: req.time_limit,
        highs_options: req.highs_options.clone(),
        start: Default::default(),
    };
    let main_opts = opts(&o);
    let other = compare.map(|(cn, clabel, co)| (cn, clabel, opts(&co)));
    // Autarky and the comparison warm in the coupled case's HiGHS instance, unless asked
    // to solve each on its own; `other` is absent when it cannot be warm. Where the
    // seasonal start applies, each is solved on its own too: from its own seasonal start
    // it is faster than warm from the coupled optimum (the CAREC year's study 24.9 s against
    // 41.5 s, benches/README.md "Seasonal start").
    let seasonal = solve::seasonal::Seasonal::choose(main_opts.start, &n).is_some();
    // A flow-based market is solved case by case (its domain is the network's own).
    let flow_based = req.coupling == Some(Coupling::FlowBased);
    let cases = if req.cold || seasonal || flow_based {
        solve::Cases {
            main: solve::solve_with(&n, &main_opts, control)?,
            outage: None,
            other: None,
        }
    } else {
        let other = other.as_ref().map(|(cn, _, co)| (cn, co));
        let borders = req.autarky.then(|| autarky::borders(&n));
        solve::solve_cases(&n, &main_opts, control, borders.as_ref(), other)?
    };
    let autarky = req.autarky.then_some(cases.outage);
    let main_coupling = match req.coupling {
        Some(c) => coupling_report(&n, c, &main_opts.formulation, &cases.main)?,
        None => None,
    };
    let main = match study(&n, req, &main_opts, label, cases.main, autarky, control)? {
        Ok(s) => Study {
            coupling: main_coupling,
            ..s
        },
        Err(e) => return Ok(Err(e)),
    };
    let other = match other {
        None => None,
        Some((cn, clabel, co)) => {
            let outcome = match cases.other {
                Some(warm) => warm,
                None => solve::solve_with(&cn, &co, control)?,
            };
            let other_coupling = match req.coupling {
                Some(c) => coupling_report(&cn, c, &co.formulation, &outcome)?,
                None => None,
            };
            match study(&cn, req, &co, clabel, outcome, None, control)? {
                Ok(s) => Some(Study {
                    coupling: other_coupling,
                    ..s
                }),
                Err(e) => return Ok(Err(e)),
            }
        }
    };
    Ok(Ok(TradeOutput {
        network: base.name.clone(),
        study: main,
        compare: other,
    }))
}
