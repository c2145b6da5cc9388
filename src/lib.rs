//! gridtrade: least-cost dispatch, DC power flow and cross-border electricity trade on a
//! transmission grid held as a graph.
//!
//! The solve path is a library call: [`io::read`] a network, optionally
//! [`solve::select_snapshots`], then [`solve::solve`] with [`solve::SolveOptions`]; the
//! [`solve::Outcome`] carries the status, the [`solution::Results`] (dispatch, flows, prices)
//! and, for an infeasible problem, a [`solve::Diagnosis`].

pub mod bench;
pub mod cli;
pub mod error;
pub mod formulation;
pub mod io;
pub mod network;
pub mod report;
pub mod service;
pub mod solution;
pub mod solve;
pub mod solver;
pub mod synth;
pub mod trade;
pub mod validate;

pub use error::{Error, Finding, Findings, Severity};
pub use network::Network;
