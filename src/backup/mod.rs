//! Backups of the project's volumes: the workspace they work in, targets, taking, restoring,
//! restore drills, the archive format, the manifest, the store, the journal of a run in
//! progress, and portable bundles (export and import, and the check of their image archive).

pub mod archive;
pub mod bundle;
pub mod bundle_export;
pub mod bundle_import;
pub mod drill;
pub mod drill_leftovers;
pub mod drill_record;
pub mod drill_sibling;
pub mod id;
pub mod image_archive;
pub mod journal;
pub mod last_restore;
pub mod manifest;
pub mod origin;
pub mod restore;
pub mod store;
pub mod take;
pub mod target;
pub mod workspace;
