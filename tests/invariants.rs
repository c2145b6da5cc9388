//! Invariants on generated random networks (proptest): every bus balances in every hour,
//! flows stay within ratings, and a generator strictly between its limits sets its bus price.

use gridtrade_engine::formulation::NetworkModel;
use gridtrade_engine::network::{
    Branch, Bus, CostCurve, Generator, Link, Load, Network, Origin, Series, Snapshots,
};
use gridtrade_engine::solution::Status;
use gridtrade_engine::solve::{self, SolveOptions};
use petgraph::graph::EdgeIndex;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Spec {
    buses: usize,
    hours: usize,
    /// (from, to, x, rating) for extra lines beyond the spanning tree.
    extra_lines: Vec<(usize, usize, f64, f64)>,
    tree: Vec<(f64, f64)>,
    /// (bus, p_nom, cost) generators.
    gens: Vec<(usize, f64, f64)>,
    /// Load per bus and hour, MW.
    load: Vec<Vec<f64>>,
    link: Option<(usize, usize, f64)>,
    model: NetworkModel,
}

fn spec() -> impl Strategy<Value = Spec> {
    (2usize..8, 1usize..4).prop_flat_map(|(nb, nt)| {
        (
            prop::collection::vec((0..nb, 0..nb, 0.01f64..1.0, 5.0f64..200.0), 0..6),
            prop::collection::vec((0.01f64..1.0, 5.0f64..200.0), nb - 1),
            prop::collection::vec((0..nb, 10.0f64..300.0, 1.0f64..100.0), 1..8),
            prop::collection::vec(prop::collection::vec(0.0f64..120.0, nt), nb),
            prop::option::of((0..nb, 0..nb, 10.0f64..100.0)),
            prop_oneof![
                Just(NetworkModel::Dc),
                Just(NetworkModel::Transport),
                Just(NetworkModel::Copperplate)
            ],
        )
            .prop_map(move |(extra_lines, tree, gens, load, link, model)| Spec {
                buses: nb,
                hours: nt,
                extra_lines,
                tree,
                gens,
                load,
                link,
                model,
            })
    })
}

fn build(s: &Spec) -> Network {
    let mut n = Network::new("random", Snapshots::hourly(s.hours));
    for b in 0..s.buses {
        n.add_bus(Bus {
            name: format!("b{b}"),
            zone: format!("z{}", b % 3),
            country: String::new(),
            v_nom: 1.0,
            carrier: "AC".into(),
            x: 0.0,
            y: 0.0,
            in_service: true,
            origin: Origin::default(),
        });
    }
    let line = |name: String, bus0: usize, bus1: usize, x: f64, s_max: f64| {
        Branch::line(&name, bus0, bus1, x, s_max)
    };
    for (i, &(x, rating)) in s.tree.iter().enumerate() {
        // Bus i+1 hangs off an earlier bus: a spanning tree.
        n.add_branch(line(format!("t{i}"), (i * 7) % (i + 1), i + 1, x, rating));
    }
    for (i, &(a, b, x, rating)) in s.extra_lines.iter().enumerate() {
        if a != b {
            n.add_branch(line(format!("e{i}"), a, b, x, rating));
        }
    }
    if let Some((a, b, p_nom)) = s.link {
        if a != b {
            n.add_link(Link {
                name: "k".into(),
                bus0: a,
                bus1: b,
                p_nom,
                p_min_pu: Series::Static(-1.0),
                p_max_pu: Series::Static(1.0),
                efficiency: 1.0,
                marginal_cost: 0.0,
                expansion: None,
                in_service: true,
                edge: EdgeIndex::new(0),
                origin: Origin::default(),
            });
        }
    }
    for (i, &(bus, p_nom, cost)) in s.gens.iter().enumerate() {
        n.generators.push(Generator {
            name: format!("g{i}"),
            bus,
            carrier: String::new(),
            p_nom,
            p_min_pu: Series::Static(0.0),
            p_max_pu: Series::Static(1.0),
            // Distinct costs keep the marginal generator unique.
            cost: CostCurve::linear(cost + i as f64 * 1e-3),
            efficiency: 1.0,
            expansion: None,
            in_service: true,
            origin: Origin::default(),
        });
    }
    for (b, series) in s.load.iter().enumerate() {
        n.loads.push(Load {
            name: format!("d{b}"),
            bus: b,
            p_set: Series::hourly(series.clone()),
            in_service: true,
            origin: Origin::default(),
        });
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn balance_ratings_and_marginal_prices_hold(s in spec()) {
        let n = build(&s);
        let mut opts = SolveOptions::default();
        opts.formulation.model = s.model;
        opts.formulation.voll = Some(1000.0); // always feasible
        let o = solve::solve(&n, &opts).unwrap();
        prop_assert_eq!(o.status, Status::Optimal);
        let r = o.results.unwrap();
        let tol = 1e-6;

        // Balance per balance node (bus, or zone in copperplate) and hour.
        let node = |b: usize| match s.model {
            NetworkModel::Copperplate => b % 3,
            _ => b,
        };
        for t in 0..s.hours {
            let mut net = vec![0.0; s.buses];
            for (g, gen) in n.generators.iter().enumerate() {
                net[node(gen.bus)] += r.gen_p[g][t];
            }
            for (b, shed) in r.bus_shed.iter().enumerate() {
                net[node(b)] += shed[t];
            }
            for l in &n.loads {
                net[node(l.bus)] -= l.p_set.at(t);
            }
            for (i, br) in n.branches.iter().enumerate() {
                net[node(br.bus0)] -= r.branch_p0[i][t];
                net[node(br.bus1)] += r.branch_p0[i][t];
            }
            for (i, k) in n.links.iter().enumerate() {
                net[node(k.bus0)] -= r.link_p0[i][t];
                net[node(k.bus1)] += r.link_p1[i][t];
            }
            for (b, v) in net.iter().enumerate() {
                prop_assert!(v.abs() < 1e-5, "node {} hour {}: imbalance {}", b, t, v);
            }
        }
        // Flows within ratings.
        for (i, br) in n.branches.iter().enumerate() {
            for t in 0..s.hours {
                prop_assert!(r.branch_p0[i][t].abs() <= br.s_max + tol);
            }
        }
        for (i, k) in n.links.iter().enumerate() {
            for t in 0..s.hours {
                prop_assert!(r.link_p0[i][t].abs() <= k.p_nom + tol);
            }
        }
        // Kirchhoff (dc): angles recovered along the spanning tree explain every other line.
        if s.model == NetworkModel::Dc {
            for t in 0..s.hours {
                let mut theta = vec![0.0; s.buses];
                for (i, br) in n.branches.iter().enumerate().take(s.buses - 1) {
                    theta[br.bus1] = theta[br.bus0] - r.branch_p0[i][t] * br.x;
                }
                for (i, br) in n.branches.iter().enumerate().skip(s.buses - 1) {
                    let implied = (theta[br.bus0] - theta[br.bus1]) / br.x;
                    prop_assert!((implied - r.branch_p0[i][t]).abs() < 1e-4,
                        "line {} hour {}: flow {} but angles imply {}", br.name, t, r.branch_p0[i][t], implied);
                }
            }
        }
        // A generator strictly between its limits is marginal: its cost is its bus price.
        for (g, gen) in n.generators.iter().enumerate() {
            let CostCurve::Polynomial { marginal_cost, .. } = &gen.cost else { unreachable!() };
            for t in 0..s.hours {
                let p = r.gen_p[g][t];
                if p > 1e-4 && p < gen.p_nom - 1e-4 {
                    let price = r.bus_price[gen.bus][t];
                    prop_assert!((price - marginal_cost.at(t)).abs() < 1e-6,
                        "g{} hour {}: p {} price {} cost {}", g, t, p, price, marginal_cost.at(t));
                }
            }
        }
        // Without loop flows (transport, copperplate) no price is negative; in the dc model a
        // congested loop can legitimately make one negative.
        if s.model != NetworkModel::Dc {
            for prices in &r.bus_price {
                for &p in prices {
                    prop_assert!(p >= -tol, "price {}", p);
                }
            }
        }
        // The objective is the cost of what was produced and shed.
        let mut cost = 0.0;
        for (g, gen) in n.generators.iter().enumerate() {
            let CostCurve::Polynomial { marginal_cost, .. } = &gen.cost else { unreachable!() };
            cost += r.gen_p[g].iter().map(|p| p * marginal_cost.at(0)).sum::<f64>();
        }
        cost += 1000.0 * r.shed_mwh;
        prop_assert!((cost - r.objective).abs() <= 1e-6 * r.objective.abs().max(1.0));
    }
}
