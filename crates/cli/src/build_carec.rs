//! Build `networks/carec/`, the CAREC regional network as a PyPSA CSV folder, from the
//! sourced inputs in `networks/sources/carec-data/`.
//!
//!     cargo run --release --bin build-carec
//!     cargo run --release --bin build-carec -- --data networks/sources/carec-data \
//!         --grid networks/sources/carec-grid --out networks/carec
//!
//! Every modelling choice made here is listed in `networks/carec/README.md`; the numbers
//! written are a deterministic function of the inputs, so the folder can be rebuilt and
//! compared byte for byte.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "build_carec/plan.rs"]
mod plan;
#[path = "build_carec/subzones.rs"]
mod subzones;

use subzones::Splits;

type Res<T> = Result<T, Box<dyn Error>>;

const HOURS: usize = 8760;
/// Value of lost load, USD/MWh: the brief's suggested default (BRIEF.md §4.2, an estimate).
const VOLL: f64 = 1000.0;
/// Boundary zones buy from the region at this share of their selling price (estimate), so
/// that buying from one neighbour and selling the same power back to it never pays.
const EXPORT_PRICE_SHARE: f64 = 0.6;
/// Boundary zones buy at most this share of their link capacity (estimate): Kazakhstan's
/// exports to Russia were 50-200 GWh a month in 2021-23 (BRIEF.md), about 0.1-0.3 GW on
/// average, while its cheapest coal (4-5 USD/MWh) would otherwise fill every border line.
const EXPORT_CAPACITY_SHARE: f64 = 0.1;

#[derive(Debug, serde::Deserialize)]
struct Zone {
    id: String,
    country: String,
    lat: f64,
    lon: f64,
    peak_demand_mw: f64,
    annual_demand_twh: f64,
    role: String,
}

#[derive(Debug, serde::Deserialize)]
struct GenRow {
    zone: String,
    technology: String,
    capacity_mw: f64,
    marginal_cost_usd_per_mwh: f64,
    co2_t_per_mwh: f64,
}

#[derive(Debug, serde::Deserialize)]
struct Interconnector {
    id: String,
    from_zone: String,
    to_zone: String,
    capacity_mw: f64,
    voltage_kv: f64,
    kind: String,
    length_km: f64,
    status: String,
}

/// One AC circuit of a corridor of the synchronous system (`carec-grid/ac_circuits.csv`).
#[derive(Debug, serde::Deserialize)]
struct Circuit {
    corridor: String,
    circuit: u32,
    voltage_kv: f64,
    length_km: f64,
    /// Sourced rating, MW; blank: a share of the corridor's capacity (see [`ratings`]).
    capacity_mw: Option<f64>,
    caps_ring_lines: String,
}

#[derive(Debug, serde::Deserialize)]
struct StorageRow {
    zone: String,
    name: String,
    kind: String,
    power_mw: f64,
    energy_mwh: Option<f64>,
    status: String,
}

/// Hourly profiles of the Agora/UCA excerpt, keyed by (node, technology or profile type).
struct Profiles(BTreeMap<(String, String), Vec<f64>>);

impl Profiles {
    fn read(path: &Path) -> Res<Profiles> {
        let mut out = BTreeMap::new();
        let text = std::fs::read_to_string(path)?;
        let text = text.trim_start_matches('\u{feff}');
        let mut r = csv::Reader::from_reader(text.as_bytes());
        for rec in r.records() {
            let rec = rec?;
            let values: Vec<f64> = rec
                .iter()
                .skip(3)
                .map(|v| v.parse())
                .collect::<Result<_, _>>()?;
            if values.len() != HOURS {
                return Err(format!(
                    "{}: {} values for {}",
                    path.display(),
                    values.len(),
                    &rec[1]
                )
                .into());
            }
            out.insert((rec[1].to_string(), rec[2].to_string()), values);
        }
        Ok(Profiles(out))
    }
    fn get(&self, node: &str, what: &str) -> Res<&Vec<f64>> {
        self.0
            .get(&(node.to_string(), what.to_string()))
            .ok_or_else(|| format!("no Agora profile {what} for {node}").into())
    }
}

/// Which Agora node stands in for each zone's climate (demand, solar, wind, hydro shape).
/// Zones outside the five Agora nodes borrow a neighbour's; README.md explains each.
fn climate_node(zone: &str) -> &'static str {
    match zone {
        "KZ_N" => "KZ_NR",
        "KZ_S" => "KZ_SO",
        "KZ_W" => "KZ_WS",
        "UZ" => "UZ_UZ",
        "KG_N" | "KG_S" => "KG_KG",
        // Mountain hydro systems south of the Kyrgyz ones.
        "TJ_N" | "TJ_S" => "KG_KG",
        // Hot, dry continental lowlands like Uzbekistan.
        "TM" | "AF_N" | "AF_W" | "PK_N" | "PK_S" => "UZ_UZ",
        // Cold continental steppe like northern Kazakhstan.
        "MN" | "RU_SIB" | "RU_URAL" | "CN_XJ" | "CN_NM" => "KZ_NR",
        // Caspian / Caucasus: western Kazakhstan is the nearest Agora node.
        _ => "KZ_WS",
    }
}

/// Hydro inflow shape: northern Kazakhstan's Irtysh has its own; everywhere else the
/// snow-melt shape of the Syr Darya basin (Agora HROR for KZ_SO, UZ and KG, identical).
fn hydro_node(zone: &str) -> &'static str {
    if zone == "KZ_N" {
        "KZ_NR"
    } else {
        "KG_KG"
    }
}

/// CO2 per MWh of fuel, t/MWh_th, by technology (Agora factors for KZ/UZ/KG; BRIEF.md §6).
fn fuel_co2(technology: &str) -> f64 {
    match technology {
        t if t.starts_with("gas") => 0.20,
        t if t.starts_with("lignite") => 0.363,
        t if t.starts_with("coal") => 0.353,
        t if t.starts_with("oil") => 0.28,
        _ => 0.0,
    }
}

/// Hourly availability of thermal plants: 0.85 of nameplate (estimate: planned and forced
/// outages). Agora's `technologies.csv` p_max_pu (gas 0.59, coal 0.67, oil 0.35) are caps on
/// the annual capacity factor in a model that also invests; applied hour by hour to today's
/// fleet they leave the region short of capacity in every winter hour, so they are not used.
const THERMAL_AVAILABILITY: f64 = 0.85;

/// Zones whose demand peaks in summer (cooling) although their borrowed Agora shape peaks in
/// winter: the shape is shifted by 26 weeks (4368 h), which keeps weekdays and hours aligned.
fn summer_peaking(zone: &str) -> bool {
    matches!(zone, "PK_N" | "PK_S")
}

/// Transmission efficiency of a corridor (estimate): AC 6 % per 1000 km; DC 1.5 % for the
/// converter pair plus 3 % per 1000 km.
fn efficiency(kind: &str, length_km: f64) -> f64 {
    let loss = if kind == "DC" {
        0.015 + 0.03 * length_km / 1000.0
    } else {
        0.06 * length_km / 1000.0
    };
    1.0 - loss
}

/// Demand shape scaled to an annual energy and a peak: `d = E * s^k / sum(s^k)` with `k`
/// found by bisection so that `max d = peak` (k = 1 keeps the Agora shape).
fn scale_demand(shape: &[f64], annual_mwh: f64, peak_mw: f64) -> (Vec<f64>, f64) {
    let curve = |k: f64| {
        let pow: Vec<f64> = shape.iter().map(|s| s.powf(k)).collect();
        let sum: f64 = pow.iter().sum();
        pow.into_iter()
            .map(|p| annual_mwh * p / sum)
            .collect::<Vec<f64>>()
    };
    let peak_of = |k: f64| curve(k).into_iter().fold(0.0, f64::max);
    let (mut lo, mut hi) = (0.0, 1.0);
    while peak_of(hi) < peak_mw && hi < 64.0 {
        hi *= 2.0;
    }
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if peak_of(mid) < peak_mw {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let k = 0.5 * (lo + hi);
    (curve(k), k)
}

fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> Res<Vec<T>> {
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for rec in r.deserialize() {
        out.push(rec.map_err(|e| format!("{}: {e}", path.display()))?);
    }
    Ok(out)
}

/// Format a number compactly (six significant digits are plenty for MW and per-unit values).
fn num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = format!("{:.6}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

struct Series {
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl Series {
    fn new() -> Self {
        Series {
            names: Vec::new(),
            columns: Vec::new(),
        }
    }
    fn push(&mut self, name: String, values: Vec<f64>) {
        self.names.push(name);
        self.columns.push(values);
    }
    fn write(&self, path: &Path) -> Res<()> {
        let mut out = String::with_capacity(HOURS * (self.names.len() * 8 + 6));
        out.push(',');
        out.push_str(
            &self
                .names
                .iter()
                .map(|n| quote(n))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
        for t in 0..HOURS {
            let _ = write!(out, "{t}");
            for c in &self.columns {
                out.push(',');
                out.push_str(&num(c[t]));
            }
            out.push('\n');
        }
        std::fs::write(path, out)?;
        Ok(())
    }
}

fn quote(s: &str) -> String {
    if s.contains(',') || s.contains('"') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_table(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Res<()> {
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&r.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    std::fs::write(path, out)?;
    Ok(())
}

/// The sourced inputs.
struct Inputs {
    zones: Vec<Zone>,
    gens: Vec<GenRow>,
    ics: Vec<Interconnector>,
    /// The AC circuits of the corridors that are lines; every other corridor is a link.
    circuits: Vec<Circuit>,
    storage: Vec<StorageRow>,
    /// Zones split into subzones (Uzbekistan), with what goes where.
    splits: Splits,
    /// Agora demand shapes and availability (solar, wind, run-of-river) per climate node.
    demand: Profiles,
    avail: Profiles,
}

impl Inputs {
    fn read(data: &Path, grid: &Path) -> Res<Inputs> {
        let agora = data.join("agora-central-asia/global_input");
        Ok(Inputs {
            zones: read_csv(&data.join("zones.csv"))?,
            gens: read_csv(&data.join("generators.csv"))?,
            ics: read_csv(&data.join("interconnectors.csv"))?,
            circuits: read_csv(&grid.join("ac_circuits.csv"))?,
            storage: read_csv(&data.join("storage.csv"))?,
            splits: Splits::read(grid)?,
            demand: Profiles::read(&agora.join("demand_profile.csv"))?,
            avail: Profiles::read(&agora.join("availability.csv"))?,
        })
    }

    fn zone(&self, id: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.id == id)
    }

    /// Power of the named reservoirs of a zone, MW (they are storage units).
    fn named_storage(&self, zone: &str) -> f64 {
        self.storage
            .iter()
            .filter(|s| s.zone == zone && s.kind == "reservoir_hydro")
            .map(|s| s.power_mw)
            .sum()
    }
}

/// `--data DIR --grid DIR --out DIR`, with the repository's folders as defaults.
fn parse_args() -> Res<(PathBuf, PathBuf, PathBuf)> {
    let mut data = PathBuf::from("networks/sources/carec-data");
    let mut grid = PathBuf::from("networks/sources/carec-grid");
    let mut out = PathBuf::from("networks/carec");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--data" => data = args.next().ok_or("--data needs a folder")?.into(),
            "--grid" => grid = args.next().ok_or("--grid needs a folder")?.into(),
            "--out" => out = args.next().ok_or("--out needs a folder")?.into(),
            other => {
                return Err(format!(
                    "unknown argument {other} (use --data DIR --grid DIR --out DIR)"
                )
                .into())
            }
        }
    }
    Ok((data, grid, out))
}

fn main() -> Res<()> {
    let (data, grid, out) = parse_args()?;
    let inputs = Inputs::read(&data, &grid)?;
    std::fs::create_dir_all(&out)?;
    write_snapshots(&out)?;
    let buses = write_buses(&inputs, &out)?;
    let validation = write_loads(&inputs, &out)?;
    let generators = write_generators(&inputs, &out)?;
    let lines = write_lines(&inputs, &out)?;
    let links = write_links(&inputs, &out)?;
    let storage_units = write_storage(&inputs, &out)?;
    let plan_out = out.with_file_name(format!(
        "{}-plan",
        out.file_name()
            .ok_or("--out needs a folder name")?
            .to_string_lossy()
    ));
    let candidates = plan::write(&out, &grid, &plan_out)?;
    print!("{}", validation_table(&validation));
    println!(
        "wrote {} (buses {buses}, generators {generators}, lines {lines}, links {links}, storage units {storage_units}, {HOURS} snapshots) and {} ({candidates} expansion candidates)",
        out.display(),
        plan_out.display(),
    );
    Ok(())
}

/// Snapshots: the Agora base year 2023, hourly; and the network's name.
fn write_snapshots(out: &Path) -> Res<()> {
    let mut snaps = String::from(",snapshot,objective,stores,generators\n");
    let days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut t = 0;
    for (m, d) in days.iter().enumerate() {
        for day in 1..=*d {
            for h in 0..24 {
                let _ = writeln!(
                    snaps,
                    "{t},2023-{:02}-{day:02} {h:02}:00:00,1.0,1.0,1.0",
                    m + 1
                );
                t += 1;
            }
        }
    }
    std::fs::write(out.join("snapshots.csv"), snaps)?;
    std::fs::write(out.join("network.csv"), "name,srid\ncarec,4326\n")?;
    Ok(())
}

/// Buses: one per zone at its load centre, or one per subzone of a split zone (each its
/// own zone of the network, in the zone's country). Returns how many buses were written.
fn write_buses(inputs: &Inputs, out: &Path) -> Res<usize> {
    let mut bus_rows = Vec::new();
    for z in &inputs.zones {
        let row = |name: &str, lon: f64, lat: f64| {
            vec![
                name.to_string(),
                "500".into(),
                num(lon),
                num(lat),
                name.to_string(),
                z.country.clone(),
                z.role.clone(),
            ]
        };
        if inputs.splits.is_split(&z.id) {
            bus_rows.extend(
                inputs
                    .splits
                    .of(&z.id)
                    .map(|s| row(&s.subzone, s.lon, s.lat)),
            );
        } else {
            bus_rows.push(row(&z.id, z.lon, z.lat));
        }
    }
    write_table(
        &out.join("buses.csv"),
        &["name", "v_nom", "x", "y", "zone", "country", "role"],
        &bus_rows,
    )?;
    Ok(bus_rows.len())
}

/// A zone's demand in the network against the cited figures: zone, country, annual TWh
/// cited and in the network, peak MW cited and in the network, the shape exponent.
type DemandCheck = (String, String, f64, f64, f64, f64, f64);

/// Loads: annual demand x Agora shape, reshaped to the sourced peak; a split zone's shared
/// among its subzones by population ([`Splits::demand_shares`]).
fn write_loads(inputs: &Inputs, out: &Path) -> Res<Vec<DemandCheck>> {
    let mut load_rows = Vec::new();
    let mut load_series = Series::new();
    let mut validation = Vec::new();
    for z in inputs.zones.iter().filter(|z| z.role == "core") {
        let mut shape = inputs.demand.get(climate_node(&z.id), "HV_LOAD")?.clone();
        if summer_peaking(&z.id) {
            shape.rotate_left(26 * 7 * 24);
        }
        let (p, k) = scale_demand(&shape, z.annual_demand_twh * 1e6, z.peak_demand_mw);
        let annual: f64 = p.iter().sum::<f64>() / 1e6;
        let peak = p.iter().copied().fold(0.0, f64::max);
        validation.push((
            z.id.clone(),
            z.country.clone(),
            z.annual_demand_twh,
            annual,
            z.peak_demand_mw,
            peak,
            k,
        ));
        for (bus, share) in inputs.splits.demand_shares(&z.id)? {
            load_rows.push(vec![
                format!("{bus} load"),
                bus.clone(),
                "electricity".into(),
            ]);
            load_series.push(format!("{bus} load"), p.iter().map(|v| v * share).collect());
        }
    }
    write_table(
        &out.join("loads.csv"),
        &["name", "bus", "carrier"],
        &load_rows,
    )?;
    load_series.write(&out.join("loads-p_set.csv"))?;
    Ok(validation)
}

/// Generators, their availability series, load shedding and the carriers. Returns how many
/// generators were written.
fn write_generators(inputs: &Inputs, out: &Path) -> Res<usize> {
    let mut carriers: BTreeMap<String, f64> = BTreeMap::new();
    let mut gen_rows = Vec::new();
    let mut gen_series = Series::new();
    for g in &inputs.gens {
        generator(inputs, g, &mut carriers, &mut gen_rows, &mut gen_series)?;
    }
    // Load shedding at the value of lost load in every core zone (PyPSA practice).
    carriers.insert("load_shedding".into(), 0.0);
    for z in inputs.zones.iter().filter(|z| z.role == "core") {
        for (bus, share) in inputs.splits.demand_shares(&z.id)? {
            gen_rows.push(vec![
                format!("{bus} load shedding"),
                bus,
                "load_shedding".into(),
                num(share * z.peak_demand_mw),
                "0".into(),
                "1".into(),
                num(VOLL),
                "1".into(),
            ]);
        }
    }
    write_table(
        &out.join("generators.csv"),
        &[
            "name",
            "bus",
            "carrier",
            "p_nom",
            "p_min_pu",
            "p_max_pu",
            "marginal_cost",
            "efficiency",
        ],
        &gen_rows,
    )?;
    gen_series.write(&out.join("generators-p_max_pu.csv"))?;
    let carrier_rows: Vec<Vec<String>> = carriers
        .iter()
        .map(|(c, f)| vec![c.clone(), num(*f)])
        .collect();
    write_table(
        &out.join("carriers.csv"),
        &["name", "co2_emissions"],
        &carrier_rows,
    )?;
    Ok(gen_rows.len())
}

/// One sourced generator row: its generator (and, for an import boundary, the generator
/// that buys from it), its availability series and its carrier with the fuel's CO2 factor.
fn generator(
    inputs: &Inputs,
    g: &GenRow,
    carriers: &mut BTreeMap<String, f64>,
    gen_rows: &mut Vec<Vec<String>>,
    gen_series: &mut Series,
) -> Res<()> {
    let z = inputs
        .zone(&g.zone)
        .ok_or_else(|| format!("generators.csv: unknown zone {}", g.zone))?;
    let name = format!("{} {}", g.zone, g.technology);
    let (avail, node) = (&inputs.avail, climate_node(&g.zone));
    let mut p_nom = g.capacity_mw;
    let p_min_pu = 0.0;
    let mut p_max_pu = 1.0;
    let mut series: Option<Vec<f64>> = None;
    let mut carrier = g.technology.clone();
    let mut co2_factor = fuel_co2(&g.technology);
    match g.technology.as_str() {
        "solar" => series = Some(avail.get(node, "PHOT")?.clone()),
        "wind" => {
            series = Some(
                avail
                    .get(node, "WTON")?
                    .iter()
                    .map(|v| v.min(1.0))
                    .collect(),
            )
        }
        "hydro_ror" => series = Some(avail.get(hydro_node(&g.zone), "HROR")?.clone()),
        "hydro_reservoir" => {
            // The named reservoirs are storage units; the rest of the zone's reservoir
            // capacity runs with the inflow shape (cascades and unnamed dams).
            p_nom = (g.capacity_mw - inputs.named_storage(&g.zone)).max(0.0);
            if p_nom <= 0.0 {
                return Ok(());
            }
            series = Some(avail.get(hydro_node(&g.zone), "HROR")?.clone());
        }
        "import_boundary" => {
            // Sells to the region at its border price; a second generator buys from it.
            co2_factor = g.co2_t_per_mwh;
            let buy = format!("{} export_boundary", g.zone);
            carriers.insert("export_boundary".into(), 0.0);
            gen_rows.push(vec![
                buy,
                g.zone.clone(),
                "export_boundary".into(),
                num(EXPORT_CAPACITY_SHARE * p_nom),
                "-1".into(),
                "0".into(),
                num(EXPORT_PRICE_SHARE * g.marginal_cost_usd_per_mwh),
                "1".into(),
            ]);
        }
        _ => p_max_pu = THERMAL_AVAILABILITY,
    }
    // efficiency = fuel factor / sourced t/MWh_e, so co2_emissions / efficiency gives the
    // sourced intensity exactly (PyPSA's rule for CO2 per MWh of electricity).
    let efficiency = if g.co2_t_per_mwh > 0.0 && co2_factor > 0.0 {
        co2_factor / g.co2_t_per_mwh
    } else {
        1.0
    };
    if g.co2_t_per_mwh > 0.0 && co2_factor == 0.0 {
        return Err(format!("{name}: CO2 given but no fuel factor for {}", g.technology).into());
    }
    carriers.entry(carrier.clone()).or_insert(co2_factor);
    if carriers[&carrier] != co2_factor {
        carrier = format!("{} ({})", g.technology, z.country);
        carriers.insert(carrier.clone(), co2_factor);
    }
    // A split zone's capacity is shared among its subzones by where its plants are.
    for (bus, share) in inputs.splits.fleet_shares(&g.zone, &g.technology)? {
        let name = format!("{bus} {}", g.technology);
        gen_rows.push(vec![
            name.clone(),
            bus,
            carrier.clone(),
            num(share * p_nom),
            num(p_min_pu),
            num(p_max_pu),
            num(g.marginal_cost_usd_per_mwh),
            num(efficiency),
        ]);
        if let Some(s) = &series {
            gen_series.push(name, s.clone());
        }
    }
    Ok(())
}

/// Series reactance of an overhead circuit, ohm per km, by voltage: PyPSA's standard line
/// types (pandapower/Oeding-Oswald, `networks/sources/carec-grid/README.md`). PyPSA's types
/// stop at 380 kV, so the 500 kV lines take "Al/St 240/40 4-bundle 380.0" (0.246 ohm/km):
/// the reactance of an EHV line is set by its conductor bundle and phase spacing, not its
/// voltage (an estimate until the operators publish line data).
fn reactance_per_km(voltage_kv: f64) -> Res<(f64, &'static str)> {
    match voltage_kv as u32 {
        500 => Ok((0.246, "Al/St 240/40 4-bundle 380.0")),
        220 => Ok((0.301, "Al/St 240/40 2-bundle 220.0")),
        v => Err(format!("ac_circuits.csv: no line type for {v} kV").into()),
    }
}

/// Resistance per km of the same types, ohm/km (not used by the linear models; written so
/// the lines are complete for an AC power flow).
fn resistance_per_km(voltage_kv: f64) -> f64 {
    if voltage_kv >= 380.0 {
        0.03
    } else {
        0.06
    }
}

/// The voltage of every bus of the network (kV): reactances of lower-voltage circuits are
/// referred to it by the square of the voltage ratio (the transformers are left out).
const BUS_KV: f64 = 500.0;

/// Series reactance of a circuit of `voltage_kv` and `length_km` referred to the bus
/// voltage, ohm, and the line type it is taken from.
fn circuit_reactance(voltage_kv: f64, length_km: f64) -> Res<(f64, &'static str)> {
    let (x_km, line_type) = reactance_per_km(voltage_kv)?;
    Ok((x_km * length_km * (BUS_KV / voltage_kv).powi(2), line_type))
}

/// One circuit as a row of `lines.csv` (see [`write_lines`] for the columns).
struct LineRow<'a> {
    name: String,
    bus0: String,
    bus1: String,
    voltage_kv: f64,
    length_km: f64,
    rating_mw: f64,
    caps_ring_lines: &'a str,
    status: &'a str,
    corridor: &'a str,
}

impl LineRow<'_> {
    fn cells(&self) -> Res<Vec<String>> {
        let (x, line_type) = circuit_reactance(self.voltage_kv, self.length_km)?;
        let r = resistance_per_km(self.voltage_kv)
            * self.length_km
            * (BUS_KV / self.voltage_kv).powi(2);
        let active = if self.status == "existing" {
            "True"
        } else {
            "False"
        };
        Ok(vec![
            self.name.clone(),
            self.bus0.clone(),
            self.bus1.clone(),
            num(x),
            num(r),
            num(self.rating_mw),
            num(self.length_km),
            num(self.voltage_kv),
            line_type.into(),
            self.caps_ring_lines.into(),
            active.into(),
            self.status.into(),
            self.corridor.into(),
        ])
    }
}

/// A line's name: the corridor's, with `:<circuit>` where the corridor has several.
fn circuit_name(corridor: &str, circuit: u32, circuits: usize) -> String {
    if circuits > 1 {
        format!("{corridor}:{circuit}")
    } else {
        corridor.to_string()
    }
}

/// The rating of each circuit of a corridor, MW: a sourced rating as it is; the rest of the
/// corridor's capacity shared by the other circuits in proportion to their susceptance, so
/// that they all reach their ratings together when the corridor carries its capacity (the
/// way parallel circuits share a flow). An estimate where no rating is published.
fn ratings(ic: &Interconnector, circuits: &[&Circuit]) -> Res<Vec<f64>> {
    let sourced: f64 = circuits.iter().filter_map(|c| c.capacity_mw).sum();
    let rest = ic.capacity_mw - sourced;
    let mut susceptance = Vec::new();
    for c in circuits {
        susceptance.push(1.0 / circuit_reactance(c.voltage_kv, c.length_km)?.0);
    }
    let shared: f64 = circuits
        .iter()
        .zip(&susceptance)
        .filter(|(c, _)| c.capacity_mw.is_none())
        .map(|(_, b)| b)
        .sum();
    if rest < -1e-6 || (shared == 0.0 && rest.abs() > 1e-6) {
        return Err(format!(
            "ac_circuits.csv: the sourced ratings of {} ({sourced} MW) do not fit its {} MW",
            ic.id, ic.capacity_mw
        )
        .into());
    }
    Ok(circuits
        .iter()
        .zip(&susceptance)
        .map(|(c, b)| c.capacity_mw.unwrap_or(rest * b / shared))
        .collect())
}

/// The corridors that are AC lines: one line per circuit (`<corridor>:<n>` where a corridor
/// has several, so `--contingencies` can take one out and `switch_on = ["<corridor>"]`
/// switches them all), with reactance from its voltage and length ([`reactance_per_km`])
/// and a rating from [`ratings`]; then the circuits between the subzones of split zones.
/// Returns how many lines were written.
fn write_lines(inputs: &Inputs, out: &Path) -> Res<usize> {
    let mut rows = Vec::new();
    for ic in &inputs.ics {
        let circuits: Vec<&Circuit> = inputs
            .circuits
            .iter()
            .filter(|c| c.corridor == ic.id)
            .collect();
        if circuits.is_empty() {
            continue;
        }
        if ic.kind != "AC" {
            return Err(format!("ac_circuits.csv: corridor {} is {}", ic.id, ic.kind).into());
        }
        for (c, rating) in circuits.iter().zip(ratings(ic, &circuits)?) {
            let row = LineRow {
                name: circuit_name(&ic.id, c.circuit, circuits.len()),
                bus0: inputs.splits.end(&ic.id, &ic.from_zone)?,
                bus1: inputs.splits.end(&ic.id, &ic.to_zone)?,
                voltage_kv: c.voltage_kv,
                length_km: c.length_km,
                rating_mw: rating,
                caps_ring_lines: &c.caps_ring_lines,
                status: &ic.status,
                corridor: &ic.id,
            };
            rows.push(row.cells()?);
        }
    }
    if let Some(c) = inputs
        .circuits
        .iter()
        .find(|c| !inputs.ics.iter().any(|ic| ic.id == c.corridor))
    {
        return Err(format!("ac_circuits.csv: unknown corridor {}", c.corridor).into());
    }
    let inner = &inputs.splits.lines;
    for l in inner {
        let circuits = inner.iter().filter(|o| o.corridor == l.corridor).count();
        let row = LineRow {
            name: circuit_name(&l.corridor, l.circuit, circuits),
            bus0: l.bus0.clone(),
            bus1: l.bus1.clone(),
            voltage_kv: l.voltage_kv,
            length_km: l.length_km,
            rating_mw: l.capacity_mw,
            caps_ring_lines: &l.caps_ring_lines,
            status: &l.status,
            corridor: &l.corridor,
        };
        rows.push(row.cells()?);
    }
    write_table(
        &out.join("lines.csv"),
        &[
            "name",
            "bus0",
            "bus1",
            "x",
            "r",
            "s_nom",
            "length",
            "voltage_kv",
            "line_type_basis",
            "caps_ring_lines",
            "active",
            "project_status",
            "corridor",
        ],
        &rows,
    )?;
    Ok(rows.len())
}

/// Interconnectors that are not AC lines: two one-way links each, so losses apply in both
/// directions. Returns how many links were written.
fn write_links(inputs: &Inputs, out: &Path) -> Res<usize> {
    let mut link_rows = Vec::new();
    for ic in &inputs.ics {
        if inputs.circuits.iter().any(|c| c.corridor == ic.id) {
            continue;
        }
        for z in [&ic.from_zone, &ic.to_zone] {
            inputs
                .zone(z)
                .ok_or_else(|| format!("interconnectors.csv {}: unknown zone {z}", ic.id))?;
        }
        let eff = efficiency(&ic.kind, ic.length_km);
        let active = if ic.status == "existing" {
            "True"
        } else {
            "False"
        };
        let (from, to) = (
            inputs.splits.end(&ic.id, &ic.from_zone)?,
            inputs.splits.end(&ic.id, &ic.to_zone)?,
        );
        for (name, b0, b1) in [
            (ic.id.clone(), &from, &to),
            (format!("{}:rev", ic.id), &to, &from),
        ] {
            link_rows.push(vec![
                name,
                b0.clone(),
                b1.clone(),
                ic.kind.clone(),
                num(ic.capacity_mw),
                num(eff),
                num(ic.length_km),
                num(ic.voltage_kv),
                active.into(),
                ic.status.clone(),
                ic.id.clone(),
            ]);
        }
    }
    write_table(
        &out.join("links.csv"),
        &[
            "name",
            "bus0",
            "bus1",
            "carrier",
            "p_nom",
            "efficiency",
            "length",
            "voltage_kv",
            "active",
            "project_status",
            "corridor",
        ],
        &link_rows,
    )?;
    Ok(link_rows.len())
}

/// Storage: named reservoirs (and the battery) with seasonal inflow and spill. Returns how
/// many storage units were written.
fn write_storage(inputs: &Inputs, out: &Path) -> Res<usize> {
    let mut su_rows = Vec::new();
    let mut inflow = Series::new();
    for s in &inputs.storage {
        if inputs.splits.is_split(&s.zone) {
            return Err(format!(
                "storage.csv {}: zone {} is split into subzones, and no file says which",
                s.name, s.zone
            )
            .into());
        }
        let (max_hours, carrier, inflow_shape) = match s.kind.as_str() {
            "battery" => (4.0, "battery", None),
            _ => {
                let hours = match s.energy_mwh {
                    Some(e) if e > 0.0 => e / s.power_mw,
                    _ => 2000.0, // estimate where the source gives no energy content
                };
                let shape = inputs.avail.get(hydro_node(&s.zone), "HROR")?;
                (hours, "hydro", Some(shape))
            }
        };
        let name = s.name.split(" (").next().unwrap_or(&s.name).to_string();
        let active = if s.status == "existing" || s.name.starts_with("Rogun") {
            "True"
        } else {
            "False"
        };
        let (p_min_pu, eff_store, eff_dispatch) = if carrier == "battery" {
            ("-1", "0.95", "0.95")
        } else {
            ("0", "1", "1")
        };
        su_rows.push(vec![
            name.clone(),
            s.zone.clone(),
            carrier.into(),
            num(s.power_mw),
            p_min_pu.into(),
            num(max_hours),
            eff_store.into(),
            eff_dispatch.into(),
            "True".into(),
            active.into(),
        ]);
        if let Some(shape) = inflow_shape {
            inflow.push(name, shape.iter().map(|v| v * s.power_mw).collect());
        }
    }
    write_table(
        &out.join("storage_units.csv"),
        &[
            "name",
            "bus",
            "carrier",
            "p_nom",
            "p_min_pu",
            "max_hours",
            "efficiency_store",
            "efficiency_dispatch",
            "cyclic_state_of_charge",
            "active",
        ],
        &su_rows,
    )?;
    inflow.write(&out.join("storage_units-inflow.csv"))?;
    Ok(su_rows.len())
}

/// Validation table for the README: demand in the network vs the cited figures.
fn validation_table(validation: &[DemandCheck]) -> String {
    let mut table = String::from("| zone | country | annual TWh cited | annual TWh in network | peak MW cited | peak MW in network | shape exponent k |\n|---|---|---|---|---|---|---|\n");
    for (id, country, a_cited, a, p_cited, p, k) in validation {
        let _ = writeln!(
            table,
            "| {id} | {country} | {a_cited:.3} | {a:.3} | {p_cited:.0} | {p:.0} | {k:.3} |"
        );
    }
    table
}
