//! End-to-end tests: the real devctl binary against the real Docker engine.

mod atomic_restore;
mod backup;
mod bad_input;
mod bundle;
mod checkouts;
mod cli;
mod demo;
mod doctor;
mod doctor_images;
mod doctor_robustness;
mod drill;
mod dry_run;
mod everyday;
mod fidelity;
mod guard;
mod harness;
mod health;
mod hostile_backup;
mod init;
mod interrupt;
mod interruption;
mod makefile;
mod model_cache;
mod postgres;
mod private_state;
mod profiles;
mod recreation;
mod remote_engine;
mod roundtrip;
#[path = "../support/sandbox.rs"]
mod sandbox;
mod snapshots;
mod where_is_it;
