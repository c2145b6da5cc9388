//! Checks on a network before it is solved (and by `gridtrade validate`).
//!
//! Reading already reports what is wrong with single cells (NaN, text where a number
//! belongs, unknown buses, duplicate names, time series of the wrong length or with unknown
//! columns). These checks look at elements and the network as a whole. Every finding names
//! the file and line, the element and the field.

use crate::error::Findings;
use crate::network::{Branch, CostCurve, Expansion, Network, Origin, Series, SourceFormat};
use std::collections::VecDeque;

/// Smallest generator efficiency accepted (fuel to electricity).
pub const MIN_GENERATOR_EFFICIENCY: f64 = 1e-6;

/// Largest magnitude of a finite number in a network: no quantity in MW, MWh, kV, ohm,
/// per unit, currency/MWh or t/MWh comes near it, and HiGHS takes 1e20 as infinite (weights,
/// per-unit conversions and CO2 prices multiply inputs on their way into the LP).
pub const MAX_MAGNITUDE: f64 = 1e12;

/// Smallest nominal voltage, kV, and smallest storage efficiency accepted: a line's per-unit
/// reactance divides by v_nom², a storage unit's balance by its dispatch efficiency.
pub const MIN_V_NOM_KV: f64 = 1e-3;
pub const MIN_STORAGE_EFFICIENCY: f64 = 1e-6;

/// A number as messages show it: plain where it reads well, in exponent form where it is
/// huge or tiny (Rust's plain form of 1e308 has 309 digits).
pub fn show(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-6..1e9).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// What is wrong with `v` as an input number, if anything: NaN, an infinity (only
/// capacities, `inf_ok`, may be `+inf`, as in PyPSA), a magnitude beyond [`MAX_MAGNITUDE`]
/// or a subnormal (a number too small to mean anything, below 2.2e-308).
pub fn number_problem(v: f64, inf_ok: bool) -> Option<String> {
    if v.is_nan() {
        Some("not a number".into())
    } else if v == f64::INFINITY && inf_ok {
        None
    } else if v.is_infinite() {
        Some(format!(
            "{v}: only capacities (p_nom, s_nom) may be inf, for no limit"
        ))
    } else if v.abs() > MAX_MAGNITUDE {
        Some(format!(
            "{}: beyond ±{MAX_MAGNITUDE:e}, the largest magnitude gridtrade takes",
            show(v)
        ))
    } else if v != 0.0 && v.abs() < f64::MIN_POSITIVE {
        Some(format!(
            "{}: subnormal; write 0 or a meaningful value",
            show(v)
        ))
    } else {
        None
    }
}

/// What the checks need to know about the solve that will follow.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Quadratic costs are solvable only with a piecewise-linear approximation.
    pub pwl_segments: Option<usize>,
    /// With a value of lost load, load that no generator can reach is shed, not an error.
    pub voll: Option<f64>,
}

/// Run every check; findings are appended to `f`.
pub fn check(n: &Network, opts: &CheckOptions, f: &mut Findings) {
    if n.snapshots.is_empty() {
        f.error("snapshots.csv", None, None, "the network has no snapshots");
    }
    check_magnitudes(n, f);
    check_buses(n, f);
    check_branches(n, f);
    check_links(n, f);
    check_generators(n, opts, f);
    check_storage(n, f);
    check_supply(n, opts, f);
}

fn element(kind: &str, name: &str) -> Option<String> {
    Some(format!("{kind} '{name}'"))
}

/// Report the first snapshot where `lo > hi` (p_min_pu above p_max_pu of an element of
/// `component`, e.g. `generators`), naming the series file the values came from.
fn check_bounds(
    n: &Network,
    (origin, el, component): (&Origin, Option<String>, &str),
    lo: &Series,
    hi: &Series,
    f: &mut Findings,
) {
    let steps = if lo.is_hourly() || hi.is_hourly() {
        n.snapshots.len()
    } else {
        n.snapshots.len().min(1)
    };
    let Some(t) = (0..steps).find(|&t| lo.at(t) > hi.at(t)) else {
        return;
    };
    let files: Vec<String> = [("p_min_pu", lo), ("p_max_pu", hi)]
        .into_iter()
        .filter(|(_, s)| s.is_hourly() && n.format == SourceFormat::PyPsa)
        .map(|(field, _)| format!("{component}-{field}.csv"))
        .collect();
    let from = if files.is_empty() {
        String::new()
    } else {
        format!(", from {}", files.join(" and "))
    };
    f.error(
        origin,
        el,
        Some("p_min_pu"),
        format!(
            "p_min_pu = {} is above p_max_pu = {} (snapshot '{}'{from})",
            show(lo.at(t)),
            show(hi.at(t)),
            n.snapshots.names.get(t).map_or("?", String::as_str)
        ),
    );
}

fn check_buses(n: &Network, f: &mut Findings) {
    for b in &n.buses {
        if !(b.v_nom >= MIN_V_NOM_KV) && n.format == SourceFormat::PyPsa {
            f.error(
                &b.origin,
                element("bus", &b.name),
                Some("v_nom"),
                format!(
                    "{} kV: must be at least {MIN_V_NOM_KV} kV (it sets the per-unit base of lines)",
                    show(b.v_nom)
                ),
            );
        }
    }
}

fn check_branches(n: &Network, f: &mut Findings) {
    for br in &n.branches {
        let el = element(br.kind_name(), &br.name);
        if br.x == 0.0 || !br.x.is_finite() {
            f.error(
                &br.origin,
                el.clone(),
                Some("x"),
                format!("reactance {}: must be nonzero and finite", br.x),
            );
        } else if br.x < 0.0 {
            if n.format == SourceFormat::Matpower {
                f.warning(
                    &br.origin,
                    el.clone(),
                    Some("x"),
                    "negative reactance (series compensation)",
                );
            } else {
                f.error(
                    &br.origin,
                    el.clone(),
                    Some("x"),
                    format!("reactance {}: must be > 0", br.x),
                );
            }
        }
        if br.s_max < 0.0 || br.s_max.is_nan() {
            f.error(
                &br.origin,
                el.clone(),
                Some("s_nom"),
                format!("rating {}: negative capacity", br.s_max),
            );
        }
        if let Some(t) =
            (0..n.snapshots.len()).find(|&t| br.s_max_pu.is_hourly() && br.s_max_pu.at(t) < 0.0)
        {
            let snapshot = n.snapshots.names.get(t).map_or("?", String::as_str);
            f.error(
                &br.origin,
                el.clone(),
                Some("s_max_pu"),
                format!(
                    "{} in snapshot '{snapshot}': must be >= 0",
                    br.s_max_pu.at(t)
                ),
            );
        }
        if !(br.tap_ratio > 0.0) || !br.tap_ratio.is_finite() {
            f.error(
                &br.origin,
                el.clone(),
                Some("tap_ratio"),
                format!("{}: must be > 0", br.tap_ratio),
            );
        }
        if let (Some(lo), Some(hi)) = (br.angle_min, br.angle_max) {
            if lo > hi {
                f.error(
                    &br.origin,
                    el.clone(),
                    Some("angmin"),
                    "angle-difference minimum above maximum",
                );
            }
        }
        if br.bus0 == br.bus1 {
            f.error(&br.origin, el, Some("bus1"), "connects a bus to itself");
        }
    }
}

fn check_links(n: &Network, f: &mut Findings) {
    for l in &n.links {
        let el = element("link", &l.name);
        if l.p_nom < 0.0 {
            f.error(
                &l.origin,
                el.clone(),
                Some("p_nom"),
                format!("{}: negative capacity", l.p_nom),
            );
        }
        // A link between two energies (a heat pump, an electrolyser) may give out more
        // than it takes in; between buses of one carrier that would make energy.
        let converts = n.buses[l.bus0].carrier != n.buses[l.bus1].carrier;
        let most = if converts { f64::INFINITY } else { 1.0 };
        if !(l.efficiency > 0.0 && l.efficiency <= most) {
            let range = if converts {
                "> 0"
            } else {
                "in (0, 1] (between buses of one carrier)"
            };
            f.error(
                &l.origin,
                el.clone(),
                Some("efficiency"),
                format!("{}: must be {range}", l.efficiency),
            );
        }
        check_bounds(
            n,
            (&l.origin, el.clone(), "links"),
            &l.p_min_pu,
            &l.p_max_pu,
            f,
        );
        if l.efficiency < 1.0 && l.p_min_pu.min() < 0.0 {
            f.warning(&l.origin, el.clone(), Some("efficiency"), "bidirectional link with losses: as in PyPSA, power flowing from bus1 to bus0 gains instead of losing (model each direction as its own link to avoid this)");
        }
        if l.bus0 == l.bus1 {
            f.error(&l.origin, el, Some("bus1"), "connects a bus to itself");
        }
    }
}

fn check_generators(n: &Network, opts: &CheckOptions, f: &mut Findings) {
    for g in &n.generators {
        let el = element("generator", &g.name);
        if g.p_nom < 0.0 {
            f.error(
                &g.origin,
                el.clone(),
                Some("p_nom"),
                format!("{}: negative capacity", g.p_nom),
            );
        }
        // CO2 per MWh is co2_emissions / efficiency: a vanishing efficiency would put an
        // astronomical (or infinite) cost in the LP.
        if !(g.efficiency >= MIN_GENERATOR_EFFICIENCY && g.efficiency.is_finite()) {
            f.error(
                &g.origin,
                el.clone(),
                Some("efficiency"),
                format!(
                    "{}: must be a finite number of at least {MIN_GENERATOR_EFFICIENCY}",
                    g.efficiency
                ),
            );
        }
        check_bounds(
            n,
            (&g.origin, el.clone(), "generators"),
            &g.p_min_pu,
            &g.p_max_pu,
            f,
        );
        match &g.cost {
            CostCurve::Polynomial {
                marginal_cost_quadratic: q,
                ..
            } if *q != 0.0 => {
                if opts.pwl_segments.is_none() {
                    f.error(&g.origin, el.clone(), Some("marginal_cost_quadratic"), format!("quadratic cost {q}: the LP needs linear costs; pass --pwl-segments N for a piecewise-linear approximation"));
                } else if *q < 0.0 {
                    f.error(
                        &g.origin,
                        el.clone(),
                        Some("marginal_cost_quadratic"),
                        format!("quadratic cost {q} is concave: cannot be approximated in an LP"),
                    );
                } else if !g.p_nom.is_finite() {
                    // The chords run between the output bounds, which must be finite.
                    f.error(&g.origin, el.clone(), Some("p_nom"), format!("{}: a quadratic cost is approximated between the output bounds, which must be finite", g.p_nom));
                }
            }
            CostCurve::PiecewiseLinear(points) => {
                let mut last_slope = f64::NEG_INFINITY;
                for w in points.windows(2) {
                    let dx = w[1].0 - w[0].0;
                    if !(dx > 0.0) {
                        f.error(
                            &g.origin,
                            el.clone(),
                            Some("gencost"),
                            "piecewise-linear cost points must have increasing output",
                        );
                        break;
                    }
                    let slope = (w[1].1 - w[0].1) / dx;
                    if slope < last_slope - 1e-9 {
                        f.error(
                            &g.origin,
                            el.clone(),
                            Some("gencost"),
                            "piecewise-linear cost is not convex (slopes must not decrease)",
                        );
                        break;
                    }
                    last_slope = slope;
                }
            }
            _ => {}
        }
    }
}

fn check_storage(n: &Network, f: &mut Findings) {
    for s in &n.storage_units {
        let el = element("storage unit", &s.name);
        check_bounds(
            n,
            (&s.origin, el.clone(), "storage_units"),
            &s.p_min_pu,
            &s.p_max_pu,
            f,
        );
        let mut err = |field: &str, msg: String| f.error(&s.origin, el.clone(), Some(field), msg);
        if s.p_nom < 0.0 {
            err("p_nom", format!("{}: negative capacity", s.p_nom));
        }
        if s.max_hours < 0.0 {
            err("max_hours", format!("{}: negative", s.max_hours));
        }
        for (field, v) in [
            ("efficiency_store", s.efficiency_store),
            ("efficiency_dispatch", s.efficiency_dispatch),
        ] {
            if !(v >= MIN_STORAGE_EFFICIENCY && v <= 1.0) {
                err(
                    field,
                    format!("{}: must be in [{MIN_STORAGE_EFFICIENCY}, 1]", show(v)),
                );
            }
        }
        if !(0.0..=1.0).contains(&s.standing_loss) {
            err(
                "standing_loss",
                format!("{}: must be in [0, 1]", s.standing_loss),
            );
        }
        if let Some(t) = s.inflow.values().iter().position(|v| *v < 0.0) {
            let at = if s.inflow.is_hourly() && n.format == SourceFormat::PyPsa {
                let name = n.snapshots.names.get(t).map_or("?", String::as_str);
                format!(" (snapshot '{name}' of storage_units-inflow.csv)")
            } else {
                String::new()
            };
            err(
                "inflow",
                format!("negative inflow {}{at}", show(s.inflow.values()[t])),
            );
        }
        let e_nom = Expansion::largest(&s.expansion, s.p_nom) * s.max_hours;
        let outside = |l: &&Option<f64>| l.is_some_and(|v| !(0.0..=e_nom).contains(&v));
        if let Some(t) = s.state_of_charge_set.iter().position(|l| outside(&l)) {
            let name = n.snapshots.names.get(t).map_or("?", String::as_str);
            err(
                "state_of_charge_set",
                format!(
                    "{} MWh in snapshot '{name}' is outside [0, p_nom * max_hours = {e_nom}]",
                    show(s.state_of_charge_set[t].unwrap_or(0.0))
                ),
            );
        }
        if !s.cyclic_state_of_charge && !(0.0..=e_nom).contains(&s.state_of_charge_initial) {
            err(
                "state_of_charge_initial",
                format!(
                    "{} MWh is outside [0, p_nom * max_hours = {e_nom}]",
                    s.state_of_charge_initial
                ),
            );
        }
    }
}

/// A zone with load that no generator or storage unit can reach through in-service lines
/// and links (in a direction the link can carry) cannot be supplied.
fn check_supply(n: &Network, opts: &CheckOptions, f: &mut Findings) {
    let nb = n.buses.len();
    // Directed adjacency: an AC branch carries both ways; a link from bus0 to bus1 when its
    // p_max_pu is ever positive, and back when its p_min_pu is ever negative.
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); nb];
    let rated = |b: &&Branch| b.s_max > 0.0 || Expansion::largest(&b.expansion, 0.0) > 0.0;
    for br in n.branches.iter().filter(|b| b.in_service).filter(rated) {
        adj[br.bus0].push(br.bus1);
        adj[br.bus1].push(br.bus0);
    }
    for l in n
        .links
        .iter()
        .filter(|l| l.in_service && Expansion::largest(&l.expansion, l.p_nom) > 0.0)
    {
        if l.p_max_pu.max() > 0.0 {
            adj[l.bus0].push(l.bus1);
        }
        if l.p_min_pu.min() < 0.0 {
            adj[l.bus1].push(l.bus0);
        }
    }
    let mut reached = vec![false; nb];
    let mut queue = VecDeque::new();
    let sources = n
        .generators
        .iter()
        .filter(|g| g.in_service && Expansion::largest(&g.expansion, g.p_nom) > 0.0)
        .filter(|g| g.p_max_pu.max() > 0.0)
        .map(|g| g.bus)
        .chain(
            n.storage_units
                .iter()
                .filter(|s| s.in_service && Expansion::largest(&s.expansion, s.p_nom) > 0.0)
                .filter(|s| s.p_max_pu.max() > 0.0)
                .map(|s| s.bus),
        );
    for b in sources {
        if !reached[b] {
            reached[b] = true;
            queue.push_back(b);
        }
    }
    while let Some(b) = queue.pop_front() {
        for &c in &adj[b] {
            if !reached[c] {
                reached[c] = true;
                queue.push_back(c);
            }
        }
    }
    let len = n.snapshots.len();
    let mut demand = vec![0.0f64; nb];
    for l in n.loads.iter().filter(|l| l.in_service) {
        let peak = (0..if l.p_set.is_hourly() { len } else { len.min(1) })
            .map(|t| l.p_set.at(t))
            .fold(0.0, f64::max);
        demand[l.bus] += peak;
    }
    for zone in n.zones() {
        let stranded: Vec<&str> = (0..nb)
            .filter(|&b| n.buses[b].zone == zone && demand[b] > 0.0 && !reached[b])
            .map(|b| n.buses[b].name.as_str())
            .collect();
        if stranded.is_empty() {
            continue;
        }
        let shown = stranded
            .iter()
            .take(10)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        let more = if stranded.len() > 10 {
            format!(" and {} more", stranded.len() - 10)
        } else {
            String::new()
        };
        let msg = format!(
            "zone `{zone}` has load that no generator or storage unit can reach through lines and links, at bus(es) {shown}{more}"
        );
        let loc = n
            .buses
            .iter()
            .find(|b| b.name == stranded[0])
            .map(|b| b.origin.clone())
            .unwrap_or_default();
        if opts.voll.is_some() {
            f.warning(
                &loc,
                Some(format!("zone '{zone}'")),
                Some("bus"),
                format!("{msg}: it will be shed"),
            );
        } else {
            f.error(&loc, Some(format!("zone '{zone}'")), Some("bus"), msg);
        }
    }
}

/// Every number of every element, static or per snapshot, passes [`number_problem`]. A
/// value of a time series is reported with its snapshot and, for a PyPSA folder, the file it
/// came from (`generators-p_max_pu.csv`); the first bad value of a series is enough.
fn check_magnitudes(n: &Network, f: &mut Findings) {
    let snapshots = Origin::new("snapshots.csv", 0);
    for (field, weights) in [
        ("objective", &n.snapshots.objective),
        ("stores", &n.snapshots.stores),
    ] {
        if let Some(&w) = weights
            .iter()
            .find(|w| number_problem(**w, false).is_some())
        {
            scalar(f, &snapshots, None, field, w, false);
        }
    }
    let carriers = Origin::new("carriers.csv", 0);
    for c in &n.carriers {
        scalar(
            f,
            &carriers,
            element("carrier", &c.name),
            "co2_emissions",
            c.co2_emissions,
            false,
        );
    }
    for b in &n.buses {
        for (field, v) in [("v_nom", b.v_nom), ("x", b.x), ("y", b.y)] {
            scalar(f, &b.origin, element("bus", &b.name), field, v, false);
        }
    }
    for br in &n.branches {
        let el = || element(br.kind_name(), &br.name);
        scalar(f, &br.origin, el(), "s_nom", br.s_max, true);
        for (field, v) in [
            ("x", br.x),
            ("r", br.r),
            ("tap_ratio", br.tap_ratio),
            ("phase_shift", br.phase_shift),
        ] {
            scalar(f, &br.origin, el(), field, v, false);
        }
        for (field, v) in [("angmin", br.angle_min), ("angmax", br.angle_max)] {
            if let Some(v) = v {
                scalar(f, &br.origin, el(), field, v, false);
            }
        }
    }
    for l in &n.links {
        let el = || element("link", &l.name);
        series(f, n, &l.origin, el(), "links", "p_min_pu", &l.p_min_pu);
        series(f, n, &l.origin, el(), "links", "p_max_pu", &l.p_max_pu);
        scalar(f, &l.origin, el(), "p_nom", l.p_nom, true);
        scalar(f, &l.origin, el(), "efficiency", l.efficiency, false);
        scalar(f, &l.origin, el(), "marginal_cost", l.marginal_cost, false);
    }
    for l in &n.loads {
        series(
            f,
            n,
            &l.origin,
            element("load", &l.name),
            "loads",
            "p_set",
            &l.p_set,
        );
    }
    generator_magnitudes(n, f);
    storage_magnitudes(n, f);
}

fn generator_magnitudes(n: &Network, f: &mut Findings) {
    for g in &n.generators {
        let el = || element("generator", &g.name);
        series(f, n, &g.origin, el(), "generators", "p_min_pu", &g.p_min_pu);
        series(f, n, &g.origin, el(), "generators", "p_max_pu", &g.p_max_pu);
        scalar(f, &g.origin, el(), "p_nom", g.p_nom, true);
        scalar(f, &g.origin, el(), "efficiency", g.efficiency, false);
        match &g.cost {
            CostCurve::Polynomial {
                marginal_cost,
                marginal_cost_quadratic,
                constant,
            } => {
                series(
                    f,
                    n,
                    &g.origin,
                    el(),
                    "generators",
                    "marginal_cost",
                    marginal_cost,
                );
                scalar(
                    f,
                    &g.origin,
                    el(),
                    "marginal_cost_quadratic",
                    *marginal_cost_quadratic,
                    false,
                );
                scalar(f, &g.origin, el(), "gencost", *constant, false);
            }
            CostCurve::PiecewiseLinear(points) => {
                for &(p, c) in points {
                    scalar(f, &g.origin, el(), "gencost", p, false);
                    scalar(f, &g.origin, el(), "gencost", c, false);
                }
            }
        }
    }
}

fn storage_magnitudes(n: &Network, f: &mut Findings) {
    for s in &n.storage_units {
        let el = || element("storage unit", &s.name);
        series(f, n, &s.origin, el(), "storage_units", "inflow", &s.inflow);
        series(
            f,
            n,
            &s.origin,
            el(),
            "storage_units",
            "p_min_pu",
            &s.p_min_pu,
        );
        series(
            f,
            n,
            &s.origin,
            el(),
            "storage_units",
            "p_max_pu",
            &s.p_max_pu,
        );
        for (field, v) in [
            ("p_nom", s.p_nom),
            ("max_hours", s.max_hours),
            ("efficiency_store", s.efficiency_store),
            ("efficiency_dispatch", s.efficiency_dispatch),
            ("standing_loss", s.standing_loss),
            ("state_of_charge_initial", s.state_of_charge_initial),
            ("marginal_cost", s.marginal_cost),
            ("spill_cost", s.spill_cost),
        ] {
            scalar(f, &s.origin, el(), field, v, false);
        }
    }
}

/// Report `v` of `field` if [`number_problem`] finds something wrong with it.
fn scalar(
    f: &mut Findings,
    origin: &Origin,
    el: Option<String>,
    field: &str,
    v: f64,
    inf_ok: bool,
) {
    if let Some(problem) = number_problem(v, inf_ok) {
        f.error(origin, el, Some(field), problem);
    }
}

/// Report the first value of series `field` (of a `component`: `generators`, ...) with
/// something wrong, with its snapshot and, for a PyPSA folder, its file.
fn series(
    f: &mut Findings,
    n: &Network,
    origin: &Origin,
    el: Option<String>,
    component: &str,
    field: &str,
    s: &Series,
) {
    let Some((t, problem)) = s
        .values()
        .iter()
        .enumerate()
        .find_map(|(t, v)| number_problem(*v, false).map(|p| (t, p)))
    else {
        return;
    };
    let message = match (s.is_hourly(), n.format) {
        (true, SourceFormat::PyPsa) => format!(
            "{problem} (snapshot '{}' of {component}-{field}.csv)",
            n.snapshots.names.get(t).map_or("?", String::as_str)
        ),
        (true, _) => format!("{problem} (snapshot {t})"),
        (false, _) => problem,
    };
    f.error(origin, el, Some(field), message);
}
