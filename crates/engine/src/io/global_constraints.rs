//! `global_constraints.csv` of a PyPSA folder. Read: a CO2 limit (`primary_energy` on
//! `co2_emissions`, any sense) and the limits on transmission built
//! (`transmission_volume_expansion_limit`, MW·km, and `transmission_expansion_cost_limit`,
//! currency), as PyPSA 1.4 states them. Every other type is an error naming it, never
//! dropped.

use super::pypsa::{element_name, investment_cost};
use super::table::{Cells, Table};
use crate::error::{Error, Findings};
use crate::network::{
    BranchKind, Co2Constraint, EdgeRef, Network, Sense, TransmissionLimit, TransmissionMeasure,
};
use std::path::Path;

/// Read every global constraint of `t` into `n`.
pub(super) fn read(dir: &Path, n: &mut Network, t: &Table, f: &mut Findings) -> Result<(), Error> {
    for i in 0..t.rows.len() {
        let Some(name) = element_name(t, i, "global constraint", f) else {
            continue;
        };
        let mut c = t.cell(i, format!("global constraint '{name}'"), f);
        let kind = c.string("type", "primary_energy");
        if c.text("investment_period").is_some() {
            c.error("investment_period", "investment periods are not supported");
        }
        let Some(sense) = sense(&mut c) else {
            continue;
        };
        let constant = c.f64("constant", 0.0, false);
        let measure = match kind.as_str() {
            "primary_energy" => {
                co2_limit(dir, n, &mut c, name, sense, constant)?;
                continue;
            }
            "transmission_volume_expansion_limit" => TransmissionMeasure::Volume,
            "transmission_expansion_cost_limit" => TransmissionMeasure::Cost,
            other => {
                c.error(
                    "type",
                    format!("`{other}` is not supported yet (only primary_energy on co2_emissions, transmission_volume_expansion_limit and transmission_expansion_cost_limit)"),
                );
                continue;
            }
        };
        let carriers = carriers(&c.string("carrier_attribute", ""));
        let terms = transmission_terms(dir, n, &carriers, measure)?;
        let origin = c.origin();
        n.transmission_limits.push(TransmissionLimit {
            name,
            measure,
            carriers,
            sense,
            constant,
            terms,
            origin,
        });
    }
    Ok(())
}

/// `<=`, `==` or `>=` (PyPSA's default `==`).
fn sense(c: &mut Cells) -> Option<Sense> {
    match c.string("sense", "==").as_str() {
        "<=" => Some(Sense::AtMost),
        "==" => Some(Sense::Equal),
        ">=" => Some(Sense::AtLeast),
        other => {
            c.error("sense", format!("`{other}`: must be <=, == or >="));
            None
        }
    }
}

/// The carriers a transmission limit names (`carrier_attribute`, e.g. `AC, DC` or
/// `[AC,DC]`), as PyPSA splits them.
fn carriers(attribute: &str) -> Vec<String> {
    let bare: String = attribute
        .chars()
        .filter(|ch| !"[]()".contains(*ch))
        .collect();
    bare.split(',').map(|s| s.trim().to_string()).collect()
}

/// The CO2 limit (`primary_energy` on the carriers' `co2_emissions`). It counts generators'
/// emissions, so a storage unit or store whose carrier emits, or snapshot weights for
/// generators that differ from the objective's, are errors.
fn co2_limit(
    dir: &Path,
    n: &mut Network,
    c: &mut Cells,
    name: String,
    sense: Sense,
    limit_t: f64,
) -> Result<(), Error> {
    let attribute = c.string("carrier_attribute", "co2_emissions");
    if attribute != "co2_emissions" {
        c.error(
            "carrier_attribute",
            format!("primary_energy on `{attribute}` is not supported (only co2_emissions)"),
        );
        return Ok(());
    }
    if n.co2_constraint.is_some() {
        c.error("name", "a second CO2 limit: give one");
        return Ok(());
    }
    let emits = |carrier: &str| n.carrier(carrier).is_some_and(|k| k.co2_emissions != 0.0);
    let emitting = n
        .storage_units
        .iter()
        .filter(|s| emits(&s.carrier))
        .map(|s| ("storage unit", &s.name))
        .chain(
            n.stores
                .iter()
                .filter(|s| emits(&s.carrier))
                .map(|s| ("store", &s.name)),
        )
        .next();
    if let Some((kind, name)) = emitting {
        c.error(
            "carrier_attribute",
            format!("{kind} `{name}` has an emitting carrier: its emissions in a CO2 limit are not supported"),
        );
    }
    if !generator_weights_match(dir, n)? {
        c.error(
            "constant",
            "snapshots.csv's `generators` weights differ from `objective`: a CO2 limit with other weights is not supported",
        );
    }
    n.co2_constraint = Some(Co2Constraint {
        name,
        sense,
        limit_t,
        origin: c.origin(),
    });
    Ok(())
}

/// Whether snapshots.csv's `generators` weights (PyPSA's weights of generator energy, 1 by
/// default) equal the objective weights.
fn generator_weights_match(dir: &Path, n: &Network) -> Result<bool, Error> {
    let Some(t) = Table::read(dir, "snapshots.csv")? else {
        return Ok(true);
    };
    if !t.has("generators") {
        return Ok(n.snapshots.objective.iter().all(|&w| w == 1.0));
    }
    Ok(t.rows
        .iter()
        .zip(&n.snapshots.objective)
        .all(|((_, r), &w)| {
            t.text(r, "generators")
                .and_then(super::table::parse_f64)
                .is_some_and(|g| g == w)
        }))
}

/// The terms of a transmission limit: each extendable line and link whose carrier is one of
/// `carriers` (a line's or link's carrier, else its bus0's, as PyPSA fills it), weighted by
/// its `length` (km; volume) or its annuitised investment cost per MW (cost). Transformers
/// are not counted, as in PyPSA. The files are read again for `carrier` and `length`, which
/// the network does not keep; their problems were reported when they were first read.
fn transmission_terms(
    dir: &Path,
    n: &Network,
    carriers: &[String],
    measure: TransmissionMeasure,
) -> Result<Vec<(EdgeRef, f64)>, Error> {
    let mut terms = Vec::new();
    for (file, bus0) in [("lines.csv", "bus0"), ("links.csv", "bus0")] {
        let Some(t) = Table::read(dir, file)? else {
            continue;
        };
        let mut scratch = Findings::default();
        for i in 0..t.rows.len() {
            let Some(name) = t.text(&t.rows[i].1, "name").map(str::to_string) else {
                continue;
            };
            let Some(edge) = extendable_edge(n, file, &name) else {
                continue;
            };
            let mut c = t.cell(i, name, &mut scratch);
            let carrier = match c.text("carrier") {
                Some(k) => k.to_string(),
                None => bus_carrier(n, c.text(bus0)),
            };
            if !carriers.contains(&carrier) {
                continue;
            }
            let coefficient = match measure {
                TransmissionMeasure::Volume => c.f64("length", 0.0, false),
                TransmissionMeasure::Cost => investment_cost(&mut c, n.years()).unwrap_or(0.0),
            };
            terms.push((edge, coefficient));
        }
    }
    Ok(terms)
}

/// The extendable line (of `lines.csv`) or link (of `links.csv`) named `name`.
fn extendable_edge(n: &Network, file: &str, name: &str) -> Option<EdgeRef> {
    if file == "lines.csv" {
        let l = n
            .branches
            .iter()
            .position(|b| b.kind == BranchKind::Line && b.name == name)?;
        n.branches[l].expansion.map(|_| EdgeRef::Branch(l))
    } else {
        let k = n.links.iter().position(|l| l.name == name)?;
        n.links[k].expansion.map(|_| EdgeRef::Link(k))
    }
}

/// The carrier of the bus named `bus` (`AC` when unknown).
fn bus_carrier(n: &Network, bus: Option<&str>) -> String {
    bus.and_then(|b| n.bus_id(b))
        .map_or_else(|| "AC".to_string(), |b| n.buses[b].carrier.clone())
}
