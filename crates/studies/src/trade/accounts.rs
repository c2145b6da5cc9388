//! Zonal prices and the accounts of consumers, producers and countries.

use super::{CountryAccount, ZoneTrade, Zones};
use gridtrade_engine::formulation::FormulationOptions;
use gridtrade_engine::network::Network;
use gridtrade_engine::report::PriceStatistics;
use gridtrade_engine::solution::{Results, LOAD_SHEDDING};
use std::collections::BTreeMap;

/// Consumers: load (MWh), what they pay at their bus's price, and the zone's price
/// statistics from its hourly prices `zone_prices` and those payments.
pub(super) fn consumers(
    n: &Network,
    r: &Results,
    zones: &Zones,
    loads: &[Vec<f64>],
    zone_prices: &[Vec<f64>],
    zt: &mut [ZoneTrade],
) {
    let w = &n.snapshots.objective;
    let mut priced_load_mwh = vec![0.0; zt.len()];
    for t in 0..n.snapshots.len() {
        for b in 0..n.buses.len() {
            let z = zones.of_bus[b];
            let e = loads[t][b] * w[t];
            zt[z].load_mwh += e;
            zt[z].consumer_payments += revenue(r, b, t, e);
            if !r.bus_price[b][t].is_nan() {
                priced_load_mwh[z] += loads[t][b].max(0.0) * w[t];
            }
        }
    }
    for (z, zone) in zt.iter_mut().enumerate() {
        zone.prices =
            PriceStatistics::of(&zone_prices[z], zone.consumer_payments, priced_load_mwh[z]);
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
            let c = w[t]
                * (su.marginal_cost * r.su_dispatch[s][t]
                    + su.spill_cost * r.su_spill[s][t]
                    + su.marginal_cost_storage * r.su_soc[s][t]);
            zt[z].production_cost += c;
            system_cost += c;
        }
    }
    for (s, st) in n.stores.iter().enumerate() {
        let z = zones.of_bus[st.bus];
        for t in 0..nt {
            let e = r.store_p[s][t] * w[t];
            zt[z].generation_mwh += e;
            zt[z].producer_revenue += revenue(r, st.bus, t, e);
            let c = w[t]
                * (st.marginal_cost * r.store_p[s][t] + st.marginal_cost_storage * r.store_e[s][t]);
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
