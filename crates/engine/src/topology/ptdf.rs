//! Shift factors (PTDF) of the AC branches: the flow on a branch, MW at its bus0, per MW
//! injected at a bus and taken out at the slack bus of its synchronous area.
//!
//! For one synchronous area with buses `1..k`, branches `l` from bus `f(l)` to `t(l)` of
//! susceptance `b_l` (MW/rad) and phase shift `phi_l` (rad), the DC power flow is
//!
//! ```text
//! B theta = p + sum_l b_l phi_l (e_f(l) - e_t(l)),   B = sum_l b_l (e_f - e_t)(e_f - e_t)^T
//! p0_l = b_l (theta_f(l) - theta_t(l) - phi_l)
//! ```
//!
//! with the slack bus's angle fixed at 0 (its row and column removed: the reduced `B`). Row
//! `l` of the PTDF is `b_l (e_f - e_t)^T B^-1`; `B` is symmetric, so it is one solve with
//! the right-hand side `e_f - e_t`. `B` is factorised once per area with faer's sparse LU
//! (partial pivoting: series-compensated branches with negative reactance make it
//! indefinite), and rows are computed only for the branches asked for: no dense inverse.
//!
//! The slack of each area is its first bus (the order of `Network::buses`). Shift factors
//! depend on the slack; flows from balanced injections do not.

use super::synchronous_areas;
use crate::error::Error;
use crate::network::Network;
use faer::linalg::solvers::Solve;
use faer::sparse::linalg::solvers::Lu;
use faer::sparse::{SparseColMat, Triplet};
use faer::Mat;
use std::collections::BTreeMap;

/// The factorised susceptance matrices of a network's synchronous areas.
pub struct ShiftFactors {
    areas: Vec<Area>,
    /// Synchronous area of each bus, and its position in the area's reduced matrix (`None`
    /// for the slack).
    place: Vec<(usize, Option<usize>)>,
    /// (bus0, bus1, susceptance MW/rad, phase shift rad) of each branch; susceptance 0 for a
    /// branch that carries no flow (out of service).
    branches: Vec<(usize, usize, f64, f64)>,
}

struct Area {
    slack: usize,
    /// LU of the reduced susceptance matrix; `None` for an area of one bus.
    lu: Option<Lu<usize, f64>>,
    size: usize,
}

impl ShiftFactors {
    /// Factorise the reduced susceptance matrix of every synchronous area of `n`, with
    /// `susceptance[l]` (MW/rad) and `phase_shift[l]` (rad) of each branch as the chosen DC
    /// convention gives them. Branches out of service, or at a bus out of service, carry
    /// nothing. An area whose matrix is singular (a zero susceptance inside a cycle-free
    /// cut, say) is an error naming its slack bus.
    pub fn new(
        n: &Network,
        susceptance: &[f64],
        phase_shift: &[f64],
    ) -> Result<ShiftFactors, Error> {
        let branches: Vec<(usize, usize, f64, f64)> = n
            .branches
            .iter()
            .zip(susceptance.iter().zip(phase_shift))
            .enumerate()
            .map(|(l, (br, (&b, &phi)))| {
                (
                    br.bus0,
                    br.bus1,
                    if n.branch_live(l) { b } else { 0.0 },
                    phi,
                )
            })
            .collect();
        let mut place = vec![(0, None); n.buses.len()];
        let mut areas = Vec::new();
        for (a, buses) in synchronous_areas(n).into_iter().enumerate() {
            for (i, &bus) in buses.iter().enumerate() {
                place[bus] = (a, i.checked_sub(1));
            }
            areas.push(Area {
                slack: buses[0],
                lu: None,
                size: buses.len() - 1,
            });
        }
        let mut sf = ShiftFactors {
            areas,
            place,
            branches,
        };
        sf.factorise(n)?;
        Ok(sf)
    }

    /// Assemble and factorise each area's reduced matrix.
    fn factorise(&mut self, n: &Network) -> Result<(), Error> {
        let mut entries: Vec<BTreeMap<(usize, usize), f64>> =
            vec![BTreeMap::new(); self.areas.len()];
        for &(f, t, b, _) in &self.branches {
            if b == 0.0 || self.place[f].0 != self.place[t].0 {
                continue;
            }
            let (area, pf) = self.place[f];
            let pt = self.place[t].1;
            let m = &mut entries[area];
            for (i, j, v) in [(pf, pf, b), (pt, pt, b), (pf, pt, -b), (pt, pf, -b)] {
                if let (Some(i), Some(j)) = (i, j) {
                    *m.entry((i, j)).or_default() += v;
                }
            }
        }
        for (area, m) in self.areas.iter_mut().zip(entries) {
            if area.size == 0 {
                continue;
            }
            let triplets: Vec<Triplet<usize, usize, f64>> = m
                .into_iter()
                .map(|((i, j), v)| Triplet::new(i, j, v))
                .collect();
            let singular = |what: String| {
                Error::Solver(format!(
                    "the susceptance matrix of the synchronous area of bus '{}' cannot be \
                     factorised ({what}): a zero or cancelling susceptance splits it",
                    n.buses[area.slack].name
                ))
            };
            let b = SparseColMat::try_new_from_triplets(area.size, area.size, &triplets)
                .map_err(|e| singular(format!("{e:?}")))?;
            area.lu = Some(b.sp_lu().map_err(|e| singular(format!("{e:?}")))?);
        }
        Ok(())
    }

    /// The slack bus of `bus`'s synchronous area.
    pub fn slack_of(&self, bus: usize) -> usize {
        self.areas[self.place[bus].0].slack
    }

    /// Row `l` of the PTDF: for every bus, MW on branch `l` (at bus0) per MW injected there
    /// and taken out at the slack of its area; 0 at the slack, at buses of other areas and
    /// for a branch that carries nothing.
    pub fn row(&self, l: usize) -> Vec<f64> {
        let (f, t, b, _) = self.branches[l];
        let mut row = vec![0.0; self.place.len()];
        if b == 0.0 {
            return row;
        }
        let (a, pf) = self.place[f];
        let pt = self.place[t].1;
        let area = &self.areas[a];
        let Some(lu) = &area.lu else { return row };
        let mut rhs = Mat::<f64>::zeros(area.size, 1);
        if let Some(i) = pf {
            rhs[(i, 0)] += 1.0;
        }
        if let Some(j) = pt {
            rhs[(j, 0)] -= 1.0;
        }
        let y = lu.solve(&rhs);
        for (bus, &(ab, p)) in self.place.iter().enumerate() {
            if let (true, Some(i)) = (ab == a, p) {
                row[bus] = b * y[(i, 0)];
            }
        }
        row
    }

    /// Line outage distribution factor: the change of the flow on branch `monitored` per MW
    /// that flowed on branch `outage` before it went out,
    /// `(ptdf_m[f] - ptdf_m[t]) / (1 - (ptdf_o[f] - ptdf_o[t]))` over the outage's buses
    /// `f`, `t`. `None` when the outage splits the area (the denominator vanishes: a
    /// bridge), or carried nothing; 0 for a monitored branch in another area. For many
    /// pairs, compute the two rows once with [`ShiftFactors::row`] and use
    /// [`lodf_from_rows`].
    pub fn lodf(&self, monitored: usize, outage: usize) -> Option<f64> {
        if monitored == outage {
            return Some(-1.0);
        }
        let (f, t, b, _) = self.branches[outage];
        if b == 0.0 {
            return None;
        }
        lodf_from_rows(&self.row(monitored), &self.row(outage), f, t)
    }

    /// Flow on every branch (MW at bus0) for net injections `p` (MW per bus, balanced in
    /// each area: the slack takes the rest), phase shifts included: one solve per area.
    pub fn flows(&self, p: &[f64]) -> Vec<f64> {
        self.flows_with(p, true)
    }

    /// The flows a change of injections `dp` causes (MW per bus, balanced in each area):
    /// [`ShiftFactors::flows`] without the phase shifts.
    pub fn flows_without_shifts(&self, dp: &[f64]) -> Vec<f64> {
        self.flows_with(dp, false)
    }

    /// [`ShiftFactors::flows`], with or without the phase shifts.
    fn flows_with(&self, p: &[f64], shifts: bool) -> Vec<f64> {
        let phi_of = |phi: f64| if shifts { phi } else { 0.0 };
        let mut rhs: Vec<Mat<f64>> = self
            .areas
            .iter()
            .map(|a| Mat::<f64>::zeros(a.size, 1))
            .collect();
        for (bus, &(a, pos)) in self.place.iter().enumerate() {
            if let Some(i) = pos {
                rhs[a][(i, 0)] += p[bus];
            }
        }
        for &(f, t, b, phi) in &self.branches {
            let phi = phi_of(phi);
            if b == 0.0 || phi == 0.0 {
                continue;
            }
            for (bus, sign) in [(f, 1.0), (t, -1.0)] {
                let (a, pos) = self.place[bus];
                if let Some(i) = pos {
                    rhs[a][(i, 0)] += sign * b * phi;
                }
            }
        }
        let solved: Vec<Option<Mat<f64>>> = self
            .areas
            .iter()
            .zip(&rhs)
            .map(|(area, r)| area.lu.as_ref().map(|lu| lu.solve(r)))
            .collect();
        let theta: Vec<f64> = self
            .place
            .iter()
            .map(|&(a, pos)| match (pos, &solved[a]) {
                (Some(i), Some(x)) => x[(i, 0)],
                _ => 0.0,
            })
            .collect();
        self.branches
            .iter()
            .map(|&(f, t, b, phi)| {
                if b == 0.0 {
                    0.0
                } else {
                    b * (theta[f] - theta[t] - phi_of(phi))
                }
            })
            .collect()
    }

    /// Flow on every branch (MW at bus0) per MW sent from bus `from` to bus `to` of one area
    /// (phase shifts left out): `PTDF[.,from] - PTDF[.,to]`, one solve. For a branch `k`
    /// from `from` to `to`, `1 - transfer[k]` is the denominator of its outage factors.
    pub fn transfer(&self, from: usize, to: usize) -> Vec<f64> {
        let mut p = vec![0.0; self.place.len()];
        p[from] += 1.0;
        p[to] -= 1.0;
        self.flows_with(&p, false)
    }

    /// The ends (bus0, bus1) of branch `l`.
    pub fn ends(&self, l: usize) -> (usize, usize) {
        (self.branches[l].0, self.branches[l].1)
    }

    /// The synchronous area of `bus` (0-based, in the order of [`synchronous_areas`]).
    pub fn area_of(&self, bus: usize) -> usize {
        self.place[bus].0
    }

    /// How many synchronous areas the network has (a bus without branches is one).
    pub fn area_count(&self) -> usize {
        self.areas.len()
    }
}

/// [`ShiftFactors::lodf`] from the PTDF rows of the monitored and the outaged branch, the
/// latter from bus `f` to bus `t`. `None` for a bridge (`1 - ptdf_o[f] + ptdf_o[t]` below
/// 1e-9).
pub fn lodf_from_rows(monitored: &[f64], outage: &[f64], f: usize, t: usize) -> Option<f64> {
    let denominator = 1.0 - (outage[f] - outage[t]);
    (denominator.abs() > 1e-9).then(|| (monitored[f] - monitored[t]) / denominator)
}
