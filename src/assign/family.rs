//! Which subscription types fit which device types. The family of a subscription
//! (`CENTRAL_AP`, `CENTRAL_SWITCH`, …) is finer than the device category (network, compute,
//! storage): GreenLake takes an AP subscription on a switch without complaint, and the seat
//! is then wasted, so the wizard offers and the command line accepts only a matching family.

use super::matching::RowMatch;
use super::normalize::Category;

/// Device families a subscription type can cover (§7.3): central network types cover
/// network devices, compute and storage their own; anything else covers all three.
pub fn compatible_categories(subscription_type: &str) -> &'static [Category] {
    match subscription_type {
        "CENTRAL_AP"
        | "CENTRAL_SWITCH"
        | "CENTRAL_GW"
        | "CENTRAL_BRIDGE"
        | "CENTRAL_CONTROLLER"
        | "CENTRAL_NW_THIRD_PARTY" => &[Category::Network],
        "CENTRAL_COMPUTE" => &[Category::Compute],
        "CENTRAL_STORAGE" => &[Category::Storage],
        _ => &[Category::Network, Category::Compute, Category::Storage],
    }
}

/// Subscription types a device type takes, or `None` for a type with no known family (all
/// subscriptions of its category are then offered, with a warning).
pub fn subscription_types_for(device_type: &str) -> Option<&'static [&'static str]> {
    match device_type.trim().to_ascii_uppercase().as_str() {
        "AP" | "IAP" => Some(&["CENTRAL_AP"]),
        "SWITCH" => Some(&["CENTRAL_SWITCH"]),
        "GATEWAY" | "CONTROLLER" | "SD_WAN_GW" => Some(&["CENTRAL_GW", "CENTRAL_CONTROLLER"]),
        "COMPUTE" => Some(&["CENTRAL_COMPUTE"]),
        "STORAGE" => Some(&["CENTRAL_STORAGE"]),
        _ => None,
    }
}

/// The device type of a row: the stored device's, else the sheet's.
pub fn device_type_of(m: &RowMatch) -> Option<String> {
    m.device
        .as_ref()
        .and_then(|d| d.device_type.clone())
        .or_else(|| m.input.device_type_raw.clone())
        .map(|t| t.trim().to_ascii_uppercase())
        .filter(|t| !t.is_empty())
}

/// Can a subscription of `subscription_type` cover the device of `m`? Its category must
/// fit, and its device type's family when the type has one.
pub fn fits(subscription_type: &str, m: &RowMatch) -> bool {
    if let Some(c) = m.category
        && !compatible_categories(subscription_type).contains(&c)
    {
        return false;
    }
    match device_type_of(m)
        .as_deref()
        .and_then(subscription_types_for)
    {
        Some(types) => types.contains(&subscription_type),
        None => true,
    }
}

/// The device types among `matches` that `subscription_type` cannot cover, each with how
/// many rows have it (sorted by type).
pub fn misfits(subscription_type: &str, matches: &[&RowMatch]) -> Vec<(String, usize)> {
    let mut out: std::collections::BTreeMap<String, usize> = Default::default();
    for m in matches.iter().filter(|m| !fits(subscription_type, m)) {
        let t = device_type_of(m)
            .or_else(|| m.category.map(|c| c.as_api().to_string()))
            .unwrap_or_else(|| "?".into());
        *out.entry(t).or_default() += 1;
    }
    out.into_iter().collect()
}

/// Device types among `matches` with no known subscription family (each with its count).
pub fn unmapped_types(matches: &[RowMatch]) -> Vec<(String, usize)> {
    let mut out: std::collections::BTreeMap<String, usize> = Default::default();
    for m in matches {
        let t = device_type_of(m);
        if t.as_deref().and_then(subscription_types_for).is_none() {
            *out.entry(t.unwrap_or_else(|| "unknown".into()))
                .or_default() += 1;
        }
    }
    out.into_iter().collect()
}

/// `SWITCH (2), GATEWAY (1)`.
pub fn describe_types(types: &[(String, usize)]) -> String {
    types
        .iter()
        .map(|(t, n)| format!("{t} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The families that would fit `types`, for a hint (`CENTRAL_SWITCH or CENTRAL_GW`).
pub fn fitting_families(types: &[(String, usize)]) -> String {
    let mut fams: Vec<&str> = types
        .iter()
        .filter_map(|(t, _)| subscription_types_for(t))
        .flat_map(|f| f.iter().copied())
        .collect();
    fams.sort_unstable();
    fams.dedup();
    fams.join(" or ")
}
