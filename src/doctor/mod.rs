//! devctl doctor: the environment checks, the lint rules over a project (compose files,
//! Dockerfiles, env files) and its built images, their findings, and the report (human,
//! JSON, SARIF).

pub mod dockerfile;
pub mod environment;
pub mod finding;
pub mod image_contract;
pub mod image_files;
pub mod image_fit;
pub mod lint_input;
pub(crate) mod output;
pub mod rule;
pub mod rule_id;
pub mod rules;
pub mod run;
pub mod sarif;
pub(crate) mod shell;
pub mod yaml_positions;

pub use run::{Format, Options, run};
