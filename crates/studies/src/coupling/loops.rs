//! Loop flows: on each border of AC lines, the physical flow against the scheduled
//! exchange, and whose exports load it.
//!
//! Per snapshot t and border (a, b) (the AC branches between zones a and b, oriented
//! a → b, a < b in zone order):
//!
//! - *Physical flow* `F[ab,t]`: the flows the dispatch causes on the border's branches
//!   (nodal shift factors times the bus injections), MW.
//! - *Scheduled exchange* `S[ab,t]`: the commercial flow. Under NTC the market's own
//!   border flows. Under flow-based and nodal the net positions have no path: they are
//!   routed along the *contract path*, the fewest borders, as the exchanges
//!   `x >= 0` on the graph of AC borders that meet every zone's AC net position
//!   (`sum out − sum in = NP[z,t]`) at the least `sum |x|` (an LP per snapshot; among
//!   equally short routes HiGHS picks one).
//! - *Unscheduled flow* `U = F − S`: loop flows (of trades between other zones, or of a
//!   zone's own dispatch) and transits off the contract path.
//! - *Who loads the border*: the flow each exporting zone's net position causes, with its
//!   power taken by the importing zones pro rata to their imports:
//!   `c[e,ab,t] = NP[e,t] sum_i (|NP[i,t]| / M_t) (zPTDF[ab,e] − zPTDF[ab,i])` with `M_t`
//!   the total import; the exporters' contributions add up to the border's flow (when the
//!   zones' internal dispatch puts no flow on it: single-bus zones). Reported as MWh in the
//!   direction the border flows in each snapshot (negative: the exporter's trade relieves
//!   it).

use super::{shift_keys, zonal, Coupling, OnTheGrid};
use gridtrade_engine::network::Network;
use gridtrade_engine::solution::Results;
use gridtrade_engine::topology::ptdf::ShiftFactors;
use highs::{HighsModelStatus, RowProblem, Sense};
use serde::{Deserialize, Serialize};

/// One border of AC lines over the horizon.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BorderLoop {
    pub zone_a: String,
    pub zone_b: String,
    pub lines: Vec<String>,
    /// Σ_t w_t |F|, MWh.
    pub physical_mwh: f64,
    /// Σ_t w_t |S|, MWh.
    pub scheduled_mwh: f64,
    /// Σ_t w_t |F − S|, MWh.
    pub unscheduled_mwh: f64,
    /// Snapshots in which the physical flow runs against the schedule.
    pub hours_against_schedule: usize,
    /// MWh each exporting zone's trades put on the border in the direction it flows, largest
    /// first (zone, MWh).
    pub by_exporter: Vec<(String, f64)>,
    /// Per snapshot: physical and scheduled flow a → b, MW.
    #[serde(skip)]
    pub hourly: Vec<(f64, f64)>,
}

/// The loop-flow account of the results `r` of `n` cleared by `coupling`, put on the grid.
pub fn loop_flows(
    n: &Network,
    r: &Results,
    coupling: Coupling,
    grid: &OnTheGrid,
) -> Vec<BorderLoop> {
    let (zones, zone_of) = n.zone_of_buses();
    let borders = ac_borders(n, &zone_of);
    if borders.is_empty() {
        return Vec::new();
    }
    let zptdf = border_zptdf(n, &grid.shift, &borders, &zone_of, zones.len());
    let np = &grid.net_position;
    let mut out: Vec<BorderLoop> = borders
        .iter()
        .map(|((a, b), lines)| BorderLoop {
            zone_a: zones[*a].clone(),
            zone_b: zones[*b].clone(),
            lines: lines
                .iter()
                .map(|&(l, _)| n.branches[l].name.clone())
                .collect(),
            ..Default::default()
        })
        .collect();
    let mut by_exporter = vec![vec![0.0; zones.len()]; borders.len()];
    for t in 0..n.snapshots.len() {
        let w = n.snapshots.objective[t];
        let flows = &grid.flows[t];
        let np_t: Vec<f64> = np.iter().map(|z| z[t]).collect();
        let scheduled = match coupling {
            Coupling::Ntc => borders
                .iter()
                .map(|(_, lines)| lines.iter().map(|&(l, s)| s * r.branch_p0[l][t]).sum())
                .collect(),
            _ => contract_path(&borders, &np_t, zones.len()),
        };
        let imports: f64 = np_t.iter().filter(|&&v| v < 0.0).map(|v| -v).sum();
        for (k, ((_, lines), o)) in borders.iter().zip(out.iter_mut()).enumerate() {
            let f: f64 = lines.iter().map(|&(l, s)| s * flows[l]).sum();
            let s = scheduled[k];
            o.physical_mwh += w * f.abs();
            o.scheduled_mwh += w * s.abs();
            o.unscheduled_mwh += w * (f - s).abs();
            if f * s < 0.0 && f.abs() > 1e-6 && s.abs() > 1e-6 {
                o.hours_against_schedule += 1;
            }
            o.hourly.push((f, s));
            if imports <= 0.0 {
                continue;
            }
            let to_importers: f64 = (0..zones.len())
                .filter(|&i| np_t[i] < 0.0)
                .map(|i| -np_t[i] / imports * zptdf[k][i])
                .sum();
            for e in (0..zones.len()).filter(|&e| np_t[e] > 0.0) {
                let c = np_t[e] * (zptdf[k][e] - to_importers);
                by_exporter[k][e] += w * c * f.signum();
            }
        }
    }
    for (o, contributions) in out.iter_mut().zip(by_exporter) {
        let mut v: Vec<(String, f64)> = contributions
            .into_iter()
            .enumerate()
            .filter(|(_, c)| c.abs() > 1e-6)
            .map(|(z, c)| (zones[z].clone(), c))
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        o.by_exporter = v;
    }
    out
}

/// A border: its zones (a < b) and its AC branches with +1 where the branch runs a → b, −1
/// where it runs b → a.
type Border = ((usize, usize), Vec<(usize, f64)>);

/// The borders of live AC branches between zones, in zone order.
fn ac_borders(n: &Network, zone_of: &[usize]) -> Vec<Border> {
    let mut borders: Vec<Border> = Vec::new();
    for l in (0..n.branches.len()).filter(|&l| n.branch_live(l)) {
        let br = &n.branches[l];
        let (za, zb) = (zone_of[br.bus0], zone_of[br.bus1]);
        if za == zb {
            continue;
        }
        let (key, sign) = if za < zb {
            ((za, zb), 1.0)
        } else {
            ((zb, za), -1.0)
        };
        match borders.iter_mut().find(|(k, _)| *k == key) {
            Some((_, lines)) => lines.push((l, sign)),
            None => borders.push((key, vec![(l, sign)])),
        }
    }
    borders.sort_by_key(|(k, _)| *k);
    borders
}

/// Each border's zonal PTDF (a → b) per zone: the sum of its branches' (with the shift keys).
fn border_zptdf(
    n: &Network,
    shift: &ShiftFactors,
    borders: &[Border],
    zone_of: &[usize],
    zones: usize,
) -> Vec<Vec<f64>> {
    let gsk = shift_keys(n);
    borders
        .iter()
        .map(|(_, lines)| {
            let mut z = vec![0.0; zones];
            for &(l, sign) in lines {
                let row = zonal(&shift.row(l), &gsk, zone_of, zones);
                for (v, x) in z.iter_mut().zip(row) {
                    *v += sign * x;
                }
            }
            z
        })
        .collect()
}

/// The exchanges along the fewest borders that meet the zones' net positions `np` (MW),
/// one per border a → b; zeros if the LP fails (net positions that do not balance on the
/// border graph: a zone whose AC exchange crosses no border).
fn contract_path(borders: &[Border], np: &[f64], zones: usize) -> Vec<f64> {
    let mut p = RowProblem::default();
    let cols: Vec<_> = borders
        .iter()
        .map(|_| (p.add_column(1.0, 0.0..), p.add_column(1.0, 0.0..)))
        .collect();
    let mut terms = vec![Vec::new(); zones];
    for (((a, b), _), &(ab, ba)) in borders.iter().zip(&cols) {
        terms[*a].push((ab, 1.0));
        terms[*a].push((ba, -1.0));
        terms[*b].push((ab, -1.0));
        terms[*b].push((ba, 1.0));
    }
    // One balance per zone on the border graph, the first zone of each connected part left
    // out (the others imply it; its net position may differ by rounding).
    let mut part: Vec<usize> = (0..zones).collect();
    fn root(part: &mut [usize], mut z: usize) -> usize {
        while part[z] != z {
            part[z] = part[part[z]];
            z = part[z];
        }
        z
    }
    for ((a, b), _) in borders {
        let (ra, rb) = (root(&mut part, *a), root(&mut part, *b));
        part[ra.max(rb)] = ra.min(rb);
    }
    for (z, t) in terms.iter().enumerate() {
        if !t.is_empty() && root(&mut part, z) != z {
            p.add_row(np[z]..=np[z], t);
        }
    }
    let mut model = p.optimise(Sense::Minimise);
    model.make_quiet();
    let solved = model.solve();
    if solved.status() != HighsModelStatus::Optimal {
        return vec![0.0; borders.len()];
    }
    let x = solved.get_solution().columns().to_vec();
    (0..borders.len())
        .map(|k| x[2 * k] - x[2 * k + 1])
        .collect()
}
