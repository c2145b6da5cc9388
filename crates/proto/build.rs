//! Compile `proto/gridtrade/v1/*.proto` with protox (pure Rust: no system `protoc`) and
//! generate the tonic server and client; keep the descriptor set for gRPC reflection.

use prost::Message;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=../../proto");
    // google/longrunning/operations.proto and what it imports are vendored under proto/google
    // (Apache-2.0); google/protobuf/* are protox's own well-known types (prost-types).
    let fds = protox::compile(["gridtrade/v1/gridtrade.proto"], ["../../proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("gridtrade_v1_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .type_attribute(".gridtrade.v1", "#[derive(serde::Serialize)]")
        .compile_fds(fds)?;
    Ok(())
}
