//! Driving HiGHS: a time limit, progress reports while it runs (its log and iteration
//! counts), and interruption on request, through HiGHS' C callback API.
//!
//! An [`Instance`] is an empty HiGHS model given its callback (`Highs_setCallback`); the
//! formulation passes the LP into it ([`crate::formulation::Lp::pass_to`]) and it is run
//! here. The callback is called on the solving thread; it never panics across the FFI
//! boundary.

use crate::error::Error;
use crate::formulation::lp::NewRows;
use crate::formulation::{Change, Lp};
use crate::solution::Status;
use highs::{HighsModelStatus, HighsSolutionStatus};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A phase of a solve, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for a free solver slot (on a server).
    Queued,
    Validating,
    Building,
    Solving,
    Extracting,
    /// Solving again with slack at every bus to say why the problem is infeasible.
    Diagnosing,
}

impl Phase {
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Validating => "validating",
            Phase::Building => "building",
            Phase::Solving => "solving",
            Phase::Extracting => "extracting",
            Phase::Diagnosing => "diagnosing",
        }
    }
}

/// What a running solve reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// A phase begins.
    Phase(Phase),
    /// One line of HiGHS' log (without the trailing newline).
    Log(String),
    /// A round of the PTDF form's lazy line limits ended: the solve `round` (1 = without
    /// limits) left `violated` limits to add, with `limit_rows` rows in the LP before them.
    LazyRound {
        round: usize,
        violated: usize,
        limit_rows: usize,
    },
    /// HiGHS' counters, at most every [`ITERATION_INTERVAL_S`] seconds.
    Iteration {
        /// Simplex iterations so far.
        simplex: i64,
        /// Interior-point iterations so far.
        ipm: i64,
        /// Objective of the current iterate, currency (simplex: may be infeasible).
        objective: f64,
        /// Seconds since HiGHS started.
        seconds: f64,
    },
}

/// Shortest interval between two [`Progress::Iteration`] reports, seconds.
pub const ITERATION_INTERVAL_S: f64 = 0.25;

type Listener = Arc<dyn Fn(Progress) + Send + Sync>;

/// What a caller can see and do while a solve runs: listen to progress, and cancel.
/// Clones share the cancel flag.
#[derive(Clone, Default)]
pub struct Control {
    cancelled: Arc<AtomicBool>,
    /// A wider flag this control also obeys (a server's shutdown).
    parent: Option<Arc<AtomicBool>>,
    listener: Option<Listener>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("cancelled", &self.is_cancelled())
            .field("listener", &self.listener.is_some())
            .finish()
    }
}

impl Control {
    /// Report progress to `listener` (called on the solving thread; keep it short).
    pub fn with_listener(mut self, listener: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Ask the solve to stop: between phases, and inside HiGHS at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
            || self
                .parent
                .as_ref()
                .is_some_and(|p| p.load(Ordering::SeqCst))
    }

    /// A new control, cancelled by its own `cancel` or by this one's.
    pub fn child(&self) -> Control {
        Control {
            cancelled: Arc::default(),
            parent: Some(self.cancelled.clone()),
            listener: None,
        }
    }

    /// Report `p` to the listener, if any (a caller reports its own phases, e.g. queued).
    pub fn emit(&self, p: Progress) {
        if let Some(l) = &self.listener {
            l(p);
        }
    }

    pub(crate) fn listening(&self) -> bool {
        self.listener.is_some()
    }

    /// Whether anyone but this control can see or stop the solve: a listener, a parent,
    /// or a clone holding the cancel flag.
    pub(crate) fn observed(&self) -> bool {
        self.listener.is_some() || self.parent.is_some() || Arc::strong_count(&self.cancelled) > 1
    }
}

/// State the C callback sees through its user-data pointer.
struct CallbackState {
    control: Control,
    /// Seconds (HiGHS' clock) of the last iteration report.
    last_report: Mutex<f64>,
}

/// What one HiGHS run gives: the status, the solution when there is a usable one (optimal,
/// or feasible at the time limit), and the wall time of the run in seconds.
pub type Run = (Status, Option<highs::Solution>, f64);

/// A HiGHS instance that is given its callback before its LP (see [`install_callback`]):
/// create it, [`Instance::load`] the LP, then [`run`] it.
pub struct Instance {
    // Fields drop in order: the model, which points at `state`, goes first.
    model: highs::Model,
    state: Box<CallbackState>,
}

impl Instance {
    /// An empty, quiet HiGHS instance, with a callback when someone can cancel the solve or
    /// listens to it (a callback costs HiGHS time).
    pub fn new(control: &Control) -> Result<Instance, Error> {
        let observed = control.observed();
        let mut model = highs::Model::new(highs::ColProblem::default());
        let state = Box::new(CallbackState {
            control: control.clone(),
            last_report: Mutex::new(f64::NEG_INFINITY),
        });
        if observed {
            // SAFETY: `state` is boxed (it does not move) and dropped after `model`, the
            // only thing that calls the callback; `model` is empty.
            unsafe { install_callback(&mut model, &state, control.listening())? };
        }
        Ok(Instance { model, state })
    }

    /// Pass `lp` into the instance (once, before [`run`]). The model itself is never handed
    /// out: replacing it would leave HiGHS calling back into a model it no longer has.
    pub fn load(&mut self, lp: Lp) -> Result<(), Error> {
        lp.pass_to(&mut self.model)
    }

    /// Start the next run from `basis` (of the LP loaded, one status per column and row).
    pub fn set_basis(&mut self, basis: &Basis) -> Result<(), Error> {
        let ptr = self.model.as_mut_ptr();
        // SAFETY: `ptr` is a valid Highs object; the arrays have one entry per column and
        // row of its LP (checked first).
        unsafe {
            if basis.cols.len() != highs_sys::Highs_getNumCol(ptr) as usize
                || basis.rows.len() != highs_sys::Highs_getNumRow(ptr) as usize
            {
                return Err(Error::Solver(
                    "a starting basis of another size than the LP".into(),
                ));
            }
            check(
                highs_sys::Highs_setBasis(ptr, basis.cols.as_ptr(), basis.rows.as_ptr()),
                "a starting basis",
            )
        }
    }
}

/// A simplex basis: HiGHS' status (`kHighsBasisStatus*`: lower, basic, upper, zero,
/// nonbasic) of each column and row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Basis {
    pub cols: Vec<highs_sys::HighsInt>,
    pub rows: Vec<highs_sys::HighsInt>,
}

impl Basis {
    /// HiGHS' status of a basic variable.
    pub const BASIC: highs_sys::HighsInt = 1;
}

/// Solve the LP in `instance` (no callback output) and return its status and, when optimal,
/// its basis: for assembling the starting basis of a larger LP from small ones.
pub fn run_for_basis(
    instance: Instance,
    options: &[(String, String)],
) -> Result<(Status, Option<Basis>), Error> {
    let _state = instance.state;
    let mut model = instance.model;
    for (name, value) in options {
        set_option(&mut model, name, value)?;
    }
    let solved = model
        .try_solve()
        .map_err(|e| Error::Solver(format!("HiGHS failed to solve: {e:?}")))?;
    let (status, _) = outcome(&solved)?;
    if status != Status::Optimal {
        return Ok((status, None));
    }
    let ptr = solved.as_ptr() as *mut c_void;
    // SAFETY: `ptr` is a valid, solved Highs object; the arrays have one entry per column
    // and row of its LP.
    let basis = unsafe {
        let mut b = Basis {
            cols: vec![0; highs_sys::Highs_getNumCol(ptr) as usize],
            rows: vec![0; highs_sys::Highs_getNumRow(ptr) as usize],
        };
        check(
            highs_sys::Highs_getBasis(ptr, b.cols.as_mut_ptr(), b.rows.as_mut_ptr()),
            "the basis of a solved LP",
        )?;
        b
    };
    Ok((status, Some(basis)))
}

/// Solve the LP in `instance` with HiGHS under `time_limit` seconds (reporting to and
/// stopped by the control it was created with).
pub fn run(
    instance: Instance,
    time_limit: Option<f64>,
    options: &[(String, String)],
) -> Result<Run, Error> {
    let mut runs = run_then(instance, time_limit, options, &[])?;
    Ok(runs.remove(0))
}

/// Solve the LP in `instance`, then, for each of `changes` in turn, change the solved LP
/// and solve it again in the same HiGHS instance, which starts from the last optimal basis
/// (a warm start: bound changes keep the basis dual feasible and the dual simplex goes on from it;
/// cost changes keep it primal feasible and the primal simplex does). Stops after the
/// first run that is not optimal. Each run gets `time_limit` seconds.
pub fn run_then(
    instance: Instance,
    time_limit: Option<f64>,
    options: &[(String, String)],
    changes: &[Change],
) -> Result<Vec<Run>, Error> {
    // Declared first, dropped last: HiGHS may call the callback until `model` is gone.
    let _state = instance.state;
    let mut model = instance.model;
    for (name, value) in options {
        set_option(&mut model, name, value)?;
    }
    let mut runs = Vec::with_capacity(changes.len() + 1);
    for step in 0..=changes.len() {
        if step > 0 {
            apply(&mut model, &changes[step - 1])?;
        }
        if let Some(limit) = time_limit {
            // HiGHS' run clock adds up over runs of one instance.
            // SAFETY: `model` owns a valid Highs object; the call only reads its clock.
            let used = unsafe { highs_sys::Highs_getRunTime(model.as_mut_ptr()) };
            model.set_option(&b"time_limit"[..], used.max(0.0) + limit);
        }
        let clock = Instant::now();
        let solved = model
            .try_solve()
            .map_err(|e| Error::Solver(format!("HiGHS failed to solve: {e:?}")))?;
        let seconds = clock.elapsed().as_secs_f64();
        let (status, solution) = outcome(&solved)?;
        runs.push((status, solution, seconds));
        model = highs::Model::from(solved);
        if status != Status::Optimal {
            break;
        }
    }
    Ok(runs)
}

/// Solve the LP in `instance`; then, while `more` gives rows the last optimum violates, add
/// them and solve again in the same HiGHS instance, from the last optimal basis (the new
/// rows enter basic; the dual simplex goes on from there). `time_limit` covers all rounds.
/// A round that is not optimal ends the solve; when it is not the first, its point is that
/// of a problem without some of the rows and is not returned (status only).
pub fn run_lazy(
    instance: Instance,
    time_limit: Option<f64>,
    options: &[(String, String)],
    mut more: impl FnMut(&highs::Solution) -> Result<Option<NewRows>, Error>,
) -> Result<Run, Error> {
    let _state = instance.state;
    let mut model = instance.model;
    for (name, value) in options {
        set_option(&mut model, name, value)?;
    }
    if let Some(limit) = time_limit {
        model.set_option(&b"time_limit"[..], limit);
    }
    let clock = Instant::now();
    for round in 1.. {
        let solved = model
            .try_solve()
            .map_err(|e| Error::Solver(format!("HiGHS failed to solve: {e:?}")))?;
        let (status, solution) = outcome(&solved)?;
        let seconds = clock.elapsed().as_secs_f64();
        if status != Status::Optimal {
            let solution = if round == 1 { solution } else { None };
            return Ok((status, solution, seconds));
        }
        let Some(solution) = solution else {
            return Ok((status, None, seconds));
        };
        let Some(rows) = more(&solution)? else {
            return Ok((status, Some(solution), seconds));
        };
        model = highs::Model::from(solved);
        add_rows(&mut model, &rows)?;
    }
    unreachable!("the rounds end by returning")
}

/// Append `rows` to the LP HiGHS holds.
fn add_rows(model: &mut highs::Model, rows: &NewRows) -> Result<(), Error> {
    if rows.unsound {
        return Err(Error::Solver(
            "a new row names a column the LP does not have: refused".into(),
        ));
    }
    if rows.is_empty() {
        return Ok(());
    }
    // SAFETY: `model` owns a valid Highs object; `lower`, `upper` and `start` have one
    // entry per new row, `index` and `value` one per nonzero; HiGHS copies them and checks
    // the column indices.
    unsafe {
        check(
            highs_sys::Highs_addRows(
                model.as_mut_ptr(),
                rows.len() as _,
                rows.lower.as_ptr(),
                rows.upper.as_ptr(),
                rows.num_nonzeros() as _,
                rows.start.as_ptr(),
                rows.index.as_ptr(),
                rows.value.as_ptr(),
            ),
            "rows added between rounds",
        )
    }
}

/// Make `change` to the LP HiGHS holds.
fn apply(model: &mut highs::Model, change: &Change) -> Result<(), Error> {
    let ptr = model.as_mut_ptr();
    let index = |i: usize| i as highs_sys::HighsInt;
    let cols: Vec<_> = change.col_bounds.iter().map(|c| index(c.0)).collect();
    let (col_lower, col_upper): (Vec<f64>, Vec<f64>) =
        change.col_bounds.iter().map(|c| (c.1, c.2)).unzip();
    let cost_cols: Vec<_> = change.costs.iter().map(|c| index(c.0)).collect();
    let costs: Vec<f64> = change.costs.iter().map(|c| c.1).collect();
    let rows: Vec<_> = change.row_bounds.iter().map(|r| index(r.0)).collect();
    let (row_lower, row_upper): (Vec<f64>, Vec<f64>) =
        change.row_bounds.iter().map(|r| (r.1, r.2)).unzip();
    // SAFETY: `ptr` is a valid Highs object; each array has the length HiGHS is told;
    // HiGHS checks the indices.
    unsafe {
        if !cols.is_empty() {
            check(
                highs_sys::Highs_changeColsBoundsBySet(
                    ptr,
                    cols.len() as _,
                    cols.as_ptr(),
                    col_lower.as_ptr(),
                    col_upper.as_ptr(),
                ),
                "new column bounds for a re-solve",
            )?;
        }
        if !cost_cols.is_empty() {
            check(
                highs_sys::Highs_changeColsCostBySet(
                    ptr,
                    cost_cols.len() as _,
                    cost_cols.as_ptr(),
                    costs.as_ptr(),
                ),
                "new costs for a re-solve",
            )?;
        }
        if !rows.is_empty() {
            check(
                highs_sys::Highs_changeRowsBoundsBySet(
                    ptr,
                    rows.len() as _,
                    rows.as_ptr(),
                    row_lower.as_ptr(),
                    row_upper.as_ptr(),
                ),
                "new row bounds for a re-solve",
            )?;
        }
    }
    Ok(())
}

/// Status and solution of a finished run.
fn outcome(solved: &highs::SolvedModel) -> Result<(Status, Option<highs::Solution>), Error> {
    // The `highs` crate's `status()` and `primal_solution_status()` panic on a code they do
    // not know (HiGHS returns -1 when it stops before solving, e.g. after
    // `write_model_to_file`); read both codes here and turn a surprise into an error.
    let feasible = solved
        .int_info_value(c"primal_solution_status")
        .ok()
        .and_then(|v| HighsSolutionStatus::try_from(v as highs_sys::HighsInt).ok())
        == Some(HighsSolutionStatus::Feasible);
    // SAFETY: `solved` owns a valid Highs object; the call only reads its model status.
    let code = unsafe { highs_sys::Highs_getModelStatus(solved.as_ptr() as *mut c_void) };
    let model_status = HighsModelStatus::try_from(code).map_err(|_| {
        Error::Solver(format!(
            "HiGHS stopped without solving (model status {code}; an option such as \
             write_model_to_file may have ended the run)"
        ))
    })?;
    let status = match model_status {
        HighsModelStatus::Optimal => Status::Optimal,
        HighsModelStatus::Infeasible | HighsModelStatus::UnboundedOrInfeasible => {
            Status::Infeasible
        }
        HighsModelStatus::Unbounded => Status::Unbounded,
        HighsModelStatus::ReachedInterrupt => Status::Cancelled,
        HighsModelStatus::ReachedTimeLimit
        | HighsModelStatus::ReachedIterationLimit
        | HighsModelStatus::ReachedMemoryLimit => Status::TimeLimit,
        HighsModelStatus::NotSet => {
            return Err(Error::Solver(
                "HiGHS returned without solving (an option such as write_model_to_file \
                 ends the run after writing)"
                    .into(),
            ))
        }
        other => return Err(Error::Solver(format!("HiGHS stopped with {other:?}"))),
    };
    let solution = match status {
        Status::Optimal => Some(solved.get_solution()),
        Status::TimeLimit if feasible => Some(solved.get_solution()),
        _ => None,
    };
    Ok((status, solution))
}

/// Set one HiGHS option from text: a bool, an integer, a number or text, whichever HiGHS
/// accepts first.
fn set_option(model: &mut highs::Model, name: &str, value: &str) -> Result<(), Error> {
    let bad = |why: String| Error::option("--highs", format!("{name}={value}: {why}"));
    let key = || name.as_bytes().to_vec();
    let ok = match value {
        // HiGHS' on/off options (presolve, run_crossover, ...) are text; output_flag & co.
        // are booleans.
        "on" | "off" => {
            model.try_set_option(key(), value).is_ok()
                || model.try_set_option(key(), value == "on").is_ok()
        }
        "true" | "false" => {
            model.try_set_option(key(), value == "true").is_ok()
                || model.try_set_option(key(), value).is_ok()
        }
        _ => {
            (value.parse::<i32>().is_ok()
                && model
                    .try_set_option(key(), value.parse::<i32>().expect("checked"))
                    .is_ok())
                || (value.parse::<f64>().is_ok()
                    && model
                        .try_set_option(key(), value.parse::<f64>().expect("checked"))
                        .is_ok())
                || model.try_set_option(key(), value).is_ok()
        }
    };
    if ok {
        Ok(())
    } else {
        Err(bad("HiGHS has no such option or refuses the value".into()))
    }
}

/// Set `callback` on the empty `model` for interrupts (and the log when `log`).
///
/// HiGHS 1.16's C API copies a buffer of one double per column of the model at every
/// callback (`HighsCallbackInput::operator=` returns by value), and the simplex calls the
/// interrupt callback at every iteration: on a CAREC year (1.9 M columns) that made each
/// iteration six times slower. The buffer is sized when the callback is set, so it is set
/// before the LP is passed ([`Instance::new`]).
unsafe fn install_callback(
    model: &mut highs::Model,
    state: &CallbackState,
    log: bool,
) -> Result<(), Error> {
    let ptr = model.as_mut_ptr();
    let user = state as *const CallbackState as *mut c_void;
    // SAFETY (whole block): `ptr` is a valid Highs object.
    unsafe {
        debug_assert_eq!(
            highs_sys::Highs_getNumCol(ptr),
            0,
            "the callback goes first"
        );
        check(
            highs_sys::Highs_setCallback(ptr, Some(callback), user),
            "a callback setting",
        )?;
        check(
            highs_sys::Highs_startCallback(ptr, highs_sys::kHighsCallbackSimplexInterrupt),
            "a callback setting",
        )?;
        check(
            highs_sys::Highs_startCallback(ptr, highs_sys::kHighsCallbackIpmInterrupt),
            "a callback setting",
        )?;
        if log {
            // HiGHS only logs (and calls the logging callback) with output on; keep it off
            // the console.
            model.set_option(&b"output_flag"[..], true);
            model.set_option(&b"log_to_console"[..], false);
            check(
                highs_sys::Highs_startCallback(ptr, highs_sys::kHighsCallbackLogging),
                "a callback setting",
            )?;
        }
    }
    Ok(())
}

/// An error naming `what` when HiGHS' C API returns its error status.
fn check(status: c_int, what: &str) -> Result<(), Error> {
    if status == highs_sys::STATUS_ERROR {
        Err(Error::Solver(format!("HiGHS refused {what}")))
    } else {
        Ok(())
    }
}

/// HiGHS' callback: forwards log lines and iteration counts, and sets `user_interrupt` when
/// the solve is cancelled.
unsafe extern "C" fn callback(
    kind: c_int,
    message: *const c_char,
    data_out: *const highs_sys::HighsCallbackDataOut,
    data_in: *mut highs_sys::HighsCallbackDataIn,
    user: *mut c_void,
) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `user` is the `CallbackState` of an `Instance`, alive as long as its model.
        let state = unsafe { &*(user as *const CallbackState) };
        match kind {
            highs_sys::kHighsCallbackLogging => {
                if message.is_null() {
                    return;
                }
                // SAFETY: HiGHS passes a NUL-terminated message.
                let line = unsafe { CStr::from_ptr(message) }.to_string_lossy();
                let line = line.trim_end();
                if !line.is_empty() {
                    state.control.emit(Progress::Log(line.to_string()));
                }
            }
            highs_sys::kHighsCallbackSimplexInterrupt | highs_sys::kHighsCallbackIpmInterrupt => {
                if state.control.is_cancelled() && !data_in.is_null() {
                    // SAFETY: HiGHS passes a valid input struct for interrupt callbacks.
                    unsafe { (*data_in).user_interrupt = 1 };
                }
                if state.control.listening() && !data_out.is_null() {
                    // SAFETY: HiGHS passes a valid output struct.
                    let out = unsafe { &*data_out };
                    let mut last = state.last_report.lock().unwrap_or_else(|e| e.into_inner());
                    if out.running_time - *last >= ITERATION_INTERVAL_S {
                        *last = out.running_time;
                        state.control.emit(Progress::Iteration {
                            simplex: out.simplex_iteration_count as i64,
                            ipm: out.ipm_iteration_count as i64,
                            objective: out.objective_function_value,
                            seconds: out.running_time,
                        });
                    }
                }
            }
            _ => {}
        }
    }));
}
