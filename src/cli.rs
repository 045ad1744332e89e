//! The command line: every clap type of devctl, whose doc comments are the help text.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// A safe dev-control CLI around `docker compose`.
///
/// devctl runs compose with the files, env files, compose profiles and project name of a devctl
/// profile (profiles/*.yaml beside your compose files), waits for health, and reports status.
#[derive(Debug, Parser)]
#[command(
    name = "devctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags that every verb takes. They go before or after the verb.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The devctl profile to use (profiles/NAME.yaml) — not a compose profile.
    #[arg(long, global = true, env = "DEVCTL_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// The project root; by default the nearest directory, from here upwards, holding
    /// profiles/ or a compose file.
    #[arg(long, global = true, env = "DEVCTL_PROJECT_DIR", value_name = "DIR")]
    pub project_dir: Option<PathBuf>,

    /// The docker context to talk to, as `docker --context` (else DOCKER_HOST, else
    /// DOCKER_CONTEXT, else the current docker context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// Address the fidelity stack: the profile's services built from their Dockerfiles, with
    /// no source mounts, under a project of their own (see docs/fidelity.md).
    #[arg(long, global = true)]
    pub fidelity: bool,

    /// Print the exact compose command lines and run nothing.
    #[arg(
        short = 'n',
        long,
        global = true,
        env = "DEVCTL_DRY_RUN",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub dry_run: bool,

    /// Print only warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more: every command devctl runs and where its state lives.
    #[arg(long, global = true)]
    pub verbose: bool,

    /// When to use colours (NO_COLOR is honoured under `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    #[command(flatten)]
    pub guard: GuardArgs,
}

/// How destructive steps are confirmed; see docs/guard.md.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Confirmation")]
pub struct GuardArgs {
    /// Confirm a step that deletes data by naming the project; needed when there is no
    /// terminal to ask on. A bare --yes is never enough for data.
    #[arg(long, global = true, env = "DEVCTL_CONFIRM", value_name = "PROJECT")]
    pub confirm: Option<String>,

    /// Confirm a step that removes containers or images (not data) without being asked.
    #[arg(
        short = 'y',
        long,
        global = true,
        env = "DEVCTL_YES",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub yes: bool,

    /// Delete volumes without taking the automatic backup first.
    #[arg(long, global = true)]
    pub no_backup: bool,

    /// Act on the project even though another checkout's containers carry its name.
    #[arg(long, global = true)]
    pub allow_other_checkout: bool,
}

impl GlobalArgs {
    /// The requested devctl profile; an empty `DEVCTL_PROFILE=` requests none.
    pub fn profile_name(&self) -> Option<&str> {
        self.profile.as_deref().filter(|name| !name.is_empty())
    }

    /// The requested docker context; an empty `--context ''` requests none.
    pub fn context_name(&self) -> Option<String> {
        self.context.clone().filter(|context| !context.is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the profile's services detached and wait until they are healthy.
    Up(UpArgs),
    /// Stop and remove every container and network of the project; volumes only with
    /// --volumes, confirmed and backed up first.
    Down(DownArgs),
    /// Show each service's state, health, published ports, mounts and image.
    Status(StatusArgs),
    /// Show the services' logs.
    Logs(LogsArgs),
    /// Back up the volumes of the profile's services; list, verify or prune backups.
    Backup(BackupArgs),
    /// Restore a backup into the project's volumes (a safety backup is taken first).
    Restore(RestoreArgs),
    /// Run a command in a running service container.
    Exec(ExecArgs),
    /// Open a shell (bash, else sh) in a running service container.
    Shell(ShellArgs),
    /// Open a service's URL (its first published TCP port) in the browser, and print it.
    Open(OpenArgs),
    /// List every compose project on the engine: checkout, services up, fidelity, profiles,
    /// newest backup.
    Ls(LsArgs),
    /// Restart the services' containers (the same containers, never recreated), then wait
    /// until they are healthy.
    Restart(RestartArgs),
    /// Build the images of the services that build.
    Build(BuildArgs),
    /// List the devctl profiles, or show one resolved.
    Profiles(ProfilesArgs),
    /// `devctl up --fidelity`: build and start the fidelity stack beside the live one.
    #[command(name = "fidelity-up")]
    FidelityUp(UpArgs),
    /// `devctl down --fidelity`: remove the fidelity stack; the live stack is not touched.
    #[command(name = "fidelity-down")]
    FidelityDown(DownArgs),
    /// Check the environment, the project's compose files, Dockerfiles and env files, and
    /// (with --images) its built images against their contract and its services against
    /// their images.
    Doctor(DoctorArgs),
    /// Run any compose command with the profile applied; destructive ones pass the guard.
    ///
    /// Everything after `compose` (and an optional `--`) is compose's; devctl's own flags go
    /// before `compose`: `devctl --confirm shop compose down -v`.
    #[command(override_usage = "devctl [OPTIONS] compose [--] [ARGS]...")]
    Compose(ComposeArgs),
    /// Show what a verb would run (and, as JSON, the resolved compose model), running nothing.
    Plan(PlanArgs),
    /// Set up an existing compose project: profiles, a Makefile block, .env.example.
    ///
    /// Writes commented profiles (database volumes protected and backed up, the stage that
    /// ships for fidelity), never overwriting a file; `-n` prints what it would write.
    Init(InitArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print devctl's manual page (or one verb's), or write them all into a directory.
    Man(ManArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// Only these services (and what they depend on).
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,

    /// How long to wait for health, e.g. 90s or 2m (default: the profile's up.wait_timeout).
    #[arg(long, env = "DEVCTL_WAIT_TIMEOUT", value_parser = crate::report::units::parse_duration, value_name = "DURATION")]
    pub wait_timeout: Option<Duration>,

    /// Start the services and return without waiting for health.
    #[arg(long)]
    pub no_wait: bool,

    /// Build images before starting (always done with --fidelity).
    #[arg(long)]
    pub build: bool,

    /// Build without the build cache first (implies --build).
    #[arg(long)]
    pub no_cache: bool,

    /// Pull newer base images when building (implies --build).
    #[arg(long)]
    pub pull: bool,

    /// Start even when a variable the compose files require (no default) is unset.
    #[arg(
        long,
        env = "DEVCTL_SKIP_ENV_CHECK",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub skip_env_check: bool,
}

#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub action: Option<BackupAction>,

    /// Only this volume (its compose key or engine name); repeat for more.
    #[arg(long = "volume", value_name = "NAME")]
    pub volumes: Vec<String>,

    /// A label for the backup, added to its id.
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,

    /// Also back up anonymous volumes (named by service and mount path).
    #[arg(long)]
    pub anonymous: bool,

    /// Drill the backup right after taking it (as `devctl backup drill ID`).
    #[arg(long)]
    pub drill: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum BackupAction {
    /// List this project's backups, oldest first.
    List {
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Re-hash every artifact and read every archive through to its end.
    Verify {
        /// The backup to verify (default: every backup of the project).
        id: Option<String>,
    },
    /// Restore a backup into a throwaway sibling project, wait for its services to be
    /// healthy, run the profile's drill checks, record the outcome and remove the sibling.
    /// Never touches the live stack; asks nothing.
    Drill {
        /// The backup to drill: an id from `devctl backup list`.
        #[arg(value_name = "ID", required_unless_present = "latest")]
        id: Option<String>,

        /// Drill the newest backup.
        #[arg(long, conflicts_with = "id")]
        latest: bool,

        /// How long to wait for the sibling's services to be healthy (and for each check).
        #[arg(long, env = "DEVCTL_WAIT_TIMEOUT", value_parser = crate::report::units::parse_duration, value_name = "DURATION")]
        wait_timeout: Option<Duration>,
    },
    /// Write one backup into a portable bundle file: the backup, the compose model (secret
    /// values and the env files' values masked), the services' image references and ids, and
    /// the images when asked.
    Export {
        /// The backup to export: an id from `devctl backup list`.
        #[arg(value_name = "ID", required_unless_present = "latest")]
        id: Option<String>,

        /// Export the newest manual or pre-delete backup.
        #[arg(long, conflicts_with = "id")]
        latest: bool,

        /// The bundle file to write (never replaced without --force).
        #[arg(short = 'o', long, value_name = "FILE")]
        output: PathBuf,

        /// Which images the bundle carries (`docker save`): none (only their references and
        /// ids), those the project builds, or all its services run.
        #[arg(long, value_enum, default_value_t = BundleImages::None, value_name = "WHICH")]
        images: BundleImages,

        /// Replace FILE when it exists.
        #[arg(long)]
        force: bool,
    },
    /// Check a bundle file whole, then store its backup in this project's store and load the
    /// images it carries; prints the command that restores it.
    Import {
        /// The bundle file `devctl backup export` wrote.
        #[arg(value_name = "FILE")]
        file: PathBuf,

        /// Import a bundle of another project into this one, named here to confirm.
        #[arg(long, value_name = "PROJECT")]
        into_project: Option<String>,
    },
    /// Remove old backups, keeping the newest N (asks first).
    Prune {
        /// How many of the newest backups to keep (at least 1).
        #[arg(long, value_name = "N")]
        keep: usize,
    },
}

/// Which images a bundle carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BundleImages {
    None,
    Built,
    All,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The backup to restore: an id from `devctl backup list`.
    #[arg(value_name = "ID", required_unless_present_any = ["latest", "from", "undo"])]
    pub id: Option<String>,

    /// Restore the newest manual or pre-delete backup (never a safety backup).
    #[arg(long, conflicts_with_all = ["id", "from", "undo"])]
    pub latest: bool,

    /// Put back what the last restore replaced (its safety backup).
    #[arg(long, conflicts_with_all = ["id", "from"])]
    pub undo: bool,

    /// Restore a backup directory made anywhere (another checkout, another machine);
    /// volumes are matched by their compose key.
    #[arg(long, value_name = "DIR", conflicts_with = "id")]
    pub from: Option<PathBuf>,

    /// Only this volume (its compose key or engine name); repeat for more.
    #[arg(long = "volume", value_name = "NAME")]
    pub volumes: Vec<String>,

    /// Do not back up the volumes' current contents first (so nothing to undo or roll
    /// back to).
    #[arg(long)]
    pub no_safety_backup: bool,

    /// Keep the restored state when the services do not become healthy (or a hook restore
    /// fails), instead of putting the safety backup back.
    #[arg(long)]
    pub no_rollback: bool,

    /// Run restore commands the backup records though the profile does not declare them:
    /// only at a terminal, after showing them and asking.
    #[arg(long)]
    pub trust_backup_hook: bool,

    /// How long to wait for the restarted services to be healthy.
    #[arg(long, env = "DEVCTL_WAIT_TIMEOUT", value_parser = crate::report::units::parse_duration, value_name = "DURATION")]
    pub wait_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// Keep containers of services no longer in the compose files.
    #[arg(long)]
    pub keep_orphans: bool,

    /// Also delete the project's volumes (named and anonymous), except protected and
    /// external ones: asks for the project name, and backs them up first.
    #[arg(
        short = 'v',
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        value_parser = clap::builder::BoolishValueParser::new(),
        value_name = "BOOL"
    )]
    pub volumes: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// Also check the built images against the profile's runtime contract (doctor.images).
    #[arg(long)]
    pub images: bool,

    /// Output format: human (grouped, coloured), json, or sarif (for code-scanning upload).
    #[arg(long, value_enum, default_value_t = DoctorFormat::Human)]
    pub format: DoctorFormat,

    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    Human,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Args)]
pub struct ComposeArgs {
    /// The compose command line: global flags, subcommand, its flags and arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub arguments: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Clone, Args)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Shorthand for --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl FormatArgs {
    pub fn resolved(&self) -> Format {
        if self.json { Format::Json } else { self.format }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Only these services.
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,

    /// Follow the log output.
    #[arg(short, long)]
    pub follow: bool,

    /// Number of lines to show from the end of each log.
    #[arg(long, value_name = "N")]
    pub tail: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Give the command no terminal (compose's `exec -T`); the default when devctl's input
    /// is not a terminal.
    #[arg(short = 'T', long = "no-tty")]
    pub no_tty: bool,

    /// The service to run in.
    pub service: String,

    /// The command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub action: Option<ProfilesAction>,

    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ProfilesAction {
    /// Show one profile with `extends` resolved.
    Show {
        /// The profile's name (its file name without .yaml).
        name: String,

        #[command(flatten)]
        format: FormatArgs,
    },
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// json also carries the profile and the resolved compose model.
    #[command(flatten)]
    pub format: FormatArgs,

    /// Print secret values (passwords, tokens, keys) as they are, not masked.
    #[arg(long)]
    pub show_secrets: bool,

    /// The verb to show; with --fidelity and no verb, what the fidelity transform changes.
    #[command(subcommand)]
    pub verb: Option<PlanVerb>,
}

/// The verbs `plan` can show.
#[derive(Debug, Subcommand)]
pub enum PlanVerb {
    /// What `devctl up` would run.
    Up(UpArgs),
    /// What `devctl down` would run.
    Down(DownArgs),
    /// What `devctl logs` would run.
    Logs(LogsArgs),
    /// What `devctl exec` would run.
    Exec(ExecArgs),
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print completions for.
    pub shell: clap_complete::Shell,
}

/// Puts a `--` after the verb `compose` so that everything following it is compose's, flags
/// that devctl also has (`--dry-run`, `--profile`, `--help`) included.
pub fn separate_passthrough(mut arguments: Vec<OsString>) -> Vec<OsString> {
    let command = Cli::command();
    let takes_value = |token: &str| {
        let found = if let Some(long) = token.strip_prefix("--") {
            command
                .get_arguments()
                .find(|arg| arg.get_long() == Some(long))
        } else {
            let short = token.chars().last();
            command.get_arguments().find(|arg| arg.get_short() == short)
        };
        found.is_some_and(|arg| arg.get_action().takes_values())
    };
    let mut index = 1;
    while let Some(token) = arguments
        .get(index)
        .map(|token| token.to_string_lossy().into_owned())
    {
        if token == "--" {
            break;
        }
        if token.starts_with('-') && token != "-" {
            if !token.contains('=') && takes_value(&token) {
                index += 1;
            }
            index += 1;
            continue;
        }
        let next_is_separator = arguments.get(index + 1).is_some_and(|next| next == "--");
        if token == "compose" && index + 1 < arguments.len() && !next_is_separator {
            arguments.insert(index + 1, "--".into());
        }
        break;
    }
    arguments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(line: &str) -> Cli {
        let arguments = line.split_whitespace().map(OsString::from).collect();
        Cli::try_parse_from(separate_passthrough(arguments)).unwrap()
    }

    fn passthrough(line: &str) -> Vec<String> {
        match parse(line).command {
            Command::Compose(args) => args.arguments,
            other => panic!("not compose: {other:?}"),
        }
    }

    #[test]
    fn everything_after_compose_is_compose_s() {
        assert_eq!(
            passthrough("devctl compose --dry-run down -v"),
            ["--dry-run", "down", "-v"]
        );
        assert_eq!(
            passthrough("devctl compose -- --profile app down"),
            ["--profile", "app", "down"]
        );
        assert_eq!(passthrough("devctl compose --help"), ["--help"]);
        let cli = parse("devctl --profile compose --confirm shop -n compose rm -sfv");
        assert_eq!(cli.global.profile.as_deref(), Some("compose"));
        assert_eq!(cli.global.guard.confirm.as_deref(), Some("shop"));
        assert!(cli.global.dry_run);
        assert_eq!(
            passthrough("devctl --profile compose compose rm -sfv"),
            ["rm", "-sfv"]
        );
    }

    #[test]
    fn down_volumes_spellings() {
        for line in [
            "devctl down -v",
            "devctl down --volumes",
            "devctl down --volumes=true",
            "devctl down --keep-orphans -v",
        ] {
            match parse(line).command {
                Command::Down(args) => assert!(args.volumes, "{line}"),
                other => panic!("{other:?}"),
            }
        }
        match parse("devctl down --volumes=false").command {
            Command::Down(args) => assert!(!args.volumes),
            other => panic!("{other:?}"),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ShellArgs {
    /// The service to open a shell in.
    pub service: String,
}

#[derive(Debug, Clone, Args)]
pub struct RestartArgs {
    /// Only these services; all of the profile's when none is named.
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,

    /// How long to wait for health, e.g. 90s or 2m (default: the profile's up.wait_timeout).
    #[arg(long, env = "DEVCTL_WAIT_TIMEOUT", value_parser = crate::report::units::parse_duration, value_name = "DURATION")]
    pub wait_timeout: Option<Duration>,

    /// Restart and return without waiting for health.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Only these services; every one of the profile's that builds when none is named.
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,

    /// Build without the cache.
    #[arg(long)]
    pub no_cache: bool,

    /// Pull newer base images while building.
    #[arg(long)]
    pub pull: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// A verb whose page to print (`devctl man restore`); devctl's own page when none.
    #[arg(value_name = "VERB")]
    pub verb: Option<String>,

    /// Write every page (devctl.1, devctl-VERB.1, …) into this directory instead.
    #[arg(long, value_name = "DIR", conflicts_with = "verb")]
    pub directory: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct OpenArgs {
    /// The service to open; the first that publishes a TCP port when none is named.
    pub service: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub format: FormatArgs,
}
