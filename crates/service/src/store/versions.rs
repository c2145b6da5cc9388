//! The versions of one network in memory: how each was made, which are held, which are
//! evicted (rebuilt on demand) and which the retention policy drops.

use crate::proto::NetworkSummary;
use gridtrade_engine::network::{Edit, Network};
use std::collections::BTreeSet;
use std::sync::Arc;

/// How a version was made, which says how it can be made again.
#[derive(Debug, Clone)]
pub enum Recipe {
    /// Loaded from `networks/` at start: in memory, never evicted; every replica started
    /// from the same folder (the same image) holds it as version 1.
    Shipped,
    /// Uploaded without a database: it exists only in memory and is never evicted.
    Held,
    /// Uploaded, its files in the database: read again when asked for.
    Upload,
    /// `edits` applied to version `base`: rebuilt from it.
    Edit { base: u64, edits: Arc<Vec<Edit>> },
    /// Dropped by the retention policy.
    Dropped,
    /// Recorded but not restored at start (listed by ListNetworks); its number stays taken,
    /// so later versions do not collide with its record.
    Unrestored,
}

/// One version: its recipe, what ListNetworks says of it, and, while it is in memory, the
/// network (`seq` orders the versions held across all networks by when they were made).
#[derive(Debug, Clone)]
pub struct Version {
    pub recipe: Recipe,
    pub summary: Arc<NetworkSummary>,
    pub network: Option<Arc<Network>>,
    pub seq: u64,
}

impl Version {
    pub fn new(recipe: Recipe, n: impl Into<Arc<Network>>, summary: NetworkSummary) -> Version {
        Version {
            recipe,
            summary: Arc::new(summary),
            network: Some(n.into()),
            seq: 0,
        }
    }

    pub fn dropped() -> Version {
        Version {
            recipe: Recipe::Dropped,
            summary: Arc::default(),
            network: None,
            seq: 0,
        }
    }

    pub fn unrestored() -> Version {
        Version {
            recipe: Recipe::Unrestored,
            ..Version::dropped()
        }
    }

    pub fn is_dropped(&self) -> bool {
        matches!(self.recipe, Recipe::Dropped)
    }

    /// Whether a call can have it (not dropped, not unrestored).
    pub fn servable(&self) -> bool {
        !matches!(self.recipe, Recipe::Dropped | Recipe::Unrestored)
    }

    /// Whether its network can be let go and made again (an upload in the database, an
    /// edit).
    pub fn evictable(&self) -> bool {
        matches!(self.recipe, Recipe::Upload | Recipe::Edit { .. })
    }
}

/// The newest version of a network a call can have, by number.
pub fn newest(versions: &[Version]) -> Option<u64> {
    versions
        .iter()
        .rposition(Version::servable)
        .map(|i| i as u64 + 1)
}

/// What the retention policy changes: kept edits rebased onto the first version of their
/// chain (their edits composed), and the versions dropped. Version numbers from 1.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// (version, new base, edits from that base).
    pub rebased: Vec<(u64, u64, Arc<Vec<Edit>>)>,
    pub dropped: Vec<u64>,
}

impl Plan {
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.rebased.is_empty() && self.dropped.is_empty()
    }
}

/// Keep the newest `keep` versions: older ones are dropped unless a kept version is built
/// on them as the root of its chain (an upload or a loaded version). A kept edit whose base
/// is dropped is rebased onto that root with the edits of the chain in order.
pub fn plan_retention(versions: &[Version], keep: usize) -> Plan {
    let oldest_kept = versions.len().saturating_sub(keep.max(1)) as u64 + 1;
    let mut plan = Plan::default();
    let mut roots = BTreeSet::new();
    for v in oldest_kept..=versions.len() as u64 {
        let (root, chain) = chain_below(versions, v, oldest_kept);
        roots.insert(root);
        if let Some(edits) = chain {
            plan.rebased.push((v, root, edits));
        }
    }
    plan.dropped = (1..oldest_kept)
        .filter(|v| !roots.contains(v) && !versions[*v as usize - 1].is_dropped())
        .collect();
    plan
}

/// Follow version `v`'s bases down to a version that stays: a kept one (`>= oldest_kept`)
/// or a root. Returns it, and — when the chain passes through edits below `oldest_kept` —
/// the edits from it to `v` in order (the new recipe of `v`).
fn chain_below(versions: &[Version], v: u64, oldest_kept: u64) -> (u64, Option<Arc<Vec<Edit>>>) {
    let Recipe::Edit { base, edits } = &versions[v as usize - 1].recipe else {
        return (v, None);
    };
    let base_is_root = !matches!(versions[*base as usize - 1].recipe, Recipe::Edit { .. });
    if *base >= oldest_kept || base_is_root {
        return (*base, None);
    }
    let mut steps = vec![edits.clone()];
    let mut at = *base;
    while let Recipe::Edit { base, edits } = &versions[at as usize - 1].recipe {
        steps.push(edits.clone());
        at = *base;
    }
    let composed: Vec<Edit> = steps.iter().rev().flat_map(|e| e.iter().cloned()).collect();
    (at, Some(Arc::new(composed)))
}

/// Make `plan`'s changes to the versions in memory.
pub fn apply(versions: &mut [Version], plan: &Plan) {
    for (v, base, edits) in &plan.rebased {
        versions[*v as usize - 1].recipe = Recipe::Edit {
            base: *base,
            edits: edits.clone(),
        };
    }
    for v in &plan.dropped {
        versions[*v as usize - 1] = Version::dropped();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(value: f64) -> Arc<Vec<Edit>> {
        Arc::new(vec![Edit::SetAttribute {
            element: "ab".into(),
            attribute: "p_nom".into(),
            value,
        }])
    }

    /// Version 1 an upload, versions 2..=n each an edit of the one before.
    fn chain(n: u64) -> Vec<Version> {
        let mut v = vec![Version {
            recipe: Recipe::Upload,
            ..Version::dropped()
        }];
        for k in 2..=n {
            v.push(Version {
                recipe: Recipe::Edit {
                    base: k - 1,
                    edits: set(k as f64),
                },
                ..Version::dropped()
            });
        }
        v
    }

    #[test]
    fn retention_drops_the_middle_and_rebases_the_oldest_kept_edit_onto_the_upload() {
        let versions = chain(6);
        let plan = plan_retention(&versions, 3);
        assert_eq!(plan.dropped, vec![2, 3]);
        assert_eq!(plan.rebased.len(), 1);
        let (v, base, edits) = &plan.rebased[0];
        assert_eq!((*v, *base), (4, 1));
        let values: Vec<f64> = edits
            .iter()
            .map(|e| match e {
                Edit::SetAttribute { value, .. } => *value,
                _ => f64::NAN,
            })
            .collect();
        assert_eq!(values, [2.0, 3.0, 4.0], "the edits of 2, 3 and 4, in order");
    }

    #[test]
    fn nothing_to_do_within_the_limit_and_dropped_versions_stay_dropped() {
        let mut versions = chain(3);
        assert!(plan_retention(&versions, 5).is_empty());
        let plan = plan_retention(&versions, 1);
        apply(&mut versions, &plan);
        assert!(versions[1].is_dropped());
        assert!(
            plan_retention(&versions, 1).is_empty(),
            "applied once is enough"
        );
    }
}
