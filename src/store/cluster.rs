//! A throwaway PostgreSQL cluster started from the installed binaries, for tests and `--demo`
//! on machines where no server answers. `initdb`/`postgres` refuse to run as root, so when we
//! are root the cluster runs as the unprivileged `postgres` user (or `nobody`).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A running cluster. Stopped (and its files removed) when dropped, and by a watchdog process
/// if this process dies without dropping it.
#[derive(Debug)]
pub struct TempCluster {
    root: PathBuf,
    bindir: PathBuf,
    run_as: Option<(u32, u32)>,
    /// Connection URL of the `postgres` database over the Unix socket.
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL is not installed: no initdb/pg_ctl found on PATH, via `pg_config --bindir`, \
         or under /usr/lib/postgresql/*/bin. Install it (Debian: `apt-get install postgresql`) \
         or point DATABASE_URL at a running server"
    )]
    NotInstalled,
    #[error("{step} failed: {detail}")]
    Step { step: String, detail: String },
}

/// Find the directory holding `initdb` and `pg_ctl`.
pub fn find_bindir() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if has(&d) {
                return Some(d);
            }
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has(&d) {
            return Some(d);
        }
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|d| has(d))
        .collect();
    // Newest major version first ("9" < "15" numerically).
    candidates.sort_by_key(|p| {
        std::cmp::Reverse(
            p.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0),
        )
    });
    candidates.into_iter().next()
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").arg(flag).arg(name).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

fn current_uid() -> u32 {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(u32::MAX)
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<(), ClusterError> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| ClusterError::Step {
        step: format!("chown {}", path.display()),
        detail: e.to_string(),
    })
}

impl TempCluster {
    /// initdb + start. Takes about a second.
    pub fn start() -> Result<TempCluster, ClusterError> {
        let bindir = find_bindir().ok_or(ClusterError::NotInstalled)?;
        let run_as = if current_uid() == 0 {
            Some(
                lookup_user("postgres")
                    .or_else(|| lookup_user("nobody"))
                    .ok_or_else(|| ClusterError::Step {
                        step: "finding an unprivileged user".into(),
                        detail: "running as root, and neither `postgres` nor `nobody` exists; \
                                 initdb refuses to run as root"
                            .into(),
                    })?,
            )
        } else {
            None
        };
        // Short path: the socket path must stay under 107 bytes.
        let root = PathBuf::from(format!(
            "/tmp/glpc-{}-{}",
            std::process::id(),
            rand::random::<u32>() % 1_000_000
        ));
        let data = root.join("d");
        let step = |s: &str, e: std::io::Error| ClusterError::Step {
            step: s.into(),
            detail: e.to_string(),
        };
        std::fs::create_dir_all(&data).map_err(|e| step("creating the cluster directory", e))?;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| step("chmod", e))?;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| step("chmod", e))?;
        if let Some((u, g)) = run_as {
            chown(&root, u, g)?;
            chown(&data, u, g)?;
        }
        let cluster = TempCluster {
            url: format!(
                "postgres://postgres@{}/postgres",
                root.display().to_string().replace('/', "%2F")
            ),
            root,
            bindir,
            run_as,
        };
        cluster.run(
            "initdb",
            &[
                "--no-sync",
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "-D",
                &data.display().to_string(),
            ],
        )?;
        let opts = format!(
            "-k {} -c listen_addresses='' -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            cluster.root.display()
        );
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                &data.display().to_string(),
                "-l",
                &cluster.root.join("log").display().to_string(),
                "-w",
                "-o",
                &opts,
                "start",
            ],
        )?;
        cluster.spawn_watchdog();
        Ok(cluster)
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bindir.join(program));
        if let Some((u, g)) = self.run_as {
            cmd.uid(u).gid(g);
        }
        cmd.current_dir(&self.root);
        cmd
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), ClusterError> {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| ClusterError::Step {
                step: program.into(),
                detail: e.to_string(),
            })?;
        if !out.status.success() {
            let log = std::fs::read_to_string(self.root.join("log")).unwrap_or_default();
            return Err(ClusterError::Step {
                step: program.into(),
                detail: format!(
                    "{}{}{}",
                    String::from_utf8_lossy(&out.stderr),
                    String::from_utf8_lossy(&out.stdout),
                    log
                ),
            });
        }
        Ok(())
    }

    /// A detached shell that stops the cluster once this process is gone, so a test binary
    /// that exits (or is killed) never leaves a postgres behind.
    fn spawn_watchdog(&self) {
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 1; done; \
             {pg_ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {root}",
            pid = std::process::id(),
            pg_ctl = self.bindir.join("pg_ctl").display(),
            data = self.root.join("d").display(),
            root = self.root.display(),
        );
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        if let Some((u, g)) = self.run_as {
            cmd.uid(u).gid(g);
        }
        // Its own process group: a Ctrl-C to the test run must not kill it first.
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = cmd.spawn();
    }

    /// `pg_ctl restart -m fast`: every session ends (open transactions roll back), as in a
    /// PostgreSQL restart in production; the cluster answers again when this returns.
    pub fn restart(&self) -> Result<(), ClusterError> {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.root.join("d").display().to_string(),
                "-l",
                &self.root.join("log").display().to_string(),
                "-m",
                "fast",
                "-w",
                "restart",
            ],
        )
    }

    pub fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                &self.root.join("d").display().to_string(),
                "-m",
                "fast",
                "stop",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        self.stop();
    }
}
