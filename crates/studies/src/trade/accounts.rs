//! Zonal prices and the accounts of consumers, producers and countries.

use super::{CountryAccount, ZoneTrade, Zones};
use gridtrade_engine::formulation::FormulationOptions;
use gridtrade_engine::network::Network;
use gridtrade_engine::solution::{Results, LOAD_SHEDDING};
use std::collections::BTreeMap;

/// Zone price per snapshot, currency/MWh: the load-weighted mean of its buses' prices (the
/// mean where the zone has no load; NaN where no bus of the zone has a price).
pub(super) fn zone_prices(
    n: &Network,
    r: &Results,
    zones: &Zones,
    loads: &[Vec<f64>],
) -> Vec<Vec<f64>> {
    let nt = n.snapshots.len();
    let nz = zones.names.len();
    let mut zone_prices = vec![vec![0.0; nt]; nz];
    for t in 0..nt {
        let mut num = vec![0.0; nz];
        let mut den = vec![0.0; nz];
        let mut plain = vec![(0.0, 0usize); nz];
        for b in 0..n.buses.len() {
            let p = r.bus_price[b][t];
            if p.is_nan() {
                continue;
            }
            let z = zones.of_bus[b];
            num[z] += p * loads[t][b].max(0.0);
            den[z] += loads[t][b].max(0.0);
            plain[z].0 += p;
            plain[z].1 += 1;
        }
        for z in 0..nz {
            zone_prices[z][t] = if den[z] > 0.0 {
                num[z] / den[z]
            } else if plain[z].1 > 0 {
                plain[z].0 / plain[z].1 as f64
            } else {
                f64::NAN
            };
        }
    }
    zone_prices
}

/// Mean, minimum and maximum of each zone's prices over the snapshots that have one.
pub(super) fn price_statistics(zt: &mut [ZoneTrade], zone_prices: &[Vec<f64>]) {
    for (z, prices) in zone_prices.iter().enumerate() {
        let valid: Vec<f64> = prices.iter().copied().filter(|p| !p.is_nan()).collect();
        if !valid.is_empty() {
            zt[z].average_price = valid.iter().sum::<f64>() / valid.len() as f64;
            zt[z].min_price = valid.iter().copied().fold(f64::INFINITY, f64::min);
            zt[z].max_price = valid.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        } else {
            zt[z].min_price = f64::NAN;
            zt[z].max_price = f64::NAN;
        }
    }
}

/// Consumers: load (MWh), what they pay at their bus's price, the load-weighted price.
pub(super) fn consumers(
    n: &Network,
    r: &Results,
    zones: &Zones,
    loads: &[Vec<f64>],
    zt: &mut [ZoneTrade],
) {
    let w = &n.snapshots.objective;
    for t in 0..n.snapshots.len() {
        for b in 0..n.buses.len() {
            let z = zones.of_bus[b];
            let e = loads[t][b] * w[t];
            zt[z].load_mwh += e;
            zt[z].consumer_payments += revenue(r, b, t, e);
        }
    }
    // What consumers pay per MWh they take.
    for zone in zt.iter_mut() {
        zone.load_weighted_price = if zone.load_mwh > 0.0 {
            zone.consumer_payments / zone.load_mwh
        } else {
            zone.average_price
        };
    }
}

/// Producers: generators, storage and load shed by the engine — energy, revenue at their
/// bus's price, production cost and CO2 — and links' own costs. Returns the system's
/// production cost: the objective, term by term.
pub(super) fn producers(
    n: &Network,
    r: &Results,
    o: &FormulationOptions,
    zones: &Zones,
    zt: &mut [ZoneTrade],
) -> f64 {
    let mut system_cost = generators(n, r, zones, zt);
    let w = &n.snapshots.objective;
    let nt = n.snapshots.len();
    for (s, su) in n.storage_units.iter().enumerate() {
        let z = zones.of_bus[su.bus];
        for t in 0..nt {
            let e = r.su_p[s][t] * w[t];
            zt[z].generation_mwh += e;
            zt[z].producer_revenue += revenue(r, su.bus, t, e);
            let c =
                w[t] * (su.marginal_cost * r.su_dispatch[s][t] + su.spill_cost * r.su_spill[s][t]);
            zt[z].production_cost += c;
            system_cost += c;
        }
    }
    // A link's own cost (e.g. a wheeling charge) is on its flow at bus0, in bus0's zone.
    for (k, link) in n.links.iter().enumerate() {
        if link.marginal_cost == 0.0 {
            continue;
        }
        let z = zones.of_bus[link.bus0];
        for t in 0..nt {
            let c = w[t] * link.marginal_cost * r.link_p0[k][t];
            zt[z].production_cost += c;
            system_cost += c;
        }
    }
    let voll = o.voll.unwrap_or(0.0);
    for b in 0..n.buses.len() {
        let z = zones.of_bus[b];
        for t in 0..nt {
            let e = r.bus_shed[b][t] * w[t];
            if e == 0.0 {
                continue;
            }
            zt[z].shed_mwh += e;
            zt[z].producer_revenue += revenue(r, b, t, e);
            zt[z].production_cost += voll * e;
            system_cost += voll * e;
        }
    }
    system_cost
}

/// The generators' part of [`producers`]; returns their production cost.
fn generators(n: &Network, r: &Results, zones: &Zones, zt: &mut [ZoneTrade]) -> f64 {
    let w = &n.snapshots.objective;
    let mut system_cost = 0.0;
    for (g, gen) in n.generators.iter().enumerate() {
        let z = zones.of_bus[gen.bus];
        let shedding = gen.carrier == LOAD_SHEDDING;
        let co2 = n.co2_intensity(g);
        let active = gen.in_service && n.buses[gen.bus].in_service;
        for t in 0..n.snapshots.len() {
            let p = r.gen_p[g][t];
            let e = p * w[t];
            if shedding {
                zt[z].shed_mwh += e;
            } else {
                zt[z].generation_mwh += e;
            }
            zt[z].producer_revenue += revenue(r, gen.bus, t, e);
            zt[z].co2_t += co2 * e;
            if active {
                let c = w[t] * r.gen_cost[g][t];
                zt[z].production_cost += c;
                system_cost += c;
            }
        }
    }
    system_cost
}

/// What `e` MWh at bus `b` in snapshot t are worth at its price (earned by producers, paid
/// by consumers), currency. A bus out of service has no price (NaN) and nothing is produced
/// or served there: 0, not 0 · NaN.
fn revenue(r: &Results, b: usize, t: usize, e: f64) -> f64 {
    let price = r.bus_price[b][t];
    if price.is_nan() {
        0.0
    } else {
        price * e
    }
}

/// Each country's account: its zones' production cost, CO2 and shed load added to the
/// trade accounts `trading` (export revenue, import bill, rent share); then its net cost.
pub(super) fn countries(
    zt: &[ZoneTrade],
    mut trading: BTreeMap<String, CountryAccount>,
) -> Vec<CountryAccount> {
    for z in zt {
        let e = trading
            .entry(z.country.clone())
            .or_insert_with(|| CountryAccount {
                country: z.country.clone(),
                ..Default::default()
            });
        e.production_cost += z.production_cost;
        e.co2_t += z.co2_t;
        e.shed_mwh += z.shed_mwh;
    }
    let mut countries: Vec<CountryAccount> = trading.into_values().collect();
    for c in countries.iter_mut() {
        c.net_cost = c.production_cost + c.import_bill - c.export_revenue - c.rent_share;
    }
    countries
}
