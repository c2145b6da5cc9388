//! The gRPC API `gridtrade.v1` (`proto/gridtrade/v1/gridtrade.proto`): its messages, the
//! tonic server and client stubs, and the encoded descriptor set for server reflection.
//!
//! Generated at build time by protox (pure Rust, no system `protoc`); a crate of its own so
//! that the generated code is compiled once, not again with every change to the server.

#![allow(clippy::all)]
tonic::include_proto!("gridtrade.v1");

/// The encoded descriptor set of the API, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/gridtrade_v1_descriptor.bin"));

/// Largest message a server accepts or sends and a client takes, bytes (a whole PyPSA folder
/// of a year fits; larger networks go through `UploadNetworkStream`, larger results through
/// `SolveStream`).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
