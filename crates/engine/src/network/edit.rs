//! Edits to a network: switch elements, set static attributes, add links. Used by the gRPC
//! `UpdateNetwork` call (one accepted list of edits makes a new version).

use super::{Link, Network, Origin, Series};
use petgraph::graph::EdgeIndex;

/// One change to a network.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Edit {
    SetInService {
        element: String,
        in_service: bool,
    },
    SetAttribute {
        element: String,
        attribute: String,
        /// `inf` (unlimited) is allowed for `s_nom` and `p_nom`; it is stored as the string
        /// `"inf"` (JSON has no infinity).
        #[serde(with = "number_or_inf")]
        value: f64,
    },
    AddLink {
        name: String,
        bus0: String,
        bus1: String,
        p_nom: f64,
        p_min_pu: f64,
        efficiency: f64,
    },
}

/// The numbers of a new link: `p_nom` ≥ 0 (or `inf`), `p_min_pu` in [-1, 1], `efficiency`
/// in (0, 1] (0 stands for the default, 1).
fn check_new_link(name: &str, p_nom: f64, p_min_pu: f64, efficiency: f64) -> Result<(), String> {
    let field = |f: &str, why: String| Err(format!("link `{name}`, field `{f}`: {why}"));
    if !(p_nom >= 0.0) {
        return field("p_nom", format!("{p_nom}: must be a number >= 0 (or inf)"));
    }
    if !(-1.0..=1.0).contains(&p_min_pu) {
        return field("p_min_pu", format!("{p_min_pu}: must be in [-1, 1]"));
    }
    if !(efficiency >= 0.0 && efficiency <= 1.0) {
        return field(
            "efficiency",
            format!("{efficiency}: must be in (0, 1], or 0 for 1"),
        );
    }
    Ok(())
}

/// Serde for a number that may be infinite or NaN: JSON numbers for finite values, the
/// strings `"inf"`, `"-inf"` and `"NaN"` otherwise (serde_json would write `null`, which
/// reads back as nothing).
pub mod number_or_inf {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        match *v {
            v if v.is_finite() => s.serialize_f64(v),
            v if v.is_nan() => s.serialize_str("NaN"),
            v if v > 0.0 => s.serialize_str("inf"),
            _ => s.serialize_str("-inf"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Number(f64),
            Text(String),
        }
        match Stored::deserialize(d)? {
            Stored::Number(v) => Ok(v),
            Stored::Text(t) => match t.as_str() {
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                "NaN" => Ok(f64::NAN),
                other => Err(serde::de::Error::custom(format!(
                    "`{other}` is not a number, inf, -inf or NaN"
                ))),
            },
        }
    }
}

impl Network {
    /// Apply `edits` in order; the first that cannot be applied stops with a message naming
    /// its position, the element and the attribute.
    pub fn apply(&mut self, edits: &[Edit]) -> Result<(), String> {
        for (i, e) in edits.iter().enumerate() {
            self.apply_one(e)
                .map_err(|m| format!("edit {}: {m}", i + 1))?;
        }
        Ok(())
    }

    fn apply_one(&mut self, e: &Edit) -> Result<(), String> {
        match e {
            Edit::SetInService {
                element,
                in_service,
            } => {
                if self.set_in_service_group(element, *in_service) {
                    Ok(())
                } else {
                    Err(format!(
                        "no branch, link, generator, load or storage unit is named `{element}`"
                    ))
                }
            }
            Edit::SetAttribute {
                element,
                attribute,
                value,
            } => self.set_attribute(element, attribute, *value),
            Edit::AddLink {
                name,
                bus0,
                bus1,
                p_nom,
                p_min_pu,
                efficiency,
            } => {
                if self.links.iter().any(|l| &l.name == name) {
                    return Err(format!("a link named `{name}` exists already"));
                }
                check_new_link(name, *p_nom, *p_min_pu, *efficiency)?;
                let b0 = self
                    .bus_id(bus0)
                    .ok_or_else(|| format!("link `{name}`, field `bus0`: unknown bus `{bus0}`"))?;
                let b1 = self
                    .bus_id(bus1)
                    .ok_or_else(|| format!("link `{name}`, field `bus1`: unknown bus `{bus1}`"))?;
                self.add_link(Link {
                    name: name.clone(),
                    bus0: b0,
                    bus1: b1,
                    p_nom: *p_nom,
                    p_min_pu: Series::Static(*p_min_pu),
                    p_max_pu: Series::Static(1.0),
                    efficiency: if *efficiency == 0.0 { 1.0 } else { *efficiency },
                    marginal_cost: 0.0,
                    expansion: None,
                    in_service: true,
                    edge: EdgeIndex::new(0),
                    origin: Origin::new("UpdateNetwork", 0),
                });
                Ok(())
            }
        }
    }

    /// Set a static attribute (see `SetAttribute` in the proto for the list).
    pub fn set_attribute(
        &mut self,
        element: &str,
        attribute: &str,
        value: f64,
    ) -> Result<(), String> {
        let capacity = attribute == "s_nom" || attribute == "p_nom";
        if !(value.is_finite() || capacity && value == f64::INFINITY) {
            return Err(format!(
                "`{element}`, field `{attribute}`: {value} is not a finite number{}",
                if capacity { " or inf" } else { "" }
            ));
        }
        let unknown = |kind: &str| {
            Err(format!(
                "{kind} `{element}` has no settable attribute `{attribute}`"
            ))
        };
        if let Some(g) = self.generators.iter_mut().find(|g| g.name == element) {
            match attribute {
                "p_nom" => g.p_nom = value,
                "p_min_pu" => g.p_min_pu = Series::Static(value),
                "p_max_pu" => g.p_max_pu = Series::Static(value),
                "marginal_cost" => match &mut g.cost {
                    super::CostCurve::Polynomial { marginal_cost, .. } => *marginal_cost = Series::Static(value),
                    super::CostCurve::PiecewiseLinear(_) => return Err(format!("generator `{element}` has a piecewise-linear cost: no single marginal_cost")),
                },
                _ => return unknown("generator"),
            }
            return Ok(());
        }
        if let Some(l) = self.links.iter_mut().find(|l| l.name == element) {
            match attribute {
                "p_nom" => l.p_nom = value,
                "p_min_pu" => l.p_min_pu = Series::Static(value),
                "p_max_pu" => l.p_max_pu = Series::Static(value),
                "efficiency" => l.efficiency = value,
                "marginal_cost" => l.marginal_cost = value,
                _ => return unknown("link"),
            }
            return Ok(());
        }
        if let Some(b) = self.branches.iter_mut().find(|b| b.name == element) {
            match attribute {
                "s_nom" => {
                    b.s_nom = value;
                    b.update_rating();
                }
                _ => return unknown("branch"),
            }
            return Ok(());
        }
        if let Some(l) = self.loads.iter_mut().find(|l| l.name == element) {
            match attribute {
                "p_set" => l.p_set = Series::Static(value),
                _ => return unknown("load"),
            }
            return Ok(());
        }
        if let Some(s) = self.storage_units.iter_mut().find(|s| s.name == element) {
            match attribute {
                "p_nom" => s.p_nom = value,
                "max_hours" => s.max_hours = value,
                _ => return unknown("storage unit"),
            }
            return Ok(());
        }
        Err(format!("no element is named `{element}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{Bus, Snapshots};

    fn two_buses() -> Network {
        let mut n = Network::new("t", Snapshots::hourly(1));
        for b in ["a", "b"] {
            n.add_bus(Bus::new(b, b, b));
        }
        n
    }

    #[test]
    fn edits_add_switch_and_set_or_say_which_one_failed() {
        let mut n = two_buses();
        n.apply(&[
            Edit::AddLink {
                name: "ab".into(),
                bus0: "a".into(),
                bus1: "b".into(),
                p_nom: 100.0,
                p_min_pu: -1.0,
                efficiency: 0.0,
            },
            Edit::SetAttribute {
                element: "ab".into(),
                attribute: "p_nom".into(),
                value: 50.0,
            },
            Edit::SetInService {
                element: "ab".into(),
                in_service: false,
            },
        ])
        .unwrap();
        assert_eq!(
            (
                n.links[0].p_nom,
                n.links[0].efficiency,
                n.links[0].in_service
            ),
            (50.0, 1.0, false)
        );
        let err = n
            .apply(&[
                Edit::SetInService {
                    element: "ab".into(),
                    in_service: true,
                },
                Edit::SetAttribute {
                    element: "ab".into(),
                    attribute: "colour".into(),
                    value: 1.0,
                },
            ])
            .unwrap_err();
        assert!(
            err.starts_with("edit 2:") && err.contains("colour"),
            "{err}"
        );
        let err = n
            .apply(&[Edit::AddLink {
                name: "x".into(),
                bus0: "a".into(),
                bus1: "z".into(),
                p_nom: 1.0,
                p_min_pu: 0.0,
                efficiency: 1.0,
            }])
            .unwrap_err();
        assert!(err.contains("field `bus1`") && err.contains("`z`"), "{err}");
    }

    /// A version made by an edit shares the time series and snapshots it does not change
    /// with its base (a year of the CAREC network is ~0.7 MB of them; the server keeps every
    /// version), and a series changed in one version is copied, not changed in the other.
    #[test]
    fn an_edited_copy_shares_what_it_does_not_change() {
        use crate::network::Load;
        let mut base = two_buses();
        for (name, bus) in [("la", 0), ("lb", 1)] {
            base.loads.push(Load {
                name: name.into(),
                bus,
                p_set: Series::hourly(vec![10.0]),
                in_service: true,
                origin: Origin::default(),
            });
        }
        let mut copy = base.clone();
        copy.apply(&[Edit::SetAttribute {
            element: "la".into(),
            attribute: "p_set".into(),
            value: 20.0,
        }])
        .unwrap();
        copy.loads[1].p_set.scale(3.0);
        assert!(std::sync::Arc::ptr_eq(&base.snapshots, &copy.snapshots));
        let shared = |a: &Series, b: &Series| match (a, b) {
            (Series::Hourly(x), Series::Hourly(y)) => std::sync::Arc::ptr_eq(x, y),
            _ => false,
        };
        let other = base.clone();
        assert!(shared(&base.loads[1].p_set, &other.loads[1].p_set));
        assert!(!shared(&base.loads[1].p_set, &copy.loads[1].p_set));
        assert_eq!(base.loads[1].p_set.at(0), 10.0, "the base is unchanged");
        assert_eq!(copy.loads[1].p_set.at(0), 30.0);
        assert_eq!(
            (base.loads[0].p_set.at(0), copy.loads[0].p_set.at(0)),
            (10.0, 20.0)
        );
    }
}
