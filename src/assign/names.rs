//! Names for the ids in plan, review, report and undo texts: an application's name (from
//! the service catalog, kept in the database so it is known without the API too) and a
//! subscription's key, instead of 36-character ids that fill the line and say nothing. An
//! id with no known name is shortened and marked, so it is never taken for a name.

use std::collections::BTreeMap;

use super::options::Catalog;

/// How an id nobody has named is shown: marked as an id (so it is not read as a name) and
/// cut to its first 8 characters, short enough for a table column.
pub fn unknown_id(id: &str) -> String {
    format!("id {}…", id.get(..8).unwrap_or(id))
}

/// Known names by id (application ids → names, subscription ids → keys).
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// By the id in lower case (ids are UUIDs; their case means nothing).
    by_id: BTreeMap<String, String>,
    /// The ids as they were given, for finding them in texts.
    ids: Vec<String>,
}

impl Names {
    /// Application names from `apps` (id → name, e.g. from the database), then whatever
    /// `catalog` knows on top: its application names and subscription keys.
    pub fn new(apps: &BTreeMap<String, String>, catalog: Option<&Catalog>) -> Names {
        let mut n = Names::default();
        for (id, name) in apps {
            n.add(id, name);
        }
        if let Some(c) = catalog {
            for a in &c.applications {
                if let Some(name) = &a.application_name {
                    n.add(&a.application_id, name);
                }
            }
            for s in &c.subscriptions {
                if let Some(k) = &s.key {
                    n.add(&s.id, k);
                }
            }
        }
        n
    }

    fn add(&mut self, id: &str, name: &str) {
        if self
            .by_id
            .insert(id.to_lowercase(), name.to_string())
            .is_none()
        {
            self.ids.push(id.to_string());
        }
    }

    /// What the catalog alone knows.
    pub fn of_catalog(catalog: Option<&Catalog>) -> Names {
        Names::new(&BTreeMap::new(), catalog)
    }

    /// The name of `id`, or the id shortened and marked.
    pub fn label(&self, id: &str) -> String {
        match self.by_id.get(&id.to_lowercase()) {
            Some(n) => n.clone(),
            None => unknown_id(id),
        }
    }

    /// `text` with every known id in it replaced by its name, and every other UUID by its
    /// [`unknown_id`] form.
    pub fn name(&self, text: &str) -> String {
        let mut named = text.to_string();
        for id in &self.ids {
            if named.contains(id.as_str()) {
                named = named.replace(id.as_str(), &self.label(id));
            }
        }
        let mut out = String::with_capacity(named.len());
        let mut rest = named.as_str();
        while let Some((start, end)) = next_uuid(rest) {
            out.push_str(&rest[..start]);
            out.push_str(&self.label(&rest[start..end]));
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }
}

impl Names {
    /// A device's change texts (as `diff::describe` writes them) joined for one line, ids
    /// named; tag changes are left as typed (a tag value may well be a UUID of its own).
    pub fn changes(&self, changes: &[String]) -> String {
        changes
            .iter()
            .map(|c| {
                if c.starts_with("tag ") {
                    c.clone()
                } else {
                    self.name(c)
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The byte range of the first UUID (8-4-4-4-12 hex digits) standing on its own in `s`.
fn next_uuid(s: &str) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    const LEN: usize = 36;
    let is_hex_or_dash = |c: u8| c.is_ascii_hexdigit() || c == b'-';
    let mut i = 0;
    while i + LEN <= b.len() {
        let before_ok = i == 0 || !is_hex_or_dash(b[i - 1]);
        let after_ok = i + LEN == b.len() || !is_hex_or_dash(b[i + LEN]);
        let shaped = before_ok
            && after_ok
            && b[i..i + LEN].iter().enumerate().all(|(j, c)| match j {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            });
        if shaped {
            return Some((i, i + LEN));
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "0892c36d-40df-4f3c-9f2b-2f3c1e1b7a11";
    const OTHER: &str = "11111111-2222-3333-4444-555555555555";

    #[test]
    fn ids_become_names_and_unknown_ones_are_marked() {
        let apps = BTreeMap::from([(APP.to_string(), "Aruba Central".to_string())]);
        let n = Names::new(&apps, None);
        assert_eq!(
            n.name(&format!(
                "application — → {APP} in us-west; subscription {OTHER}, x"
            )),
            "application — → Aruba Central in us-west; subscription id 11111111…, x"
        );
        assert_eq!(n.label(&APP.to_uppercase()), "Aruba Central");
        assert_eq!(n.name("no ids here"), "no ids here");
        let apps = BTreeMap::from([("sub-1".to_string(), "KEY1".to_string())]);
        assert_eq!(
            Names::new(&apps, None).name("subscription sub-1 → —"),
            "subscription KEY1 → —",
            "a known id of any shape"
        );
        assert_eq!(
            n.name(&format!("{OTHER}0")),
            format!("{OTHER}0"),
            "not a UUID on its own"
        );
    }
}
