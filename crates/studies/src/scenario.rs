//! Scenario files: named changes to a base network (TOML).
//!
//! ```toml
//! name = "CASA-1000 in service"
//! switch_on = ["CASA-HVDC", "CASA-AC-KG"]   # elements, or interconnector ids (see below)
//! switch_off = []
//! co2_price = 30.0                          # currency per tonne
//! co2_cap = 180e6                           # t CO2 over the solved horizon (a limit)
//! [demand_scale]                            # zone, country or "all" -> factor
//! PK_N = 1.05
//! [inflow_scale]                            # storage unit, zone, country or "all" -> factor
//!                                           # (also scales hydro generators' availability)
//! all = 0.75
//! [capacity]                                # element -> new capacity, MW (p_nom or s_nom)
//! "UZ_SOUTH solar" = 5000
//! ```
//!
//! A name in `switch_on`, `switch_off` or `capacity` matches the element of that name and
//! every element named `<name>:<suffix>` (the CAREC network's `<id>:rev` reverse links), so
//! an interconnector id switches both directions. Unknown names and keys are errors.

use gridtrade_engine::error::{Error, Findings};
use gridtrade_engine::network::{designates, Co2Constraint, Fixed, Network, Origin, Sense, Series};
use gridtrade_engine::validate::{number_problem, show};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub switch_on: Vec<String>,
    #[serde(default)]
    pub switch_off: Vec<String>,
    /// CO2 price, currency per tonne (replaces the command line's).
    pub co2_price: Option<f64>,
    /// CO2 limit over the solved horizon, t (replaces the network's own): the solve
    /// reports the CO2 price it implies.
    pub co2_cap: Option<f64>,
    #[serde(default)]
    pub demand_scale: BTreeMap<String, f64>,
    #[serde(default)]
    pub inflow_scale: BTreeMap<String, f64>,
    #[serde(default)]
    pub capacity: BTreeMap<String, f64>,
    /// Capacity-expansion candidates fixed in, at their largest capacity (`gridtrade plan`).
    #[serde(default)]
    pub build: Vec<String>,
    /// Capacity-expansion candidates fixed out, at the capacity they have.
    #[serde(default)]
    pub exclude: Vec<String>,
}

impl Scenario {
    /// Read a scenario file; errors name the file and the line.
    pub fn read(path: &Path) -> Result<Scenario, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Scenario::parse(&text, &path.display().to_string())
    }

    /// Parse a scenario's TOML text; `origin` names it (a file, or a request field) in errors,
    /// with the line.
    pub fn parse(text: &str, origin: &str) -> Result<Scenario, Error> {
        toml::from_str(text).map_err(|e| {
            let line = toml_error_line(text, &e);
            let mut f = Findings::default();
            f.error(
                gridtrade_engine::network::Origin::new(origin, line),
                Some("scenario".into()),
                None,
                e.message().to_string(),
            );
            Error::Invalid(f)
        })
    }

    /// A display name: the `name` field, else the file stem.
    pub fn label(&self, fallback: &str) -> String {
        self.name.clone().unwrap_or_else(|| fallback.to_string())
    }

    /// Apply the changes to `n`. `file` names the scenario in error messages; every
    /// problem found is reported at once.
    pub fn apply(&self, n: &mut Network, file: &str) -> Result<(), Error> {
        let mut f = Findings::default();
        self.switch(n, file, &mut f);
        if let Some(p) = self.co2_price {
            if !(p >= 0.0) || number_problem(p, false).is_some() {
                f.error(
                    file,
                    None,
                    Some("co2_price"),
                    number_problem(p, false)
                        .unwrap_or_else(|| format!("{}: must be a non-negative number", show(p))),
                );
            }
        }
        self.cap_co2(n, file, &mut f);
        self.scale_demand(n, file, &mut f);
        self.scale_inflows(n, file, &mut f);
        self.set_capacities(n, file, &mut f);
        self.fix_candidates(n, file, &mut f);
        if f.has_errors() {
            Err(Error::Invalid(f))
        } else {
            Ok(())
        }
    }

    /// `co2_cap`: a limit on the CO2 emitted over the horizon, t (≤), in place of any the
    /// network has.
    fn cap_co2(&self, n: &mut Network, file: &str, f: &mut Findings) {
        let Some(cap) = self.co2_cap else {
            return;
        };
        if let Some(problem) = number_problem(cap, false) {
            f.error(file, None, Some("co2_cap"), problem);
        } else if cap < 0.0 {
            f.error(
                file,
                None,
                Some("co2_cap"),
                format!("{}: t of CO2 cannot be negative", show(cap)),
            );
        } else {
            n.co2_constraint = Some(Co2Constraint {
                name: "co2_cap".into(),
                sense: Sense::AtMost,
                limit_t: cap,
                origin: Origin::new(file, 0),
            });
        }
    }

    /// `build`, `exclude`: capacity-expansion candidates (extendable elements, or an
    /// interconnector's) fixed in at their largest capacity or out at the one they have.
    fn fix_candidates(&self, n: &mut Network, file: &str, f: &mut Findings) {
        for (list, fixed, field) in [
            (&self.build, Fixed::Built, "build"),
            (&self.exclude, Fixed::NotBuilt, "exclude"),
        ] {
            for name in list {
                let problem = match n.fix_candidate(name, fixed) {
                    Ok(0) => "no extendable element has this name".to_string(),
                    Ok(_) => continue,
                    Err(e) => e,
                };
                f.error(
                    file,
                    Some(format!("element '{name}'")),
                    Some(field),
                    problem,
                );
            }
        }
    }

    /// `switch_on`, `switch_off`: elements (or an interconnector's links) in or out of service.
    fn switch(&self, n: &mut Network, file: &str, f: &mut Findings) {
        for (list, on) in [(&self.switch_on, true), (&self.switch_off, false)] {
            let field = if on { "switch_on" } else { "switch_off" };
            for name in list {
                let found = n.set_in_service_group(name, on);
                if !found {
                    f.error(
                        file,
                        Some(format!("element '{name}'")),
                        Some(field),
                        "no branch, link, generator, load or storage unit has this name",
                    );
                }
            }
        }
    }

    /// `demand_scale`: loads of a zone, a country or all scaled by a factor.
    fn scale_demand(&self, n: &mut Network, file: &str, f: &mut Findings) {
        for (key, factor) in &self.demand_scale {
            check_factor(f, file, "demand_scale", key, *factor);
            let buses = buses_of(n, key);
            if buses.is_empty() {
                f.error(
                    file,
                    Some(format!("key '{key}'")),
                    Some("demand_scale"),
                    "not a zone, a country or `all`",
                );
            }
            for l in n.loads.iter_mut().filter(|l| buses.contains(&l.bus)) {
                l.p_set.scale(*factor);
            }
        }
    }

    /// `inflow_scale`: storage inflows, and the availability of hydro generators, of a
    /// storage unit, a zone, a country or all scaled by a factor.
    fn scale_inflows(&self, n: &mut Network, file: &str, f: &mut Findings) {
        for (key, factor) in &self.inflow_scale {
            check_factor(f, file, "inflow_scale", key, *factor);
            let buses = buses_of(n, key);
            let mut found = false;
            for s in n
                .storage_units
                .iter_mut()
                .filter(|s| &s.name == key || buses.contains(&s.bus))
            {
                s.inflow.scale(*factor);
                found = true;
            }
            // Run-of-river and unregulated reservoir hydro follow the same water.
            for g in n.generators.iter_mut().filter(|g| {
                g.carrier.starts_with("hydro") && (&g.name == key || buses.contains(&g.bus))
            }) {
                g.p_max_pu.scale(*factor);
                found = true;
            }
            if !found {
                f.error(
                    file,
                    Some(format!("key '{key}'")),
                    Some("inflow_scale"),
                    "not a storage unit, a zone or country with hydro, or `all`",
                );
            }
        }
    }

    /// `capacity`: the rating (s_nom) or p_nom of the elements a name designates, MW.
    fn set_capacities(&self, n: &mut Network, file: &str, f: &mut Findings) {
        let matches = |element: &str, name: &str| designates(name, element);
        for (name, mw) in &self.capacity {
            let problem = number_problem(*mw, false).or_else(|| {
                (*mw < 0.0).then(|| format!("{}: must be a non-negative number of MW", show(*mw)))
            });
            if let Some(problem) = problem {
                f.error(
                    file,
                    Some(format!("element '{name}'")),
                    Some("capacity"),
                    problem,
                );
                continue;
            }
            let mut found = false;
            for b in n.branches.iter_mut().filter(|b| matches(&b.name, name)) {
                // The scenario gives the usable rating itself.
                (b.s_max, b.s_nom, b.s_max_pu) = (*mw, *mw, Series::Static(1.0));
                found = true;
            }
            for l in n.links.iter_mut().filter(|l| matches(&l.name, name)) {
                l.p_nom = *mw;
                found = true;
            }
            for g in n.generators.iter_mut().filter(|g| matches(&g.name, name)) {
                g.p_nom = *mw;
                found = true;
            }
            for s in n
                .storage_units
                .iter_mut()
                .filter(|s| matches(&s.name, name))
            {
                s.p_nom = *mw;
                found = true;
            }
            if !found {
                f.error(
                    file,
                    Some(format!("element '{name}'")),
                    Some("capacity"),
                    "no branch, link, generator or storage unit has this name",
                );
            }
        }
    }
}

/// Largest scale factor of demand or inflows: a thousandfold is far beyond any study, and
/// a bound keeps scaled values within what the LP takes.
pub const MAX_SCALE: f64 = 1e3;

fn check_factor(f: &mut Findings, file: &str, field: &str, key: &str, factor: f64) {
    if !(0.0..=MAX_SCALE).contains(&factor) || number_problem(factor, false).is_some() {
        f.error(
            file,
            Some(format!("key '{key}'")),
            Some(field),
            format!(
                "{}: a scale factor must be a number from 0 to {MAX_SCALE}",
                show(factor)
            ),
        );
    }
}

/// Buses of a zone, of a country, or all of them.
fn buses_of(n: &Network, key: &str) -> Vec<usize> {
    (0..n.buses.len())
        .filter(|&b| key == "all" || n.buses[b].zone == key || n.buses[b].country == key)
        .collect()
}

/// The line of `text` a TOML error is on (1-based; 0 when unknown). toml spans an unknown
/// field's whole table; this points at the field's own line.
pub(crate) fn toml_error_line(text: &str, e: &toml::de::Error) -> usize {
    let mut line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
        .unwrap_or(0);
    if let Some(field) = e
        .message()
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
    {
        if let Some(i) = text.lines().position(|l| {
            l.trim_start()
                .strip_prefix(field)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        }) {
            line = i + 1;
        }
    }
    line
}
