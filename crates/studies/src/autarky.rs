//! Autarky: every country on its own, each cross-border branch and link out of service. The
//! gains from trade are measured against it. The engine cuts the borders out of the coupled
//! LP warm ([`gridtrade_engine::formulation::Model::cut`]); this module only says which
//! elements the borders are.

use gridtrade_engine::error::Error;
use gridtrade_engine::network::{Network, Outage};
use gridtrade_engine::solve::{self, Outcome, SolveOptions};
use gridtrade_engine::solver::Control;

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

/// Solve `n`, then its autarky problem in the same HiGHS instance, warm from the coupled
/// optimum: the same optimum as solving [`without_borders`] on its own, without building or
/// presolving a second LP. The autarky outcome is absent when the coupled one is not
/// optimal; its results keep the network's shape, with zero flow over every border.
pub fn solve_with_autarky(
    n: &Network,
    opts: &SolveOptions,
    control: &Control,
) -> Result<(Outcome, Option<Outcome>), Error> {
    let cases = solve::solve_cases(n, opts, control, Some(&borders(n)), None)?;
    Ok((cases.main, cases.outage))
}
