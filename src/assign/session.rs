//! The steps of one assignment that need the database or the API, shared by the headless
//! command and the Assign tab's wizard, so both read, match and plan a sheet the same way:
//! [`prepare`] (read the file off the async threads, re-read devices an abandoned run left
//! in doubt, look its serials up, match),
//! [`load_catalog`] (subscriptions, tags and the application/region pairs the service
//! catalog offers), [`plan_for`] (choices → targets → plan), and [`choices_from_flags`]
//! (the command line's `--subscription/--application/--region/--tag` checked against the
//! catalog).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use tokio::sync::mpsc;

use super::apply::requested_json;
use super::family;
use super::header::{Column as HeaderColumn, Field, HeaderMap};
use super::load::{InputRow, LoadError, LoadOptions, Sheet, load_path};
use super::matching::{MatchState, RowMatch, match_rows};
use super::options::{ApplicationRegion, Catalog, WizardChoices, region_display_name, resolve};
use super::plan::{AppTarget, Plan, plan};
use super::refresh::resync_via;
use super::tenant::tenants_of;
use super::validate::{Issue, IssueKind, rows_with_errors};
use super::validate_input;
use crate::glp::client::Client;
use crate::glp::error::GlpError;
use crate::store::audit::{NewRun, RunKind};
use crate::store::{Store, StoreError};
use crate::sync::SyncCommand;

/// A sheet read and matched against the stored inventory.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The path as given (for reloading and the audit trail).
    pub path: PathBuf,
    pub sheet: Sheet,
    /// One per valid row with a serial.
    pub matches: Vec<RowMatch>,
    /// Matching problems (archived, removed, MAC contradicting the stored one, …); the
    /// sheet's own issues stay in `sheet.issues`.
    pub match_issues: Vec<Issue>,
}

impl Prepared {
    /// The matches "continue with the valid rows" keeps: rows whose matching found an
    /// error (archived, MAC contradicting GreenLake, an add without its MAC, …) are left
    /// out like rows with errors in the sheet.
    pub fn valid_matches(&self) -> Vec<RowMatch> {
        let bad = rows_with_errors(&self.match_issues);
        self.matches
            .iter()
            .filter(|m| !bad.contains(&m.input.row))
            .cloned()
            .collect()
    }

    /// Every issue so far: the sheet's, then the matching ones.
    pub fn issues(&self) -> Vec<Issue> {
        let mut v = self.sheet.issues.clone();
        v.extend(self.match_issues.iter().cloned());
        v
    }
}

/// Why [`prepare`] could not produce a sheet to review.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(
        "looking the serials up in the database failed: {0}; check the database connection and reload"
    )]
    Store(#[from] StoreError),
    #[error("reading the file was interrupted: {0}")]
    Task(String),
}

/// Read `path` (on a blocking thread: a 10 MB workbook takes a while), look every serial up
/// with one query, and match the valid rows.
///
/// With a `client`, devices that an abandoned run (killed mid-apply, so it recorded no
/// result and fetched nothing back) may have changed are read again from GreenLake first:
/// otherwise the plan would start from values older than GreenLake's and resend calls that
/// already went through. A warning says so; when GreenLake cannot be reached the plan is
/// made from the stored values and the warning says that instead. The re-read goes through
/// `engine` when the console runs one, so it is one of the engine's refreshes like any other.
pub async fn prepare(
    store: &Store,
    client: Option<&Client>,
    engine: Option<&mpsc::Sender<SyncCommand>>,
    path: &Path,
    opts: &LoadOptions,
) -> Result<Prepared, PrepareError> {
    let p = path.to_path_buf();
    let o = opts.clone();
    let sheet = tokio::task::spawn_blocking(move || load_path(&p, &o))
        .await
        .map_err(|e| PrepareError::Task(e.to_string()))??;
    prepare_sheet(store, client, engine, path, sheet).await
}

/// Devices chosen in the console (the Devices tab's marks) as a sheet of serials, matched
/// like any sheet: the wizard then goes on from the review exactly as after a file.
pub async fn prepare_serials(
    store: &Store,
    client: Option<&Client>,
    engine: Option<&mpsc::Sender<SyncCommand>>,
    serials: &[String],
) -> Result<Prepared, PrepareError> {
    let name = format!("{} marked devices", serials.len());
    let sheet = Sheet {
        file: name.clone(),
        sheet: "Devices tab".into(),
        sheet_names: vec!["Devices tab".into()],
        header: HeaderMap {
            first_row: 0,
            last_row: 0,
            columns: vec![HeaderColumn {
                index: 0,
                field: Field::Serial,
                header: "Serial".into(),
            }],
            duplicates: Vec::new(),
        },
        rows: serials
            .iter()
            .enumerate()
            .map(|(i, s)| InputRow {
                row: u32::try_from(i + 2).unwrap_or(u32::MAX),
                serial: s.trim().to_uppercase(),
                ..InputRow::default()
            })
            .collect(),
        issues: Vec::new(),
    };
    prepare_sheet(store, client, engine, Path::new(&name), sheet).await
}

/// A sheet read (or made of chosen serials): re-read devices in doubt, look the serials up,
/// match.
async fn prepare_sheet(
    store: &Store,
    client: Option<&Client>,
    engine: Option<&mpsc::Sender<SyncCommand>>,
    path: &Path,
    sheet: Sheet,
) -> Result<Prepared, PrepareError> {
    let serials: Vec<String> = sheet.rows.iter().map(|r| r.serial.clone()).collect();
    let mut notes = Vec::new();
    if let Some(client) = client {
        let doubt = store.devices_in_doubt(&serials).await?;
        if !doubt.serials.is_empty() {
            let runs = doubt
                .runs
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let n = doubt.serials.len();
            let r = resync_via(engine, client, store, &doubt.serials).await;
            notes.push(match r.error {
                None => {
                    store.mark_refreshed(&doubt).await?;
                    format!(
                        "{n} devices of assignment run {runs}, which ended without recording \
                         its result (killed or crashed), were read again from GreenLake: the \
                         plan starts from their current values"
                    )
                }
                Some(e) => format!(
                    "{n} devices of assignment run {runs}, which ended without recording its \
                     result, could not be read again from GreenLake ({e}); the plan starts from \
                     the stored values, which may be older — sync, then load the sheet again"
                ),
            });
        }
    }
    let stored = store.devices_by_serials(&serials).await?;
    let valid = sheet.valid_rows();
    let (matches, mut match_issues) = match_rows(&sheet, &valid, &stored);
    for n in notes {
        match_issues.push(Issue::warning(
            IssueKind::ReadAgain,
            &sheet.sheet,
            None,
            None,
            n,
        ));
    }
    Ok(Prepared {
        path: path.to_path_buf(),
        sheet,
        matches,
        match_issues,
    })
}

/// Applications per region from the service catalog (provisioned ones only).
pub async fn api_catalog(client: &Client) -> Result<Vec<ApplicationRegion>, GlpError> {
    let regions = client.regions().await?;
    let provisions = client.provisions(None).await?;
    let mut out = Vec::new();
    for r in regions {
        for sm in &r.service_managers {
            let provisioned = provisions.iter().any(|p| {
                p.is_provisioned()
                    && p.service_manager_id.as_deref() == Some(sm.id.as_str())
                    && p.region.as_deref() == Some(r.id.as_str())
            });
            if provisioned {
                out.push(ApplicationRegion {
                    application_id: sm.id.clone(),
                    application_name: sm.name.clone(),
                    region: r.id.clone(),
                    region_name: r
                        .region_name
                        .clone()
                        .unwrap_or_else(|| region_display_name(&r.id)),
                });
            }
        }
    }
    Ok(out)
}

/// The catalog's names by application id (an application without a name is left out).
fn names_of(apps: &[ApplicationRegion]) -> BTreeMap<String, String> {
    apps.iter()
        .filter_map(|a| Some((a.application_id.clone(), a.application_name.clone()?)))
        .collect()
}

/// Read the service catalog's application names and keep them in the database, so the
/// Devices table and plans name applications from the start (not only once the wizard read
/// the catalog). True when a name was new or changed; a failure only leaves the names as
/// they were and is logged.
pub async fn keep_application_names(store: &Store, client: &Client) -> bool {
    let apps = match api_catalog(client).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!("reading the application names from the service catalog failed: {e}");
            return false;
        }
    };
    let names = names_of(&apps);
    let known = store.application_names().await.unwrap_or_default();
    if names
        .iter()
        .all(|(id, n)| known.get(&id.to_lowercase()) == Some(n))
    {
        return false;
    }
    match store.save_application_names(&names).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("keeping the application names failed: {e}");
            false
        }
    }
}

/// Everything the choices are made from. Without a client, or when the service catalog
/// cannot be read, the application/region pairs stored devices use are offered instead and
/// the returned note says why (the review must keep working without the API). The
/// catalog's application names are kept in the database, so they are known then too.
pub async fn load_catalog(
    store: &Store,
    client: Option<&Client>,
) -> Result<(Catalog, Option<String>), StoreError> {
    let (service, note) = match client {
        Some(c) => match api_catalog(c).await {
            Ok(v) => (Some(v), None),
            Err(e) => (
                None,
                Some(format!(
                    "the service catalog could not be read ({e}); offering the \
                     application/region pairs stored devices use"
                )),
            ),
        },
        None => (None, None),
    };
    if let Some(apps) = &service {
        let names = names_of(apps);
        // Only a convenience for later: a database that refuses the write (read-only
        // role) must not stop the wizard.
        if let Err(e) = store.save_application_names(&names).await {
            tracing::warn!("keeping the application names failed: {e}");
        }
    }
    let mut catalog = Catalog::new(
        store.assign_subscriptions().await?,
        store.assign_region_pairs().await?,
        store.assign_tags().await?,
        service,
    );
    catalog.tenants = tenants_of(&store.workspaces().await?, store.workspace());
    // Without the service catalog the pairs come from devices, which carry no names: the
    // names the catalog gave last time are kept in the database for this.
    let names = store.application_names().await?;
    for a in catalog
        .applications
        .iter_mut()
        .filter(|a| a.application_name.is_none())
    {
        a.application_name = names.get(&a.application_id).cloned();
    }
    Ok((catalog, note))
}

/// Targets resolved from the choices, their issues, and the plan.
#[derive(Clone, Debug)]
pub struct Planned {
    /// Issues of the choices (unknown key, incompatible subscription, not enough seats, …).
    pub issues: Vec<Issue>,
    pub plan: Plan,
}

impl Planned {
    /// A problem of the whole sheet (e.g. not enough seats) that makes sending pointless:
    /// the user has to choose differently first. Row problems only leave their rows out.
    pub fn blocking(&self) -> Option<&Issue> {
        self.issues.iter().find(|i| i.is_error() && i.row.is_none())
    }
}

/// Resolve the choices against the matched rows (per-row values from the sheet win) and
/// plan the calls.
pub fn plan_for(
    prepared: &Prepared,
    catalog: &Catalog,
    choices: &WizardChoices,
    now: DateTime<Utc>,
) -> Planned {
    let (targets, issues) = resolve(&prepared.sheet, &prepared.matches, catalog, choices, now);
    Planned {
        issues,
        plan: plan(&targets),
    }
}

/// `--subscription KEY` must fit every device it would go to (rows without a key of their
/// own): an AP subscription on switches is refused up front, naming the device types,
/// instead of leaving every row out.
pub fn check_subscription_family(
    prepared: &Prepared,
    catalog: &Catalog,
    choices: &WizardChoices,
) -> Result<(), String> {
    let Some(s) = choices
        .subscription_id
        .as_deref()
        .and_then(|id| catalog.subscription_by_id(id))
    else {
        return Ok(());
    };
    let t = s.subscription_type.as_deref().unwrap_or("");
    let rows: Vec<&RowMatch> = prepared
        .matches
        .iter()
        .filter(|m| m.input.subscription_key.is_none() && m.state != MatchState::Archived)
        .collect();
    let bad = family::misfits(t, &rows);
    if bad.is_empty() {
        return Ok(());
    }
    let fits = family::fitting_families(&bad);
    Err(format!(
        "--subscription {}: a {t} subscription cannot cover the sheet's {} devices{}",
        s.key.as_deref().unwrap_or(&s.id),
        family::describe_types(&bad),
        if fits.is_empty() {
            String::new()
        } else {
            format!("; they take {fits}: choose one of those (or give each row its own key)")
        }
    ))
}

/// The audit record of an apply (or dry run) of `prepared` with `choices`: what was asked,
/// from which file and sheet, and who asked (`$USER`).
pub fn new_run(prepared: &Prepared, choices: &WizardChoices, dry_run: bool) -> NewRun {
    NewRun {
        kind: RunKind::Apply,
        undo_of: None,
        source_file: Some(prepared.sheet.file.clone()),
        sheet: Some(prepared.sheet.sheet.clone()),
        requested: requested_json(
            Some(&prepared.path.display().to_string()),
            choices,
            serde_json::json!({ "dry_run": dry_run }),
        ),
        operator: std::env::var("USER").ok(),
    }
}

/// [`plan_for`] over the valid rows only: what the wizard sends after the user chose to
/// continue without the rows that have errors.
pub fn plan_for_valid(
    prepared: &Prepared,
    catalog: &Catalog,
    choices: &WizardChoices,
    now: DateTime<Utc>,
) -> Planned {
    let valid = prepared.valid_matches();
    let (targets, issues) = resolve(&prepared.sheet, &valid, catalog, choices, now);
    Planned {
        issues,
        plan: plan(&targets),
    }
}

/// Wizard choices given on the command line.
#[derive(Clone, Debug, Default)]
pub struct ChoiceFlags {
    pub subscription: Option<String>,
    pub application: Option<String>,
    pub region: Option<String>,
    pub tags: Vec<String>,
    pub remove_tags: Vec<String>,
}

/// The wizard choices from command-line flags, checked against the catalog. The error
/// names the flag and what to do.
pub fn choices_from_flags(opts: &ChoiceFlags, catalog: &Catalog) -> Result<WizardChoices, String> {
    let tags = validate_input::tag_flags(&opts.tags, &opts.remove_tags)?;
    let subscription_id = match &opts.subscription {
        None => None,
        Some(k) => Some(
            validate_input::subscription_key(catalog, k)
                .map_err(|e| format!("--subscription {k}: {e}"))?
                .id
                .clone(),
        ),
    };
    let region = match &opts.region {
        None => None,
        Some(r) => {
            Some(validate_input::region(catalog, r).map_err(|e| format!("--region {r}: {e}"))?)
        }
    };
    let apps = &catalog.applications;
    let app_hits: Option<Vec<&ApplicationRegion>> = opts.application.as_ref().map(|a| {
        apps.iter()
            .filter(|x| {
                x.application_id.eq_ignore_ascii_case(a)
                    || x.application_name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(a))
            })
            .collect()
    });
    let target = |h: &ApplicationRegion, region: &str| AppTarget {
        application_id: h.application_id.clone(),
        region: region.to_string(),
    };
    let application = match (&opts.application, &region, app_hits) {
        (None, None, _) => None,
        (Some(a), _, Some(hits)) if hits.is_empty() => {
            return Err(format!(
                "--application {a}: not an application provisioned in this workspace; \
                 give its id or name as GreenLake lists it"
            ));
        }
        (Some(a), Some(r), Some(hits)) => match hits.iter().find(|x| &x.region == r) {
            Some(h) => Some(target(h, r)),
            None => {
                return Err(format!(
                    "--application {a} is not provisioned in region {r}; it is in: {}",
                    hits.iter()
                        .map(|h| h.region.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        },
        (Some(a), None, Some(hits)) => match hits.as_slice() {
            [one] => Some(target(one, &one.region)),
            _ => {
                return Err(format!(
                    "--application {a} is provisioned in several regions; add --region"
                ));
            }
        },
        (None, Some(r), _) => {
            let hits: Vec<&ApplicationRegion> = apps.iter().filter(|x| &x.region == r).collect();
            match hits.as_slice() {
                [one] => Some(target(one, r)),
                [] => {
                    return Err(format!(
                        "--region {r}: no application is provisioned there; pick another region"
                    ));
                }
                _ => {
                    return Err(format!(
                        "--region {r}: several applications are provisioned there; add --application"
                    ));
                }
            }
        }
        (Some(_), _, None) => None,
    };
    Ok(WizardChoices {
        application,
        subscription_id,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_pick_the_only_region_of_an_application() {
        let catalog = Catalog {
            applications: vec![ApplicationRegion {
                application_id: "app-1".into(),
                application_name: Some("Aruba Central".into()),
                region: "us-west".into(),
                region_name: "US West".into(),
            }],
            ..Catalog::default()
        };
        let c = choices_from_flags(
            &ChoiceFlags {
                application: Some("aruba central".into()),
                ..ChoiceFlags::default()
            },
            &catalog,
        )
        .unwrap();
        assert_eq!(c.application.unwrap().region, "us-west");
        let e = choices_from_flags(
            &ChoiceFlags {
                region: Some("eu-west".into()),
                ..ChoiceFlags::default()
            },
            &catalog,
        )
        .unwrap_err();
        assert!(e.contains("--region eu-west"), "{e}");
    }
}
