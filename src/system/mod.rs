//! The operating system underneath: atomic files and termination signals.

pub mod files;
pub mod listeners;
pub mod signals;
