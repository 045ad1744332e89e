//! The compose program and what it is asked: locating it, commands, docker CLI streams, the
//! resolved model (read back in the forms compose reads), its inputs and cache, its secret
//! values, variables, verb plans, and the build stage that ships; and how devctl reads a
//! compose file's YAML itself.

pub mod build_stage;
pub mod inputs;
pub mod labels;
pub mod model;
pub mod model_cache;
pub mod program;
pub mod resolved;
pub mod secrets;
pub mod up_plan;
pub mod variables;
pub mod verb_plan;
pub(crate) mod yaml;
