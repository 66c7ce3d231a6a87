//! Entry point: parse the command line, load the configuration, pick the front end, and turn
//! the outcome into an exit code. No logic lives here.

use clap::Parser;

use glp_console::cli::{Cli, Command, ConfigCommand, DbCommand, exit};
use glp_console::config::Config;
use glp_console::headless::{self, Failure};
use glp_console::logging;

fn main() {
    glp_console::tls::init();
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(()) => exit::OK,
        Err(f) => {
            eprintln!("glp-console: {}", f.message);
            f.code
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<(), Failure> {
    if let Some(Command::Simulate(args)) = &cli.command {
        let cfg = args
            .to_sim_config(cli.global.client_id.clone())
            .map_err(|m| Failure::new(exit::CONFIG, m))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Failure::new(exit::CONFIG, format!("cannot start the async runtime: {e}"))
            })?;
        return rt
            .block_on(glp_console::sim::run_cli(cfg))
            .map_err(|e| Failure::new(exit::CONFIG, e.to_string()));
    }
    let cfg = Config::load(cli.global.config.as_deref(), &cli.global.overrides())?;
    for w in &cfg.warnings {
        eprintln!("glp-console: warning: {w}");
    }
    let stderr_level = match cli.global.verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    let _guard = logging::init(
        &cfg.log_dir(),
        &cfg.log.level,
        logging::Stderr::Level(stderr_level),
    )
    .map_err(|m| Failure::new(exit::CONFIG, m))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::CONFIG, format!("cannot start the async runtime: {e}")))?;
    match cli.command {
        Some(Command::Config(ConfigCommand::Check)) => {
            print!("{}", headless::config_check(&cfg, cli.global.json)?);
            Ok(())
        }
        Some(Command::Config(ConfigCommand::Path)) => {
            print!("{}", headless::config_path(&cfg));
            Ok(())
        }
        Some(Command::Db(DbCommand::Migrate)) => {
            let msg = rt.block_on(headless::db_migrate(&cfg))?;
            println!("{msg}");
            Ok(())
        }
        Some(Command::Simulate(_)) => Ok(()),
        None => Err(Failure::new(
            exit::CONFIG,
            "nothing to do yet: try `glp-console config check` or `--help`",
        )),
    }
}
