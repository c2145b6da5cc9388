//! Autarky: every country on its own, each cross-border branch and link out of service. The
//! gains from trade are measured against it. The engine cuts the borders out of the coupled
//! LP warm ([`gridtrade_engine::formulation::Model::cut`], through
//! `solve::solve_cases(.., Some(&borders(n)), ..)`); this module only says which elements
//! the borders are.

use gridtrade_engine::network::{Network, Outage};

/// Every cross-border branch and link of `n` (joining buses of two countries), in service
/// or not.
pub fn borders(n: &Network) -> Outage {
    Outage {
        branches: (0..n.branches.len())
            .filter(|&l| n.branch_crosses_border(l))
            .collect(),
        links: (0..n.links.len())
            .filter(|&k| n.link_crosses_border(k))
            .collect(),
    }
}

/// `n` with every cross-border branch and link out of service (the autarky network).
pub fn without_borders(n: &Network) -> Network {
    n.without(&borders(n))
}
