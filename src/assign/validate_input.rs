//! What the user types for an assignment — the wizard's tag line, `assign --tag`,
//! `--remove-tag`, `--subscription` and `--region` — checked by the rules the sheet's cells
//! are checked by ([`super::normalize`]), so a tag GreenLake would refuse is refused where
//! it is typed instead of by a 400 at dry run, and the wizard and the headless command
//! agree on what is valid.
//!
//! Each error names the field (tag key, tag value, subscription key, region) and says what
//! to write instead; callers add where it was typed (`--tag …:`, the prompt).

use super::normalize::{normalize_region, tag_key_problem, tag_value_problem};
use super::options::{Catalog, KNOWN_REGIONS};
use crate::store::assign::StoredSubscription;

/// A tag change as typed: `KEY=VALUE` sets, `-KEY` removes. Keys and values are trimmed;
/// the key must be 1–128 allowed characters and the value 0–256. One `=` only: GreenLake
/// allows `=` inside keys and values, but typed on one line `env==lab` is a slip far more
/// often than a value `=lab` (such values can still come from a sheet's tag column).
pub fn tag_edit(s: &str) -> Result<(String, Option<String>), String> {
    let s = s.trim();
    if let Some(k) = s.strip_prefix('-') {
        let k = k.trim();
        if k.is_empty() || k.contains('=') {
            return Err(format!("\"{s}\": to remove a tag write -KEY (e.g. -site)"));
        }
        return tag_key(k).map(|k| (k, None));
    }
    let Some((k, v)) = s.split_once('=') else {
        return Err(format!(
            "\"{s}\": write KEY=VALUE to set a tag (e.g. site=HQ) or -KEY to remove one"
        ));
    };
    if v.contains('=') {
        return Err(format!(
            "\"{s}\" has more than one '='; write KEY=VALUE with a single = (e.g. {}={})",
            k.trim(),
            v.trim_start_matches('=').trim()
        ));
    }
    let k = k.trim();
    if k.is_empty() {
        return Err(format!(
            "\"{s}\": the tag key is empty; write KEY=VALUE (e.g. site=HQ)"
        ));
    }
    let key = tag_key(k)?;
    let v = v.trim();
    if let Some(p) = tag_value_problem(v) {
        return Err(format!("{p}; change the value"));
    }
    Ok((key, Some(v.to_string())))
}

/// A tag key on its own (for `-KEY` and `--remove-tag KEY`).
pub fn tag_key(k: &str) -> Result<String, String> {
    let k = k.trim();
    if k.is_empty() {
        return Err("the tag key is empty; write the key (e.g. site)".into());
    }
    match tag_key_problem(k) {
        Some(p) => Err(format!("{p}; change the key")),
        None => Ok(k.to_string()),
    }
}

/// A problem the line being typed already has whatever comes next (a character GreenLake
/// refuses, too long, a second `=`), for the prompt to show while typing. A line that is
/// only unfinished (`site`, `-`) is not a problem yet.
pub fn tag_typing_problem(s: &str) -> Option<String> {
    let t = s.trim();
    let body = t.strip_prefix('-').unwrap_or(t);
    let complete = match body.split_once('=') {
        Some((k, _)) => !k.trim().is_empty(),
        None => t.starts_with('-') && !body.trim().is_empty(),
    };
    if complete {
        return tag_edit(t).err();
    }
    // No `=` yet: only the key so far.
    let k = body.trim();
    if k.is_empty() {
        return None;
    }
    tag_key_problem(k).map(|p| format!("{p}; change the key"))
}

/// `--tag KEY=VALUE …` and `--remove-tag KEY …` as the plan wants them; the error names
/// the flag as given.
pub fn tag_flags(
    set: &[String],
    remove: &[String],
) -> Result<std::collections::BTreeMap<String, Option<String>>, String> {
    let mut out = std::collections::BTreeMap::new();
    for t in set {
        if !t.contains('=') {
            return Err(format!(
                "--tag {t}: write it as KEY=VALUE (e.g. --tag site=HQ)"
            ));
        }
        if t.trim().starts_with('-') {
            return Err(format!(
                "--tag {t}: a tag key cannot start with '-'; to remove a tag use --remove-tag KEY"
            ));
        }
        let (k, v) = tag_edit(t).map_err(|e| format!("--tag {t}: {e}"))?;
        out.insert(k, v);
    }
    for k in remove {
        let key = tag_key(k).map_err(|e| format!("--remove-tag {k}: {e}"))?;
        out.insert(key, None);
    }
    Ok(out)
}

/// The stored subscription a typed key (or id) names; unknown keys are refused with what to
/// do, since GreenLake would only say "not found" per device.
pub fn subscription_key<'c>(
    catalog: &'c Catalog,
    k: &str,
) -> Result<&'c StoredSubscription, String> {
    let k = k.trim();
    if k.is_empty() {
        return Err("the subscription key is empty; write the key printed on the licence".into());
    }
    catalog
        .subscription_by_key(k)
        .or_else(|| catalog.subscription_by_id(k))
        .ok_or_else(|| {
            format!(
                "subscription key {k} is not in the inventory; check the key, or sync subscriptions and try again"
            )
        })
}

/// A typed region as GreenLake spells it (`US West` → `us-west`), if the catalog offers it
/// or it is one of GreenLake's region codes; else why not, with the regions on offer.
pub fn region(catalog: &Catalog, r: &str) -> Result<String, String> {
    let code = normalize_region(r);
    if code.is_empty() {
        return Err("the region is empty; write a region code such as us-west".into());
    }
    let offered = catalog.applications.iter().any(|a| a.region == code);
    if offered || KNOWN_REGIONS.contains(&code.as_str()) {
        return Ok(code);
    }
    let mut on_offer: Vec<&str> = catalog
        .applications
        .iter()
        .map(|a| a.region.as_str())
        .collect();
    on_offer.sort_unstable();
    on_offer.dedup();
    let listed = if on_offer.is_empty() {
        "such as us-west, eu-central or ap-southeast".to_string()
    } else {
        format!("one of {}", on_offer.join(", "))
    };
    Err(format!("region \"{}\" is unknown; use {listed}", r.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::options::ApplicationRegion;

    #[test]
    fn tag_lines_follow_the_greenlake_rules() {
        assert_eq!(
            tag_edit(" site = HQ ").unwrap(),
            ("site".into(), Some("HQ".into()))
        );
        assert_eq!(tag_edit("-floor").unwrap(), ("floor".into(), None));
        assert_eq!(
            tag_edit("empty=").unwrap(),
            ("empty".into(), Some(String::new()))
        );
        let e = tag_edit("bad tag!=x").unwrap_err();
        assert!(e.contains("tag key \"bad tag!\" contains '!'"), "{e}");
        let e = tag_edit("env==lab").unwrap_err();
        assert!(
            e.contains("more than one '='") && e.contains("env=lab"),
            "{e}"
        );
        assert!(tag_edit("=x").unwrap_err().contains("key is empty"));
        assert!(tag_edit("site=a#b").unwrap_err().contains("tag value"));
        assert!(tag_edit(&format!("{}=v", "k".repeat(129))).is_err());
        assert!(tag_edit(&format!("k={}", "v".repeat(257))).is_err());
        assert!(tag_edit("-bad/key").unwrap_err().contains("'/'"));
        assert!(tag_edit("site").unwrap_err().contains("KEY=VALUE"));
    }

    #[test]
    fn typing_shows_only_what_no_further_typing_fixes() {
        assert_eq!(tag_typing_problem(""), None);
        assert_eq!(tag_typing_problem("sit"), None);
        assert_eq!(tag_typing_problem("-"), None);
        assert_eq!(tag_typing_problem("site="), None);
        assert!(tag_typing_problem("bad tag!").is_some());
        assert!(tag_typing_problem("env==").is_some());
        assert!(tag_typing_problem("site=a#").is_some());
    }

    #[test]
    fn flags_agree_with_the_prompt() {
        let t = tag_flags(&["site=HQ".into()], &["old".into()]).unwrap();
        assert_eq!(t.get("site"), Some(&Some("HQ".into())));
        assert_eq!(t.get("old"), Some(&None));
        let e = tag_flags(&["env==lab".into()], &[]).unwrap_err();
        assert!(e.starts_with("--tag env==lab:"), "{e}");
        let e = tag_flags(&["bad tag!=x".into()], &[]).unwrap_err();
        assert!(e.contains("'!'"), "{e}");
        assert!(
            tag_flags(&[], &["a@b!".into()])
                .unwrap_err()
                .contains("--remove-tag")
        );
    }

    #[test]
    fn regions_must_be_known() {
        let catalog = Catalog {
            applications: vec![ApplicationRegion {
                application_id: "app-1".into(),
                application_name: Some("Aruba Central".into()),
                region: "us-west".into(),
                region_name: "US West".into(),
            }],
            ..Catalog::default()
        };
        assert_eq!(region(&catalog, " US West ").unwrap(), "us-west");
        let e = region(&catalog, "mars-1").unwrap_err();
        assert!(
            e.contains("\"mars-1\" is unknown") && e.contains("us-west"),
            "{e}"
        );
        assert!(
            subscription_key(&catalog, "NOPE")
                .unwrap_err()
                .contains("NOPE")
        );
    }
}
