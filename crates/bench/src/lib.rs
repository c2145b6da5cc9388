//! gridtrade's dev tools: seeded synthetic networks of any size ([`synth`], `gridtrade synth`),
//! the end-to-end benchmark ([`run`], `gridtrade bench`) and the load and fault test against
//! a server process ([`load`], `gridtrade loadtest`). Not part of the engine's API.

pub mod load;
pub mod run;
pub mod synth;

/// The files of `networks/example`, compiled in: what the load test uploads.
pub const EXAMPLE_FILES: &[(&str, &str)] = &[
    (
        "buses.csv",
        include_str!("../../../networks/example/buses.csv"),
    ),
    (
        "carriers.csv",
        include_str!("../../../networks/example/carriers.csv"),
    ),
    (
        "generators-p_max_pu.csv",
        include_str!("../../../networks/example/generators-p_max_pu.csv"),
    ),
    (
        "generators.csv",
        include_str!("../../../networks/example/generators.csv"),
    ),
    (
        "lines.csv",
        include_str!("../../../networks/example/lines.csv"),
    ),
    (
        "links.csv",
        include_str!("../../../networks/example/links.csv"),
    ),
    (
        "loads-p_set.csv",
        include_str!("../../../networks/example/loads-p_set.csv"),
    ),
    (
        "loads.csv",
        include_str!("../../../networks/example/loads.csv"),
    ),
    (
        "network.csv",
        include_str!("../../../networks/example/network.csv"),
    ),
    (
        "snapshots.csv",
        include_str!("../../../networks/example/snapshots.csv"),
    ),
    (
        "storage_units-inflow.csv",
        include_str!("../../../networks/example/storage_units-inflow.csv"),
    ),
    (
        "storage_units.csv",
        include_str!("../../../networks/example/storage_units.csv"),
    ),
];
