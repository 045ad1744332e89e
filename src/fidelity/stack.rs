//! `FidelityStack`: the fidelity stack a project's commands address once it is entered
//! (`fidelity::entry::enter`): the generated compose file, the live stack it mirrors, and
//! what the transform changed.

use std::path::PathBuf;

use crate::fidelity::transform::Transformed;

/// The fidelity stack: the generated compose file devctl runs instead of the profile's.
#[derive(Debug, Clone)]
pub struct FidelityStack {
    /// The generated compose file (compose's resolved JSON, transformed).
    pub file: PathBuf,
    /// `--project-directory`: the live stack's own, so both carry the same working_dir.
    pub directory: PathBuf,
    /// The live stack's project name.
    pub live: String,
    pub transformed: Transformed,
}
