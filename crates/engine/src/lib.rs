//! gridtrade's engine: least-cost dispatch and DC power flow on a transmission grid held as
//! a graph. Synchronous and self-contained: no async runtime, RPC, command line or database.
//!
//! The solve path is a library call: [`io::read`] a network, optionally
//! [`solve::select_snapshots`], then [`solve::solve`] with [`solve::SolveOptions`]; the
//! [`solve::Outcome`] carries the status, the [`solution::Results`] (dispatch, flows, prices)
//! and, for an infeasible problem, a [`solve::Diagnosis`].
//!
//! Modules, in the order data flows: [`network`] (the data), [`io`] (PyPSA and MATPOWER in,
//! result folders out), [`validate`], [`topology`] (graph work on the network), [`formulation`]
//! (the LP, one function per family of variables and constraints), [`solver`] (HiGHS),
//! [`solution`] (results read back), [`solve`] (the path through all of them), [`report`]
//! (a solve's summary for people).

pub mod error;
pub mod formulation;
pub mod io;
pub mod network;
pub mod report;
pub mod solution;
pub mod solve;
pub mod solver;
pub mod topology;
pub mod validate;

pub use error::{Error, Finding, Findings, Severity};
pub use network::Network;
