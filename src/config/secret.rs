//! Secrets: held so they cannot be printed, resolved only when a client is built, and
//! masked inside URLs.

use std::fmt;

use super::error::ConfigError;

/// A secret string. Printing it in any way shows `****`, so it cannot leak through
/// `{:?}` in a log line, an error or a panic message.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The only way to read the value; grep for `expose` to audit every use.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// Where the client secret comes from. Resolved only when a client is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    None,
    Inline(Secret),
    Env(String),
    Command(String),
}

impl SecretSource {
    /// A description that is safe to print.
    pub fn describe(&self) -> String {
        match self {
            SecretSource::None => "not set".into(),
            SecretSource::Inline(_) => "inline (****)".into(),
            SecretSource::Env(v) => format!("from environment variable {v}"),
            SecretSource::Command(c) => format!("from command `{c}`"),
        }
    }

    /// Resolve the `[api]` client's secret. Errors name the source but never contain the
    /// secret itself.
    pub fn resolve(&self) -> Result<Secret, ConfigError> {
        if *self == SecretSource::None {
            return Err(ConfigError::Secret(
                "no client secret configured: set GLP_CLIENT_SECRET, or [api] client_secret / \
                 client_secret_env / client_secret_command in config.toml"
                    .into(),
            ));
        }
        self.resolve_as("[api]")
    }

    /// Resolve the secret of the client `table` names in messages (`[api]`,
    /// `workspace "emea"`), so a broken source of one workspace is told apart from another's.
    pub fn resolve_as(&self, table: &str) -> Result<Secret, ConfigError> {
        match self {
            SecretSource::None => Err(ConfigError::Secret(format!(
                "{table}: no client secret configured: set client_secret, client_secret_env or \
                 client_secret_command"
            ))),
            SecretSource::Inline(s) => Ok(s.clone()),
            SecretSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim().to_string())),
                _ => Err(ConfigError::Secret(format!(
                    "{table} client_secret_env names {var}, but that environment variable is empty \
                     or not set: export it, or point client_secret_env at another variable"
                ))),
            },
            SecretSource::Command(cmd) => {
                let out = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .stdin(std::process::Stdio::null())
                    .output()
                    .map_err(|e| {
                        ConfigError::Secret(format!(
                            "{table} client_secret_command `{cmd}` could not be started: {e}"
                        ))
                    })?;
                if !out.status.success() {
                    return Err(ConfigError::Secret(format!(
                        "{table} client_secret_command `{cmd}` exited with {}: run it by hand to \
                         see why",
                        out.status
                    )));
                }
                // Like git's credential helpers: the first line is the secret.
                let text = String::from_utf8_lossy(&out.stdout);
                let first = text.lines().next().unwrap_or("").trim().to_string();
                if first.is_empty() {
                    return Err(ConfigError::Secret(format!(
                        "{table} client_secret_command `{cmd}` printed nothing on its first line"
                    )));
                }
                Ok(Secret::new(first))
            }
        }
    }
}

pub(super) fn url_has_password(url: &str) -> bool {
    mask_url(url) != url
}

/// Replace the password in `scheme://user:password@host…` with `****`, so a database URL can
/// be shown in messages and logs.
pub fn mask_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}://{}:****@{}",
            &url[..scheme_end],
            &userinfo[..colon],
            &rest[at + 1..]
        ),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret(****) ****");
        let src = SecretSource::Inline(s);
        assert!(!format!("{src:?}").contains("hunter2"));
    }

    #[test]
    fn mask_url_hides_password_only() {
        assert_eq!(
            mask_url("postgres://u:pw@h:5432/db?x=1"),
            "postgres://u:****@h:5432/db?x=1"
        );
        assert_eq!(mask_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(mask_url("postgres://h/db"), "postgres://h/db");
    }
}
