//! PyPSA CSV folders, as `pypsa.Network.export_to_csv_folder` writes them.
//!
//! Static files `<component>.csv` (first column `name`; a missing column or an empty cell
//! takes PyPSA's default) and time series `<component>-<attr>.csv` (one row per snapshot in
//! snapshot order, one column per element whose value varies). Custom bus columns `zone` or
//! `country` give the zone.

use super::standard_types::{LineTypes, TransformerTypes};
use super::table::{parse_f64, Table};
use crate::error::{Error, Findings};
use crate::network::{
    per_unit_limit, Branch, BranchKind, Bus, Carrier, CostCurve, Expansion, Generator, Link, Load,
    Network, Origin, Series, Snapshots, StorageUnit, Store,
};
use petgraph::graph::EdgeIndex;
use std::collections::HashMap;
use std::path::Path;

/// Time-series attributes we read, per component file stem.
const TIME_SERIES: &[(&str, &[&str])] = &[
    ("generators", &["p_max_pu", "p_min_pu", "marginal_cost"]),
    ("loads", &["p_set"]),
    ("links", &["p_max_pu", "p_min_pu"]),
    (
        "storage_units",
        &["inflow", "p_max_pu", "p_min_pu", "state_of_charge_set"],
    ),
    ("stores", &["e_min_pu", "e_max_pu"]),
    ("lines", &["s_max_pu"]),
    ("transformers", &["s_max_pu"]),
];

/// Read a PyPSA CSV folder. Returns the network and the findings of reading it (errors
/// included: an element with a bad reference is left out and reported, so that every
/// problem is listed at once).
pub fn read_folder(dir: &Path) -> Result<(Network, Findings), Error> {
    if !dir.is_dir() {
        return Err(Error::Format(format!(
            "{}: not a folder (a PyPSA network is a folder of CSV files)",
            dir.display()
        )));
    }
    let mut f = Findings::default();
    let name = read_network_name(dir)?.unwrap_or_else(|| {
        dir.file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let snapshots = read_snapshots(dir, &mut f)?;
    let mut n = Network::new(name, snapshots);
    n.format = crate::network::SourceFormat::PyPsa;
    let Some(buses) = Table::read(dir, "buses.csv")? else {
        return Err(Error::Format(format!(
            "{}: no buses.csv: not a PyPSA network folder",
            dir.display()
        )));
    };
    let dc_buses = read_buses(&mut n, &buses, &mut f);
    if n.buses.is_empty() {
        f.error(
            "buses.csv",
            None,
            None,
            "no buses: every other element needs one",
        );
    }
    read_carriers(dir, &mut n, &mut f)?;
    if let Some(t) = Table::read(dir, "lines.csv")? {
        let types = LineTypes::read(dir, &mut f)?;
        read_lines(&mut n, &t, &types, &dc_buses, &mut f);
    }
    if let Some(t) = Table::read(dir, "transformers.csv")? {
        let types = TransformerTypes::read(dir, &mut f)?;
        read_transformers(&mut n, &t, &types, &mut f);
    }
    if let Some(t) = Table::read(dir, "links.csv")? {
        read_links(&mut n, &t, &mut f);
    }
    if let Some(t) = Table::read(dir, "generators.csv")? {
        read_generators(&mut n, &t, &mut f);
    }
    if let Some(t) = Table::read(dir, "loads.csv")? {
        read_loads(&mut n, &t, &mut f);
    }
    if let Some(t) = Table::read(dir, "storage_units.csv")? {
        read_storage_units(&mut n, &t, &mut f);
    }
    if let Some(t) = Table::read(dir, "stores.csv")? {
        read_stores(&mut n, &t, &mut f);
    }
    for file in ["shunt_impedances.csv"] {
        if let Some(t) = Table::read(dir, file)? {
            if !t.rows.is_empty() {
                f.error(
                    file,
                    None,
                    None,
                    format!(
                        "{} element(s): this component is not supported yet",
                        t.rows.len()
                    ),
                );
            }
        }
    }
    if let Some(t) = Table::read(dir, "global_constraints.csv")? {
        super::global_constraints::read(dir, &mut n, &t, &mut f)?;
    }
    read_time_series(dir, &mut n, &mut f)?;
    Ok((n, f))
}

fn read_network_name(dir: &Path) -> Result<Option<String>, Error> {
    Ok(Table::read(dir, "network.csv")?.and_then(|t| {
        t.rows
            .first()
            .and_then(|(_, r)| t.text(r, "name").map(str::to_string))
    }))
}

fn read_snapshots(dir: &Path, f: &mut Findings) -> Result<Snapshots, Error> {
    let Some(t) = Table::read(dir, "snapshots.csv")? else {
        return Ok(Snapshots {
            names: vec!["now".into()],
            objective: vec![1.0],
            stores: vec![1.0],
        });
    };
    let mut s = Snapshots::default();
    let name_col = if t.has("snapshot") {
        "snapshot".to_string()
    } else if t.has("name") {
        "name".to_string()
    } else {
        t.headers.first().cloned().unwrap_or_default()
    };
    for i in 0..t.rows.len() {
        let name = t
            .text(&t.rows[i].1, &name_col)
            .unwrap_or_default()
            .to_string();
        let mut c = t.cell(i, format!("snapshot '{name}'"), f);
        let objective = c.f64("objective", 1.0, false);
        let stores = c.f64("stores", 1.0, false);
        for (field, v) in [("objective", objective), ("stores", stores)] {
            if v < 0.0 {
                c.error(field, format!("weight {v} is negative"));
            }
        }
        if objective == 0.0 {
            // Prices are the balance duals divided by this weight.
            c.error(
                "objective",
                "weight 0: the snapshot's prices (duals divided by the weight) are undefined; give it a positive weight or leave it out",
            );
        }
        s.names.push(name);
        s.objective.push(objective);
        s.stores.push(stores);
    }
    Ok(s)
}

/// The buses, with their zones. Returns which buses (by index) are of carrier DC: lines
/// between them carry flow by their resistance (PyPSA's DC sub-networks).
fn read_buses(n: &mut Network, t: &Table, f: &mut Findings) -> Vec<bool> {
    let mut dc = Vec::new();
    let zone_col = ["zone", "country"].into_iter().find(|c| t.has(c));
    if zone_col.is_none() && !t.rows.is_empty() {
        f.warning(
            &t.file,
            None,
            Some("zone"),
            "no `zone` or `country` column: every bus is in zone `all`",
        );
    }
    for i in 0..t.rows.len() {
        let Some(name) = element_name(t, i, "bus", f) else {
            continue;
        };
        let mut c = t.cell(i, format!("bus '{name}'"), f);
        let zone = zone_col.map(|z| c.string(z, "")).unwrap_or_default();
        if let (true, Some(col)) = (zone.is_empty(), zone_col) {
            c.warning(col, "empty: the bus is in zone `all`");
        }
        let carrier = c.string("carrier", "AC");
        let zone = if zone.is_empty() {
            "all".to_string()
        } else {
            zone
        };
        let bus = Bus {
            country: c
                .text("country")
                .map(str::to_string)
                .unwrap_or_else(|| zone.clone()),
            zone,
            v_nom: c.f64("v_nom", 1.0, false),
            carrier: carrier.clone(),
            x: c.f64("x", 0.0, false),
            y: c.f64("y", 0.0, false),
            in_service: c.bool("active", true),
            origin: c.origin(),
            name: name.clone(),
        };
        if n.add_bus(bus).is_none() {
            c.error("name", format!("duplicate bus name `{name}`"));
        } else {
            dc.push(carrier == "DC");
        }
    }
    dc
}

fn read_carriers(dir: &Path, n: &mut Network, f: &mut Findings) -> Result<(), Error> {
    let Some(t) = Table::read(dir, "carriers.csv")? else {
        return Ok(());
    };
    let mut seen = HashMap::new();
    for i in 0..t.rows.len() {
        let Some(name) = element_name(&t, i, "carrier", f) else {
            continue;
        };
        let mut c = t.cell(i, format!("carrier '{name}'"), f);
        let co2 = c.f64("co2_emissions", 0.0, false);
        if seen.insert(name.clone(), ()).is_some() {
            c.error("name", format!("duplicate carrier name `{name}`"));
            continue;
        }
        n.carriers.push(Carrier {
            name,
            co2_emissions: co2,
        });
    }
    Ok(())
}

/// The `name` cell of row `i`, or an error finding when it is empty.
pub(super) fn element_name(t: &Table, i: usize, kind: &str, f: &mut Findings) -> Option<String> {
    let (line, row) = &t.rows[i];
    let name = t
        .text(row, "name")
        .or_else(|| row.get(0).map(str::trim).filter(|s| !s.is_empty()));
    if name.is_none() {
        f.error(
            Origin::new(&t.file, *line),
            Some(kind.to_string()),
            Some("name"),
            "empty name",
        );
    }
    name.map(str::to_string)
}

/// Look up a bus reference, recording an error naming the field when it is unknown.
fn bus_ref(n: &Network, c: &mut super::table::Cells, field: &str) -> Option<usize> {
    match c.text(field) {
        None => {
            c.error(field, "missing bus");
            None
        }
        Some(name) => match n.bus_id(name) {
            Some(id) => Some(id),
            None => {
                let name = name.to_string();
                c.error(field, format!("unknown bus `{name}`"));
                None
            }
        },
    }
}

/// Remember element names per component, reporting duplicates.
struct Names(HashMap<String, ()>);

impl Names {
    fn new() -> Self {
        Names(HashMap::new())
    }
    fn fresh(&mut self, name: &str, c: &mut super::table::Cells, kind: &str) -> bool {
        if self.0.insert(name.to_string(), ()).is_some() {
            c.error("name", format!("duplicate {kind} name `{name}`"));
            false
        } else {
            true
        }
    }
}

/// A quadratic cost is modelled for generators only (by `--pwl-segments`); elsewhere it is
/// an error rather than dropped.
fn refuse_quadratic_cost(c: &mut super::table::Cells, what: &str) {
    if c.f64("marginal_cost_quadratic", 0.0, false) != 0.0 {
        c.error(
            "marginal_cost_quadratic",
            format!("a quadratic cost of {what} is not supported"),
        );
    }
}

/// The capacity the optimisation may choose, where `<nom>_extendable` (`nom` is `p_nom` or
/// `s_nom`) says so: bounds `<nom>_min`, `<nom>_max` and PyPSA's periodized cost over the
/// horizon of `years` years ([`periodized_cost`]). `None` for a fixed capacity.
fn expansion(c: &mut super::table::Cells, nom: &str, years: f64) -> Option<Expansion> {
    if !c.bool(&format!("{nom}_extendable"), false) {
        return None;
    }
    let mod_field = format!("{nom}_mod");
    if c.f64(&mod_field, 0.0, false) != 0.0 {
        c.error(
            &mod_field,
            "modular capacity needs integer variables: gridtrade solves LPs only",
        );
    }
    let min_field = format!("{nom}_min");
    let nom_min = c.f64(&min_field, 0.0, false);
    let nom_max = c.f64(&format!("{nom}_max"), f64::INFINITY, true);
    if !(nom_min >= 0.0 && nom_min <= nom_max) {
        c.error(
            &min_field,
            format!("{nom_min} MW: must be >= 0 and <= {nom}_max ({nom_max} MW)"),
        );
    }
    let cost = periodized_cost(c, years)?;
    Some(Expansion {
        nom_min,
        nom_max,
        cost,
    })
}

/// PyPSA's periodized cost of one MW, currency/MW over the horizon: [`investment_cost`]
/// plus `fom_cost`.
fn periodized_cost(c: &mut super::table::Cells, years: f64) -> Option<f64> {
    let fom = c.f64("fom_cost", 0.0, false);
    Some(investment_cost(c, years)? + fom)
}

/// PyPSA's annuitised investment cost of one MW over the horizon (its `capital_cost`
/// property, without fixed O&M), currency/MW: `overnight_cost` annuitised at
/// `discount_rate` over `lifetime` (years; infinite by default) times the horizon's
/// `years`, where an overnight cost is given, else `capital_cost` as it stands.
pub(super) fn investment_cost(c: &mut super::table::Cells, years: f64) -> Option<f64> {
    if c.text("overnight_cost").is_none() {
        return Some(c.f64("capital_cost", 0.0, false));
    }
    let overnight = c.f64("overnight_cost", 0.0, false);
    let lifetime = c.f64("lifetime", f64::INFINITY, true);
    if c.text("discount_rate").is_none() {
        c.error(
            "discount_rate",
            "missing: an overnight_cost is annuitised at the discount rate",
        );
        return None;
    }
    let rate = c.f64("discount_rate", 0.0, false);
    if !(lifetime > 0.0) {
        c.error("lifetime", format!("{lifetime} years: must be > 0"));
        return None;
    }
    Some(overnight * annuity(rate, lifetime) * years)
}

/// The share of an overnight cost paid each year over `lifetime` years at discount `rate`
/// (PyPSA's `annuity`): `r / (1 - (1 + r)^-n)`; `1/n` at `r = 0`; `max(r, 0)` for an
/// infinite lifetime.
fn annuity(rate: f64, lifetime: f64) -> f64 {
    if lifetime.is_infinite() {
        rate.max(0.0)
    } else if rate == 0.0 {
        1.0 / lifetime
    } else {
        rate / (1.0 - (1.0 + rate).powf(-lifetime))
    }
}

/// A line's series reactance and resistance, ohm: from its `type` where it names one (a
/// standard type or one of the folder's `line_types.csv`: per km × `length` /
/// `num_parallel`, replacing any `x`, `r` given, as PyPSA), else `x` and `r` as given.
fn line_impedance(c: &mut super::table::Cells, types: &LineTypes) -> (f64, f64) {
    let Some(type_name) = c.text("type").map(str::to_string) else {
        return (c.f64("x", 0.0, false), c.f64("r", 0.0, false));
    };
    let length = c.f64("length", 0.0, false);
    let num_parallel = c.f64("num_parallel", 1.0, false);
    let Some(line_type) = types.get(&type_name) else {
        c.error(
            "type",
            format!("unknown line type `{type_name}`: not one of PyPSA's standard types nor in the folder's line_types.csv"),
        );
        return (0.0, 0.0);
    };
    if !(length > 0.0) {
        c.error(
            "length",
            format!("{length} km: a line of type `{type_name}` takes its impedance from its length, which must be > 0"),
        );
    }
    if !(num_parallel > 0.0) {
        c.error(
            "num_parallel",
            format!("{num_parallel}: the number of parallel circuits must be > 0"),
        );
        return (0.0, 0.0);
    }
    line_type.impedance(length, num_parallel)
}

/// DC lines (both buses of carrier DC) carry flow by resistance: PyPSA's linear power flow
/// states Kirchhoff's voltage law of a DC sub-network with r in place of x, so the engine's
/// series reactance of such a line is its r. A line between a DC and an AC bus is an error.
fn dc_line_reactance(c: &mut super::table::Cells, dc: (bool, bool), x: f64, r: f64) -> f64 {
    match dc {
        (false, false) => x,
        (true, true) => {
            if !(r > 0.0) {
                c.error(
                    "r",
                    format!("{r}: a DC line's flow follows its resistance, which must be > 0"),
                );
            }
            r
        }
        _ => {
            c.error(
                "bus1",
                "joins a DC bus and an AC bus: a converter is a link",
            );
            x
        }
    }
}

fn read_lines(n: &mut Network, t: &Table, types: &LineTypes, dc_buses: &[bool], f: &mut Findings) {
    let mut names = Names::new();
    for i in 0..t.rows.len() {
        let Some(name) = element_name(t, i, "line", f) else {
            continue;
        };
        let mut c = t.cell(i, format!("line '{name}'"), f);
        let bus0 = bus_ref(n, &mut c, "bus0");
        let bus1 = bus_ref(n, &mut c, "bus1");
        let expansion = expansion(&mut c, "s_nom", n.years());
        let (x_ohm, r_ohm) = line_impedance(&mut c, types);
        let s_nom = c.f64("s_nom", 0.0, true);
        let s_max_pu = c.f64("s_max_pu", 1.0, true);
        let in_service = c.bool("active", true);
        if !names.fresh(&name, &mut c, "line") {
            continue;
        }
        let (Some(bus0), Some(bus1)) = (bus0, bus1) else {
            continue;
        };
        // A DC line's r stands in its x (and its r is then 0, so that no convention counts
        // it twice).
        let dc = (dc_buses[bus0], dc_buses[bus1]);
        let x_ohm = dc_line_reactance(&mut c, dc, x_ohm, r_ohm);
        let r_ohm = if dc == (true, true) { 0.0 } else { r_ohm };
        // PyPSA: x_pu = x / v_nom(bus0)^2 on a 1 MVA base.
        let v2 = n.buses[bus0].v_nom.powi(2);
        n.add_branch(Branch {
            name,
            kind: BranchKind::Line,
            bus0,
            bus1,
            x: x_ohm / v2,
            r: r_ohm / v2,
            s_max: per_unit_limit(s_nom, s_max_pu),
            s_nom,
            s_max_pu: Series::Static(s_max_pu),
            expansion,
            tap_ratio: 1.0,
            phase_shift: 0.0,
            angle_min: None,
            angle_max: None,
            in_service,
            edge: EdgeIndex::new(0),
            origin: c.origin(),
        });
    }
}

/// The parameters a transformer's standard type sets (PyPSA's `apply_transformer_types`):
/// series x and r per unit on s_nom, s_nom (MVA), tap ratio and phase shift (degrees).
struct TransformerParameters {
    x: f64,
    r: f64,
    s_nom: f64,
    tap_ratio: f64,
    phase_shift: f64,
}

/// A transformer's parameters: from its `type` where it names one (replacing x, r, s_nom,
/// tap_ratio and phase_shift given in the file, as PyPSA), else as given.
fn transformer_parameters(
    c: &mut super::table::Cells,
    types: &TransformerTypes,
) -> Option<TransformerParameters> {
    let Some(type_name) = c.text("type").map(str::to_string) else {
        return Some(TransformerParameters {
            x: c.f64("x", 0.0, false),
            r: c.f64("r", 0.0, false),
            s_nom: c.f64("s_nom", 0.0, true),
            tap_ratio: c.f64("tap_ratio", 1.0, false),
            phase_shift: c.f64("phase_shift", 0.0, false),
        });
    };
    let Some(ty) = types.get(&type_name) else {
        c.error(
            "type",
            format!("unknown transformer type `{type_name}`: not one of PyPSA's standard types nor in the folder's transformer_types.csv"),
        );
        return None;
    };
    let num_parallel = c.f64("num_parallel", 1.0, false);
    if !(num_parallel > 0.0) {
        c.error(
            "num_parallel",
            format!("{num_parallel}: the number of parallel units must be > 0"),
        );
        return None;
    }
    let (x, r) = ty.impedance(num_parallel);
    Some(TransformerParameters {
        x,
        r,
        s_nom: ty.s_nom,
        tap_ratio: ty.tap_ratio(c.f64("tap_position", 0.0, false)),
        phase_shift: ty.phase_shift,
    })
}

fn read_transformers(n: &mut Network, t: &Table, types: &TransformerTypes, f: &mut Findings) {
    let mut names = Names::new();
    for i in 0..t.rows.len() {
        let Some(name) = element_name(t, i, "transformer", f) else {
            continue;
        };
        let mut c = t.cell(i, format!("transformer '{name}'"), f);
        let bus0 = bus_ref(n, &mut c, "bus0");
        let bus1 = bus_ref(n, &mut c, "bus1");
        let expansion = expansion(&mut c, "s_nom", n.years());
        let Some(TransformerParameters {
            x,
            r,
            s_nom,
            tap_ratio,
            phase_shift,
        }) = transformer_parameters(&mut c, types)
        else {
            continue;
        };
        let s_max_pu = c.f64("s_max_pu", 1.0, true);
        let in_service = c.bool("active", true);
        if !names.fresh(&name, &mut c, "transformer") {
            continue;
        }
        if !(s_nom > 0.0) {
            c.error(
                "s_nom",
                format!("{s_nom}: a transformer's x is per unit on s_nom, which must be > 0"),
            );
            continue;
        }
        let (Some(bus0), Some(bus1)) = (bus0, bus1) else {
            continue;
        };
        // PyPSA: x and r are per unit on base s_nom; on a 1 MVA base divide by s_nom.
        n.add_branch(Branch {
            name,
            kind: BranchKind::Transformer,
            bus0,
            bus1,
            x: if s_nom.is_finite() { x / s_nom } else { x },
            r: if s_nom.is_finite() { r / s_nom } else { r },
            s_max: per_unit_limit(s_nom, s_max_pu),
            s_nom,
            s_max_pu: Series::Static(s_max_pu),
            expansion,
            tap_ratio,
            phase_shift,
            angle_min: None,
            angle_max: None,
            in_service,
            edge: EdgeIndex::new(0),
            origin: c.origin(),
        });
    }
}

fn read_links(n: &mut Network, t: &Table, f: &mut Findings) {
    let mut names = Names::new();
    for i in 0..t.rows.len() {
        let Some(name) = element_name(t, i, "link", f) else {
            continue;
        };
        let mut c = t.cell(i, format!("link '{name}'"), f);
        let bus0 = bus_ref(n, &mut c, "bus0");
        let bus1 = bus_ref(n, &mut c, "bus1");
        let expansion = expansion(&mut c, "p_nom", n.years());
        refuse_quadratic_cost(&mut c, "a link");
        for extra in ["bus2", "bus3", "bus4"] {
            if c.text(extra).is_some() {
                c.error(extra, "multi-output links are not supported");
            }
        }
        let link = Link {
            name: name.clone(),
            bus0: bus0.unwrap_or(0),
            bus1: bus1.unwrap_or(0),
            p_nom: c.f64("p_nom", 0.0, true),
            p_min_pu: Series::Static(c.f64("p_min_pu", 0.0, false)),
            p_max_pu: Series::Static(c.f64("p_max_pu", 1.0, false)),
            efficiency: c.f64("efficiency", 1.0, false),
            marginal_cost: c.f64("marginal_cost", 0.0, false),
            expansion,
            in_service: c.bool("active", true),
            edge: EdgeIndex::new(0),
            origin: c.origin(),
        };
        if names.fresh(&name, &mut c, "link") && bus0.is_some() && bus1.is_some() {
            n.add_link(link);
        }
    }
}

fn read_generators(n: &mut Network, t: &Table, f: &mut Findings) {
    let mut names = Names::new();
    for i in 0..t.rows.len() {
        let Some(name) = element_name(t, i, "generator", f) else {
            continue;
        };
        let mut c = t.cell(i, format!("generator '{name}'"), f);
        let bus = bus_ref(n, &mut c, "bus");
        let expansion = expansion(&mut c, "p_nom", n.years());
        if c.bool("committable", false) {
            c.warning(
                "committable",
                "unit commitment is not modelled: the generator is dispatched as an LP",
            );
        }
        let gen = Generator {
            name: name.clone(),
            bus: bus.unwrap_or(0),
            carrier: c.string("carrier", ""),
            p_nom: c.f64("p_nom", 0.0, true),
            p_min_pu: Series::Static(c.f64("p_min_pu", 0.0, false)),
            p_max_pu: Series::Static(c.f64("p_max_pu", 1.0, false)),
            cost: CostCurve::Polynomial {
                marginal_cost: Series::Static(c.f64("marginal_cost", 0.0, false)),
                marginal_cost_quadratic: c.f64("marginal_cost_quadratic", 0.0, false),
                constant: 0.0,
            },
            efficiency: c.f64("efficiency", 1.0, false),
            expansion,
            in_service: c.bool("active", true),
            origin: c.origin(),
        };
        if names.fresh(&name, &mut c, "generator") && bus.is_some() {
            n.generators.push(gen);
        }
    }
}

fn read_loads(n: &mut Network, t: &Table, f: &mut Findings) {
    let mut names = Names::new();
    for i in 0..t.rows.len() {
        let Some(name) = element_name(t, i, "load", f) else {
            continue;
        };
        let mut c = t.cell(i, format!("load '{name}'"), f);
        let bus = bus_ref(n, &mut c, "bus");
        let sign = c.f64("sign", -1.0, false);
        if sign != -1.0 {
            c.error(
                "sign",
                format!(
                    "{sign}: only PyPSA's default sign -1 (a load withdraws p_set) is supported"
                ),
            );
        }
        let load = Load {
            name: name.clone(),
            bus: bus.unwrap_or(0),
            p_set: Series::Static(c.f64("p_set", 0.0, false)),
            in_service: c.bool("active", true),
            origin: c.origin(),
        };
        if names.fresh(&name, &mut c, "load") && bus.is_some() {
            n.loads.push(load);
        }
    }
}

fn read_storage_units(n: &mut Network, t: &Table, f: &mut Findings) {
    let mut names = Names::new();
    for i in 0..t.rows.len() {
        let Some(name) = element_name(t, i, "storage unit", f) else {
            continue;
        };
        let mut c = t.cell(i, format!("storage unit '{name}'"), f);
        let bus = bus_ref(n, &mut c, "bus");
        let expansion = expansion(&mut c, "p_nom", n.years());
        refuse_quadratic_cost(&mut c, "a storage unit");
        let su = StorageUnit {
            name: name.clone(),
            bus: bus.unwrap_or(0),
            carrier: c.string("carrier", ""),
            p_nom: c.f64("p_nom", 0.0, false),
            p_min_pu: Series::Static(c.f64("p_min_pu", -1.0, false)),
            p_max_pu: Series::Static(c.f64("p_max_pu", 1.0, false)),
            max_hours: c.f64("max_hours", 1.0, false),
            efficiency_store: c.f64("efficiency_store", 1.0, false),
            efficiency_dispatch: c.f64("efficiency_dispatch", 1.0, false),
            standing_loss: c.f64("standing_loss", 0.0, false),
            inflow: Series::Static(c.f64("inflow", 0.0, false)),
            state_of_charge_initial: c.f64("state_of_charge_initial", 0.0, false),
            state_of_charge_set: Vec::new(),
            cyclic_state_of_charge: c.bool("cyclic_state_of_charge", false),
            marginal_cost: c.f64("marginal_cost", 0.0, false),
            spill_cost: c.f64("spill_cost", 0.0, false),
            marginal_cost_storage: c.f64("marginal_cost_storage", 0.0, false),
            expansion,
            in_service: c.bool("active", true),
            origin: c.origin(),
        };
        if names.fresh(&name, &mut c, "storage unit") && bus.is_some() {
            n.storage_units.push(su);
        }
    }
}

fn read_stores(n: &mut Network, t: &Table, f: &mut Findings) {
    let mut names = Names::new();
    for i in 0..t.rows.len() {
        let Some(name) = element_name(t, i, "store", f) else {
            continue;
        };
        let mut c = t.cell(i, format!("store '{name}'"), f);
        let bus = bus_ref(n, &mut c, "bus");
        let expansion = expansion(&mut c, "e_nom", n.years());
        for (field, default) in [
            ("p_set", 0.0),
            ("marginal_cost_quadratic", 0.0),
            ("sign", 1.0),
        ] {
            if c.f64(field, default, false) != default {
                c.error(
                    field,
                    format!("a store's {field} other than {default} is not supported"),
                );
            }
        }
        let store = Store {
            name: name.clone(),
            bus: bus.unwrap_or(0),
            carrier: c.string("carrier", ""),
            e_nom: c.f64("e_nom", 0.0, true),
            e_min_pu: Series::Static(c.f64("e_min_pu", 0.0, false)),
            e_max_pu: Series::Static(c.f64("e_max_pu", 1.0, false)),
            e_initial: c.f64("e_initial", 0.0, false),
            e_cyclic: c.bool("e_cyclic", false),
            standing_loss: c.f64("standing_loss", 0.0, false),
            marginal_cost: c.f64("marginal_cost", 0.0, false),
            marginal_cost_storage: c.f64("marginal_cost_storage", 0.0, false),
            expansion,
            in_service: c.bool("active", true),
            origin: c.origin(),
        };
        if names.fresh(&name, &mut c, "store") && bus.is_some() {
            n.stores.push(store);
        }
    }
}

/// Read every `<component>-<attr>.csv` in the folder.
fn read_time_series(dir: &Path, n: &mut Network, f: &mut Findings) -> Result<(), Error> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".csv") && name.contains('-'))
        .collect();
    files.sort();
    for file in files {
        let stem = file.trim_end_matches(".csv");
        let Some((component, attr)) = stem.split_once('-') else {
            continue;
        };
        if component.ends_with("_t") || is_result(attr) {
            continue; // results of a solve (PyPSA exports them beside the inputs)
        }
        let supported = TIME_SERIES
            .iter()
            .find(|(c, _)| *c == component)
            .map(|(_, attrs)| attrs.contains(&attr));
        match supported {
            None => {
                f.warning(
                    &file,
                    None,
                    None,
                    format!("unknown component `{component}`: file ignored"),
                );
                continue;
            }
            Some(false) => {
                f.error(
                    &file,
                    None,
                    Some(attr),
                    format!("time-varying `{attr}` of {component} is not supported"),
                );
                continue;
            }
            Some(true) => {}
        }
        let t = Table::read(dir, &file)?.expect("listed file exists");
        if attr == "state_of_charge_set" {
            read_state_of_charge_set(n, &t, f);
        } else {
            read_series_table(n, &t, component, attr, f);
        }
    }
    // A rating that varies by snapshot: `s_max` is its largest.
    for b in n.branches.iter_mut().filter(|b| b.s_max_pu.is_hourly()) {
        b.update_rating();
    }
    Ok(())
}

/// `storage_units-state_of_charge_set.csv`: a level (MWh) where a storage unit's state of
/// charge is fixed, empty or `nan` where it is free (PyPSA's convention).
fn read_state_of_charge_set(n: &mut Network, t: &Table, f: &mut Findings) {
    let len = n.snapshots.len();
    if t.rows.len() != len {
        f.error(
            &t.file,
            None,
            Some("state_of_charge_set"),
            format!(
                "{} rows, but the network has {len} snapshots (snapshots.csv)",
                t.rows.len()
            ),
        );
        return;
    }
    for (col, element) in t.headers.iter().enumerate().skip(1) {
        let Some(s) = n.storage_units.iter().position(|s| &s.name == element) else {
            f.error(
                &t.file,
                Some(format!("column '{element}'")),
                Some("state_of_charge_set"),
                format!("no storage unit is named `{element}`"),
            );
            continue;
        };
        let mut levels = Vec::with_capacity(len);
        for (line, row) in &t.rows {
            let text = row.get(col).map(str::trim).unwrap_or("");
            levels.push(match parse_f64(text) {
                _ if text.is_empty() => None,
                Some(v) if v.is_nan() => None,
                Some(v) if v.is_finite() => Some(v),
                _ => {
                    f.error(
                        Origin::new(&t.file, *line),
                        Some(format!("storage unit '{element}'")),
                        Some("state_of_charge_set"),
                        format!("`{text}` is not a level in MWh (empty or nan: free)"),
                    );
                    None
                }
            });
        }
        n.storage_units[s].state_of_charge_set = levels;
    }
}

/// Time-series attributes that PyPSA writes as results of a solve, not inputs.
fn is_result(attr: &str) -> bool {
    const RESULTS: &[&str] = &[
        "p",
        "q",
        "p0",
        "p1",
        "q0",
        "q1",
        "marginal_price",
        "v_ang",
        "v_mag_pu",
        "state_of_charge",
        "p_dispatch",
        "p_store",
        "spill",
        "e",
        "status",
        "s",
    ];
    RESULTS.contains(&attr)
        || attr.starts_with("mu_")
        || (attr.len() > 1
            && attr.starts_with('p')
            && attr[1..].chars().all(|c| c.is_ascii_digit()))
}

fn read_series_table(n: &mut Network, t: &Table, component: &str, attr: &str, f: &mut Findings) {
    let len = n.snapshots.len();
    if t.rows.len() != len {
        f.error(
            &t.file,
            None,
            Some(attr),
            format!(
                "{} rows, but the network has {len} snapshots (snapshots.csv)",
                t.rows.len()
            ),
        );
        return;
    }
    let names: Vec<String> = match component {
        "generators" => n.generators.iter().map(|e| e.name.clone()).collect(),
        "loads" => n.loads.iter().map(|e| e.name.clone()).collect(),
        "links" => n.links.iter().map(|e| e.name.clone()).collect(),
        "storage_units" => n.storage_units.iter().map(|e| e.name.clone()).collect(),
        "stores" => n.stores.iter().map(|e| e.name.clone()).collect(),
        // By branch index; a branch of the other kind gets a name no column can have.
        "lines" | "transformers" => n
            .branches
            .iter()
            .map(|b| match (b.kind, component) {
                (BranchKind::Line, "lines") | (BranchKind::Transformer, "transformers") => {
                    b.name.clone()
                }
                _ => "\0".to_string(),
            })
            .collect(),
        _ => Vec::new(),
    };
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.as_str(), i))
        .collect();
    for (col, element) in t.headers.iter().enumerate().skip(1) {
        let mut values = Vec::with_capacity(len);
        for (line, row) in &t.rows {
            let text = row.get(col).map(str::trim).unwrap_or("");
            match parse_f64(text) {
                Some(v) if v.is_finite() => values.push(v),
                _ => {
                    f.error(
                        Origin::new(&t.file, *line),
                        Some(format!("{component} '{element}'")),
                        Some(attr),
                        format!("`{text}` is not a finite number"),
                    );
                    values.push(0.0);
                }
            }
        }
        let series = Series::hourly(values);
        let target: Option<&mut Series> = match (component, index.get(element.as_str())) {
            (_, None) => None,
            ("generators", Some(&i)) => {
                let g = &mut n.generators[i];
                Some(match attr {
                    "p_max_pu" => &mut g.p_max_pu,
                    "p_min_pu" => &mut g.p_min_pu,
                    _ => match &mut g.cost {
                        CostCurve::Polynomial { marginal_cost, .. } => marginal_cost,
                        CostCurve::PiecewiseLinear(_) => unreachable!("PyPSA costs are linear"),
                    },
                })
            }
            ("loads", Some(&i)) => Some(&mut n.loads[i].p_set),
            ("links", Some(&i)) if attr == "p_max_pu" => Some(&mut n.links[i].p_max_pu),
            ("links", Some(&i)) => Some(&mut n.links[i].p_min_pu),
            ("storage_units", Some(&i)) => Some(match attr {
                "p_max_pu" => &mut n.storage_units[i].p_max_pu,
                "p_min_pu" => &mut n.storage_units[i].p_min_pu,
                _ => &mut n.storage_units[i].inflow,
            }),
            ("stores", Some(&i)) if attr == "e_min_pu" => Some(&mut n.stores[i].e_min_pu),
            ("stores", Some(&i)) => Some(&mut n.stores[i].e_max_pu),
            ("lines" | "transformers", Some(&i)) => Some(&mut n.branches[i].s_max_pu),
            _ => None,
        };
        match target {
            Some(slot) => *slot = series,
            None => f.error(
                &t.file,
                Some(format!("column '{element}'")),
                Some(attr),
                format!("no {component} element is named `{element}`"),
            ),
        }
    }
}
