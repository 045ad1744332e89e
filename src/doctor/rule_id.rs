//! A rule's typed id (`RuleId`: a misspelt id does not compile) and the severities of
//! findings. Profiles name both (`doctor.rules`), so this file imports nothing of the rules.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// How much a finding matters. `off` only appears in a profile, to disable a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Off,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Off => "off",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Declares `RuleId` with its variants, their names and the list of all of them, so a name
/// cannot be missing from the list.
macro_rules! rule_ids {
    ($($variant:ident => $name:literal,)*) => {
        /// Every rule's id. Its name (`as_str`) is what findings, JSON and SARIF output,
        /// docs/rules.md and a profile's `doctor.rules` say.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RuleId {
            $($variant,)*
        }

        impl RuleId {
            /// Every id, in the order of `rules::RULES` and docs/rules.md.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $name,)*
                }
            }
        }
    };
}

rule_ids! {
    ComposeInvalid => "compose-invalid",
    DataVolumeUnprotected => "data-volume-unprotected",
    NoHealthcheck => "no-healthcheck",
    HealthcheckNoStartPeriod => "healthcheck-no-start-period",
    HealthcheckNotShipped => "healthcheck-not-shipped",
    LiteralSecret => "literal-secret",
    ImageUnpinned => "image-unpinned",
    PortAllInterfaces => "port-all-interfaces",
    DockerSocket => "docker-socket",
    Privileged => "privileged",
    HostNetwork => "host-network",
    HostNamespace => "host-namespace",
    SensitiveHostPath => "sensitive-host-path",
    DangerousCapability => "dangerous-capability",
    DuplicateHostPort => "duplicate-host-port",
    DuplicateContainerName => "duplicate-container-name",
    NoProjectName => "no-project-name",
    ObsoleteVersion => "obsolete-version",
    BuildAndImage => "build-and-image",
    DependsOnWithoutHealth => "depends-on-without-health",
    RootUser => "root-user",
    RequiredVariableUnset => "required-variable-unset",
    DockerfileMissing => "dockerfile-missing",
    DockerfileRoot => "dockerfile-root",
    DockerfileSecret => "dockerfile-secret",
    CopyBeforeInstall => "copy-before-install",
    UnfrozenInstall => "unfrozen-install",
    BaseImageUnpinned => "base-image-unpinned",
    PackageCacheLeft => "package-cache-left",
    AddLocalFile => "add-local-file",
    ShellFormCommand => "shell-form-command",
    PipeWithoutPipefail => "pipe-without-pipefail",
    OsPackageUnpinned => "os-package-unpinned",
    GemUnpinned => "gem-unpinned",
    GoInstallUnpinned => "go-install-unpinned",
    SudoInRun => "sudo-in-run",
    EnvNotDockerignored => "env-not-dockerignored",
    EnvExampleMissing => "env-example-missing",
    EnvExampleUnused => "env-example-unused",
    NoEnvExample => "no-env-example",
    ImageContract => "image-contract",
    HealthcheckProgramMissing => "healthcheck-program-missing",
    ShellMissing => "shell-missing",
    UserMissing => "user-missing",
    PortNotExposed => "port-not-exposed",
    EntrypointNotExecutable => "entrypoint-not-executable",
}

impl RuleId {
    /// The rule a profile's `doctor.rules` names, if it is one.
    pub fn parse(name: &str) -> Option<RuleId> {
        RuleId::ALL.iter().copied().find(|id| id.as_str() == name)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_parse_back() {
        for (index, id) in RuleId::ALL.iter().enumerate() {
            let name = id.as_str();
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name}"
            );
            assert!(
                RuleId::ALL[index + 1..]
                    .iter()
                    .all(|other| other.as_str() != name),
                "{name} twice"
            );
            assert_eq!(RuleId::parse(name), Some(*id));
            assert_eq!(id.to_string(), name);
            assert_eq!(serde_json::to_value(id).unwrap(), name);
        }
        assert_eq!(RuleId::parse("port-on-all"), None);
        assert_eq!(RuleId::parse("Privileged"), None);
    }
}
