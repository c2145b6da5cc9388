//! The PTDF form of the linear power flow, with lazy line limits.
//!
//! Instead of a flow column per branch and Kirchhoff's voltage law, the flows are expressions
//! of the nodal injections: with `inj[b,t]` the power a bus puts into the grid (generation,
//! storage, shed load, links; minus its load), MW, and `PTDF[l,b]` the shift factor of
//! branch `l` for an injection at `b` taken out at its area's slack
//! ([`crate::topology::ptdf`]),
//!
//! ```text
//! sum_{b in area} inj[b,t] = 0                                   (area balance)
//! p0[l,t] = sum_b PTDF[l,b] inj[b,t] + p0_shift[l]              (p0_shift: phase shifts alone)
//! -s_max[l] <= p0[l,t] <= s_max[l]                               (only where violated)
//! ```
//!
//! The limit rows start empty; [`PtdfForm::violated`] finds the branches the last solution
//! overloads and [`constraint_branch_limit`] writes their rows, which the solve adds to the
//! LP HiGHS holds and solves again from the last basis, until no branch exceeds its rating.
//!
//! N-1 security (`--contingencies`): after the outage of branch k, branch m carries
//! `p0[m,t] + LODF[m,k] p0[k,t]`, where `LODF[m,k] = transfer_k[m] / (1 - transfer_k[k])`
//! with `transfer_k` the flows of 1 MW sent from k's bus0 to its bus1 (line outage
//! distribution factors). Its limit `|p0[m,t] + LODF[m,k] p0[k,t]| <= rating * s_max[m]`
//! enters lazily like the base case's. An outage that splits an area (a bridge, found by
//! [`crate::topology::bridges`]) has no such factors: it is reported and skipped, as PyPSA's
//! SCLOPF (whose factors for it are 0) effectively does.
//!
//! Prices: the load at bus b appears in its area's balance (coefficient 1) and in every limit
//! row (coefficient `PTDF[l,b]`), so its price is `(lambda[area,t] + sum_l PTDF[l,b]
//! mu[l,t]) / w_t` with `lambda` and `mu` the row duals: the same locational marginal price,
//! sign and units as the balance duals of the angle and cycle forms.

use super::constraints::node_injections;
use super::lp::{NewRows, Terms};
use super::{Contingencies, DcConvention, Model};
use crate::error::Error;
use crate::network::Network;
use crate::topology::{self, ptdf::ShiftFactors};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A limit row: the flow of branch `monitored` in snapshot `t`, in the base case
/// (`outage: None`) or after the outage of branch `outage`. Ordered by snapshot first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Limit {
    pub t: usize,
    pub monitored: usize,
    pub outage: Option<usize>,
}

/// A limit row in the LP: its index and, after an outage, the outage distribution factor
/// of the monitored branch (0 in the base case).
#[derive(Debug, Clone, Copy)]
pub struct LimitRow {
    pub row: usize,
    pub lodf: f64,
}

/// The N-1 part of the PTDF form.
struct Security {
    /// Post-contingency limit as a multiple of the rating.
    rating: f64,
    /// Each outage studied, with its column of outage distribution factors (MW on every
    /// branch per MW that flowed on the outage; -1 on itself), in branch order.
    outages: Vec<(usize, Vec<f64>)>,
    /// Outages skipped because they split an area.
    islanding: Vec<usize>,
}

/// A flow is over its rating when it exceeds it by more than this share of the rating (or
/// of 1 MW for ratings below 1 MW).
pub const LIMIT_TOLERANCE: f64 = 1e-6;

/// Shift factors of at most this magnitude are left out of a limit row: they are below
/// HiGHS' smallest matrix value (1e-9) and would be dropped by it anyway.
const SMALLEST_SHIFT_FACTOR: f64 = 1e-10;

/// What the PTDF form holds besides the LP: the shift factors, the area balances and the
/// limit rows added so far.
pub struct PtdfForm {
    shift: ShiftFactors,
    /// Area balance row `[area][t]`.
    pub area_rows: Vec<Vec<usize>>,
    /// Branches whose rating may enter: in service between buses in service, with a
    /// finite rating and a susceptance.
    limited: Vec<usize>,
    /// Flow on each branch with no injection anywhere (phase shifts alone), MW.
    shift_flow: Vec<f64>,
    /// The limit rows in the LP.
    pub limit_rows: BTreeMap<Limit, LimitRow>,
    /// N-1 security, when asked for.
    security: Option<Security>,
    /// Rows in the LP: those built plus the limit rows added (the next row's index).
    pub rows_in_lp: usize,
    /// PTDF rows computed so far, by branch.
    rows: HashMap<usize, Vec<f64>>,
    /// Solves so far (the first, without limits, is round 1).
    pub rounds: usize,
}

impl PtdfForm {
    /// Factorise each synchronous area's susceptance matrix under the dc convention and,
    /// for N-1, compute the outage distribution factors of each outage.
    pub fn new(
        n: &Network,
        convention: DcConvention,
        contingencies: Option<&Contingencies>,
    ) -> Result<PtdfForm, Error> {
        let (b, phi) = convention.branch_parameters(n);
        let shift = ShiftFactors::new(n, &b, &phi)?;
        let shift_flow = shift.flows(&vec![0.0; n.buses.len()]);
        let limited = (0..n.branches.len())
            .filter(|&l| {
                let br = &n.branches[l];
                n.branch_live(l) && br.s_max.is_finite() && b[l].is_finite() && b[l] != 0.0
            })
            .collect();
        let security = contingencies.map(|c| security(n, &shift, c)).transpose()?;
        Ok(PtdfForm {
            area_rows: vec![Vec::new(); shift.area_count()],
            shift,
            limited,
            shift_flow,
            limit_rows: BTreeMap::new(),
            security,
            rows_in_lp: 0,
            rows: HashMap::new(),
            rounds: 0,
        })
    }

    /// The shift factors of the network.
    pub fn shift_factors(&self) -> &ShiftFactors {
        &self.shift
    }

    /// Row `l` of the PTDF, computed once.
    fn ptdf_row(&mut self, l: usize) -> &[f64] {
        let shift = &self.shift;
        self.rows.entry(l).or_insert_with(|| shift.row(l))
    }

    /// Flows on every branch in every snapshot for the column values `x`, MW: `[l][t]`.
    pub fn flows(&self, m: &Model, n: &Network, x: &[f64]) -> Vec<Vec<f64>> {
        let mut table = vec![vec![0.0; m.snapshots]; n.branches.len()];
        for t in 0..m.snapshots {
            let (terms, load) = node_injections(m, n, t);
            let inj: Vec<f64> = terms
                .iter()
                .zip(&load)
                .map(|(e, d)| e.value(x) - d)
                .collect();
            for (l, f) in self.shift.flows(&inj).into_iter().enumerate() {
                table[l][t] = f;
            }
        }
        table
    }

    /// The limits the column values `x` violate (beyond [`LIMIT_TOLERANCE`]) that are not
    /// rows yet: base-case ratings and, with N-1, post-contingency ratings; in order.
    pub fn violated(&self, m: &Model, n: &Network, x: &[f64]) -> Vec<Limit> {
        let flows = self.flows(m, n, x);
        let over = |f: f64, s: f64| f.abs() > s + LIMIT_TOLERANCE * s.max(1.0);
        let mut found = Vec::new();
        for t in 0..m.snapshots {
            for &l in &self.limited {
                let limit = Limit {
                    t,
                    monitored: l,
                    outage: None,
                };
                if over(flows[l][t], n.branches[l].rating(t))
                    && !self.limit_rows.contains_key(&limit)
                {
                    found.push(limit);
                }
            }
            let Some(sec) = &self.security else { continue };
            // Per monitored branch only its worst violated outage in a round: the first
            // round's dispatch, without any limit, overloads thousands of post-contingency
            // limits that a few rows settle (200 buses × 24 h: 20,736 rows and 733 MB when
            // all were added).
            for &l in &self.limited {
                let limit = sec.rating * n.branches[l].rating(t);
                let worst = sec
                    .outages
                    .iter()
                    .filter(|(k, lodf)| *k != l && lodf[l] != 0.0)
                    .map(|(k, lodf)| (*k, (flows[l][t] + lodf[l] * flows[*k][t]).abs()))
                    .filter(|&(k, post)| {
                        over(post, limit)
                            && !self.limit_rows.contains_key(&Limit {
                                t,
                                monitored: l,
                                outage: Some(k),
                            })
                    })
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                if let Some((k, _)) = worst {
                    found.push(Limit {
                        t,
                        monitored: l,
                        outage: Some(k),
                    });
                }
            }
        }
        found.sort_unstable();
        found
    }

    /// Outages skipped because they split a synchronous area (N-1 only).
    pub fn islanding_outages(&self) -> &[usize] {
        self.security.as_ref().map_or(&[], |s| &s.islanding)
    }

    /// Price at each bus in snapshot t from the row duals, currency/MWh before dividing by
    /// the snapshot weight: `lambda[area] + sum_l PTDF[l,b] mu[l,t]`.
    pub fn bus_duals(&self, t: usize, buses: usize, dual_row: &[f64]) -> Vec<f64> {
        let mut price: Vec<f64> = (0..buses)
            .map(|b| dual_row[self.area_rows[self.shift.area_of(b)][t]])
            .collect();
        let first = |t| Limit {
            t,
            monitored: 0,
            outage: None,
        };
        for (limit, r) in self.limit_rows.range(first(t)..first(t + 1)) {
            let mu = dual_row[r.row];
            if mu == 0.0 {
                continue;
            }
            self.add_row_of(limit.monitored, mu, &mut price);
            if let Some(k) = limit.outage {
                self.add_row_of(k, mu * r.lodf, &mut price);
            }
        }
        price
    }

    /// Add `a` times PTDF row `l` to `v`.
    fn add_row_of(&self, l: usize, a: f64, v: &mut [f64]) {
        let computed;
        let ptdf = match self.rows.get(&l) {
            Some(r) => r,
            None => {
                computed = self.shift.row(l);
                &computed
            }
        };
        for (p, f) in v.iter_mut().zip(ptdf) {
            *p += f * a;
        }
    }
}

/// One balance row per synchronous area and snapshot: the injections of its buses sum to
/// its load (its dual, over the snapshot weight, is the area's price before congestion).
pub fn constraint_area_balance(m: &mut Model, n: &Network) {
    let Some(mut p) = m.ptdf.take() else { return };
    for t in 0..m.snapshots {
        let (terms, load) = node_injections(m, n, t);
        let mut lhs: Vec<Terms> = (0..p.area_rows.len()).map(|_| Terms::default()).collect();
        let mut rhs = vec![0.0; p.area_rows.len()];
        for (b, (e, d)) in terms.iter().zip(load).enumerate() {
            let a = p.shift.area_of(b);
            lhs[a].add_scaled(1.0, e);
            rhs[a] += d;
        }
        for (a, (e, r)) in lhs.into_iter().zip(rhs).enumerate() {
            let row = m.lp.row_eq(e, r);
            p.area_rows[a].push(row);
        }
    }
    m.ptdf = Some(p);
}

/// The rating of each limit in `limits` as a row: in the base case
///
/// ```text
/// -s_max[m] <= sum_b PTDF[m,b] (inj[b,t] - load[b,t]) + p0_shift[m] <= s_max[m]
/// ```
///
/// and after the outage of k the same with `PTDF[m,b] + LODF[m,k] PTDF[k,b]`,
/// `p0_shift[m] + LODF[m,k] p0_shift[k]` and `rating * s_max[m]`. `limits` in order; the
/// rows go into `rows` (empty: the rows of this round, all added to the LP after the rows
/// it has) and are recorded in the form's `limit_rows`.
pub fn constraint_branch_limit(m: &mut Model, n: &Network, limits: &[Limit], rows: &mut NewRows) {
    let Some(mut p) = m.ptdf.take() else { return };
    debug_assert!(rows.is_empty() && limits.windows(2).all(|w| w[0] < w[1]));
    let mut k = 0;
    while k < limits.len() {
        let t = limits[k].t;
        let (terms, load) = node_injections(m, n, t);
        while k < limits.len() && limits[k].t == t {
            let limit = limits[k];
            let (lodf, rating) = match (limit.outage, &p.security) {
                (Some(o), Some(sec)) => (lookup_lodf(sec, o, limit.monitored), sec.rating),
                _ => (0.0, 1.0),
            };
            let mut e = Terms::default();
            p.add_flow_terms(limit.monitored, 1.0, &terms, &load, &mut e);
            if let Some(o) = limit.outage {
                p.add_flow_terms(o, lodf, &terms, &load, &mut e);
            }
            let s = rating * n.branches[limit.monitored].rating(limit.t);
            let row = p.rows_in_lp + rows.push(e, -s, s);
            p.limit_rows.insert(limit, LimitRow { row, lodf });
            k += 1;
        }
    }
    p.rows_in_lp += rows.len();
    m.ptdf = Some(p);
}

impl PtdfForm {
    /// Add `a` times the flow of branch `l` (its PTDF row times the injections, plus its
    /// phase-shift flow) to `e`.
    fn add_flow_terms(&mut self, l: usize, a: f64, terms: &[Terms], load: &[f64], e: &mut Terms) {
        e.add_constant(a * self.shift_flow[l]);
        let ptdf = self.ptdf_row(l);
        for (b, &f) in ptdf.iter().enumerate() {
            if f.abs() > SMALLEST_SHIFT_FACTOR {
                e.add_scaled(a * f, &terms[b]);
                e.add_constant(-a * f * load[b]);
            }
        }
    }
}

/// The outage distribution factor of `monitored` for `outage`.
fn lookup_lodf(sec: &Security, outage: usize, monitored: usize) -> f64 {
    sec.outages
        .binary_search_by_key(&outage, |(k, _)| *k)
        .map_or(0.0, |i| sec.outages[i].1[monitored])
}

/// The outages of `c` with their outage distribution factors; those that split an area set
/// aside. An outage named that is not an AC branch of `n` is an error.
fn security(n: &Network, shift: &ShiftFactors, c: &Contingencies) -> Result<Security, Error> {
    // Sorted and once each: `lookup_lodf` searches by branch.
    let chosen = c.branches(n)?;
    let bridges: HashSet<usize> = topology::bridges(n).into_iter().collect();
    let mut sec = Security {
        rating: c.rating,
        outages: Vec::new(),
        islanding: Vec::new(),
    };
    for k in chosen {
        let (f, t) = shift.ends(k);
        let transfer = shift.transfer(f, t);
        let denominator = 1.0 - transfer[k];
        if bridges.contains(&k) || denominator.abs() < 1e-9 {
            sec.islanding.push(k);
            continue;
        }
        let mut lodf: Vec<f64> = transfer.iter().map(|v| v / denominator).collect();
        lodf[k] = -1.0;
        sec.outages.push((k, lodf));
    }
    Ok(sec)
}
