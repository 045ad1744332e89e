//! The labels compose puts on what it creates, named once.

/// Every container, network and volume: the project's name.
pub const PROJECT: &str = "com.docker.compose.project";
/// Every container: its service.
pub const SERVICE: &str = "com.docker.compose.service";
/// Every container: the project's working directory (the checkout).
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
/// Every container: the compose files it was created from.
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
/// A `run` container: `True`.
pub const ONE_OFF: &str = "com.docker.compose.oneoff";
/// Every volume: the hash of its declaration.
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
/// What every label compose sets starts with.
pub const PREFIX: &str = "com.docker.compose.";
