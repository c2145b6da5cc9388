//! The solve path as one library call: validate, build, solve, extract, with timings; and
//! for an infeasible problem, a diagnosis (where load must be shed, which limits bind).
//!
//! Everything here is synchronous and owns its data, so a server can run it on a blocking
//! thread.

use crate::error::{Error, Findings};
use crate::formulation::{self, Change, FormulationOptions, Lp, Model};
use crate::network::Network;
use crate::solution::{extract, Results, Status, Timings};
use crate::solver::{self, Control, Phase, Progress};
use crate::validate::{self, CheckOptions};
use serde::Serialize;
use std::ops::Range;
use std::time::Instant;

/// Penalty on slack (shed load, dumped surplus) when diagnosing an infeasible problem,
/// currency/MWh: high enough that slack is used only where nothing else can balance.
const DIAGNOSIS_PENALTY: f64 = 1e5;

/// Everything a solve needs besides the network.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SolveOptions {
    pub formulation: FormulationOptions,
    /// Stop HiGHS after this many seconds.
    pub time_limit: Option<f64>,
    /// HiGHS options by name, e.g. `("solver", "ipm")`, `("threads", "2")`; values are
    /// parsed as bool, integer, number or text, in that order.
    pub highs_options: Vec<(String, String)>,
}

/// Size of the LP handed to HiGHS.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LpSize {
    pub columns: usize,
    pub rows: usize,
}

/// Why a problem has no solution, found by solving it again with slack at every bus.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diagnosis {
    /// One paragraph for a person.
    pub summary: String,
    /// `(bus, zone, snapshot, MW)` of load that had to be shed.
    pub shed: Vec<(String, String, String, f64)>,
    /// `(bus, zone, snapshot, MW)` of generation (minimum outputs, inflows) that could not be
    /// absorbed.
    pub surplus: Vec<(String, String, String, f64)>,
    /// Limits binding in the relaxed solution, e.g. `branch12 at its 40 MW rating`.
    pub binding: Vec<String>,
}

/// What a solve returns.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    /// Present when optimal, and at a time limit when a feasible point was found.
    pub results: Option<Results>,
    pub diagnosis: Option<Diagnosis>,
    pub timings: Timings,
    pub size: LpSize,
    /// Warnings from validation (errors stop the solve before this is made).
    pub warnings: Findings,
}

/// Keep only snapshots `range` (positions, half-open) of `n`.
pub fn select_snapshots(n: &mut Network, range: Range<usize>) -> Result<(), Error> {
    let len = n.snapshots.len();
    if range.start >= range.end || range.end > len {
        return Err(Error::option(
            "--snapshots",
            format!(
                "{}..{} is not a non-empty range within the network's {len} snapshots (0..{len})",
                range.start, range.end
            ),
        ));
    }
    n.restrict_snapshots(range);
    Ok(())
}

/// Check options against the network before building.
fn check_options(o: &FormulationOptions) -> Result<(), Error> {
    if o.angle_limits && o.model != formulation::NetworkModel::Dc {
        return Err(Error::option(
            "--angle-limits",
            "angle-difference limits apply to the dc model only",
        ));
    }
    if let Some(v) = o.voll {
        if !(v > 0.0 && v.is_finite()) {
            return Err(Error::option(
                "--voll",
                format!("{v}: must be a positive number"),
            ));
        }
    }
    if !o.co2_price.is_finite() || o.co2_price < 0.0 {
        return Err(Error::option(
            "--co2-price",
            format!("{}: must be a non-negative number", o.co2_price),
        ));
    }
    if o.pwl_segments == Some(0) {
        return Err(Error::option("--pwl-segments", "must be at least 1"));
    }
    Ok(())
}

/// Validate `n` (errors stop here with every finding), then build, solve and extract.
pub fn solve(n: &Network, opts: &SolveOptions) -> Result<Outcome, Error> {
    solve_with(n, opts, &Control::default())
}

/// [`solve`], reporting progress to `control` and stopping when it is cancelled (the outcome
/// then has status `cancelled` and no results).
pub fn solve_with(n: &Network, opts: &SolveOptions, control: &Control) -> Result<Outcome, Error> {
    Ok(solve_cases(n, opts, control, false, None)?.main)
}

/// [`solve_with`], then the autarky problem — every in-service cross-border branch and
/// link cut — in the same HiGHS instance, warm from the coupled optimum (fixed flows and
/// freed Kirchhoff rows, see [`Model::autarky`]): the same optimum as solving the network
/// with those elements out of service, without building or presolving a second LP. The
/// autarky outcome is absent when the coupled one is not optimal; its results keep the
/// network's shape, with zero flow over every border.
pub fn solve_with_autarky(
    n: &Network,
    opts: &SolveOptions,
    control: &Control,
) -> Result<(Outcome, Option<Outcome>), Error> {
    let solved = solve_cases(n, opts, control, true, None)?;
    Ok((solved.main, solved.autarky))
}

/// The outcomes of [`solve_cases`].
#[derive(Debug)]
pub struct Cases {
    pub main: Outcome,
    /// The autarky problem, when asked for and the main case was optimal.
    pub autarky: Option<Outcome>,
    /// The other network, when asked for, its LP differs from the main one only in bounds,
    /// costs and which links are in service (a scenario of prices, demand, inflows,
    /// capacities or interconnectors; not one that switches AC branches, generators or
    /// storage) and the cases before it were optimal. Otherwise absent: solve it on its
    /// own.
    pub other: Option<Outcome>,
}

/// Validate, build, solve and extract `n`; with `autarky`, then solve its autarky problem;
/// with `other`, then solve that network (a scenario of `n`) — each after the first in the
/// same HiGHS instance, warm from the last optimum, when that gives the same answer as
/// solving it on its own (see [`Cases`]).
pub fn solve_cases(
    n: &Network,
    opts: &SolveOptions,
    control: &Control,
    autarky: bool,
    other: Option<(&Network, &SolveOptions)>,
) -> Result<Cases, Error> {
    control.emit(Progress::Phase(Phase::Validating));
    let warnings = validated(n, opts)?;
    let other_warnings = other.map(|(on, oo)| validated(on, oo)).transpose()?;

    let mut timings = Timings::default();
    let cancelled = |timings, size| Cases {
        main: Outcome {
            status: Status::Cancelled,
            results: None,
            diagnosis: None,
            timings,
            size,
            warnings: warnings.clone(),
        },
        autarky: None,
        other: None,
    };
    if control.is_cancelled() {
        return Ok(cancelled(timings, LpSize::default()));
    }
    control.emit(Progress::Phase(Phase::Building));
    let clock = Instant::now();
    // The other network warm: only when its LP is this one with other bounds and costs
    // (both built with the links either has in service, those out of service fixed at 0),
    // and HiGHS runs it under the same options.
    let switched = other.map_or(Vec::new(), |(on, _)| switched_links(n, on));
    let mut model = build_with_links(n, &opts.formulation, &switched);
    let mut other_model = None;
    let mut other_build_s = 0.0;
    if let Some((on, oo)) = other {
        let clock = Instant::now();
        let built = build_with_links(on, &oo.formulation, &switched);
        other_build_s = clock.elapsed().as_secs_f64();
        if built.lp.same_matrix(&model.lp)
            && oo.highs_options == opts.highs_options
            && oo.time_limit == opts.time_limit
        {
            other_model = Some(built);
        } else if !switched.is_empty() {
            // Not warm after all: this network's LP without the other's links.
            model = formulation::build(n, &opts.formulation);
        }
    }
    let size = LpSize {
        columns: model.lp.num_cols(),
        rows: model.lp.num_rows(),
    };
    let cut = autarky.then(|| model.autarky(n));
    if control.is_cancelled() {
        timings.build_s = clock.elapsed().as_secs_f64() - other_build_s;
        return Ok(cancelled(timings, size));
    }
    let mut changes: Vec<Change> = cut.into_iter().collect();
    let mut other_case = None;
    if let (Some((on, oo)), Some(other_warnings), Some(mut other_model)) =
        (other, other_warnings, other_model)
    {
        let mut now = model.lp.coefficients();
        for c in &changes {
            now.apply(c);
        }
        changes.push(now.change_to(&other_model.lp.coefficients()));
        let costs = take_lp(&mut other_model).costs().to_vec();
        let timings = Timings {
            build_s: other_build_s,
            ..Default::default()
        };
        other_case = Some((on, oo, other_model, costs, other_warnings, timings));
    }
    // Passing the LP to HiGHS is part of building it.
    let (highs, costs) = hand_over(&mut model, control)?;
    timings.build_s = clock.elapsed().as_secs_f64() - other_build_s;

    control.emit(Progress::Phase(Phase::Solving));
    let options = highs_options(&model, &opts.highs_options);
    let mut runs = solver::run_then(highs, opts.time_limit, &options, &changes)?.into_iter();

    // The runs in order: the main case, autarky, the other network (each only when the one
    // before was optimal).
    let main_case = Case {
        n,
        model: &model,
        costs: &costs,
        warnings: warnings.clone(),
        timings,
        size,
    };
    let run = runs.next().expect("HiGHS runs the first case");
    let main = main_case.outcome(run, control, || diagnose_with(n, opts, control))?;
    let autarky_run = if autarky { runs.next() } else { None };
    let autarky = match autarky_run {
        Some(run) => {
            let case = Case {
                n,
                model: &model,
                costs: &costs,
                warnings,
                timings: Timings::default(),
                size,
            };
            Some(case.outcome(run, control, || {
                diagnose_with(&without_borders(n), opts, control)
            })?)
        }
        None => None,
    };
    let other = match (other_case, runs.next()) {
        (Some((on, oo, other_model, costs, warnings, timings)), Some(run)) => {
            let case = Case {
                n: on,
                model: &other_model,
                costs: &costs,
                warnings,
                timings,
                size,
            };
            Some(case.outcome(run, control, || diagnose_with(on, oo, control))?)
        }
        _ => None,
    };
    Ok(Cases {
        main,
        autarky,
        other,
    })
}

/// A solved case and what its results are read with.
struct Case<'a> {
    n: &'a Network,
    model: &'a Model,
    /// Objective coefficient of each column.
    costs: &'a [f64],
    warnings: Findings,
    timings: Timings,
    size: LpSize,
}

impl Case<'_> {
    /// Extract the results of `run` and, when it is infeasible, say why (`diagnose`).
    fn outcome(
        self,
        run: solver::Run,
        control: &Control,
        diagnose: impl FnOnce() -> Result<Diagnosis, Error>,
    ) -> Result<Outcome, Error> {
        let (status, solution, solve_s) = run;
        let mut timings = self.timings;
        timings.solve_s = solve_s;
        control.emit(Progress::Phase(Phase::Extracting));
        let clock = Instant::now();
        let results = solution.map(|s| extract(self.n, self.model, self.costs, &s));
        timings.extract_s = clock.elapsed().as_secs_f64();
        let diagnosis = match status {
            Status::Infeasible if !control.is_cancelled() => {
                control.emit(Progress::Phase(Phase::Diagnosing));
                Some(diagnose()?)
            }
            _ => None,
        };
        Ok(Outcome {
            status,
            results,
            diagnosis,
            timings,
            size: self.size,
            warnings: self.warnings,
        })
    }
}

/// Links in service in one of `n` and `other` but not in both, when the two networks have
/// the same links (a scenario that switches interconnectors); none otherwise.
fn switched_links(n: &Network, other: &Network) -> Vec<usize> {
    let same_links = n.links.len() == other.links.len()
        && n.links
            .iter()
            .zip(&other.links)
            .all(|(a, b)| a.name == b.name);
    if !same_links {
        return Vec::new();
    }
    (0..n.links.len())
        .filter(|&k| n.links[k].in_service != other.links[k].in_service)
        .collect()
}

/// Build `n` with `links` in service too, those out of service in `n` fixed at 0 and left
/// out of its results: the same optimum as `n`'s own LP, with columns for the links another
/// case switches on. A link only adds its flow to the balances of its two buses, so at 0 it
/// changes nothing else.
fn build_with_links(n: &Network, o: &FormulationOptions, links: &[usize]) -> Model {
    if links.is_empty() {
        return formulation::build(n, o);
    }
    let mut union = n.clone();
    for &k in links {
        union.links[k].in_service = true;
    }
    let mut m = formulation::build(&union, o);
    for &k in links.iter().filter(|&&k| !n.links[k].in_service) {
        for c in std::mem::take(&mut m.link_p0[k]) {
            m.lp.fix_at_zero(c.index);
        }
    }
    m
}

/// Check the options and validate `n`: its errors stop here, its warnings are returned.
fn validated(n: &Network, opts: &SolveOptions) -> Result<Findings, Error> {
    check_options(&opts.formulation)?;
    let mut findings = Findings::default();
    validate::check(
        n,
        &CheckOptions {
            pwl_segments: opts.formulation.pwl_segments,
            voll: opts.formulation.voll,
        },
        &mut findings,
    );
    if findings.has_errors() {
        return Err(Error::Invalid(findings));
    }
    Ok(Findings(findings.warnings().cloned().collect()))
}

/// `n` with every cross-border branch and link out of service (the autarky network).
pub fn without_borders(n: &Network) -> Network {
    let mut alone = n.clone();
    for l in 0..n.branches.len() {
        if n.branch_crosses_border(l) {
            alone.branches[l].in_service = false;
        }
    }
    for k in 0..n.links.len() {
        if n.link_crosses_border(k) {
            alone.links[k].in_service = false;
        }
    }
    alone
}

/// The HiGHS options of a solve: gridtrade's choice for this LP, then the user's (which
/// win, being set last).
///
/// Presolve is off for an LP without Kirchhoff rows (transport, copperplate, a network of
/// links): its rows are only balances and storage, presolve finds little but columns fixed
/// at 0, and it doubles HiGHS' memory. On the CAREC year it took 5 s to remove 17 % of the
/// columns; without it HiGHS solved in 124 s instead of 132 s and at 1.23 GB instead of
/// 2.09 GB (a month 1.8 s against 2.3 s; a quarter the same time, 25 % less memory). With
/// Kirchhoff rows presolve stays on: case2869 takes 0.71 s without it against 0.20 s, the
/// 200-bus week 25.5 s against 23.3 s (`benches/README.md`).
fn highs_options(model: &Model, user: &[(String, String)]) -> Vec<(String, String)> {
    let mut options = Vec::with_capacity(user.len() + 1);
    if model.kirchhoff_rows == 0 {
        options.push(("presolve".to_string(), "off".to_string()));
    }
    options.extend(user.iter().cloned());
    options
}

/// Move the LP out of `model` into a HiGHS instance. `model` keeps its index maps and the
/// objective's constant; the objective coefficients are returned (extraction needs them).
fn hand_over(model: &mut Model, control: &Control) -> Result<(solver::Instance, Vec<f64>), Error> {
    let lp = take_lp(model);
    let costs = lp.costs().to_vec();
    let mut highs = solver::Instance::new(control)?;
    lp.pass_to(highs.model())?;
    Ok((highs, costs))
}

/// Move the LP out of `model`, which keeps its index maps and the objective's constant.
fn take_lp(model: &mut Model) -> Lp {
    let lp = std::mem::take(&mut model.lp);
    model.lp.constant = lp.constant;
    lp
}

/// Solve again with slack at every bus (shed load and dumped surplus at a high penalty) and
/// report where the slack was needed and which limits bind.
pub fn diagnose(n: &Network, opts: &SolveOptions) -> Result<Diagnosis, Error> {
    diagnose_with(n, opts, &Control::default())
}

fn diagnose_with(n: &Network, opts: &SolveOptions, control: &Control) -> Result<Diagnosis, Error> {
    let mut relaxed = opts.formulation.clone();
    relaxed.slack_penalty = Some(DIAGNOSIS_PENALTY);
    let mut model = formulation::build(n, &relaxed);
    let (highs, costs) = hand_over(&mut model, control)?;
    let options = highs_options(&model, &opts.highs_options);
    let (status, solution, _) = solver::run(highs, opts.time_limit, &options)?;
    let Some(sol) = solution.filter(|_| status == Status::Optimal) else {
        return Ok(Diagnosis {
            summary: format!(
                "the problem stays {} even when every bus may shed load and dump surplus: \
                 the conflict is in storage (state of charge, inflows) or angle-difference limits",
                status.as_str()
            ),
            ..Default::default()
        });
    };
    let r = extract(n, &model, &costs, &sol);
    let x = sol.columns();
    let tol = 1e-6;
    let mut d = Diagnosis::default();
    let snap = |t: usize| n.snapshots.names[t].clone();
    for (b, bus) in n.buses.iter().enumerate() {
        for t in 0..model.snapshots {
            if let Some(c) = model.shed[b].get(t) {
                if x[c.index] > tol {
                    d.shed
                        .push((bus.name.clone(), bus.zone.clone(), snap(t), x[c.index]));
                }
            }
            if let Some(c) = model.dump[b].get(t) {
                if x[c.index] > tol {
                    d.surplus
                        .push((bus.name.clone(), bus.zone.clone(), snap(t), x[c.index]));
                }
            }
        }
    }
    for (l, br) in n.branches.iter().enumerate() {
        for t in 0..model.snapshots {
            let Some(&p) = r.branch_p0[l].get(t) else {
                continue;
            };
            if model.branch_p0[l].is_empty() {
                continue;
            }
            if br.s_max.is_finite() && p.abs() >= br.s_max - 1e-6 * br.s_max.max(1.0) {
                d.binding.push(format!(
                    "{} {} at its {} MW rating in snapshot {}",
                    br.kind_name(),
                    br.name,
                    br.s_max,
                    snap(t)
                ));
            }
            if let Some(&(lo, hi)) = model.angle_rows[l].get(t) {
                let duals = sol.dual_rows();
                for (row, which) in [(lo, "minimum"), (hi, "maximum")] {
                    if row != usize::MAX && duals[row].abs() > tol {
                        d.binding.push(format!(
                            "{} {} at its angle-difference {which} in snapshot {}",
                            br.kind_name(),
                            br.name,
                            snap(t)
                        ));
                    }
                }
            }
        }
    }
    for (k, link) in n.links.iter().enumerate() {
        for t in 0..model.snapshots {
            if model.link_p0[k].is_empty() {
                continue;
            }
            let p = r.link_p0[k][t];
            let hi = link.p_nom * link.p_max_pu.at(t);
            let lo = link.p_nom * link.p_min_pu.at(t);
            let at = |limit: f64| limit != 0.0 && (p - limit).abs() <= tol * limit.abs().max(1.0);
            if at(hi) || at(lo) {
                d.binding.push(format!(
                    "link {} at its limit ({p:.3} MW) in snapshot {}",
                    link.name,
                    snap(t)
                ));
            }
        }
    }
    d.summary = summarize(&d);
    Ok(d)
}

fn summarize(d: &Diagnosis) -> String {
    let mut parts = Vec::new();
    let list = |v: &[(String, String, String, f64)]| {
        let total: f64 = v.iter().map(|s| s.3).sum();
        let shown: Vec<String> = v
            .iter()
            .take(8)
            .map(|(b, z, t, mw)| format!("bus {b} (zone {z}) {mw:.3} MW in snapshot {t}"))
            .collect();
        let more = if v.len() > 8 {
            format!(" and {} more", v.len() - 8)
        } else {
            String::new()
        };
        (total, shown.join("; ") + &more)
    };
    if !d.shed.is_empty() {
        let (total, s) = list(&d.shed);
        parts.push(format!("load must be shed ({total:.3} MW in all): {s}"));
    }
    if !d.surplus.is_empty() {
        let (total, s) = list(&d.surplus);
        parts.push(format!(
            "generation that cannot be absorbed ({total:.3} MW in all): {s}"
        ));
    }
    if !d.binding.is_empty() {
        let more = if d.binding.len() > 8 {
            format!(" and {} more", d.binding.len() - 8)
        } else {
            String::new()
        };
        parts.push(format!(
            "binding limits: {}{more}",
            d.binding
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if parts.is_empty() {
        "the relaxed problem needed no slack: the problem may be numerically difficult".into()
    } else {
        format!("infeasible: {}", parts.join(". "))
    }
}
