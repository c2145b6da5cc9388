//! gridtrade's studies, built on the engine: the trade accounts of a solved network
//! ([`trade`]), gains from trade against autarky ([`autarky`]), scenarios ([`scenario`]) and
//! whole studies with comparisons ([`study`]), shared by `gridtrade trade` and the `Trade`
//! RPC; and capacity-expansion plans, which candidate pays ([`plan`]; `gridtrade plan`, the
//! `Plan` RPC).
//!
//! What a study changes in a network is said here, as elements the engine takes out of
//! service ([`gridtrade_engine::solve::Cut`]) or a scenario network the engine re-solves warm;
//! the engine knows nothing of countries' autarky or of scenarios.

pub mod autarky;
pub mod batch;
pub mod coupling;
pub mod plan;
pub mod scenario;
pub mod study;
pub mod trade;
