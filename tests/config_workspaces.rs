//! Several workspaces and MSP mode in the configuration: both forms parse, the legacy form is
//! one "default" workspace, every mistake names the file, the table and the field, and
//! `config check` shows every workspace with its secret masked.
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
use std::path::{Path, PathBuf};
use std::process::Command;

use common::TestDir;
use glp_console::config::{Config, FlagOverrides, RateLimitScope, SecretSource};
use glp_console::domain::{WorkspaceId, WorkspaceKind};

fn write_config(dir: &Path, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(path: &Path, e: &[(&str, &str)]) -> Result<Config, String> {
    Config::load_with(Some(path), &env(e), &FlagOverrides::default()).map_err(|e| e.to_string())
}

const EMEA: &str = "131846d4-3af1-11f0-8e4e-be50c5e8c005";
const EMEA_ID: &str = "131846d43af111f08e4ebe50c5e8c005";
const MSP: &str = "5f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// Two workspaces and an MSP; the MSP's secret comes from a command.
fn multi_toml() -> String {
    format!(
        r#"
[api]
base_url = "https://glp.example.com"
[[workspaces]]
name = "emea"
id = "{EMEA}"
client_id = "emea-client"
client_secret = "emea-inline-s3cret"
[[workspaces]]
name = "apac"
id = "AAAAAAAABBBBCCCCDDDDEEEEEEEEEEEE"
client_id = "apac-client"
client_secret_env = "GLPC_TEST_APAC_SECRET"
token_url = "https://sso.example.com/apac/token"
[msp]
name = "acme"
id = "{MSP}"
client_id = "msp-client"
client_secret_command = "printf 'msp-cmd-s3cret\n'"
include = ["tenant-01", "0123456789abcdef0123456789abcdef"]
exclude = ["tenant-07"]
max_tenants = 50
[sync]
workspace_concurrency = 8
rate_limit_scope = "client"
"#
    )
}

#[test]
fn the_legacy_form_is_one_workspace_named_default() {
    let dir = TestDir::new("glpc-ws-");
    let path = write_config(
        &dir,
        "[api]\nclient_id = \"my-client\"\ntoken_url = \"https://sso.example.com/token\"\n",
    );
    let c = load(&path, &[("GLP_CLIENT_SECRET", "s")]).unwrap();
    assert_eq!(c.workspaces.len(), 1);
    let w = &c.workspaces[0];
    assert_eq!(w.name, "default");
    assert_eq!(w.id.as_str(), WorkspaceId::DEFAULT);
    assert_eq!(w.kind, WorkspaceKind::Standalone);
    assert_eq!(w.client_id, "my-client");
    assert_eq!(
        w.token_url, "https://sso.example.com/token",
        "[api] token_url as today"
    );
    assert!(w.legacy);
    assert_eq!(w.resolve_secret().unwrap().expose(), "s");
    assert!(c.msp.is_none());
    assert!(!c.is_multi_workspace());
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.sync.workspace_concurrency, 4);
    assert_eq!(c.sync.rate_limit_scope, RateLimitScope::Workspace);
    c.require_api_credentials().unwrap();

    // The environment reaches the legacy workspace; [api] workspace_id gives it an id.
    let path = write_config(&dir, &format!("[api]\nworkspace_id = \"{EMEA}\"\n"));
    let c = load(&path, &[("GLP_CLIENT_ID", "env-client")]).unwrap();
    assert_eq!(c.workspaces[0].client_id, "env-client");
    assert_eq!(c.workspaces[0].id.as_str(), EMEA_ID, "stored dashless");
    // No file at all: still one workspace.
    assert_eq!(Config::default().workspaces.len(), 1);
    assert_eq!(Config::default().workspaces[0].name, "default");
}

#[test]
fn several_workspaces_and_an_msp_parse() {
    let dir = TestDir::new("glpc-ws-");
    let path = write_config(&dir, &multi_toml());
    // GLP_CLIENT_ID is the legacy client's: the declared workspaces keep their own.
    let c = load(&path, &[("GLP_CLIENT_ID", "legacy-client")]).unwrap();
    assert!(c.is_multi_workspace());
    let names: Vec<&str> = c.workspaces.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["emea", "apac"]);
    let emea = &c.workspaces[0];
    assert_eq!(emea.id.as_str(), EMEA_ID);
    assert_eq!(emea.kind, WorkspaceKind::Standalone);
    assert_eq!(emea.client_id, "emea-client");
    assert!(!emea.legacy);
    assert_eq!(
        emea.token_url,
        format!("https://glp.example.com/authorization/v2/oauth2/{EMEA_ID}/token"),
        "default token URL from base_url and the dashless id"
    );
    assert_eq!(
        emea.resolve_secret().unwrap().expose(),
        "emea-inline-s3cret"
    );
    let apac = &c.workspaces[1];
    assert_eq!(apac.id.as_str(), "aaaaaaaabbbbccccddddeeeeeeeeeeee");
    assert_eq!(apac.token_url, "https://sso.example.com/apac/token");
    assert_eq!(
        apac.client_secret,
        SecretSource::Env("GLPC_TEST_APAC_SECRET".into())
    );
    let err = apac.resolve_secret().unwrap_err().to_string();
    assert!(
        err.contains("workspace \"apac\" client_secret_env names GLPC_TEST_APAC_SECRET"),
        "{err}"
    );

    let m = c.msp.as_ref().unwrap();
    assert_eq!(m.workspace.name, "acme");
    assert_eq!(m.workspace.kind, WorkspaceKind::Msp);
    assert_eq!(m.workspace.id.as_str(), MSP);
    assert_eq!(
        m.workspace.resolve_secret().unwrap().expose(),
        "msp-cmd-s3cret"
    );
    assert_eq!(m.include, ["tenant-01", "0123456789abcdef0123456789abcdef"]);
    assert_eq!(m.exclude, ["tenant-07"]);
    assert_eq!(m.max_tenants, 50);
    let t = WorkspaceId::parse("01234567-89ab-cdef-0123-456789abcdef").unwrap();
    assert!(m.selects(&t, "whatever"), "included by id, either spelling");
    assert!(!m.selects(&WorkspaceId::parse("ff").unwrap(), "tenant-07"));
    assert_eq!(
        m.tenant_token_url(&c.api.base_url, &t),
        "https://glp.example.com/authorization/v2/oauth2/0123456789abcdef0123456789abcdef/token"
    );

    assert_eq!(c.sync.workspace_concurrency, 8);
    assert_eq!(c.sync.rate_limit_scope, RateLimitScope::Client);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("[api] client_id not used")),
        "GLP_CLIENT_ID is named as unused: {:?}",
        c.warnings
    );
    c.require_api_credentials().unwrap();

    // Code that repoints [api] (the demo) can fall back to the one legacy workspace.
    let mut demo = c.clone();
    demo.api.client_id = "sim-client".into();
    demo.forget_declared_workspaces();
    assert!(!demo.is_multi_workspace());
    assert_eq!(demo.workspaces[0].client_id, "sim-client");
    assert!(demo.workspaces[0].legacy);

    // A later layer's base URL moves the default token URLs, not the explicit one.
    let c = load(&path, &[("GLP_BASE_URL", "https://other.example.com")]).unwrap();
    assert!(
        c.workspaces[0]
            .token_url
            .starts_with("https://other.example.com/")
    );
    assert_eq!(
        c.workspaces[1].token_url,
        "https://sso.example.com/apac/token"
    );

    // [msp] alone: no standalone workspace, the legacy one is not invented.
    let alone = format!(
        "[msp]\nname = \"acme\"\nid = \"{MSP}\"\nclient_id = \"m\"\nclient_secret_env = \"X\"\n"
    );
    let c = load(&write_config(&dir, &alone), &[]).unwrap();
    assert!(c.workspaces.is_empty());
    assert!(c.is_multi_workspace());
    let m = c.msp.unwrap();
    assert!(m.include.is_empty() && m.exclude.is_empty());
    assert_eq!(m.max_tenants, 1000);
    let t = WorkspaceId::parse("ab").unwrap();
    assert!(
        m.selects(&t, "any"),
        "an empty include selects every tenant"
    );
}

#[test]
fn every_workspace_mistake_names_the_file_the_table_and_the_field() {
    let dir = TestDir::new("glpc-ws-");
    let ws = |name: &str, id: &str| {
        format!(
            "[[workspaces]]\nname = \"{name}\"\nid = \"{id}\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n"
        )
    };
    let msp = |extra: &str| {
        format!(
            "[msp]\nname = \"acme\"\nid = \"{MSP}\"\nclient_id = \"m\"\nclient_secret_env = \"S\"\n{extra}"
        )
    };
    let a = ws("a", EMEA);
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{a}{}", ws("a", "ff")),
            "workspaces[2] name = \"a\": is already the name of workspaces[1]",
        ),
        (
            format!("{a}{}", ws("A", "ff")),
            "workspaces[2] name = \"A\": is already the name of workspaces[1]",
        ),
        (
            format!("{a}{}", ws("b", EMEA_ID)),
            "workspaces[2] id = \"131846d4-3af1-11f0-8e4e-be50c5e8c005\": is already the id of workspaces[1]",
        ),
        (
            format!("{a}{}", msp("").replace(MSP, EMEA)),
            "[msp] id = \"131846d4-3af1-11f0-8e4e-be50c5e8c005\": is already the id of workspaces[1]",
        ),
        (
            format!("{a}{}", msp("").replace("\"acme\"", "\"a\"")),
            "[msp] name = \"a\": is already the name of workspaces[1]",
        ),
        (ws("", EMEA), "workspaces[1] name = \"\": must not be empty"),
        (
            ws("all", EMEA),
            "workspaces[1] name = \"all\": \"all\" is taken",
        ),
        (
            ws("e mea", EMEA),
            "workspaces[1] name = \"e mea\": must be letters, digits",
        ),
        (
            "[[workspaces]]\nid = \"ff\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n".into(),
            "workspaces[1] name is missing",
        ),
        (
            "[[workspaces]]\nname = \"a\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n".into(),
            "workspaces[1] id is missing",
        ),
        (
            ws("a", "not/an id"),
            "workspaces[1] id = \"not/an id\": must be a workspace id",
        ),
        (
            format!("[[workspaces]]\nname = \"a\"\nid = \"{EMEA}\"\nclient_secret_env = \"S\"\n"),
            "workspaces[1] client_id is missing",
        ),
        (
            format!("[[workspaces]]\nname = \"a\"\nid = \"{EMEA}\"\nclient_id = \"c\"\n"),
            "workspaces[1] has no client secret: set one of client_secret, client_secret_env",
        ),
        (
            format!("{a}client_secret = \"x\"\n"),
            "workspaces[1] client_secret* = several: set only one of",
        ),
        (
            format!("{a}token_url = \"ftp://x\"\n"),
            "workspaces[1] token_url = \"ftp://x\": must be an http(s) URL",
        ),
        (
            format!("{a}colour = 1\n"),
            "workspaces[1] colour: unknown field `colour`",
        ),
        (
            "[[workspaces]]\nname = \"a\"\nid = 5\nclient_id = \"c\"\nclient_secret_env = \"S\"\n"
                .into(),
            "workspaces[1] id = 5: must be a string",
        ),
        (
            "[workspaces]\nname = \"a\"\n".into(),
            "workspaces: must be a table: write [[workspaces]]",
        ),
        (
            msp("include = [\"tenant-07\"]\nexclude = [\"TENANT-07\"]\n"),
            "[msp] exclude = \"TENANT-07\": names the same tenant as include entry \"tenant-07\"",
        ),
        (
            msp(&format!(
                "include = [\"{EMEA}\"]\nexclude = [\"{EMEA_ID}\"]\n"
            )),
            "[msp] exclude = \"131846d43af111f08e4ebe50c5e8c005\": names the same tenant",
        ),
        (
            msp("max_tenants = 0\n"),
            "[msp] max_tenants = 0: must be 1..=100000",
        ),
        (
            msp("include = \"tenant-01\"\n"),
            "[msp] include = \"tenant-01\": must be a list",
        ),
        (
            msp("tenants = []\n"),
            "[msp] tenants: unknown field `tenants`",
        ),
        (
            "[sync]\nworkspace_concurrency = 0\n".into(),
            "[sync] workspace_concurrency = 0: must be 1..=64",
        ),
        (
            "[sync]\nworkspace_concurrency = 65\n".into(),
            "[sync] workspace_concurrency = 65: must be 1..=64",
        ),
        (
            "[sync]\nrate_limit_scope = \"tenant\"\n".into(),
            "[sync] rate_limit_scope = \"tenant\": must be \"workspace\"",
        ),
        (
            "[api]\nworkspace_id = \"a b\"\n".into(),
            "[api] workspace_id = \"a b\": must be a workspace id",
        ),
    ];
    for (text, expected) in &cases {
        let path = write_config(&dir, text);
        let err = load(&path, &[]).expect_err(text);
        let shown = path.display().to_string();
        assert!(
            err.lines()
                .any(|l| l.contains(&shown) && l.contains(expected)),
            "for\n{text}\nexpected a line naming {shown} and {expected:?}, got:\n{err}"
        );
    }

    // Every problem at once, and the valid workspace still loads beside the broken one.
    let text = format!("{a}{}{}", ws("", "ff"), msp("max_tenants = 0\n"));
    let path = write_config(&dir, &text);
    let (c, problems) = Config::load_with_all(Some(&path), &env(&[]), &FlagOverrides::default());
    let err = glp_console::config::ConfigError::from_problems(problems)
        .unwrap()
        .to_string();
    assert_eq!(err.lines().count(), 2, "{err}");
    assert_eq!(c.workspaces.len(), 1);
    assert_eq!(c.workspaces[0].name, "a");
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_glp-console"))
}

fn config_check(dir: &Path, path: &Path, json: bool) -> std::process::Output {
    let mut cmd = binary();
    cmd.args(["config", "check"]);
    if json {
        cmd.arg("--json");
    }
    cmd.arg("--config")
        .arg(path)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .env("GLPC_TEST_APAC_SECRET", "apac-env-s3cret")
        .env_remove("GLP_CLIENT_ID")
        .env_remove("GLP_CLIENT_SECRET")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env_remove("GLP_BASE_URL")
        .env_remove("GLP_TOKEN_URL")
        .output()
        .unwrap()
}

const SECRETS: [&str; 3] = ["emea-inline-s3cret", "apac-env-s3cret", "msp-cmd-s3cret"];

#[test]
fn config_check_shows_every_workspace_with_its_secret_masked() {
    let dir = TestDir::new("glpc-ws-");
    let path = write_config(&dir, &multi_toml());
    let out = config_check(&dir, &path, false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("# no problems"), "{stdout}");
    for expected in [
        "[[workspaces]]\nname = \"emea\"\nid = \"131846d4-3af1-11f0-8e4e-be50c5e8c005\"\n# kind: standalone\n",
        "token_url = \"https://glp.example.com/authorization/v2/oauth2/131846d43af111f08e4ebe50c5e8c005/token\"",
        "client_id = \"emea-client\"\n# client secret: inline (****)",
        "name = \"apac\"",
        "token_url = \"https://sso.example.com/apac/token\"",
        "# client secret: from environment variable GLPC_TEST_APAC_SECRET",
        "[msp]\nname = \"acme\"\nid = \"5f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\"\n# kind: msp\n",
        "# client secret: from command `printf 'msp-cmd-s3cret\\n'`",
        "include = [\"tenant-01\", \"0123456789abcdef0123456789abcdef\"]",
        "exclude = [\"tenant-07\"]",
        "max_tenants = 50",
        "workspace_concurrency = 8",
        "rate_limit_scope = \"client\"",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // The command's text is the source, shown; what it prints is the secret, never shown.
    for secret in &SECRETS[..2] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} leaked:\n{stdout}"
        );
    }
    assert!(
        !stdout
            .replace("printf 'msp-cmd-s3cret", "")
            .contains("msp-cmd-s3cret"),
        "{stdout}"
    );

    let out = config_check(&dir, &path, true);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for secret in &SECRETS[..2] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ws = &v["workspaces"];
    assert_eq!(ws["workspaces"][0]["name"], "emea");
    assert_eq!(ws["workspaces"][0]["id"], EMEA_ID);
    assert_eq!(ws["workspaces"][0]["client_secret"], "inline (****)");
    assert_eq!(ws["workspaces"][1]["kind"], "standalone");
    assert_eq!(ws["msp"]["workspace"]["kind"], "msp");
    assert_eq!(ws["msp"]["max_tenants"], 50);
    assert_eq!(ws["rate_limit_scope"], "client");

    // A secret source that does not resolve is a problem naming its workspace; no [api]
    // client is asked for.
    let broken = multi_toml().replace(r"printf 'msp-cmd-s3cret\n'", "exit 4");
    let path = write_config(&dir, &broken);
    let out = binary()
        .args(["config", "check", "--config"])
        .arg(&path)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .env_remove("GLPC_TEST_APAC_SECRET")
        .env_remove("GLP_CLIENT_ID")
        .env_remove("GLP_CLIENT_SECRET")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let problems: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("# problem: "))
        .collect();
    assert_eq!(problems.len(), 2, "{stdout}");
    assert!(
        problems[0].contains("workspace \"apac\" client_secret_env names GLPC_TEST_APAC_SECRET"),
        "{stdout}"
    );
    assert!(
        problems[1].contains("[msp] \"acme\" client_secret_command `exit 4` exited with"),
        "{stdout}"
    );
    assert!(!stdout.contains("no API client id"), "{stdout}");
}
