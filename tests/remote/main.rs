//! Tests on a second engine that behaves like a remote one (scripts/remote-engine.sh),
//! reached through docker contexts over TLS and over ssh. The engine is started once, before
//! the first selected test, and stopped after the last one, also when tests fail; a run that
//! selects no test (a filter, `--list`) does not start it.

mod bind_source;
mod bind_sources;
mod bundle;
mod cross_engine;
mod dropped_link;
mod endpoint;
mod engine;
mod fixture;
#[allow(dead_code, unused_macros, unused_imports)]
#[path = "../integration/harness.rs"]
mod harness;
mod hints;
mod pasted;
#[allow(dead_code)]
#[path = "../support/sandbox.rs"]
mod sandbox;
mod smoke;
mod transport;
mod urls;
mod verbs;

use libtest_mimic::{Arguments, Trial};

/// How many tests run at a time unless told otherwise.
const PARALLEL_TESTS: usize = 4;

/// Each test as `module::name`, as libtest names them.
macro_rules! trials {
    ($($module:ident :: $name:ident),* $(,)?) => {
        vec![$(Trial::test(concat!(stringify!($module), "::", stringify!($name)), || {
            $module::$name();
            Ok(())
        })),*]
    };
}

fn main() -> std::process::ExitCode {
    let mut arguments = Arguments::from_args();
    // The tests mostly wait (on the engines, health checks, ssh logins), not compute: four
    // at a time halve the run even on two busy CPUs. `--test-threads` or RUST_TEST_THREADS
    // say otherwise.
    if arguments.test_threads.is_none() {
        arguments.test_threads = Some(
            std::env::var("RUST_TEST_THREADS")
                .ok()
                .and_then(|threads| threads.parse().ok())
                .unwrap_or(PARALLEL_TESTS),
        );
    }
    let trials = trials![
        smoke::contexts_reach_the_second_engine,
        smoke::the_second_engine_cannot_see_the_tests_folders,
        smoke::a_remote_fixture_is_removed_from_both_engines,
        verbs::every_verb_over_tls,
        verbs::every_verb_over_ssh,
        cross_engine::a_backup_restores_across_engines_both_ways,
        transport::tls_named_by_the_docker_variables_reaches_the_engine,
        transport::a_tls_port_spoken_to_in_plain_http_is_explained,
        transport::a_refused_ssh_login_is_reported_in_ssh_s_words,
        transport::doctor_names_the_engine_and_the_transport,
        endpoint::docker_context_and_the_current_context_pick_the_second_engine,
        endpoint::bad_tls_or_ssh_material_is_refused_with_its_cause,
        urls::status_urls_name_the_engine_s_host,
        dropped_link::a_link_cut_during_a_backup_fails_cleanly,
        bind_source::an_unseen_bind_source_is_refused_and_fidelity_comes_up,
        bundle::a_bundle_carries_image_and_data_from_tls_to_the_local_engine,
        bundle::a_bundle_carries_image_and_data_from_the_local_engine_over_ssh,
        pasted::printed_commands_act_on_the_engine_they_came_from,
        bind_sources::a_bind_mount_added_by_compose_run_is_refused_as_up_refuses_it,
        bind_sources::compose_scale_of_a_service_with_an_unshared_bind_source_is_refused,
        bind_sources::a_service_of_a_compose_profile_named_on_the_command_line_is_checked_too,
        hints::the_lines_a_run_on_a_context_prints_name_that_context,
    ];
    let selected = !arguments.list
        && trials
            .iter()
            .any(|trial| !arguments.is_filtered_out(trial) && !arguments.is_ignored(trial));
    let engine = selected.then(|| {
        harness::require_engine();
        engine::RemoteEngine::start()
    });
    let started = std::time::Instant::now();
    let conclusion = libtest_mimic::run(&arguments, trials);
    if let Some(engine) = engine {
        eprintln!(
            "remote tests: {:.1}s (temporary home {})",
            started.elapsed().as_secs_f64(),
            engine.home().display()
        );
        drop(engine);
    }
    conclusion.exit_code()
}
