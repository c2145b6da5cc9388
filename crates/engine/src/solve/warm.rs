//! Warm re-solves: after a network's optimum, the same HiGHS instance solves the network
//! with an outage (elements cut, see [`Model::cut`]) and another network whose LP differs
//! only in bounds, costs and which links are in service — each the same optimum as solving
//! it on its own, without building or presolving a second LP.

use super::{
    diagnose_with, hand_over, highs_options, run_model, take_lp, validated, LpSize, Outcome,
    SolveOptions,
};
use crate::error::{Error, Findings};
use crate::formulation::{self, Change, FormulationOptions, Model};
use crate::network::{Network, Outage};
use crate::solution::{extract, Status, Timings};
use crate::solver::{self, Control, Phase, Progress};
use std::time::Instant;

/// The outcomes of [`solve_cases`].
#[derive(Debug)]
pub struct Cases {
    pub main: Outcome,
    /// The network with the outage, when asked for and the main case was optimal; its
    /// results keep the network's shape, with zero flow on the elements cut.
    pub outage: Option<Outcome>,
    /// The other network, when asked for, its LP differs from the main one only in bounds,
    /// costs and which links are in service (a scenario of prices, demand, inflows,
    /// capacities or interconnectors; not one that switches AC branches, generators or
    /// storage) and the cases before it were optimal. Otherwise absent: solve it on its
    /// own.
    pub other: Option<Outcome>,
}

/// Validate, build, solve and extract `n`; with `outage`, then solve `n` without those
/// elements; with `other`, then solve that network (a scenario of `n`) — each after the
/// first in the same HiGHS instance, warm from the last optimum, when that gives the same
/// answer as solving it on its own (see [`Cases`]; an outage that cannot be cut warm is
/// solved on its own).
pub fn solve_cases(
    n: &Network,
    opts: &SolveOptions,
    control: &Control,
    outage: Option<&Outage>,
    other: Option<(&Network, &SolveOptions)>,
) -> Result<Cases, Error> {
    control.emit(Progress::Phase(Phase::Validating));
    let warnings = validated(n, opts)?;
    let other_warnings = other.map(|(on, oo)| validated(on, oo)).transpose()?;
    let cancelled = |timings, size| Cases {
        main: Outcome::cancelled(timings, size, warnings.clone()),
        outage: None,
        other: None,
    };
    if control.is_cancelled() {
        return Ok(cancelled(Timings::default(), LpSize::default()));
    }
    control.emit(Progress::Phase(Phase::Building));
    let clock = Instant::now();
    let mut built = Built::new(n, opts, other)?;
    let size = LpSize::of(&built.model);
    let cut = outage.map(|o| built.model.cut(n, o));
    let mut timings = Timings::default();
    if control.is_cancelled() {
        timings.build_s = clock.elapsed().as_secs_f64() - built.other_build_s;
        return Ok(cancelled(timings, size));
    }
    let cut_warm = matches!(cut, Some(Some(_)));
    let mut changes: Vec<Change> = cut.into_iter().flatten().collect();
    let other_case = match (other, other_warnings, built.other_model.take()) {
        (Some((on, oo)), Some(w), Some(m)) => {
            Some(OtherCase::new(on, oo, m, w, &built, &mut changes))
        }
        _ => None,
    };
    // Passing the LP to HiGHS is part of building it.
    let (mut highs, costs) = hand_over(&mut built.model, control)?;
    timings.build_s = clock.elapsed().as_secs_f64() - built.other_build_s;

    control.emit(Progress::Phase(Phase::Solving));
    let start = Instant::now();
    let started = seasonal_start(n, opts, &built.model, &mut highs, control)?;
    let start_s = start.elapsed().as_secs_f64();
    // The time limit covers the start and HiGHS' runs.
    let opts = &SolveOptions {
        time_limit: opts.time_limit.map(|l| (l - start_s).max(1e-3)),
        ..opts.clone()
    };
    let options = highs_options(&built.model, &opts.highs_options);
    let mut runs: Vec<solver::Run> = run_model(
        n,
        &mut built.model,
        highs,
        opts,
        &options,
        &changes,
        control,
    )?;
    if let Some(first) = runs.first_mut() {
        first.2 += start_s; // the start is part of solving the main case
    }
    let mut runs = runs.into_iter();
    let case = |warnings, timings| Case {
        n,
        model: &built.model,
        costs: &costs,
        warnings,
        timings,
        size,
    };
    // The runs in order: the main case, the outage (warm), the other network (each only
    // when the one before was optimal).
    let run = runs
        .next()
        .ok_or_else(|| Error::Solver("HiGHS ran no case".into()))?;
    let main = Case {
        size: LpSize {
            seasonal_start: started,
            ..size.solved(&built.model)
        },
        ..case(warnings.clone(), timings)
    }
    .outcome(run, control, || diagnose_with(n, opts, control))?;
    let outage = match (outage, cut_warm) {
        (Some(o), true) => match runs.next() {
            Some(run) => Some(
                case(warnings, Timings::default())
                    .outcome(run, control, || diagnose_with(&n.without(o), opts, control))?,
            ),
            None => None,
        },
        (Some(o), false) if main.status == Status::Optimal => {
            Some(super::solve_with(&n.without(o), opts, control)?)
        }
        _ => None,
    };
    let other = match (other_case, runs.next()) {
        (Some(c), Some(run)) => Some(c.outcome(run, control, size)?),
        _ => None,
    };
    Ok(Cases {
        main,
        outage,
        other,
    })
}

/// Give `highs` the starting basis of [`super::seasonal`] when `opts` ask for one and the
/// model can have one ([`super::seasonal::Seasonal::choose`]). Whether it was given.
fn seasonal_start(
    n: &Network,
    opts: &SolveOptions,
    model: &Model,
    highs: &mut solver::Instance,
    control: &Control,
) -> Result<bool, Error> {
    let Some(s) = super::seasonal::Seasonal::choose(opts.start, n) else {
        return Ok(false);
    };
    match super::seasonal::start_basis(n, opts, model, s, control)? {
        Some(basis) => highs.set_basis(&basis).map(|()| true),
        None => Ok(false),
    }
}

/// The main network's LP and, when the other network can be solved warm, the other's.
struct Built {
    model: Model,
    other_model: Option<Model>,
    /// Time taken building the other network's LP, s (not the main case's).
    other_build_s: f64,
}

impl Built {
    /// Build `n` and, when asked, `other`. The other network warm: only when its LP is
    /// this one with other bounds and costs (both built with the links either has in
    /// service, those out of service fixed at 0), and HiGHS runs it under the same options.
    fn new(
        n: &Network,
        opts: &SolveOptions,
        other: Option<(&Network, &SolveOptions)>,
    ) -> Result<Built, Error> {
        let switched = other.map_or(Vec::new(), |(on, _)| switched_links(n, on));
        let mut built = Built {
            model: build_with_links(n, &opts.formulation, &switched)?,
            other_model: None,
            other_build_s: 0.0,
        };
        if let Some((on, oo)) = other {
            let clock = Instant::now();
            let model = build_with_links(on, &oo.formulation, &switched)?;
            built.other_build_s = clock.elapsed().as_secs_f64();
            // The PTDF form adds rows while it solves: the other network's LP would need
            // its own, so it is solved on its own.
            if model.ptdf.is_none()
                && model.lp.same_matrix(&built.model.lp)
                && oo.highs_options == opts.highs_options
                && oo.time_limit == opts.time_limit
            {
                built.other_model = Some(model);
            } else if !switched.is_empty() {
                // Not warm after all: this network's LP without the other's links.
                built.model = formulation::build(n, &opts.formulation)?;
            }
        }
        Ok(built)
    }
}

/// The other network, solved warm after the cases before it.
struct OtherCase<'a> {
    n: &'a Network,
    opts: &'a SolveOptions,
    model: Model,
    costs: Vec<f64>,
    warnings: Findings,
    timings: Timings,
}

impl<'a> OtherCase<'a> {
    /// Push onto `changes` the change from the LP as the runs before leave it to the other
    /// network's LP.
    fn new(
        n: &'a Network,
        opts: &'a SolveOptions,
        mut model: Model,
        warnings: Findings,
        built: &Built,
        changes: &mut Vec<Change>,
    ) -> OtherCase<'a> {
        let mut now = built.model.lp.coefficients();
        for c in changes.iter() {
            now.apply(c);
        }
        changes.push(now.change_to(&model.lp.coefficients()));
        let costs = take_lp(&mut model).costs().to_vec();
        let timings = Timings {
            build_s: built.other_build_s,
            ..Default::default()
        };
        OtherCase {
            n,
            opts,
            model,
            costs,
            warnings,
            timings,
        }
    }

    fn outcome(self, run: solver::Run, control: &Control, size: LpSize) -> Result<Outcome, Error> {
        let case = Case {
            n: self.n,
            model: &self.model,
            costs: &self.costs,
            warnings: self.warnings,
            timings: self.timings,
            size,
        };
        case.outcome(run, control, || diagnose_with(self.n, self.opts, control))
    }
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
        diagnose: impl FnOnce() -> Result<super::Diagnosis, Error>,
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
fn build_with_links(n: &Network, o: &FormulationOptions, links: &[usize]) -> Result<Model, Error> {
    if links.is_empty() {
        return formulation::build(n, o);
    }
    let mut union = n.clone();
    for &k in links {
        union.links[k].in_service = true;
    }
    let mut m = formulation::build(&union, o)?;
    for &k in links.iter().filter(|&&k| !n.links[k].in_service) {
        for c in std::mem::take(&mut m.link_p0[k]) {
            m.lp.fix_at_zero(c.index);
        }
    }
    Ok(m)
}
