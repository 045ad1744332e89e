//! devctl doctor: the lint rules, findings, SARIF, the Dockerfile reader, YAML positions and the runtime image contract.

pub mod dockerfile;
pub mod finding;
pub mod image_contract;
pub mod project_rules;
pub mod rule;
pub mod sarif;
pub mod yaml_positions;
