//! Backups of the project's volumes: the workspace they work in, targets, taking, restoring,
//! restore drills, the archive format, the manifest, the store and the journal of a run in
//! progress.

pub mod archive;
pub mod bundle;
pub mod drill;
pub mod drill_leftovers;
pub mod drill_record;
pub mod drill_sibling;
pub mod id;
pub mod journal;
pub mod last_restore;
pub mod manifest;
pub mod origin;
pub mod restore;
pub mod store;
pub mod take;
pub mod target;
pub mod workspace;
