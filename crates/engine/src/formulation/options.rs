//! What to build: the network model, the dc convention, how Kirchhoff's voltage law is
//! stated, and the economic options (value of lost load, CO2 price, piecewise-linear costs).
//!
//! The three choices are plain enums with their names and one line of help each
//! ([`Choice`]), so a command line or an RPC can offer them without this crate knowing
//! either.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// An option with a fixed set of named values: its names (lowercase, as on the command line
/// and in JSON) with one line of help each, parsed by [`FromStr`], written by `Display`.
pub trait Choice: Copy + FromStr<Err = String> + fmt::Display + 'static {
    /// Every value with its name and help, in the order they are offered.
    const CHOICES: &'static [(Self, &'static str, &'static str)];

    /// The name of this value.
    fn name(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::CHOICES
            .iter()
            .find(|(v, _, _)| *v == self)
            .map_or("", |(_, name, _)| name)
    }
}

/// `FromStr` and `Display` of a [`Choice`] by its names.
macro_rules! by_name {
    ($t:ty) => {
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::CHOICES
                    .iter()
                    .find(|(_, name, _)| *name == s)
                    .map(|(v, _, _)| *v)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::CHOICES.iter().map(|c| c.1).collect();
                        format!("'{s}' is not one of {}", names.join(", "))
                    })
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

/// How the network between buses is modelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkModel {
    /// Linear (DC) power flow: Kirchhoff's laws on AC branches; links are controllable.
    #[default]
    Dc,
    /// Every branch and link is a controllable flow within its rating (NTC market coupling).
    Transport,
    /// Each zone is one node; branches and links between zones are controllable flows and
    /// the network inside a zone is ignored.
    Copperplate,
}

/// Which branch susceptance the `dc` model uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DcConvention {
    /// MATPOWER (`makeBdc`) and PyPSA: `b = 1 / (x * tap)`, phase shift as a fixed
    /// injection pair.
    #[default]
    Matpower,
    /// PowerModels `DCPPowerModel` (PGLib BASELINE): `b = x / (r^2 + x^2)`; taps and phase
    /// shifts are ignored.
    Powermodels,
}

impl DcConvention {
    /// Susceptance of an AC branch, MW/rad (per unit on 1 MVA): `1 / (x * tap)` for
    /// MATPOWER, `x / (r^2 + x^2)` for PowerModels.
    pub fn susceptance(self, br: &crate::network::Branch) -> f64 {
        match self {
            DcConvention::Matpower => 1.0 / (br.x * br.tap_ratio),
            DcConvention::Powermodels => br.x / (br.r * br.r + br.x * br.x),
        }
    }

    /// Phase shift of an AC branch, rad: MATPOWER's shift angle; PowerModels ignores it.
    pub fn phase_shift(self, br: &crate::network::Branch) -> f64 {
        match self {
            DcConvention::Matpower => br.phase_shift.to_radians(),
            DcConvention::Powermodels => 0.0,
        }
    }

    /// Susceptance (MW/rad) and phase shift (rad) of every branch of `n`, in branch order:
    /// what [`crate::topology::ptdf::ShiftFactors::new`] takes.
    pub fn branch_parameters(self, n: &crate::network::Network) -> (Vec<f64>, Vec<f64>) {
        n.branches
            .iter()
            .map(|br| (self.susceptance(br), self.phase_shift(br)))
            .unzip()
    }
}

/// How the `dc` model states Kirchhoff's voltage law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kvl {
    /// Bus voltage angles: `p0 = b (theta0 - theta1 - shift)` per branch (as MATPOWER and
    /// PowerModels); used whenever angle-difference limits are asked for.
    Angles,
    /// No angles: for each cycle of a basis of short cycles (see
    /// `constraints::constraint_kvl_cycles`), `sum ±p0/b = -sum ±shift` (as PyPSA). Fewer
    /// columns and rows, the same optimum and prices; HiGHS solves it faster (200-bus
    /// week: 23 s against 49 s).
    Cycles,
    /// No angles and no flow columns: per snapshot and synchronous area one balance row;
    /// branch flows are shift factors (PTDF) times the nodal injections, and a branch's
    /// rating enters as a row only once the solution without it violates it (lazy limits,
    /// solved again warm until no branch exceeds its rating). Same optimum and prices.
    Ptdf,
    /// The fastest for the network, by the rule in `formulation::choose` (PTDF; cycles where
    /// the grid is a small part of the LP and no N-1 is asked; angles with angle-difference
    /// limits).
    #[default]
    Auto,
}

/// Which branch outages an N-1 (security-constrained) dispatch guards against.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outages {
    /// Every AC branch in service (PyPSA's `branch_outages = n.passive_branches()`).
    All,
    /// These branches, by name (lines and transformers).
    Branches(Vec<String>),
}

/// N-1 security: after the outage of any one of `outages`, every other AC branch's flow
/// (the base flow plus the line outage distribution factor times the outaged flow) stays
/// within `rating` times its rating. Needs the PTDF form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contingencies {
    pub outages: Outages,
    /// Post-contingency limit as a multiple of the normal rating (PyPSA's SCLOPF: 1).
    pub rating: f64,
}

impl Contingencies {
    /// The branches out in the cases: those named (an error for a name that is no AC
    /// branch of `n`), or every one; only those in service, sorted, each once.
    pub fn branches(&self, n: &crate::network::Network) -> Result<Vec<usize>, crate::error::Error> {
        let mut chosen: Vec<usize> = match &self.outages {
            Outages::All => (0..n.branches.len()).collect(),
            Outages::Branches(names) => {
                let index: std::collections::HashMap<&str, usize> = n
                    .branches
                    .iter()
                    .enumerate()
                    .map(|(l, b)| (b.name.as_str(), l))
                    .collect();
                names
                    .iter()
                    .map(|name| {
                        index.get(name.as_str()).copied().ok_or_else(|| {
                            crate::error::Error::option(
                                "--contingencies",
                                format!("'{name}' is not a line or transformer of the network"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        chosen.retain(|&l| n.branch_live(l));
        chosen.sort_unstable();
        chosen.dedup();
        Ok(chosen)
    }
}

/// What to build.
#[derive(Debug, Clone, Serialize)]
pub struct FormulationOptions {
    pub model: NetworkModel,
    pub dc_convention: DcConvention,
    /// Enforce branch angle-difference limits (`dc` model only; implies angles).
    pub angle_limits: bool,
    /// Kirchhoff's voltage law by angles or by cycles (`dc` model).
    pub kvl: Kvl,
    /// Value of lost load, currency/MWh: when set, load can be shed at this cost.
    pub voll: Option<f64>,
    /// CO2 price, currency per tonne, added to generators' marginal costs as
    /// `co2_price * co2_emissions(carrier) / efficiency`.
    pub co2_price: f64,
    /// Approximate quadratic costs by this many linear segments between p_min and p_max.
    pub pwl_segments: Option<usize>,
    /// For infeasibility diagnosis: let every bus shed load and dump surplus at this penalty.
    pub slack_penalty: Option<f64>,
    /// N-1 security (PTDF form only); `None` for the base case alone.
    pub contingencies: Option<Contingencies>,
    /// Clear a flow-based market within this domain instead (zones as copper plates, the
    /// grid seen through the domain's critical elements; see `formulation::flow_based`).
    #[serde(skip)]
    pub flow_domain: Option<std::sync::Arc<super::FlowDomain>>,
}

impl Default for FormulationOptions {
    fn default() -> Self {
        FormulationOptions {
            model: NetworkModel::Dc,
            dc_convention: DcConvention::Matpower,
            angle_limits: false,
            kvl: Kvl::Auto,
            voll: None,
            co2_price: 0.0,
            pwl_segments: None,
            slack_penalty: None,
            contingencies: None,
            flow_domain: None,
        }
    }
}

impl Choice for NetworkModel {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            NetworkModel::Dc,
            "dc",
            "Linear (DC) power flow: Kirchhoff's laws on AC branches; links are controllable",
        ),
        (
            NetworkModel::Transport,
            "transport",
            "Every branch and link is a controllable flow within its rating (NTC market coupling)",
        ),
        (
            NetworkModel::Copperplate,
            "copperplate",
            "Each zone is one node; branches and links between zones are controllable flows",
        ),
    ];
}
by_name!(NetworkModel);

impl Choice for DcConvention {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (DcConvention::Matpower, "matpower", "MATPOWER (makeBdc) and PyPSA: b = 1 / (x * tap), phase shift as a fixed injection pair"),
        (DcConvention::Powermodels, "powermodels", "PowerModels DCPPowerModel (PGLib BASELINE): b = x / (r^2 + x^2); taps and phase shifts are ignored"),
    ];
}
by_name!(DcConvention);

impl Choice for Kvl {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (Kvl::Angles, "angles", "Bus voltage angles: p0 = b (theta0 - theta1 - shift) per branch (as MATPOWER and PowerModels)"),
        (Kvl::Cycles, "cycles", "No angles: for each cycle of a basis of short cycles, sum ±p0/b = -sum ±shift (as PyPSA)"),
        (Kvl::Ptdf, "ptdf", "Shift factors: one balance per area, flows = PTDF x injections, only violated line limits added (lazily, warm)"),
        (Kvl::Auto, "auto", "The fastest form (ptdf on meshed grids; cycles where the grid is at most 10 % of the LP, without N-1; angles with --angle-limits; benches/README.md)"),
    ];
}
by_name!(Kvl);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_reads_back_by_its_name() {
        fn check<T: Choice + PartialEq + fmt::Debug>() {
            for &(v, name, _) in T::CHOICES {
                assert_eq!(name.parse::<T>(), Ok(v));
                assert_eq!(v.to_string(), name);
            }
            assert!("nonsense".parse::<T>().is_err());
        }
        check::<NetworkModel>();
        check::<DcConvention>();
        check::<Kvl>();
    }
}
