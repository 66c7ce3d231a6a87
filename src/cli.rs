//! Command-line parsing and exit codes. No logic here: `main.rs` picks the front end.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::config::FlagOverrides;

/// Process exit codes, documented in the README and `--help` so cron and monitoring can act
/// on them.
pub mod exit {
    /// Everything worked.
    pub const OK: i32 = 0;
    /// Partly done: some items or resources failed, the rest was stored.
    pub const PARTIAL: i32 = 1;
    /// Bad configuration, bad command line, or the API rejected the credentials.
    pub const CONFIG: i32 = 2;
    /// The GreenLake API is unreachable or the circuit breaker is open.
    pub const API: i32 = 3;
    /// Another sync (this host or another) holds the workspace lock.
    pub const LOCKED: i32 = 4;
    /// The database is unreachable or a statement failed.
    pub const DATABASE: i32 = 5;
    /// Stopped by SIGINT/SIGTERM; the run was recorded as cancelled.
    pub const CANCELLED: i32 = 6;
    /// `status`: the last sync failed or is older than the threshold.
    pub const STALE: i32 = 7;
    /// The sync lost the workspace lock mid-way (its database connection ended, or another
    /// sync took over): it stopped writing and marked nothing removed; run it again.
    pub const LOST_LOCK: i32 = 8;
}

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  ok
  1  partial: some items or resources failed, the rest was stored
  2  configuration, command-line or credential error
  3  GreenLake API unreachable, or circuit breaker open
  4  another sync holds the workspace lock
  5  database unreachable or failing
  6  cancelled by SIGINT/SIGTERM (the run is recorded as cancelled)
  7  status: last sync failed or is too old
  8  lost the workspace lock mid-sync (database connection ended or another sync took
     over): stopped writing, nothing marked removed; run it again";

#[derive(Debug, Parser)]
#[command(
    name = "glp-console",
    version,
    about = "Terminal console for HPE GreenLake Platform device and subscription inventory",
    after_help = EXIT_CODES_HELP,
    // `--workspace` narrows a headless command that reads or syncs workspaces.
    group(ArgGroup::new("workspace_users").args(["sync_only", "expiring_days"]).multiple(true))
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Start the console on built-in demo data (in-process simulator + local PostgreSQL).
    #[arg(long, conflicts_with_all = ["sync_only", "expiring_days"])]
    pub demo: bool,

    /// With --demo: an MSP with 25 tenant workspaces (some MSP-owned inventory, some
    /// customer-owned), every workspace in one console.
    #[arg(long = "msp", requires = "demo")]
    pub demo_msp: bool,

    /// Sync once without a terminal UI (for cron) and exit.
    #[arg(long)]
    pub sync_only: bool,

    /// With --sync-only: only devices.
    #[arg(long, requires = "sync_only")]
    pub devices: bool,

    /// With --sync-only: only subscriptions.
    #[arg(long, requires = "sync_only")]
    pub subscriptions: bool,

    /// With --sync-only: a full sync (reconciles removals) instead of an incremental one.
    #[arg(long, requires = "sync_only")]
    pub full: bool,

    /// With --sync-only or --expiring-days: only the workspace of this name (repeatable; a
    /// name as `glp-console workspaces` lists it, or a workspace id).
    #[arg(
        long = "workspace",
        value_name = "NAME",
        requires = "workspace_users",
        conflicts_with = "live"
    )]
    pub workspaces: Vec<String>,

    /// With --sync-only: every configured workspace and every discovered MSP tenant.
    #[arg(long, requires = "sync_only", conflicts_with = "workspaces")]
    pub all_workspaces: bool,

    /// Print what expires within N days (subscriptions and the devices they cover) and exit.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub expiring_days: Option<u32>,

    /// With --expiring-days: ask the API instead of the database.
    #[arg(long, requires = "expiring_days")]
    pub live: bool,

    /// Output CSV (with --expiring-days).
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,

    /// Hide every write path in the console (assignments, undo).
    #[arg(long)]
    pub read_only: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Config file (default: ~/.config/glp-console/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// PostgreSQL URL (overrides DATABASE_URL and the config file).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// API base URL (overrides GLP_BASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,

    /// OAuth2 token URL (overrides GLP_TOKEN_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub token_url: Option<String>,

    /// API client id (overrides GLP_CLIENT_ID).
    #[arg(long, global = true, value_name = "ID")]
    pub client_id: Option<String>,

    /// Log level: off, error, warn, info, debug, trace.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// Directory for the rolling log files.
    #[arg(long, global = true, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,

    /// More output on stderr (headless commands).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Machine-readable JSON output (headless commands).
    #[arg(long, global = true)]
    pub json: bool,

    /// With --sync-only or status: also write Prometheus text-format metrics (last success,
    /// duration, outcome, items, requests, retries, 429s, breaker trips per workspace) to
    /// PATH, atomically, for node_exporter's textfile collector.
    #[arg(long, global = true, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
}

impl GlobalArgs {
    pub fn overrides(&self) -> FlagOverrides {
        FlagOverrides {
            base_url: self.base_url.clone(),
            token_url: self.token_url.clone(),
            client_id: self.client_id.clone(),
            database_url: self.database_url.clone(),
            log_level: self.log_level.clone(),
            log_dir: self.log_dir.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Database maintenance.
    #[command(subcommand)]
    Db(DbCommand),
    /// Export the stored inventory (json = the exact API items; csv/xlsx = flat columns).
    Export {
        /// devices or subscriptions
        #[arg(value_parser = ["devices", "subscriptions"])]
        what: String,
        /// json, csv or xlsx (default: from the -o file's extension, else csv).
        #[arg(long, value_parser = ["json", "csv", "xlsx"])]
        format: Option<String>,
        /// Output file (required for xlsx; stdout otherwise). Written as FILE.part and
        /// renamed when complete.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Only the rows attributed to the workspace of this name (repeatable).
        #[arg(long = "workspace", value_name = "NAME")]
        workspaces: Vec<String>,
    },
    /// Show the last sync runs (per workspace when several are stored); exits 7 if the last
    /// completed sync of any workspace failed or its last good one is older than
    /// [sync] stale_after_minutes (for monitoring), naming each such workspace on stderr.
    Status {
        /// Only the workspace of this name (repeatable); one name shows its runs in full.
        #[arg(long = "workspace", value_name = "NAME")]
        workspaces: Vec<String>,
    },
    /// The recorded changes of a window, newest first, with who made each one where
    /// GreenLake's audit log or one of our assignment runs says (reads the database only).
    Changes {
        /// How far back: 30m, 24h, 7d, 2w, a date (2026-01-31, midnight UTC) or an RFC 3339
        /// time.
        #[arg(long, value_name = "WHEN", default_value = "24h")]
        since: String,
        /// Only the workspace of this name (repeatable).
        #[arg(long = "workspace", value_name = "NAME")]
        workspaces: Vec<String>,
        /// CSV instead of the table (--json for JSON).
        #[arg(long)]
        csv: bool,
        /// Output file (stdout otherwise); written as FILE.part and renamed when complete.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// List the stored workspaces: devices, subscriptions, expiring within [ui] expiring_days,
    /// last good sync and last outcome, and the all-workspaces totals (a device two workspaces
    /// both list counts once).
    Workspaces,
    /// Compliance report (for a cron job that mails it): what expires within N days and the
    /// devices it covers, the compliance checks, seat utilisation and the next 12 months of
    /// renewals, across all stored workspaces.
    Report {
        /// json, md or xlsx (default: from the -o file's extension, else md; xlsx needs -o).
        #[arg(long, value_parser = ["json", "md", "xlsx"])]
        format: Option<String>,
        /// Output file (stdout otherwise); written as FILE.part and renamed when complete.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The expiry window in days.
        #[arg(long, value_name = "N", default_value_t = 90,
              value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: u32,
        /// The window of the changes section, in days.
        #[arg(long, value_name = "N", default_value_t = 7,
              value_parser = clap::value_parser!(u32).range(1..=3650))]
        changes_days: u32,
    },
    /// Run a local GreenLake API simulator (for trying the console and rehearsing assignments).
    Simulate(Box<SimulateArgs>),
    /// Bulk assignment from a spreadsheet: the console wizard (bare FILE on a terminal),
    /// review, --apply, or --undo RUN_ID.
    Assign(Box<AssignArgs>),
}

/// `glp-console assign FILE …` / `glp-console assign --undo RUN_ID`.
#[derive(Debug, Args, Clone)]
#[command(
    after_help = "On a terminal, `assign FILE` (optionally with --sheet) and no other flag opens \
the console on the Assign tab with the wizard reading FILE. With any other flag, or when stdout \
is not a terminal (cron, pipes), it runs headless: \
without --apply it prints the issues, the review counts and the plan, and \
exits 0 (1 when the sheet has errors). With --apply: asks for confirmation on a terminal (or \
--yes), sends the plan, prints the report (failures first) and resyncs the touched devices. \
Exit codes with --apply: 0 all done, 1 some calls or devices failed, 6 cancelled."
)]
pub struct AssignArgs {
    /// The spreadsheet (.xlsx, .xls, .ods or .csv).
    #[arg(
        value_name = "FILE",
        required_unless_present = "undo",
        conflicts_with = "undo"
    )]
    pub file: Option<PathBuf>,
    /// Sheet to read (default: the first with a recognised header).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Subscription key (or id) for every device without one in the sheet.
    #[arg(long, value_name = "KEY")]
    pub subscription: Option<String>,
    /// Region code (us-west, eu-central, …) for every device without one in the sheet.
    #[arg(long, value_name = "R")]
    pub region: Option<String>,
    /// Application (service-manager id or name).
    #[arg(long, value_name = "ID_OR_NAME")]
    pub application: Option<String>,
    /// Tag to set on every device, KEY=VALUE (repeatable).
    #[arg(long = "tag", value_name = "K=V")]
    pub tags: Vec<String>,
    /// Tag key to remove from every device (repeatable).
    #[arg(long = "remove-tag", value_name = "K")]
    pub remove_tags: Vec<String>,
    /// Send the calls with dry-run=true: GreenLake validates them and changes nothing
    /// (no confirmation needed; recorded as a dry run).
    #[arg(long)]
    pub dry_run: bool,
    /// Send the plan (otherwise only review it).
    #[arg(long)]
    pub apply: bool,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long, requires = "apply")]
    pub yes: bool,
    /// Write the report to FILE.xlsx or FILE.json.
    #[arg(long, value_name = "FILE", requires = "apply")]
    pub report: Option<PathBuf>,
    /// Restore the values before of assignment run RUN_ID.
    #[arg(long, value_name = "RUN_ID")]
    pub undo: Option<i64>,
}

/// `glp-console simulate`: data size, credentials, rate limits and fault switches.
/// The client id is the global `--client-id` (default `sim-client`).
#[derive(Debug, Args, Clone)]
pub struct SimulateArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8700)]
    pub port: u16,
    /// Client secret the token endpoint accepts.
    #[arg(long, value_name = "S", default_value = "sim-secret")]
    pub client_secret: String,
    /// Devices to generate.
    #[arg(long = "devices", value_name = "N", default_value_t = 1000)]
    pub sim_devices: usize,
    /// Subscriptions to generate.
    #[arg(long = "subscriptions", value_name = "M", default_value_t = 200)]
    pub sim_subscriptions: usize,
    /// Seed: the same seed gives the same data.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,
    /// `expires_in` of issued tokens, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    pub token_ttl: u64,
    /// Largest subscription page size accepted (the 2026-08-03 spec: 200; before: 50).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub subscription_page_max: u32,
    /// Rate-limit profile: `glp-sync-2` (early-2026 numbers), `spec-2026` (doubled writes) or `off`.
    #[arg(long, value_name = "PROFILE", default_value = "glp-sync-2")]
    pub limits: String,
    /// Override one endpoint's per-minute limit, e.g. `devices_get=60` (repeatable).
    #[arg(long = "limit", value_name = "ENDPOINT=N")]
    pub limit_overrides: Vec<String>,
    /// Send `Retry-After` on 429 and 5xx responses.
    #[arg(long)]
    pub retry_after: bool,
    /// How long an async operation takes, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub op_delay_ms: u64,
    /// Report async operations as PENDING/IN_PROGRESS/COMPLETED (GLP-Sync-2's vocabulary).
    #[arg(long)]
    pub legacy_status_vocab: bool,
    /// Probability (0..1) of a 5xx answer.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub error_rate: f64,
    /// Statuses used by --error-rate.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "500,502,503"
    )]
    pub error_statuses: Vec<u16>,
    /// `retryAfterSeconds` in 5xx bodies.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    pub retry_after_seconds: u64,
    /// Latency added to every API call, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability of dropping the connection without a response.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub drop_rate: f64,
    /// Probability of a GET answered with malformed JSON.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub malformed_rate: f64,
    /// Probability of a GET answered with truncated JSON.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub truncated_rate: f64,
    /// Probability of a list page without `total`.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub missing_total_rate: f64,
    /// Start an outage (all 503) after this many requests...
    #[arg(long, value_name = "K", requires = "outage_secs")]
    pub outage_after: Option<u64>,
    /// ...lasting this many seconds.
    #[arg(long, value_name = "T", requires = "outage_after")]
    pub outage_secs: Option<u64>,
    /// Probability (0..1) that a token request fails although the credentials are good.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub token_error_rate: f64,
    /// Statuses used by --token-error-rate (401 answers `invalid_token`, never
    /// `invalid_client`).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "500,502,503,401"
    )]
    pub token_error_statuses: Vec<u16>,
    /// Tokens stop working after this many seconds, whatever `expires_in` says.
    #[arg(long, value_name = "SECS")]
    pub token_expiry_secs: Option<u64>,
    /// Insert a device at offset 0 before the next device page with offset > 0 (once).
    #[arg(long)]
    pub insert_between_pages: bool,
    /// Device ids or serials whose async operations fail (comma-separated).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub fail_ops_for: Vec<String>,
    /// Async operations report PAUSED for this many milliseconds before they go on.
    #[arg(long, value_name = "MS")]
    pub ops_paused_ms: Option<u64>,
    /// Device ids or serials whose async operations end TIMEDOUT (comma-separated).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub time_out_ops_for: Vec<String>,
    #[command(flatten)]
    pub msp: crate::sim::MspArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the effective values, secrets masked.
    Check,
    /// Print where the config file, logs and data live.
    Path,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending schema migrations (also done on every start).
    Migrate,
}
