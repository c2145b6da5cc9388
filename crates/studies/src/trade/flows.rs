//! Flows between zones: the bilateral matrix, borders (flow each way, congestion, shadow
//! prices, rent), losses, countries' trade settled at zonal prices, monthly net positions.

use super::{BorderTrade, CountryAccount, ZoneTrade, Zones};
use gridtrade_engine::network::Network;
use gridtrade_engine::solution::Results;
use std::collections::BTreeMap;

/// One power-carrying element seen from the trade side.
struct Element<'a> {
    name: &'a str,
    bus0: usize,
    bus1: usize,
    efficiency: f64,
    p0: &'a [f64],
    mu: &'a [f64],
}

fn elements<'a>(n: &'a Network, r: &'a Results) -> Vec<Element<'a>> {
    let mut out = Vec::new();
    for (i, b) in n.branches.iter().enumerate() {
        out.push(Element {
            name: &b.name,
            bus0: b.bus0,
            bus1: b.bus1,
            efficiency: 1.0,
            p0: &r.branch_p0[i],
            mu: &r.branch_mu[i],
        });
    }
    for (i, l) in n.links.iter().enumerate() {
        out.push(Element {
            name: &l.name,
            bus0: l.bus0,
            bus1: l.bus1,
            efficiency: l.efficiency,
            p0: &r.link_p0[i],
            mu: &r.link_mu[i],
        });
    }
    out
}

/// What the elements' flows add up to.
pub(super) struct Flows {
    /// `matrix[i][j]`: energy sent from zone i to zone j, MWh.
    pub matrix: Vec<Vec<f64>>,
    pub borders: Vec<BorderTrade>,
    /// Congestion rent of all elements, currency.
    pub total_rent: f64,
    pub losses: f64,
    /// Countries' trade: export revenue, import bill, rent share, energy each way.
    pub countries: BTreeMap<String, CountryAccount>,
}

/// Per border: congested snapshots a→b and b→a, and the sums of their shadow prices.
type Congestion = (Vec<bool>, Vec<bool>, f64, f64);

/// Account every element's flow in every snapshot: zones' exports and imports (into `zt`),
/// the matrix, borders, rent, losses and countries' trade.
pub(super) fn account(n: &Network, r: &Results, zones: &Zones, zt: &mut [ZoneTrade]) -> Flows {
    let nz = zones.names.len();
    let mut f = Flows {
        matrix: vec![vec![0.0; nz]; nz],
        borders: Vec::new(),
        total_rent: 0.0,
        losses: 0.0,
        countries: BTreeMap::new(),
    };
    let mut borders: BTreeMap<(usize, usize), BorderTrade> = BTreeMap::new();
    let mut congested: BTreeMap<(usize, usize), Congestion> = BTreeMap::new();
    for el in elements(n, r) {
        let (z0, z1) = (zones.of_bus[el.bus0], zones.of_bus[el.bus1]);
        let key = (z0.min(z1), z0.max(z1));
        for t in 0..n.snapshots.len() {
            account_flow(n, r, zones, &el, t, zt, &mut f, &mut borders);
        }
        if z0 != z1 {
            border(&mut borders, zones, key)
                .elements
                .push(el.name.to_string());
            let c = congested.entry(key).or_insert_with(|| {
                let nt = n.snapshots.len();
                (vec![false; nt], vec![false; nt], 0.0, 0.0)
            });
            mark_congestion(&el, z0 <= z1, c);
        }
    }
    for (key, c) in congested {
        if let Some(b) = borders.get_mut(&key) {
            shadow_prices(b, c);
        }
    }
    f.borders = borders.into_values().collect();
    f
}

/// The border between zones `key` (a < b), recorded on first use.
fn border<'a>(
    borders: &'a mut BTreeMap<(usize, usize), BorderTrade>,
    zones: &Zones,
    key: (usize, usize),
) -> &'a mut BorderTrade {
    borders.entry(key).or_insert_with(|| BorderTrade {
        zone_a: zones.names[key.0].clone(),
        zone_b: zones.names[key.1].clone(),
        ..Default::default()
    })
}

/// Element `el`'s flow in snapshot t: rent and losses; between zones, who sends and who
/// receives, the border's flow and rent, and between countries their trade at zonal
/// prices with the rent shared equally.
#[allow(clippy::too_many_arguments)]
fn account_flow(
    n: &Network,
    r: &Results,
    zones: &Zones,
    el: &Element,
    t: usize,
    zt: &mut [ZoneTrade],
    f: &mut Flows,
    borders: &mut BTreeMap<(usize, usize), BorderTrade>,
) {
    let w = n.snapshots.objective[t];
    let p0 = el.p0[t];
    if p0 == 0.0 {
        return;
    }
    let (z0, z1) = (zones.of_bus[el.bus0], zones.of_bus[el.bus1]);
    let (l0, l1) = (r.bus_price[el.bus0][t], r.bus_price[el.bus1][t]);
    let inj0 = -p0;
    let inj1 = el.efficiency * p0;
    let rent = w * (l0 * inj0 + l1 * inj1);
    f.total_rent += rent;
    f.losses += -(inj0 + inj1) * w;
    if z0 == z1 {
        return;
    }
    let (src, dst, sent, received, l_src, l_dst) = if p0 > 0.0 {
        (z0, z1, p0, inj1, l0, l1)
    } else {
        (z1, z0, -inj1, inj0, l1, l0)
    };
    let sent = sent * w;
    let received = received * w;
    f.matrix[src][dst] += sent;
    zt[src].exports_mwh += sent;
    zt[dst].imports_mwh += received;
    let key = (z0.min(z1), z0.max(z1));
    let b = border(borders, zones, key);
    if src == key.0 {
        b.flow_ab_mwh += sent;
    } else {
        b.flow_ba_mwh += sent;
    }
    b.congestion_rent += rent;
    b.congestion_rent_abs += w * p0.abs() * (l1 - l0).abs();
    b.losses_mwh += sent - received;
    if zt[z0].country != zt[z1].country {
        let exporter = country(&mut f.countries, &zt[src].country);
        exporter.export_revenue += l_src * sent;
        exporter.exports_mwh += sent;
        exporter.rent_share += 0.5 * rent;
        let importer = country(&mut f.countries, &zt[dst].country);
        importer.import_bill += l_dst * received;
        importer.imports_mwh += received;
        importer.rent_share += 0.5 * rent;
    }
}

fn country<'a>(
    countries: &'a mut BTreeMap<String, CountryAccount>,
    name: &str,
) -> &'a mut CountryAccount {
    countries
        .entry(name.to_string())
        .or_insert_with(|| CountryAccount {
            country: name.to_string(),
            ..Default::default()
        })
}

/// Snapshots in which `el` is at a limit (shadow price `mu` > 0), by direction: a→b when
/// its flow runs from side a (`forward`: bus0 is on side a) to side b.
fn mark_congestion(el: &Element, forward: bool, c: &mut Congestion) {
    for t in 0..el.mu.len() {
        if el.mu[t] > 1e-9 {
            // At the upper limit the flow runs bus0 -> bus1.
            let bus0_to_bus1 = el.p0[t] > 0.0;
            if bus0_to_bus1 == forward {
                c.0[t] = true;
                c.2 += el.mu[t];
            } else {
                c.1[t] = true;
                c.3 += el.mu[t];
            }
        }
    }
}

/// Hours congested each way and the mean shadow price over them.
fn shadow_prices(b: &mut BorderTrade, (ab, ba, mu_ab, mu_ba): Congestion) {
    b.hours_congested_ab = ab.iter().filter(|x| **x).count();
    b.hours_congested_ba = ba.iter().filter(|x| **x).count();
    b.shadow_price_ab = if b.hours_congested_ab > 0 {
        mu_ab / b.hours_congested_ab as f64
    } else {
        0.0
    };
    b.shadow_price_ba = if b.hours_congested_ba > 0 {
        mu_ba / b.hours_congested_ba as f64
    } else {
        0.0
    };
}

/// Net position of each zone per month (`YYYY-MM` prefix of the snapshot names; one period
/// per 730 snapshots when the names are not dates), MWh.
pub(super) fn monthly_net_positions(
    n: &Network,
    r: &Results,
    zones: &Zones,
) -> Vec<(String, Vec<f64>)> {
    let w = &n.snapshots.objective;
    let els = elements(n, r);
    let mut out: Vec<(String, Vec<f64>)> = Vec::new();
    for (t, name) in n.snapshots.names.iter().enumerate() {
        // `YYYY-MM`: seven ASCII characters (a name with a multi-byte character there is
        // not a date).
        let month = match name.get(..7) {
            Some(m) if m.as_bytes()[4] == b'-' && m.is_ascii() => m.to_string(),
            _ => format!("period {}", t / 730 + 1),
        };
        if out.last().map(|(m, _)| m != &month).unwrap_or(true) {
            out.push((month, vec![0.0; zones.names.len()]));
        }
        let Some((_, slot)) = out.last_mut() else {
            continue;
        };
        for el in &els {
            let (z0, z1) = (zones.of_bus[el.bus0], zones.of_bus[el.bus1]);
            if z0 != z1 {
                // Net position = sent - received: bus0 gives p0, bus1 takes efficiency * p0.
                slot[z0] += el.p0[t] * w[t];
                slot[z1] -= el.efficiency * el.p0[t] * w[t];
            }
        }
    }
    out
}
