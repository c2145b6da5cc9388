//! The gRPC API `gridtrade.v1` (`proto/gridtrade/v1/gridtrade.proto`): its messages, the
//! tonic server and client stubs, and the encoded descriptor set for server reflection.
//!
//! Generated at build time by protox (pure Rust, no system `protoc`); a crate of its own so
//! that the generated code is compiled once, not again with every change to the server.

#![allow(clippy::all)]
pub use gridtrade::v1::*;

/// The packages in their proto nesting, which the generated code's paths between packages
/// (`super::super::google::…`) assume.
pub mod gridtrade {
    pub mod v1 {
        tonic::include_proto!("gridtrade.v1");
    }
}

/// The encoded descriptor set of the API, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/gridtrade_v1_descriptor.bin"));

/// Largest message a server accepts or sends and a client takes, bytes (a whole PyPSA folder
/// of a year fits; larger networks go through `UploadNetworkStream`, larger results through
/// `SolveStream`).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// `google.longrunning` (the standard Operations service and its messages), `google.rpc`
/// (`Status`, an operation's error) and `google.api` (annotations the vendored protos carry):
/// Apache-2.0, from googleapis-common-protos 1.76.0 (`proto/google`).
pub mod google {
    pub mod longrunning {
        tonic::include_proto!("google.longrunning");
    }
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
    pub mod api {
        tonic::include_proto!("google.api");
    }
}

pub use google::longrunning;
