//! A starting basis for a long horizon with storage, assembled from cheaper solves.
//!
//! The dual simplex on a year of hourly snapshots spends most of its time finding what
//! stored energy is worth across the seasons; the hours of one month barely depend on
//! another's beyond that. So: solve the network on a coarse clock (a day per snapshot) for
//! the storage levels, solve each block of the horizon (a month) on its own with its
//! levels at both ends fixed to the coarse plan's, put the blocks' optimal bases side by
//! side as a basis of the whole LP, and let HiGHS solve the whole LP from there. The
//! optimum is the whole LP's own: the blocks only choose where the simplex starts.
//!
//! Measured (`benches/README.md`, "Seasonal start"): the CAREC year 123 s → 14 s, a quarter
//! 10.6 s → 2.0 s, a month 2.7 s → 0.7 s; the 200-bus week with 30 % tight lines in the
//! cycle form 41.6 s → 11.6 s; same objectives to 1e-12.

use super::{hand_over, highs_options, SolveOptions, Start};
use crate::error::Error;
use crate::formulation::{self, Model};
use crate::network::Network;
use crate::solution::Status;
use crate::solver::{self, Basis, Control};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How the start is made: snapshots per coarse snapshot, and per block (a multiple of the
/// coarse clock, so each block ends where a coarse snapshot does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Seasonal {
    pub coarse: usize,
    pub block: usize,
}

impl Seasonal {
    /// A day per coarse snapshot, three days per block: the fastest measured on a CAREC
    /// month and quarter and as fast as a week on the year (blocks of 24, 72, 168, 336 and
    /// 720 snapshots: year 20.9, 14.5, 14.1–14.6, 17.5, 21.1 s; quarter 2.1, 2.0, 2.3, 3.6,
    /// 5.5 s).
    pub const AUTO: Seasonal = Seasonal {
        coarse: 24,
        block: 72,
    };

    /// The start `start` gives `n`: the seasonal one by default when `n` has storage in
    /// service over at least two blocks, no capacity is extendable and it has no stores (in the PTDF form it starts the first round, the LP
    /// without line limits, which the blocks also solve; later rounds go on warm from the
    /// round before, as always); none when cold.
    pub fn choose(start: Start, n: &Network) -> Option<Seasonal> {
        let s = match start {
            Start::Cold => return None,
            Start::Auto => Seasonal::AUTO,
        };
        let storage = n
            .storage_units
            .iter()
            .any(|u| u.in_service && n.buses[u.bus].in_service);
        // A capacity column couples every block: the blocks' bases would not fit the LP.
        // Stores' levels are not planned on the coarse clock: no seasonal start with them.
        let plain = !n.has_expansion() && n.stores.is_empty();
        (storage && plain && n.snapshots.len() >= 2 * s.block).then_some(s)
    }
}

/// Storage level of each unit at the end of each coarse snapshot, MWh.
type Levels = Vec<Vec<f64>>;

/// The starting basis of `year` (the model of `n`, handed over) assembled from blocks, or
/// `None` when it cannot be made (a coarse or block solve not optimal, a part of the LP the
/// blocks do not cover): the whole LP is then solved from scratch, as without it.
pub fn start_basis(
    n: &Network,
    opts: &SolveOptions,
    year: &Model,
    s: Seasonal,
    control: &Control,
) -> Result<Option<Basis>, Error> {
    let nt = n.snapshots.len();
    if s.coarse == 0 || s.block % s.coarse != 0 || s.block >= nt {
        return Ok(None);
    }
    let Some(levels) = coarse_levels(n, opts, s.coarse, control)? else {
        return Ok(None);
    };
    let blocks: Vec<Range<usize>> = (0..nt)
        .step_by(s.block)
        .map(|a| a..(a + s.block).min(nt))
        .collect();
    let assembled = Mutex::new(Some(Assembly::new(year)));
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |p| p.get());
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers.min(blocks.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let given_up = assembled.lock().map_or(true, |a| a.is_none());
                if i >= blocks.len() || control.is_cancelled() || given_up {
                    return;
                }
                let placed = solve_block(n, opts, &levels, s.coarse, blocks[i].clone());
                let mut a = assembled.lock().expect("no worker panics holding it");
                match placed {
                    Ok(Some((block, basis))) => {
                        if let Some(asm) = a.as_mut() {
                            if !asm.place(year, &block, blocks[i].start, &basis) {
                                *a = None;
                            }
                        }
                    }
                    Ok(None) => *a = None,
                    Err(e) => {
                        *a = None;
                        *failed.lock().expect("no worker panics holding it") = Some(e);
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().expect("workers done") {
        return Err(e);
    }
    Ok(assembled
        .into_inner()
        .expect("workers done")
        .and_then(Assembly::finish))
}

/// The storage levels of `n` solved with each run of `coarse` snapshots as one.
fn coarse_levels(
    n: &Network,
    opts: &SolveOptions,
    coarse: usize,
    control: &Control,
) -> Result<Option<Levels>, Error> {
    let mut o = opts.clone();
    o.start = Start::Cold;
    o.time_limit = None;
    if let Some(d) = &o.formulation.flow_domain {
        o.formulation.flow_domain = Some(std::sync::Arc::new(d.aggregate(coarse)));
    }
    let outcome = super::solve_with(&n.aggregate_snapshots(coarse), &o, &control.child())?;
    Ok(match (outcome.status, outcome.results) {
        (Status::Optimal, Some(r)) => Some(r.su_soc),
        _ => None,
    })
}

/// The level of unit `su` at the end of snapshot `end - 1` (`end` a multiple of `coarse`);
/// none when the coarse plan has no level there.
fn level(levels: &Levels, su: usize, coarse: usize, end: usize) -> Option<f64> {
    levels.get(su)?.get((end / coarse).checked_sub(1)?).copied()
}

/// Solve snapshots `range` of `n` on their own, each storage level fixed at both ends to
/// the coarse plan's (at the start through the initial level; the end level as bounds);
/// the block's model and optimal basis.
fn solve_block(
    n: &Network,
    opts: &SolveOptions,
    levels: &Levels,
    coarse: usize,
    range: Range<usize>,
) -> Result<Option<(Model, Basis)>, Error> {
    let nt = n.snapshots.len();
    let mut part = n.clone();
    part.restrict_snapshots(range.clone());
    for (su, unit) in part.storage_units.iter_mut().enumerate() {
        if range.start == 0 && !unit.cyclic_state_of_charge {
            continue;
        }
        // Cyclic: the first block starts where the coarse plan's horizon ends.
        let start = match range.start {
            0 => levels.get(su).and_then(|l| l.last().copied()),
            start => level(levels, su, coarse, start),
        };
        if let Some(start) = start {
            unit.state_of_charge_initial = start;
            unit.cyclic_state_of_charge = false;
        }
    }
    // The blocks solve the LP of the first round: N-1 only adds rows in later rounds, so
    // its outage factors are not computed for each block.
    let base = formulation::FormulationOptions {
        contingencies: None,
        flow_domain: (opts.formulation.flow_domain.as_ref())
            .map(|d| std::sync::Arc::new(d.restrict(range.clone()))),
        ..opts.formulation.clone()
    };
    let mut model = formulation::build(&part, &base)?;
    let fix_end = range.end < nt || n.storage_units.iter().any(|u| u.cyclic_state_of_charge);
    for (su, cols) in model.su_soc.iter().enumerate() {
        let end = level(levels, su, coarse, range.end).filter(|_| fix_end);
        if let (Some(last), Some(v), 0) = (cols.last(), end, range.end % coarse) {
            let (lo, hi) = model.lp.col_bounds(last.index);
            let v = v.max(lo).min(hi);
            model.lp.set_col_bounds(last.index, v, v);
        }
    }
    let (highs, _) = hand_over(&mut model, &Control::default())?;
    let options = highs_options(&model, &opts.highs_options);
    match solver::run_for_basis(highs, &options)? {
        (Status::Optimal, Some(basis)) => Ok(Some((model, basis))),
        _ => Ok(None),
    }
}

/// A basis of the whole LP filled in block by block; a status of -1 is not filled yet.
struct Assembly {
    basis: Basis,
}

impl Assembly {
    fn new(year: &Model) -> Assembly {
        Assembly {
            basis: Basis {
                cols: vec![-1; year.columns_handed_over],
                rows: vec![-1; year.rows_handed_over],
            },
        }
    }

    /// Copy the statuses of `block` (the model of the snapshots from `offset`) to the
    /// whole LP's columns and rows of the same element and snapshot. False when the two
    /// models do not have the same families.
    fn place(&mut self, year: &Model, block: &Model, offset: usize, b: &Basis) -> bool {
        let mut ok = true;
        for (whole, part) in column_families(year).iter().zip(column_families(block)) {
            ok &= copy(&mut self.basis.cols, &b.cols, whole, &part, offset);
        }
        for (whole, part) in row_families(year).into_iter().zip(row_families(block)) {
            ok &= copy(&mut self.basis.rows, &b.rows, &whole, &part, offset);
        }
        ok
    }

    /// The basis, when every column and row got a status and as many are basic as there
    /// are rows (the blocks' bases side by side are then a basis of the whole LP).
    fn finish(self) -> Option<Basis> {
        let b = self.basis;
        let filled = b.cols.iter().chain(&b.rows).all(|&s| s >= 0);
        let basic = b
            .cols
            .iter()
            .chain(&b.rows)
            .filter(|&&s| s == Basis::BASIC)
            .count();
        (filled && basic == b.rows.len()).then_some(b)
    }
}

/// Copy statuses from a block's family (`part[e][t]`) to the whole LP's (`whole[e][offset
/// + t]`). False when an element has positions in one and not the other.
fn copy(
    to: &mut [i32],
    from: &[i32],
    whole: &[Vec<Option<usize>>],
    part: &[Vec<Option<usize>>],
    offset: usize,
) -> bool {
    if whole.len() != part.len() {
        return false;
    }
    for (w, p) in whole.iter().zip(part) {
        if w.is_empty() != p.is_empty() || (!p.is_empty() && offset + p.len() > w.len()) {
            return false;
        }
        for (t, &i) in p.iter().enumerate() {
            match (w[offset + t], i) {
                (Some(w), Some(i)) => to[w] = from[i],
                (None, None) => {}
                _ => return false,
            }
        }
    }
    true
}

/// Positions per element and snapshot (`None` where an element has no column or row in a
/// snapshot).
type Positions = Vec<Vec<Option<usize>>>;

/// Every family of columns of `m`, as positions per element and snapshot.
fn column_families(m: &Model) -> Vec<Positions> {
    let positions = |f: &formulation::Family| -> Positions {
        f.iter()
            .map(|e| e.iter().map(|c| Some(c.index)).collect())
            .collect()
    };
    let spill = m
        .su_spill
        .iter()
        .map(|e| e.iter().map(|c| c.map(|c| c.index)).collect())
        .collect();
    vec![
        positions(&m.gen_p),
        positions(&m.gen_cost),
        positions(&m.branch_p0),
        positions(&m.link_p0),
        positions(&m.angle),
        positions(&m.su_dispatch),
        positions(&m.su_store),
        positions(&m.su_soc),
        positions(&m.shed),
        positions(&m.dump),
        spill,
        positions(&m.net_position),
    ]
}

/// Every family of rows of `m`, as positions per element and snapshot.
fn row_families(m: &Model) -> Vec<Positions> {
    let some = |rows: &[usize]| -> Vec<Option<usize>> { rows.iter().map(|&r| Some(r)).collect() };
    let each = |f: &[Vec<usize>]| -> Positions { f.iter().map(|e| some(e)).collect() };
    let (lower, upper): (Positions, Positions) = m
        .angle_rows
        .iter()
        .map(|e| e.iter().map(|&(l, u)| (Some(l), Some(u))).unzip())
        .unzip();
    let areas = m.ptdf.as_ref().map_or(Vec::new(), |p| each(&p.area_rows));
    let (zone_sums, cnecs) = m.flow_based.as_ref().map_or((Vec::new(), Vec::new()), |f| {
        (each(&f.area_rows), each(&f.cnec_rows))
    });
    vec![
        each(&m.balance_rows),
        each(&m.su_rows),
        lower,
        upper,
        m.kvl_rows.iter().map(|k| some(&k.rows)).collect(),
        areas,
        zone_sums,
        cnecs,
    ]
}
