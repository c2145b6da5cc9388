//! Networks sent as files: written to a private temporary folder and read with the usual
//! readers, so an upload is checked exactly like a folder on disk.

use super::check_name;
use gridtrade_engine::network::Network;
use tonic::Status;

/// Read an uploaded network: the files of a PyPSA folder, or one MATPOWER `.m` file.
/// Returns the network and its warnings; errors are INVALID_ARGUMENT with every finding.
pub fn read(files: &[(String, Vec<u8>)]) -> Result<(Network, Vec<String>), Status> {
    if files.is_empty() {
        return Err(Status::invalid_argument("files: none sent"));
    }
    for (name, _) in files {
        check_name("file name", name)?;
        if !(name.ends_with(".csv") || name.ends_with(".m")) {
            return Err(Status::invalid_argument(format!(
                "file name `{name}`: only .csv files of a PyPSA folder or one .m MATPOWER file"
            )));
        }
    }
    let matpower: Vec<_> = files.iter().filter(|(n, _)| n.ends_with(".m")).collect();
    let dir =
        tempfile::tempdir().map_err(|e| Status::internal(format!("temporary folder: {e}")))?;
    let path = match matpower.as_slice() {
        [] => {
            if !files.iter().any(|(n, _)| n == "buses.csv") {
                return Err(Status::invalid_argument(
                    "files: a PyPSA folder needs buses.csv",
                ));
            }
            for (name, content) in files {
                std::fs::write(dir.path().join(name), content)
                    .map_err(|e| Status::internal(format!("{name}: {e}")))?;
            }
            dir.path().to_path_buf()
        }
        [(name, content)] if files.len() == 1 => {
            let p = dir.path().join(name);
            std::fs::write(&p, content).map_err(|e| Status::internal(format!("{name}: {e}")))?;
            p
        }
        _ => {
            return Err(Status::invalid_argument(
                "files: send one .m file alone, or the .csv files of a PyPSA folder",
            ))
        }
    };
    let (n, mut findings) = gridtrade_engine::io::read(&path).map_err(|e| super::status_of(&e))?;
    gridtrade_engine::validate::check(&n, &Default::default(), &mut findings);
    if findings.has_errors() {
        return Err(super::status_of(&crate::Error::Invalid(findings)));
    }
    Ok((n, findings.warnings().map(|w| w.to_string()).collect()))
}
