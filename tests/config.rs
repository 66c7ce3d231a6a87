//! Configuration: precedence, error messages that name file/key/expectation, secret masking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use common::TestDir;
use glp_console::config::{Config, FlagOverrides, SecretSource};

fn write_config(dir: &std::path::Path, text: &str) -> PathBuf {
    let path = dir.join("config.toml");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    path
}

fn tempdir() -> TestDir {
    TestDir::new("glpc-cfg-")
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn precedence_is_file_then_env_then_flags() {
    let dir = tempdir();
    let path = write_config(
        &dir,
        r#"
[api]
base_url = "https://file.example.com"
token_url = "https://file.example.com/token"
client_id = "from-file"
[database]
url = "postgres://file@db/file"
[log]
level = "debug"
"#,
    );
    // File only.
    let c = Config::load_with(Some(&path), &env(&[]), &FlagOverrides::default()).unwrap();
    assert_eq!(c.api.base_url, "https://file.example.com");
    assert_eq!(c.api.client_id, "from-file");
    assert_eq!(c.log.level, "debug");
    // Environment beats the file.
    let e = env(&[
        ("GLP_BASE_URL", "https://env.example.com/"),
        ("GLP_CLIENT_ID", "from-env"),
        ("DATABASE_URL", "postgres://env@db/env"),
    ]);
    let c = Config::load_with(Some(&path), &e, &FlagOverrides::default()).unwrap();
    assert_eq!(
        c.api.base_url, "https://env.example.com",
        "trailing slash trimmed"
    );
    assert_eq!(c.api.client_id, "from-env");
    assert_eq!(
        c.api.token_url, "https://file.example.com/token",
        "unset env keeps the file value"
    );
    assert_eq!(c.database.url, "postgres://env@db/env");
    // Flags beat both.
    let flags = FlagOverrides {
        base_url: Some("https://flag.example.com".into()),
        database_url: Some("postgres://flag@db/flag".into()),
        log_level: Some("warn".into()),
        ..Default::default()
    };
    let c = Config::load_with(Some(&path), &e, &flags).unwrap();
    assert_eq!(c.api.base_url, "https://flag.example.com");
    assert_eq!(c.api.client_id, "from-env");
    assert_eq!(c.database.url, "postgres://flag@db/flag");
    assert_eq!(c.log.level, "warn");
}

#[test]
fn defaults_follow_the_published_limits() {
    let c = Config::load_with(
        None::<&std::path::Path>,
        &env(&[]),
        &FlagOverrides::default(),
    );
    // No default file in a test HOME is fine; only check values when it loads.
    if let Ok(c) = c
        && c.source_file.is_none()
    {
        assert_eq!(c.api.rate_limits.devices_get, 160);
        assert_eq!(c.api.rate_limits.subscriptions_get, 60);
        // Write limits as the 2026-08-03 specs publish them.
        assert_eq!(c.api.rate_limits.devices_patch, 40);
        assert_eq!(c.api.rate_limits.devices_post, 50);
        assert_eq!(c.api.page_size.devices, 2000);
        assert_eq!(c.api.breaker.failure_threshold, 5);
        assert_eq!(c.ui.expiring_days, 90);
    }
}

#[test]
fn each_bad_value_names_file_key_and_expectation() {
    let dir = tempdir();
    let cases: &[(&str, &str)] = &[
        (
            "[api]\npage_size.subscriptions = 500",
            "[api] page_size.subscriptions = 500: must be 1..=200",
        ),
        (
            "[api]\npage_size.devices = 0",
            "[api] page_size.devices = 0: must be 1..=2000",
        ),
        (
            "[api]\nbase_url = \"ftp://x\"",
            "[api] base_url = \"ftp://x\": must be an http(s) URL",
        ),
        (
            "[api]\ntoken_url = \"not a url\"",
            "[api] token_url = \"not a url\": must be an http(s) URL",
        ),
        (
            "[api.rate_limits]\ndevices_get = -1",
            "[api] rate_limits.devices_get = -1: must be 1..=100000",
        ),
        (
            "[api.breaker]\nfailure_threshold = 0",
            "[api] breaker.failure_threshold = 0: must be 1..=1000",
        ),
        (
            "[api.retry]\nmax_attempts = 99",
            "[api] retry.max_attempts = 99: must be 1..=20",
        ),
        (
            "[database]\nurl = \"mysql://x\"",
            "[database] url = \"mysql://x\": must be a PostgreSQL URL",
        ),
        (
            "[database]\npool_size = 1000",
            "[database] pool_size = 1000: must be 1..=64",
        ),
        (
            "[ui]\nexpiring_days = 0",
            "[ui] expiring_days = 0: must be 1..=3650",
        ),
        (
            "[ui]\ntheme = \"neon\"",
            "[ui] theme = \"neon\": must be \"default\" or \"mono\"",
        ),
        (
            "[log]\nlevel = \"loud\"",
            "[log] level = \"loud\": must be one of off, error, warn, info, debug, trace",
        ),
        (
            "[api]\nclient_secret = \"a\"\nclient_secret_command = \"pass show glp\"",
            "set only one of client_secret, client_secret_env, client_secret_command",
        ),
        (
            "[api]\nclient_secret_env = \"s3cr3t value\"",
            "must be the NAME of an environment variable",
        ),
        ("[api]\npage_sise = 5", "unknown field `page_sise`"),
        ("[api]\ntimeout_secs = \"ten\"", "invalid type"),
        ("this is not toml", "config.toml"),
    ];
    for (text, expected) in cases {
        let path = write_config(&dir, text);
        let err = Config::load_with(Some(&path), &env(&[]), &FlagOverrides::default())
            .expect_err(text)
            .to_string();
        assert!(
            err.contains(&path.display().to_string()),
            "error for {text:?} must name the file: {err}"
        );
        assert!(err.contains(expected), "error for {text:?} was: {err}");
    }
}

#[test]
fn bad_environment_and_flag_values_name_their_source() {
    let e = env(&[("GLP_BASE_URL", "nope")]);
    let err = Config::load_with(None::<&std::path::Path>, &e, &FlagOverrides::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("environment GLP_BASE_URL = \"nope\": must be an http(s) URL"),
        "{err}"
    );
    let flags = FlagOverrides {
        database_url: Some("http://wrong".into()),
        ..Default::default()
    };
    let err = Config::load_with(None::<&std::path::Path>, &env(&[]), &flags)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("--database-url = \"http://wrong\": must be a PostgreSQL URL"),
        "{err}"
    );
}

#[test]
fn missing_explicit_file_is_reported_with_its_path() {
    let err = Config::load_with(
        Some(std::path::Path::new("/nonexistent/glp/config.toml")),
        &env(&[]),
        &FlagOverrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("/nonexistent/glp/config.toml: cannot read the config file"),
        "{err}"
    );
}

#[test]
fn secret_sources_resolve_and_fail_clearly() {
    let dir = tempdir();
    let path = write_config(
        &dir,
        "[api]\nclient_secret_command = \"printf 'abc123\\nsecond line'\"",
    );
    let c = Config::load_with(Some(&path), &env(&[]), &FlagOverrides::default()).unwrap();
    assert_eq!(c.api.client_secret.resolve().unwrap().expose(), "abc123");

    let path = write_config(&dir, "[api]\nclient_secret_command = \"exit 3\"");
    let c = Config::load_with(Some(&path), &env(&[]), &FlagOverrides::default()).unwrap();
    let err = c.api.client_secret.resolve().unwrap_err().to_string();
    assert!(
        err.contains("client_secret_command `exit 3` exited with"),
        "{err}"
    );

    let path = write_config(&dir, "[api]\nclient_secret_env = \"GLPC_TEST_UNSET_VAR\"");
    let c = Config::load_with(Some(&path), &env(&[]), &FlagOverrides::default()).unwrap();
    let err = c.api.client_secret.resolve().unwrap_err().to_string();
    assert!(err.contains("GLPC_TEST_UNSET_VAR"), "{err}");

    // GLP_CLIENT_SECRET in the environment wins over the file's source.
    let c = Config::load_with(
        Some(&path),
        &env(&[("GLP_CLIENT_SECRET", "envsecret")]),
        &FlagOverrides::default(),
    )
    .unwrap();
    assert!(matches!(c.api.client_secret, SecretSource::Inline(_)));
    assert_eq!(c.api.client_secret.resolve().unwrap().expose(), "envsecret");
}

#[test]
fn world_readable_file_with_secret_warns() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let path = write_config(&dir, "[api]\nclient_secret = \"inline-secret\"");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let c = Config::load_with(Some(&path), &env(&[]), &FlagOverrides::default()).unwrap();
    assert_eq!(c.warnings.len(), 1);
    assert!(c.warnings[0].contains("chmod 600"), "{:?}", c.warnings);
    assert!(!c.warnings[0].contains("inline-secret"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let c = Config::load_with(Some(&path), &env(&[]), &FlagOverrides::default()).unwrap();
    assert!(c.warnings.is_empty());
}

#[test]
fn default_write_limits_are_the_published_ones() {
    // PATCH 40/min and POST 50/min (device-management spec, 2026-08-03); reads unchanged.
    let r = glp_console::config::RateLimits::default();
    assert_eq!((r.devices_patch, r.devices_post), (40, 50));
    assert_eq!((r.devices_get, r.subscriptions_get), (160, 60));
    assert_eq!(r.async_operations_get, 90);
    // The conservative older values are still accepted from the file.
    let mut c = Config::default();
    c.apply_file_text(
        "[api.rate_limits]\ndevices_patch = 20\ndevices_post = 25\n",
        std::path::Path::new("c.toml"),
    )
    .unwrap();
    assert_eq!(
        (
            c.api.rate_limits.devices_patch,
            c.api.rate_limits.devices_post
        ),
        (20, 25)
    );
}

#[test]
fn example_config_documents_every_key_and_parses() {
    let text = include_str!("../config.example.toml");
    // Uncomment every `# key = value` line: the result must parse and validate.
    let uncommented = uncomment_example(text);
    let mut c = Config::default();
    c.apply_file_text(&uncommented, std::path::Path::new("config.example.toml"))
        .unwrap_or_else(|e| panic!("config.example.toml does not parse once uncommented: {e}"));
    // The documented defaults are the real defaults.
    let d = Config::default();
    assert_eq!(c.api.rate_limits, d.api.rate_limits);
    assert_eq!(c.api.page_size, d.api.page_size);
    assert_eq!(c.api.retry, d.api.retry);
    assert_eq!(c.api.breaker, d.api.breaker);
    assert_eq!(c.sync, d.sync);
    assert_eq!(c.ui.expiring_days, d.ui.expiring_days);
    // The several-workspaces example is one workspace and an MSP.
    assert_eq!(c.workspaces.len(), 1);
    assert_eq!(c.workspaces[0].name, "emea");
    assert_eq!(c.msp.as_ref().map(|m| m.max_tenants), Some(1000));
}

/// `config.example.toml` with every documented `# key = value` and `# [table]` line
/// uncommented. Of `[api]`'s three alternative secret keys none is (only one may be set);
/// a workspace's one secret key is.
fn uncomment_example(text: &str) -> String {
    let mut table = String::new();
    let mut out = Vec::new();
    for l in text.lines() {
        let line = match l.trim_start().strip_prefix("# ") {
            Some(rest)
                if (rest.contains(" = ") || rest.starts_with('['))
                    && !(table == "[api]" && rest.starts_with("client_secret")) =>
            {
                rest.to_string()
            }
            _ => l.to_string(),
        };
        if line.starts_with('[') {
            table = line.trim().to_string();
        }
        out.push(line);
    }
    out.join("\n")
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_glp-console"))
}

#[test]
fn config_check_masks_secrets_and_logs_never_hold_them() {
    let dir = tempdir();
    let logs = dir.join("logs");
    let path = write_config(
        &dir,
        "[api]\nclient_id = \"my-client\"\n[database]\nurl = \"postgres://u:dbpassw0rd@localhost/x\"\n",
    );
    let out = binary()
        .args(["config", "check", "--config"])
        .arg(&path)
        .arg("--log-dir")
        .arg(&logs)
        .env("GLP_CLIENT_SECRET", "sup3r-s3cret-value")
        .env("RUST_LOG", "trace")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("client_id = \"my-client\""), "{stdout}");
    assert!(stdout.contains("postgres://u:****@localhost/x"), "{stdout}");
    assert!(
        stdout.contains("client secret resolved (18 characters)"),
        "{stdout}"
    );
    for secret in ["sup3r-s3cret-value", "dbpassw0rd"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} leaked"
        );
        for entry in std::fs::read_dir(&logs).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            assert!(!text.contains(secret), "{secret} in a log file");
        }
    }
}

#[test]
fn config_path_and_bad_config_exit_code() {
    let dir = tempdir();
    let path = write_config(&dir, "[api]\npage_size.subscriptions = 500\n");
    let out = binary()
        .args(["config", "path", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[api] page_size.subscriptions = 500: must be 1..=200"),
        "{stderr}"
    );

    let good = write_config(&dir, "[ui]\nexpiring_days = 30\n");
    let out = binary()
        .args(["config", "path", "--config"])
        .arg(&good)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("config file: {}", good.display())),
        "{stdout}"
    );
    assert!(stdout.contains("log directory:"), "{stdout}");
}

/// `config check` run on `path` with working credentials in the environment (what a cron
/// user has), so only the file's own problems count.
fn config_check(dir: &std::path::Path, path: &std::path::Path) -> std::process::Output {
    binary()
        .args(["config", "check", "--config"])
        .arg(path)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .env("GLP_CLIENT_ID", "my-client")
        .env("GLP_CLIENT_SECRET", "sup3r-s3cret-value")
        // The example's [[workspaces]] and [msp] read their secrets from these.
        .env("GLP_EMEA_SECRET", "emea-s3cret")
        .env("GLP_MSP_SECRET", "msp-s3cret")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env_remove("GLP_BASE_URL")
        .env_remove("GLP_TOKEN_URL")
        .output()
        .unwrap()
}

#[test]
fn config_check_lists_every_problem_including_the_consoles_keymap_and_exits_2() {
    let dir = tempdir();
    let path = write_config(
        &dir,
        r##"
[api]
page_size.subscriptions = 500
page_sise = 5
timeout_secs = "ten"
[sync]
stale_after_minutes = 0
[ui]
theme = "neon"
[ui.colors]
accent = "blurple"
[ui.keys]
frobnicate = "x"
sync = "ctrl-nonsense"
quit = "?"
[extra]
a = 1
b = 2
"##,
    );
    let out = config_check(&dir, &path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    let expected = [
        "[api] page_size.subscriptions = 500: must be 1..=200",
        "[api] page_sise: unknown field `page_sise`",
        "[api] timeout_secs: invalid type",
        "[sync] stale_after_minutes = 0: must be 1..=525600",
        "[ui] theme = \"neon\"",
        "[ui.colors] accent = \"blurple\": not a colour",
        // The console's own keymap validation: unknown action, unparsable key, conflict.
        "[ui.keys] frobnicate: no such action",
        "[ui.keys] sync: \"ctrl-nonsense\" is not a key",
        "[ui.keys] ? is bound to both quit and help",
        "[extra]: unknown field `extra`",
    ];
    let problems: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("# problem: "))
        .collect();
    for e in expected {
        assert!(
            problems.iter().any(|p| p.contains(e)),
            "missing {e:?} in:\n{stdout}"
        );
    }
    assert_eq!(
        problems.len(),
        expected.len(),
        "one line per problem, an unknown section once:\n{stdout}"
    );
    for p in &problems {
        assert!(
            p.contains(&path.display().to_string()),
            "names the file: {p}"
        );
    }
    assert!(
        stderr.contains(&format!("{} problem(s)", expected.len())),
        "{stderr}"
    );

    // The same list in --json, and the same exit code.
    let out = binary()
        .args(["config", "check", "--json", "--config"])
        .arg(&path)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .env("GLP_CLIENT_ID", "my-client")
        .env("GLP_CLIENT_SECRET", "sup3r-s3cret-value")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"].as_array().unwrap().len(), expected.len());
}

#[test]
fn config_check_is_clean_on_the_example_config() {
    let dir = tempdir();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let out = config_check(&dir, &example);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("# problem"), "{stdout}");
    assert!(stdout.contains("# no problems"), "{stdout}");

    // Every documented key set to its documented example, [ui.keys] and [ui.colors] too.
    let uncommented = uncomment_example(&std::fs::read_to_string(&example).unwrap());
    let all = write_config(&dir, &uncommented);
    let out = config_check(&dir, &all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("[ui.keys]"), "{stdout}");

    // Missing credentials are a problem: a cron sync could not run.
    let out = binary()
        .args(["config", "check", "--config"])
        .arg(&example)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .env_remove("GLP_CLIENT_ID")
        .env_remove("GLP_CLIENT_SECRET")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("# problem: no API client id"), "{stdout}");
}

#[test]
fn loading_reports_every_bad_value_at_once() {
    let dir = tempdir();
    let path = write_config(
        &dir,
        "[api]\nmax_concurrency = 0\n[database]\npool_size = 1000\n[ui.keys]\nsync = \"F5\"\nquit = \"Q\"\n",
    );
    let err = Config::load_with(Some(&path), &env(&[]), &FlagOverrides::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[api] max_concurrency = 0: must be 1..=32"),
        "{err}"
    );
    assert!(
        err.contains("[database] pool_size = 1000: must be 1..=64"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 2, "{err}");
    // Every [ui.keys] entry survives the key-by-key load.
    let path = write_config(&dir, "[ui.keys]\nsync = \"F5\"\nquit = \"Q\"\n");
    let c = Config::load_with(Some(&path), &env(&[]), &FlagOverrides::default()).unwrap();
    assert_eq!(c.ui.keys.len(), 2, "{:?}", c.ui.keys);
}
