//! `FidelityStack`: the fidelity stack a project's commands address once it is entered
//! (`fidelity::entry::enter`): the generated compose file, the live stack it mirrors, and
//! what the transform changed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::compose::secrets::{Masking, Secrets};
use crate::fidelity::transform::{Transformed, environment_change};

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

impl FidelityStack {
    /// What the transform changed, with the values of the profile's environment `overrides`
    /// masked where they are secret, unless `secrets` says to show them.
    pub fn changes(
        &self,
        overrides: &BTreeMap<String, BTreeMap<String, String>>,
        secrets: Secrets,
    ) -> Transformed {
        let mut changes = self.transformed.clone();
        if secrets == Secrets::Shown {
            return changes;
        }
        let masking = Masking::of(&self.transformed.model);
        for (service, variables) in overrides {
            let Some(lines) = changes.services.get_mut(service) else {
                continue;
            };
            for (name, value) in variables {
                let written = environment_change(name, value);
                for line in lines.iter_mut().filter(|line| **line == written) {
                    *line = environment_change(name, &masking.value(name, value));
                }
            }
        }
        changes
    }
}
