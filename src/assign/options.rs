//! What the wizard can offer, and turning the user's choices plus the sheet's per-row
//! values into one [`DeviceTarget`] per device.
//!
//! Per-row values from the sheet win over wizard-wide choices, field by field.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::family;
use super::header::Field;
use super::load::{InputRow, Sheet};
use super::matching::{MatchState, RowMatch};
use super::normalize::{Category, TAGS_PER_DEVICE_MAX};
use super::plan::{AddDevice, AppTarget, Desired, DeviceState, DeviceTarget};
use super::tenant::{TenantChoice, ignored_column, resolve_tenant};
use super::validate::{Issue, IssueKind};
use crate::store::assign::{RegionPair, StoredSubscription, TagUse};

/// Region codes GLP documents (§2.7), accepted even when no stored device uses them yet.
pub const KNOWN_REGIONS: &[&str] = &[
    "ap-ausnz",
    "ap-east",
    "ap-northeast",
    "ap-south",
    "ap-southeast",
    "ca-central",
    "ca-east",
    "cn-east",
    "cn-north",
    "eu-central",
    "eu-north",
    "eu-west",
    "mea",
    "sa-east",
    "us-central",
    "us-east",
    "us-gov",
    "us-west",
    "att-mcd-us-west",
    "att-ent-us-west",
    "att-hilton-us-west",
];

/// A region's name as the GLP UI shows it (`us-west` → "US West").
pub fn region_display_name(code: &str) -> String {
    let fixed = match code {
        "us-west" => "US West",
        "us-east" => "US East",
        "us-central" => "US Central",
        "eu-west" => "EU West",
        "eu-central" => "EU Central",
        "ap-northeast" => "Asia Pacific Northeast",
        "ap-southeast" => "Asia Pacific Southeast",
        "ap-south" => "Asia Pacific South",
        "ca-central" => "Canada Central",
        "sa-east" => "South America East",
        _ => "",
    };
    if !fixed.is_empty() {
        return fixed.into();
    }
    code.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub use super::family::compatible_categories;

/// An application available in a region (from the service catalog when the API client
/// provides it, else from pairs seen on stored devices).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApplicationRegion {
    pub application_id: String,
    pub application_name: Option<String>,
    pub region: String,
    pub region_name: String,
}

/// Everything the wizard chooses from.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub subscriptions: Vec<StoredSubscription>,
    pub applications: Vec<ApplicationRegion>,
    pub tags: Vec<TagUse>,
    /// The MSP's tenants, for the sheet's Tenant column (empty outside an MSP workspace).
    pub tenants: Vec<TenantChoice>,
}

impl Catalog {
    /// Build from the store's lists. `service_catalog` (from the API, when available)
    /// replaces the pairs seen on devices, which can never offer a pair no device uses yet.
    pub fn new(
        subscriptions: Vec<StoredSubscription>,
        pairs: Vec<RegionPair>,
        tags: Vec<TagUse>,
        service_catalog: Option<Vec<ApplicationRegion>>,
    ) -> Catalog {
        let applications = service_catalog.unwrap_or_else(|| {
            pairs
                .into_iter()
                .map(|p| ApplicationRegion {
                    region_name: region_display_name(&p.region),
                    application_id: p.application_id,
                    application_name: None,
                    region: p.region,
                })
                .collect()
        });
        Catalog {
            subscriptions,
            applications,
            tags,
            tenants: Vec::new(),
        }
    }

    pub fn subscription_by_key(&self, key: &str) -> Option<&StoredSubscription> {
        self.subscriptions.iter().find(|s| {
            s.key
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case(key))
        })
    }

    pub fn subscription_by_id(&self, id: &str) -> Option<&StoredSubscription> {
        self.subscriptions.iter().find(|s| s.id == id)
    }
}

/// A subscription the wizard can offer for the devices in the sheet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubscriptionChoice {
    pub id: String,
    pub key: String,
    pub subscription_type: String,
    pub tier: Option<String>,
    pub end_time: Option<DateTime<Utc>>,
    pub available: Option<i64>,
    /// Devices in the sheet that would take a seat (those not already on it).
    pub needed: usize,
    /// `available >= needed` (unknown availability counts as enough; GLP decides).
    pub enough: bool,
    /// Whole days until it ends (rounded down), when it has an end.
    pub days_left: Option<i64>,
}

/// Days before its end from which a subscription counts as expiring, for the plan's
/// warning (the default of the `ui.expiring_days` setting).
pub const EXPIRING_WINDOW_DAYS: i64 = 90;

/// Days left until `end`, counted as everywhere else (calendar days in UTC).
fn days_until(end: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    crate::domain::days_left(end, now)
}

fn usable(s: &StoredSubscription, now: DateTime<Utc>) -> bool {
    s.status.as_deref() == Some("STARTED") && s.end_time.is_none_or(|e| e > now)
}

/// Subscriptions that fit the devices among `matches` (their category, and their device
/// type's family: AP → `CENTRAL_AP`, switch → `CENTRAL_SWITCH`, …; see [`family`]),
/// `STARTED` and not ended, the latest end first, then the most seats; each says whether
/// enough seats are left and how many days it has. In a sheet of several families a
/// subscription is offered when it fits some of its devices of a known family (a device
/// whose type has none, e.g. one the sheet adds without a type, fits every subscription,
/// so it alone would let a switch subscription into a list for access points); only the
/// devices it fits count as needing a seat, and [`resolve`] leaves the others out with an
/// error naming their type.
///
/// [`family`]: super::family
pub fn subscription_choices(
    catalog: &Catalog,
    matches: &[RowMatch],
    now: DateTime<Utc>,
) -> Vec<SubscriptionChoice> {
    let known: Vec<&RowMatch> = matches
        .iter()
        .filter(|m| {
            family::device_type_of(m)
                .as_deref()
                .and_then(family::subscription_types_for)
                .is_some()
        })
        .collect();
    let mut out: Vec<SubscriptionChoice> = catalog
        .subscriptions
        .iter()
        .filter(|s| usable(s, now))
        .filter(|s| {
            let t = s.subscription_type.as_deref().unwrap_or("");
            if known.is_empty() {
                matches.is_empty() || matches.iter().any(|m| family::fits(t, m))
            } else {
                known.iter().any(|m| family::fits(t, m))
            }
        })
        .map(|s| {
            let t = s.subscription_type.as_deref().unwrap_or("");
            let needed = matches
                .iter()
                .filter(|m| m.state != MatchState::Archived && family::fits(t, m))
                .filter(|m| {
                    !m.device
                        .as_ref()
                        .is_some_and(|d| d.subscriptions.iter().any(|l| l.id == s.id))
                })
                .count();
            SubscriptionChoice {
                id: s.id.clone(),
                key: s.key.clone().unwrap_or_default(),
                subscription_type: s.subscription_type.clone().unwrap_or_default(),
                tier: s.tier.clone(),
                end_time: s.end_time,
                available: s.available_quantity,
                needed,
                enough: s.available_quantity.is_none_or(|a| a >= needed as i64),
                days_left: s.end_time.map(|e| days_until(e, now)),
            }
        })
        .collect();
    // Latest end first (no end date last: unknown), then most seats, then by key.
    out.sort_by(|a, b| {
        (a.end_time.is_none(), std::cmp::Reverse(a.end_time))
            .cmp(&(b.end_time.is_none(), std::cmp::Reverse(b.end_time)))
            .then_with(|| {
                (a.available.is_none(), std::cmp::Reverse(a.available))
                    .cmp(&(b.available.is_none(), std::cmp::Reverse(b.available)))
            })
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

/// A warning for the subscription list when some devices have a type with no known
/// subscription family: every subscription of their category is offered for them.
pub fn subscription_choice_warning(matches: &[RowMatch]) -> Option<String> {
    let odd = family::unmapped_types(matches);
    (!odd.is_empty()).then(|| {
        format!(
            "no subscription family is known for device type {}: every subscription of \
             their category is offered — check it fits before choosing",
            family::describe_types(&odd)
        )
    })
}

/// A tag key in use and its values (with device counts), for the tag picker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagChoice {
    pub key: String,
    pub values: Vec<(String, i64)>,
}

/// Existing tag keys and values, grouped by key.
pub fn tag_choices(catalog: &Catalog) -> Vec<TagChoice> {
    let mut by_key: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for t in &catalog.tags {
        by_key
            .entry(t.key.clone())
            .or_default()
            .push((t.value.clone(), t.devices));
    }
    by_key
        .into_iter()
        .map(|(key, values)| TagChoice { key, values })
        .collect()
}

/// The wizard-wide choices; every field may be overridden per row by the sheet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WizardChoices {
    pub application: Option<AppTarget>,
    pub subscription_id: Option<String>,
    /// Tags to set (`Some`) or remove (`None`) on every device.
    pub tags: BTreeMap<String, Option<String>>,
}

fn looks_like_uuid(s: &str) -> bool {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

/// Turn matched rows and choices into per-device targets. Archived rows get no target;
/// rows with a problem here (unknown key, region or application, subscription not usable
/// or incompatible, subscription without an application, too many tags) get an issue and
/// no target. A subscription short of seats gives one sheet-level error.
pub fn resolve(
    sheet: &Sheet,
    matches: &[RowMatch],
    catalog: &Catalog,
    choices: &WizardChoices,
    now: DateTime<Utc>,
) -> (Vec<DeviceTarget>, Vec<Issue>) {
    let mut issues = Vec::new();
    let mut targets = Vec::new();
    let mut seats: HashMap<String, usize> = HashMap::new();
    for m in matches.iter().filter(|m| m.state != MatchState::Archived) {
        let r = &m.input;
        let before = issues.len();
        let current = m
            .device
            .as_ref()
            .filter(|_| !m.needs_add())
            .map(DeviceState::from_stored);
        let mut row = RowIssues {
            sheet,
            row: r.row,
            out: &mut issues,
        };
        let application = resolve_application(r, catalog, choices, &mut row);
        let sub = resolve_subscription(m, catalog, choices, now, &mut row);
        let subscription = match sub {
            Some(s) => Desired::Set(vec![s.id.clone()]),
            None => Desired::Keep,
        };
        let has_app_after = matches!(application, Desired::Set(_))
            || current.as_ref().is_some_and(|c| c.application_id.is_some());
        if matches!(subscription, Desired::Set(_)) && !has_app_after {
            row.error(IssueKind::SubscriptionNeedsApplication, Some(&Field::Application),
                "GreenLake assigns a subscription only to a device with an application; choose an application and region too".into());
        }
        let tags = merged_tags(r, choices, current.as_ref(), &mut row);
        let tenant = match resolve_tenant(r, &catalog.tenants) {
            Ok(t) => t,
            Err(_) if catalog.tenants.is_empty() => Desired::Keep,
            Err(m) => {
                row.error(IssueKind::UnknownTenant, Some(&Field::Tenant), m);
                Desired::Keep
            }
        };
        if issues[before..].iter().any(Issue::is_error) {
            continue;
        }
        if let (Desired::Set(ids), Some(s)) = (&subscription, sub)
            && current.as_ref().is_none_or(|c| c.subscription_ids != *ids)
        {
            *seats.entry(s.id.clone()).or_default() += 1;
        }
        let add = m.needs_add().then(|| AddDevice {
            category: m.category.unwrap_or(Category::Network),
            mac: r.mac.clone(),
            part_number: r.part_number.clone(),
        });
        targets.push(DeviceTarget {
            serial: r.serial.clone(),
            row: Some(r.row),
            device_id: m
                .device
                .as_ref()
                .filter(|_| !m.needs_add())
                .map(|d| d.id.clone()),
            current,
            add,
            application,
            subscription,
            tags,
            tenant,
        });
    }
    issues.extend(ignored_column(sheet, matches, &catalog.tenants));
    issues.extend(seat_issues(sheet, catalog, &seats));
    issues.extend(expiring_issues(sheet, catalog, &seats, now));
    issues.extend(lost_subscription_issues(sheet, catalog, &targets));
    (targets, issues)
}

/// A warning for each subscription the plan assigns that ends within the expiring window.
fn expiring_issues(
    sheet: &Sheet,
    catalog: &Catalog,
    seats: &HashMap<String, usize>,
    now: DateTime<Utc>,
) -> Vec<Issue> {
    let mut out: Vec<(i64, Issue)> = Vec::new();
    for (id, n) in seats {
        let Some(s) = catalog.subscription_by_id(id) else {
            continue;
        };
        let Some(end) = s.end_time else { continue };
        let days = days_until(end, now);
        if days <= EXPIRING_WINDOW_DAYS {
            out.push((days, Issue::warning(IssueKind::SubscriptionExpiring, &sheet.sheet, None, None,
                format!("subscription {} ends in {days} days ({}), within the {EXPIRING_WINDOW_DAYS}-day expiring window; {n} devices would need another one then",
                    s.key.as_deref().unwrap_or(&s.id), end.format("%Y-%m-%d")))));
        }
    }
    out.sort_by_key(|(d, _)| *d);
    out.into_iter().map(|(_, i)| i).collect()
}

/// A warning for each subscription devices lose because the plan gives them another one.
fn lost_subscription_issues(
    sheet: &Sheet,
    catalog: &Catalog,
    targets: &[DeviceTarget],
) -> Vec<Issue> {
    let mut lost: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for t in targets {
        let (Desired::Set(new), Some(cur)) = (&t.subscription, &t.current) else {
            continue;
        };
        for old in cur.subscription_ids.iter().filter(|o| !new.contains(o)) {
            lost.entry(old.clone()).or_default().push(&t.serial);
        }
    }
    lost.into_iter()
        .map(|(id, serials)| {
            let key = catalog
                .subscription_by_id(&id)
                .and_then(|s| s.key.clone())
                .unwrap_or(id);
            let shown: Vec<&str> = serials.iter().take(5).copied().collect();
            let more = serials.len().saturating_sub(shown.len());
            Issue::warning(
                IssueKind::SubscriptionReplaced,
                &sheet.sheet,
                None,
                None,
                format!(
                    "{} current subscription {key}: {}{}",
                    if serials.len() == 1 {
                        "1 device loses its".to_string()
                    } else {
                        format!("{} devices lose their", serials.len())
                    },
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                ),
            )
        })
        .collect()
}

/// Where the problems of one row go, located as the user sees them.
struct RowIssues<'a> {
    sheet: &'a Sheet,
    row: u32,
    out: &'a mut Vec<Issue>,
}

impl RowIssues<'_> {
    /// An error of this row, in the column of `field` when the sheet has one.
    fn error(&mut self, kind: IssueKind, field: Option<&Field>, message: String) {
        let column = field.and_then(|f| self.sheet.header.column(f).map(|c| c.describe()));
        self.out.push(Issue::error(
            kind,
            &self.sheet.sheet,
            Some(self.row),
            column,
            message,
        ));
    }
}

/// Application and region: the sheet's first, then the wizard's, then the other half
/// inferred when the catalog allows only one.
fn resolve_application(
    r: &InputRow,
    catalog: &Catalog,
    choices: &WizardChoices,
    row: &mut RowIssues<'_>,
) -> Desired<AppTarget> {
    let mut app_id = r
        .application
        .as_ref()
        .and_then(|a| sheet_application(a, catalog, row));
    let mut region = r.region.clone();
    if let Some(reg) = &region
        && !KNOWN_REGIONS.contains(&reg.as_str())
        && !catalog.applications.iter().any(|x| &x.region == reg)
    {
        row.error(IssueKind::UnknownRegion, Some(&Field::Region),
            format!("region \"{reg}\" is unknown; use a region code such as us-west, eu-central or ap-southeast"));
        region = None;
    }
    if app_id.is_none() && r.application.is_none() {
        app_id = choices
            .application
            .as_ref()
            .map(|a| a.application_id.clone());
    }
    if region.is_none() && r.region.is_none() {
        // The wizard's region goes with the wizard's application, or with a sheet
        // application it is offered for.
        region = choices.application.as_ref().map(|a| a.region.clone());
        if let (Some(app), Some(reg)) = (&app_id, &region)
            && r.application.is_some()
            && !catalog
                .applications
                .iter()
                .any(|x| &x.application_id == app && &x.region == reg)
        {
            region = None;
        }
    }
    if let (Some(app), None) = (&app_id, &region) {
        let regions: Vec<&str> = catalog
            .applications
            .iter()
            .filter(|x| &x.application_id == app)
            .map(|x| x.region.as_str())
            .collect();
        match regions.as_slice() {
            [one] => region = Some(one.to_string()),
            _ => row.error(IssueKind::ApplicationNeedsRegion, Some(&Field::Region),
                "an application needs a region; fill in the Region cell or choose one in the wizard".into()),
        }
    }
    if let (None, Some(reg)) = (&app_id, &region)
        && r.region.is_some()
    {
        let apps: Vec<&str> = catalog
            .applications
            .iter()
            .filter(|x| &x.region == reg)
            .map(|x| x.application_id.as_str())
            .collect();
        match apps.as_slice() {
            [one] => app_id = Some(one.to_string()),
            _ => row.error(IssueKind::UnknownApplication, Some(&Field::Application),
                format!("region {reg} is given but not which application; fill in the Application cell or choose one in the wizard")),
        }
    }
    match (app_id, region) {
        (Some(application_id), Some(region)) => Desired::Set(AppTarget {
            application_id,
            region,
        }),
        _ => Desired::Keep,
    }
}

/// The application id a sheet cell names (by id or name, or any id-shaped value).
fn sheet_application(a: &str, catalog: &Catalog, row: &mut RowIssues<'_>) -> Option<String> {
    let hit = catalog.applications.iter().find(|x| {
        x.application_id.eq_ignore_ascii_case(a)
            || x.application_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(a))
    });
    match hit {
        Some(h) => Some(h.application_id.clone()),
        None if looks_like_uuid(a) => Some(a.to_lowercase()),
        None => {
            row.error(IssueKind::UnknownApplication, Some(&Field::Application),
                format!("application \"{a}\" is unknown; write an application id or name the wizard lists"));
            None
        }
    }
}

/// The subscription: the sheet's key, else the wizard's choice; a problem with it (not
/// usable now, cannot cover the device) is an issue of the row.
fn resolve_subscription<'c>(
    m: &RowMatch,
    catalog: &'c Catalog,
    choices: &WizardChoices,
    now: DateTime<Utc>,
    row: &mut RowIssues<'_>,
) -> Option<&'c StoredSubscription> {
    let sub = match &m.input.subscription_key {
        Some(k) => match catalog.subscription_by_key(k) {
            None => {
                row.error(IssueKind::UnknownSubscriptionKey, Some(&Field::SubscriptionKey),
                    format!("subscription key {k} is not in the inventory; check the key, or sync subscriptions and reload"));
                None
            }
            Some(s) => Some(s),
        },
        None => choices
            .subscription_id
            .as_deref()
            .and_then(|id| catalog.subscription_by_id(id)),
    };
    if let Some(s) = sub {
        let key = s.key.clone().unwrap_or_else(|| s.id.clone());
        if !usable(s, now) {
            row.error(IssueKind::SubscriptionNotUsable, Some(&Field::SubscriptionKey),
                format!("subscription {key} is {} — only a started, unexpired subscription can be assigned; pick another", s.status.as_deref().unwrap_or("of unknown status")));
        } else if !family::fits(s.subscription_type.as_deref().unwrap_or(""), m) {
            let what = family::device_type_of(m)
                .or_else(|| m.category.map(|c| c.as_api().to_string()))
                .unwrap_or_else(|| "?".into());
            row.error(IssueKind::SubscriptionIncompatible, Some(&Field::SubscriptionKey),
                format!("subscription {key} ({}) cannot cover a {what} device; pick a matching subscription", s.subscription_type.as_deref().unwrap_or("?")));
        }
    }
    sub
}

/// Tags: the wizard's, then the row's on top (keys case-insensitive); more than a device
/// may carry afterwards is an issue of the row.
fn merged_tags(
    r: &InputRow,
    choices: &WizardChoices,
    current: Option<&DeviceState>,
    row: &mut RowIssues<'_>,
) -> BTreeMap<String, Option<String>> {
    let mut tags: BTreeMap<String, Option<String>> = choices.tags.clone();
    for (k, v) in &r.tags {
        tags.retain(|x, _| x.to_lowercase() != k.to_lowercase());
        tags.insert(k.clone(), v.clone());
    }
    let mut after_keys: Vec<String> = current
        .map(|c| c.tags.keys().map(|k| k.to_lowercase()).collect())
        .unwrap_or_default();
    for (k, v) in &tags {
        let lk = k.to_lowercase();
        match v {
            Some(_) if !after_keys.contains(&lk) => after_keys.push(lk),
            None => after_keys.retain(|x| x != &lk),
            _ => {}
        }
    }
    if after_keys.len() > TAGS_PER_DEVICE_MAX {
        row.error(IssueKind::TooManyTags, None,
            format!("the device would carry {} tags; GreenLake allows at most {TAGS_PER_DEVICE_MAX} — remove some", after_keys.len()));
    }
    tags
}

/// A sheet-level error for each subscription with fewer seats left than devices need.
fn seat_issues(sheet: &Sheet, catalog: &Catalog, seats: &HashMap<String, usize>) -> Vec<Issue> {
    let column = sheet
        .header
        .column(&Field::SubscriptionKey)
        .map(|c| c.describe());
    let mut issues = Vec::new();
    for (id, n) in seats {
        if let Some(s) = catalog.subscription_by_id(id)
            && let Some(avail) = s.available_quantity
            && (avail as usize) < *n
        {
            issues.push(Issue::error(IssueKind::SubscriptionQuantity, &sheet.sheet, None, column.clone(),
                format!("subscription {} has {avail} seats left but {n} devices need one; pick a larger subscription or fewer rows", s.key.as_deref().unwrap_or(&s.id))));
        }
    }
    issues
}
