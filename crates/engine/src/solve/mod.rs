//! The solve path as one library call: validate, build, solve, extract, with timings; and
//! for an infeasible problem, a diagnosis (where load must be shed, which limits bind).
//!
//! Everything here is synchronous and owns its data, so a server can run it on a blocking
//! thread. Warm re-solves of an outage or another network in the same HiGHS instance are in
//! [`warm`], the diagnosis of an infeasible problem in [`diagnosis`].

mod diagnosis;
pub mod seasonal;
mod warm;

use crate::validate::{number_problem, show};
use diagnosis::diagnose_with;
pub use diagnosis::{diagnose, Diagnosis};
pub use warm::{solve_cases, Cases};

use crate::error::{Error, Findings};
use crate::formulation::lp::NewRows;
use crate::formulation::{self, Change, FormulationOptions, Lp, Model};
use crate::network::Network;
use crate::solution::{Results, Status, Timings};
use crate::solver::{self, Control, Progress};
use crate::validate::{self, CheckOptions};
use serde::Serialize;
use std::ops::Range;

/// Most linear segments a quadratic cost may be cut into (`--pwl-segments`): each adds a row
/// per generator and snapshot, and beyond a few hundred the approximation gains nothing
/// measurable (the error falls as 1/k²).
pub const MAX_PWL_SEGMENTS: usize = 1000;

/// Longest time limit accepted, seconds (about four months).
pub const MAX_TIME_LIMIT_S: f64 = 1e7;

/// Everything a solve needs besides the network.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SolveOptions {
    pub formulation: FormulationOptions,
    /// Stop HiGHS after this many seconds.
    pub time_limit: Option<f64>,
    /// HiGHS options by name, e.g. `("solver", "ipm")`, `("threads", "2")`; values are
    /// parsed as bool, integer, number or text, in that order.
    pub highs_options: Vec<(String, String)>,
    /// Where HiGHS starts: by default from a basis assembled from a coarse solve and blocks
    /// of the horizon when that helps ([`seasonal`]).
    pub start: Start,
}

/// Where HiGHS' simplex starts. The optimum is the same either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Start {
    /// From a basis assembled from a coarse solve and blocks of the horizon
    /// ([`seasonal::Seasonal::AUTO`]) when the LP has storage levels over at least two
    /// blocks and is not the PTDF form; otherwise as `Cold`.
    #[default]
    Auto,
    /// From HiGHS' own start (the slack basis), as before.
    Cold,
}

/// Size of the LP handed to HiGHS.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LpSize {
    pub columns: usize,
    /// Rows as built (the PTDF form's limit rows are counted in `limit_rows`).
    pub rows: usize,
    /// The formulation built.
    pub form: Option<formulation::Form>,
    /// PTDF form: line-limit rows added while solving (one per branch and snapshot whose
    /// rating a solve violated); 0 otherwise.
    pub limit_rows: usize,
    /// PTDF form: HiGHS solves, the first without line limits; 1 otherwise.
    pub rounds: usize,
    /// HiGHS started from a basis assembled from a coarse solve and blocks of the horizon
    /// ([`seasonal`]).
    pub seasonal_start: bool,
}

impl LpSize {
    fn of(model: &Model) -> LpSize {
        LpSize {
            columns: model.lp.num_cols(),
            rows: model.lp.num_rows(),
            form: Some(model.form),
            limit_rows: 0,
            rounds: 1,
            seasonal_start: false,
        }
    }

    /// The size once `model` has been solved: with the limit rows its solves added.
    fn solved(self, model: &Model) -> LpSize {
        match &model.ptdf {
            Some(p) => LpSize {
                limit_rows: p.limit_rows.len(),
                rounds: p.rounds,
                ..self
            },
            None => self,
        }
    }
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

impl Outcome {
    /// A solve stopped by its control before HiGHS ran.
    fn cancelled(timings: Timings, size: LpSize, warnings: Findings) -> Outcome {
        Outcome {
            status: Status::Cancelled,
            results: None,
            diagnosis: None,
            timings,
            size,
            warnings,
        }
    }
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
    let problem = |v: f64, positive: bool| {
        number_problem(v, false).or_else(|| {
            (v < 0.0 || (positive && v == 0.0)).then(|| {
                let what = if positive { "positive" } else { "non-negative" };
                format!("{}: must be a {what} number", show(v))
            })
        })
    };
    if let Some(p) = o.voll.and_then(|v| problem(v, true)) {
        return Err(Error::option("--voll", p));
    }
    if let Some(p) = problem(o.co2_price, false) {
        return Err(Error::option("--co2-price", p));
    }
    if let Some(c) = &o.contingencies {
        check_contingencies(o, c)?;
    }
    if let Some(k) = o.pwl_segments {
        if !(1..=MAX_PWL_SEGMENTS).contains(&k) {
            return Err(Error::option(
                "--pwl-segments",
                format!("{k}: must be from 1 to {MAX_PWL_SEGMENTS}"),
            ));
        }
    }
    Ok(())
}

/// N-1 needs the PTDF form of the dc model and a positive contingency rating.
fn check_contingencies(
    o: &FormulationOptions,
    c: &formulation::Contingencies,
) -> Result<(), Error> {
    use formulation::{Kvl, NetworkModel};
    if o.model != NetworkModel::Dc {
        return Err(Error::option(
            "--contingencies",
            "N-1 security needs the dc model (--model dc)",
        ));
    }
    if o.angle_limits || !matches!(o.kvl, Kvl::Ptdf | Kvl::Auto) {
        return Err(Error::option(
            "--contingencies",
            "N-1 security is built in the PTDF form: use --kvl ptdf or auto, without \
             --angle-limits",
        ));
    }
    if let Some(p) = number_problem(c.rating, false).or_else(|| {
        (c.rating <= 0.0).then(|| format!("{}: must be a positive multiple", show(c.rating)))
    }) {
        return Err(Error::option("--contingency-rating", p));
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
    Ok(solve_cases(n, opts, control, None, None)?.main)
}

/// Check the options and validate `n`: its errors stop here, its warnings are returned.
fn validated(n: &Network, opts: &SolveOptions) -> Result<Findings, Error> {
    check_options(&opts.formulation)?;
    if let Some(t) = opts.time_limit {
        if !(t > 0.0 && t <= MAX_TIME_LIMIT_S) {
            return Err(Error::option(
                "--time-limit",
                format!(
                    "{}: must be a number of seconds in (0, {MAX_TIME_LIMIT_S:e}]",
                    show(t)
                ),
            ));
        }
    }
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

/// The HiGHS options of a solve: gridtrade's choice for this LP, then the user's (which
/// win, being set last).
///
/// Presolve is off for an LP without Kirchhoff rows (transport, copperplate, the PTDF form,
/// a network of links): its rows are only balances and storage, presolve finds little but columns fixed
/// at 0, and it doubles HiGHS' memory. On the CAREC year it took 5 s to remove 17 % of the
/// columns; without it HiGHS solved in 124 s instead of 132 s and at 1.23 GB instead of
/// 2.09 GB (a month 1.8 s against 2.3 s; a quarter the same time, 25 % less memory). With
/// Kirchhoff rows presolve stays on: case2869 takes 0.71 s without it against 0.20 s, the
/// 200-bus week 25.5 s against 23.3 s (`benches/README.md`). The PTDF form is faster
/// without it: 500 buses × 168 h 4.1 s against 12.9 s, 2,000 × 24 h 2.2 s against 9.6 s.
fn highs_options(model: &Model, user: &[(String, String)]) -> Vec<(String, String)> {
    let mut options = Vec::with_capacity(user.len() + 1);
    if model.kirchhoff_rows == 0 {
        options.push(("presolve".to_string(), "off".to_string()));
    }
    options.extend(user.iter().cloned());
    options
}

/// Run HiGHS on `model`'s LP (moved into `highs` by [`hand_over`]), then on each of
/// `changes` warm ([`solver::run_then`]). The PTDF form instead solves in rounds until no
/// branch exceeds its rating ([`solver::run_lazy`]), adding the violated limits' rows each
/// round; it takes no changes.
fn run_model(
    n: &Network,
    model: &mut Model,
    highs: solver::Instance,
    opts: &SolveOptions,
    options: &[(String, String)],
    changes: &[Change],
    control: &Control,
) -> Result<Vec<solver::Run>, Error> {
    if model.ptdf.is_none() {
        return solver::run_then(highs, opts.time_limit, options, changes);
    }
    debug_assert!(
        changes.is_empty(),
        "the PTDF form is never cut or changed warm"
    );
    let columns = model.columns_handed_over;
    let run = solver::run_lazy(highs, opts.time_limit, options, |solution| {
        let form = model.ptdf.as_ref().expect("the PTDF form");
        let violated = form.violated(model, n, solution.columns());
        let limit_rows = form.limit_rows.len();
        let form = model.ptdf.as_mut().expect("the PTDF form");
        form.rounds += 1;
        control.emit(Progress::LazyRound {
            round: form.rounds,
            violated: violated.len(),
            limit_rows,
        });
        if violated.is_empty() {
            return Ok(None);
        }
        let mut rows = NewRows::new(columns);
        formulation::ptdf::constraint_branch_limit(model, n, &violated, &mut rows);
        Ok(Some(rows))
    })?;
    Ok(vec![run])
}

/// Move the LP out of `model` into a HiGHS instance. `model` keeps its index maps and the
/// objective's constant; the objective coefficients are returned (extraction needs them).
fn hand_over(model: &mut Model, control: &Control) -> Result<(solver::Instance, Vec<f64>), Error> {
    let lp = take_lp(model);
    let costs = lp.costs().to_vec();
    let mut highs = solver::Instance::new(control)?;
    highs.load(lp)?;
    Ok((highs, costs))
}

/// Move the LP out of `model`, which keeps its index maps and the objective's constant.
fn take_lp(model: &mut Model) -> Lp {
    let lp = std::mem::take(&mut model.lp);
    model.lp.constant = lp.constant;
    model.columns_handed_over = lp.num_cols();
    model.rows_handed_over = lp.num_rows();
    lp
}
