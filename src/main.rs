//! Entry point: parse the command line, load the configuration, pick the front end, and turn
//! the outcome into an exit code. No logic lives here.

use clap::Parser;

use glp_console::cli::{Cli, Command, ConfigCommand, DbCommand, exit};
use glp_console::config::Config;
use glp_console::headless::export::{self, Destination, ExportWhat};
use glp_console::headless::reports::{self, Format};
use glp_console::headless::sync_only::{self, SyncOnly};
use glp_console::headless::{self, Failure};
use glp_console::launch::{self, FirstSync};
use glp_console::logging;
use glp_console::store::Store;
use glp_console::sync::{Scope, Trigger};

fn main() {
    glp_console::memory::tune();
    glp_console::tls::init();
    let cli = Cli::parse();
    let mut code = match run(cli) {
        Ok(()) => exit::OK,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("glp-console: {}", f.message);
            }
            f.code
        }
    };
    // A reader that went away (`| head`) is not a failure; a lost output is.
    if let Some(e) = glp_console::headless::stdout::take_error() {
        eprintln!("glp-console: {e}");
        if code == exit::OK {
            code = exit::CONFIG;
        }
    }
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<(), Failure> {
    // Only syncs and `status` have figures to write: elsewhere the flag would do nothing.
    let has_metrics = (cli.sync_only && cli.command.is_none())
        || matches!(cli.command, Some(Command::Status { .. }));
    if cli.global.metrics_file.is_some() && !has_metrics {
        return Err(Failure::new(
            exit::CONFIG,
            "--metrics-file goes with --sync-only or status",
        ));
    }
    if let Some(Command::Simulate(args)) = &cli.command {
        let cfg = args
            .to_sim_config(cli.global.client_id.clone())
            .map_err(|m| Failure::new(exit::CONFIG, m))?;
        return runtime()?
            .block_on(glp_console::sim::run_cli(cfg))
            .map_err(|e| Failure::new(exit::CONFIG, e.to_string()));
    }
    // `config check` lists every problem; every other command stops at a bad configuration.
    let checking = matches!(cli.command, Some(Command::Config(ConfigCommand::Check)));
    let (cfg, problems) = if checking {
        Config::load_all(cli.global.config.as_deref(), &cli.global.overrides())
    } else {
        (
            Config::load(cli.global.config.as_deref(), &cli.global.overrides())?,
            Vec::new(),
        )
    };
    for w in &cfg.warnings {
        eprintln!("glp-console: warning: {w}");
    }
    // `assign FILE` without flags on a terminal opens the console's wizard.
    let assign_console = match &cli.command {
        Some(Command::Assign(a)) => assign_options(a, cli.global.json)
            .opens_console(std::io::IsTerminal::is_terminal(&std::io::stdout())),
        _ => false,
    };
    // The console owns the terminal: its logs go to files only.
    let interactive =
        (cli.command.is_none() && !cli.sync_only && cli.expiring_days.is_none()) || assign_console;
    let _guard = start_logging(&cfg, &cli, interactive)?;
    let rt = runtime()?;
    match &cli.command {
        Some(Command::Config(ConfigCommand::Check)) => config_check(&cfg, problems, &cli),
        Some(Command::Config(ConfigCommand::Path)) => {
            glp_console::out!("{}", headless::config_path(&cfg));
            Ok(())
        }
        Some(Command::Db(DbCommand::Migrate)) => {
            let msg = rt.block_on(headless::db_migrate(&cfg))?;
            glp_console::outln!("{msg}");
            Ok(())
        }
        Some(Command::Export {
            what,
            format,
            output,
            workspaces,
        }) => rt.block_on(export_inventory(
            &cfg,
            what,
            format.as_deref(),
            output.as_deref(),
            workspaces,
        )),
        Some(Command::Status { workspaces }) => rt.block_on(status(&cfg, &cli, workspaces)),
        Some(Command::Report {
            format,
            output,
            days,
            changes_days,
        }) => rt.block_on(headless::report::command(
            &cfg,
            format.as_deref(),
            output.as_deref(),
            (*days, *changes_days),
        )),
        Some(Command::Changes {
            since,
            workspaces,
            csv,
            output,
        }) => rt.block_on(headless::changes::command(
            &cfg,
            since,
            workspaces,
            headless::changes::Format::from_flags(cli.global.json, *csv)?,
            output.as_deref(),
        )),
        Some(Command::Workspaces) => rt.block_on(workspaces(&cfg, &cli)),
        Some(Command::Assign(a)) => assign(&rt, &cfg, &cli, a, assign_console),
        // Handled before the configuration is loaded (the simulator needs none).
        Some(Command::Simulate(_)) => Ok(()),
        None if cli.sync_only => sync_only(&rt, &cfg, &cli),
        None => match cli.expiring_days {
            Some(days) => rt.block_on(expiring(&cfg, &cli, days)),
            None => rt.block_on(console(&cfg, demo_flag(&cli), cli.read_only, None)),
        },
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::CONFIG, format!("cannot start the async runtime: {e}")))
}

/// Logging to files, and for a headless command to stderr as well.
fn start_logging(
    cfg: &Config,
    cli: &Cli,
    interactive: bool,
) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>, Failure> {
    // Still single-threaded here (logging starts its writer thread just below).
    if !interactive {
        glp_console::memory::one_arena();
    }
    let stderr = if interactive {
        logging::Stderr::Off
    } else {
        logging::Stderr::Headless {
            verbose: cli.global.verbose,
        }
    };
    logging::init(&cfg.log_dir(), &cfg.log.level, stderr).map_err(|m| Failure::new(exit::CONFIG, m))
}

/// `config check`: the effective configuration, and every problem found in it.
fn config_check(
    cfg: &Config,
    problems: Vec<glp_console::config::ConfigError>,
    cli: &Cli,
) -> Result<(), Failure> {
    let report = headless::config_check(cfg, problems, cli.global.json);
    glp_console::out!("{}", report.text);
    match report.problems.len() {
        0 => Ok(()),
        n => Err(Failure::new(
            exit::CONFIG,
            format!(
                "{n} problem(s) in the configuration:\n  {}",
                report.problems.join("\n  ")
            ),
        )),
    }
}

async fn export_inventory(
    cfg: &Config,
    what: &str,
    format: Option<&str>,
    output: Option<&std::path::Path>,
    workspaces: &[String],
) -> Result<(), Failure> {
    // Refused before connecting: a wrong request leaves no file and needs no database.
    let format = export::Format::choose(format, output)?;
    let store = Store::open(&cfg.database.url, 2).await?;
    let only = headless::workspaces::selected_ids(&store, workspaces).await?;
    let what = if what == "devices" {
        ExportWhat::Devices
    } else {
        ExportWhat::Subscriptions
    };
    let dest = match output {
        Some(path) => Destination::file(path),
        None => Destination::stdout(),
    };
    let shown = dest.shown();
    let written = export::inventory(&store, what, format, only.as_deref(), dest).await?;
    if let (Some(_), export::Written::Complete { rows }) = (output, written) {
        eprintln!("wrote {} ({rows} rows, {})", shown.display(), format.name());
    }
    Ok(())
}

async fn status(cfg: &Config, cli: &Cli, workspaces: &[String]) -> Result<(), Failure> {
    let store = glp_console::sync::roster::open_store_read(cfg, 2).await?;
    let report = headless::status::run(
        &store,
        cfg.sync.stale_after,
        cli.global.json,
        workspaces,
        &headless::status::configured(cfg),
        headless::status::Served::of(cfg).as_ref(),
    )
    .await?;
    glp_console::out!("{}", report.text);
    if let Some(path) = &cli.global.metrics_file {
        let configured = headless::status::configured(cfg);
        let stale_after = cfg.sync.stale_after;
        let written =
            headless::metrics::after_status(&store, path, workspaces, &configured, stale_after);
        // A failing or stale workspace says more than the file: its exit code (7) stays.
        match (written.await, &report.problem) {
            (Err(e), None) => return Err(e),
            (Err(e), Some(_)) => eprintln!("glp-console: {}", e.message),
            (Ok(()), _) => {}
        }
    }
    match report.problem {
        Some(message) => Err(Failure::new(report.code, message)),
        None => Ok(()),
    }
}

/// `glp-console workspaces`: the stored workspaces with their counts.
async fn workspaces(cfg: &Config, cli: &Cli) -> Result<(), Failure> {
    let store = glp_console::sync::roster::open_store_read(cfg, 2).await?;
    let text = headless::workspaces::list(&store, cfg.ui.expiring_days, cli.global.json).await?;
    glp_console::out!("{text}");
    Ok(())
}

/// `assign`: the console's wizard on a terminal without flags, else the headless command.
fn assign(
    rt: &tokio::runtime::Runtime,
    cfg: &Config,
    cli: &Cli,
    a: &glp_console::cli::AssignArgs,
    assign_console: bool,
) -> Result<(), Failure> {
    let opts = assign_options(a, cli.global.json);
    if assign_console {
        let open = opts.file.clone().map(|f| (f, opts.sheet.clone()));
        return rt.block_on(console(cfg, demo_flag(cli), cli.read_only, open));
    }
    let code = rt.block_on(headless::assign::run(cfg, opts))?;
    if code == exit::OK {
        Ok(())
    } else {
        // The report or review above says what happened.
        Err(Failure::silent(code))
    }
}

/// `--sync-only`: one sync run, for cron.
fn sync_only(rt: &tokio::runtime::Runtime, cfg: &Config, cli: &Cli) -> Result<(), Failure> {
    let scope = match (cli.devices, cli.subscriptions) {
        (true, false) => Scope::Devices,
        (false, true) => Scope::Subscriptions,
        _ => Scope::Both,
    };
    let opts = SyncOnly {
        scope,
        full: cli.full,
        json: cli.global.json,
        verbose: cli.global.verbose,
        trigger: Trigger::Cron,
        metrics_file: cli.global.metrics_file.clone(),
    };
    // Several workspaces (or a named one) go through the fleet; a single-workspace
    // configuration keeps today's run and output exactly.
    let fleet = cfg.is_multi_workspace() || !cli.workspaces.is_empty() || cli.all_workspaces;
    let code = if fleet {
        rt.block_on(glp_console::headless::sync_fleet::run(
            cfg,
            opts,
            &cli.workspaces,
        ))?
    } else {
        rt.block_on(sync_only::run(cfg, opts))?
    };
    if code == exit::OK {
        Ok(())
    } else {
        // The engine already printed what happened.
        Err(Failure::silent(code))
    }
}

/// `--expiring-days N`: the subscriptions that end soon, from the store or (`--live`) from
/// GreenLake.
async fn expiring(cfg: &Config, cli: &Cli, days: u32) -> Result<(), Failure> {
    let format = if cli.global.json {
        Format::Json
    } else if cli.csv {
        Format::Csv
    } else {
        Format::Text
    };
    if cli.live {
        let client = sync_only::build_client(cfg)?;
        // The API asked is the primary workspace's: its stored devices are the covered ones.
        let store = Store::open(&cfg.database.url, 2)
            .await
            .ok()
            .map(|s| s.for_workspace(cfg.primary_workspace()));
        let (text, note) = reports::expiring_live(&client, store.as_ref(), days, format).await?;
        glp_console::out!("{text}");
        if let Some(note) = note {
            eprintln!("glp-console: note: {note}");
        }
        return Ok(());
    }
    let store = Store::open(&cfg.database.url, 2).await?;
    let only = headless::workspaces::selected_ids(&store, &cli.workspaces).await?;
    glp_console::out!(
        "{}",
        reports::expiring(&store, days, only.as_deref(), format).await?
    );
    Ok(())
}

/// `--demo`, with the `--database-url` given beside it: like `DATABASE_URL`, it names the
/// demo's database (the configuration's URL is not one the demo may empty).
struct DemoFlag<'a> {
    database_url: Option<&'a str>,
    msp: bool,
}

fn demo_flag(cli: &Cli) -> Option<DemoFlag<'_>> {
    cli.demo.then_some(DemoFlag {
        database_url: cli.global.database_url.as_deref(),
        msp: cli.demo_msp,
    })
}

/// The console, on the demo's simulator and database with `--demo`, else on the configured
/// workspace; `open` starts the Assign tab's wizard on a file.
async fn console(
    cfg: &Config,
    demo: Option<DemoFlag<'_>>,
    read_only: bool,
    open: Option<(std::path::PathBuf, Option<String>)>,
) -> Result<(), Failure> {
    let Some(DemoFlag { database_url, msp }) = demo else {
        return launch::console(cfg, read_only, FirstSync::None, open).await;
    };
    let demo = glp_console::demo::prepare(cfg, database_url, msp).await?;
    let then = demo.history_after_first_sync();
    let first = FirstSync::Now(Trigger::Demo);
    let r = launch::console_then(&demo.config, read_only, first, open, then).await;
    demo.shutdown().await;
    r
}

fn assign_options(a: &glp_console::cli::AssignArgs, json: bool) -> headless::assign::AssignOptions {
    headless::assign::AssignOptions {
        file: a.file.clone(),
        sheet: a.sheet.clone(),
        subscription: a.subscription.clone(),
        region: a.region.clone(),
        application: a.application.clone(),
        tags: a.tags.clone(),
        remove_tags: a.remove_tags.clone(),
        dry_run: a.dry_run,
        apply: a.apply,
        yes: a.yes,
        report: a.report.clone(),
        json,
        undo: a.undo,
    }
}
