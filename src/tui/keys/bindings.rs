//! The one binding type: a table of actions ([`Info`]) made live with the user's overrides
//! ([`Bindings`]). Normal mode, the wizard and the modes are each a `Bindings` over their own
//! action enum; what differs between them is data (contexts, defaults, who wins a clash).

use std::collections::BTreeMap;

use crossterm::event::KeyEvent;

use super::actions::{Action, Context};
use super::info::Info;
use super::key::Key;

/// Who keeps a key two actions of one context both claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clash {
    /// The action the user bound in `[ui.keys]`, then the first in table order.
    OverrideWins,
    /// The first in table order: the wizard's Enter must keep going on whatever is bound.
    TableOrder,
}

/// A table made live: each action's keys after overrides and clashes.
#[derive(Debug, Clone)]
pub struct Bindings<A: 'static> {
    table: &'static [Info<A>],
    keys: BTreeMap<A, Vec<Key>>,
    /// Write actions hidden by `--read-only`, with the keys they would have: a press of one
    /// is answered with why it is refused instead of nothing.
    hidden: BTreeMap<A, Vec<Key>>,
}

/// What [`Bindings::resolve`] reads besides the table.
pub struct Overrides<'a> {
    pub keys: &'a BTreeMap<String, String>,
    pub read_only: bool,
    /// Normal mode's live bindings, for the tables that follow them (`like`).
    pub normal: Option<&'a Bindings<Action>>,
}

impl<A: Copy + Ord + 'static> Bindings<A> {
    /// The table's defaults, then the overrides, then the clashes resolved. Problems
    /// (unparsable keys, clashes, characters bound where they are typed) go to `warnings`.
    pub fn resolve(
        table: &'static [Info<A>],
        clash: Clash,
        o: &Overrides<'_>,
        warnings: &mut Vec<String>,
    ) -> Bindings<A> {
        let mut keys: BTreeMap<A, Vec<Key>> = BTreeMap::new();
        let mut hidden = BTreeMap::new();
        let mut overridden = Vec::new();
        for info in table {
            let ks = match o.keys.get(info.name) {
                Some(value) if o.read_only && info.writes => {
                    parse_list(info.name, value, &mut Vec::new())
                }
                Some(value) => {
                    overridden.push(info);
                    parse_list(info.name, value, warnings)
                }
                None => default_keys(info, o.normal),
            };
            if o.read_only && info.writes {
                hidden.insert(info.action, ks);
            } else {
                keys.insert(info.action, ks);
            }
        }
        let order: Vec<&Info<A>> = match clash {
            // In the order `[ui.keys]` lists them (sorted, as the config map is).
            Clash::OverrideWins => {
                let mut first = overridden.clone();
                first.sort_by_key(|i| i.name);
                let rest = table
                    .iter()
                    .filter(|i| !first.iter().any(|f| f.name == i.name));
                first.iter().copied().chain(rest).collect()
            }
            Clash::TableOrder => table.iter().collect(),
        };
        let mut b = Bindings {
            table,
            keys,
            hidden,
        };
        b.settle_clashes(&order, warnings);
        for info in overridden {
            b.warn_typed(info, warnings);
        }
        b
    }

    /// Walk `order`; a key already kept by an earlier action of a shared context is dropped.
    fn settle_clashes(&mut self, order: &[&Info<A>], warnings: &mut Vec<String>) {
        let mut done: Vec<&Info<A>> = Vec::new();
        for info in order {
            let Some(mine) = self.keys.get(&info.action).cloned() else {
                continue;
            };
            let mut kept: Vec<Key> = Vec::new();
            for k in mine {
                let holder = done.iter().find(|d| {
                    d.contexts.iter().any(|s| info.contexts.contains(s))
                        && self.keys(d.action).contains(&k)
                });
                match holder {
                    Some(d) => warnings.push(format!(
                        "[ui.keys] {k} is bound to both {} and {}; {} keeps it",
                        d.name, info.name, d.name
                    )),
                    None if !kept.contains(&k) => kept.push(k),
                    None => {}
                }
            }
            self.keys.insert(info.action, kept);
            done.push(info);
        }
    }

    /// A character bound to an action that only works where characters are typed would
    /// never act: say so.
    fn warn_typed(&self, info: &Info<A>, warnings: &mut Vec<String>) {
        if !info.contexts.iter().all(|s| s.types_text()) {
            return;
        }
        for k in self.keys(info.action).iter().filter(|k| k.types_text()) {
            warnings.push(format!(
                "[ui.keys] {}: {k} is typed as text where {} works; bind a key that types nothing (with ctrl-, or F1…F24)",
                info.name, info.name
            ));
        }
    }

    /// The keys bound to an action (empty when unbound or hidden).
    pub fn keys(&self, action: A) -> &[Key] {
        self.keys.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn is_bound(&self, action: A) -> bool {
        !self.keys(action).is_empty()
    }

    /// Hidden by `--read-only` (a write action).
    pub fn is_hidden(&self, action: A) -> bool {
        self.hidden.contains_key(&action)
    }

    /// The hidden write action a key would do in `context` (read-only mode), unless a live
    /// action holds that key.
    pub fn refused_in(&self, context: Context, ev: &KeyEvent) -> Option<A> {
        let key = Key::from_event(ev)?;
        if self.action_in(context, ev).is_some() {
            return None;
        }
        self.infos_in(context)
            .find(|i| {
                self.hidden
                    .get(&i.action)
                    .is_some_and(|ks| ks.contains(&key))
            })
            .map(|i| i.action)
    }

    /// "k/↑": every key of an action, as help prints it; empty when unbound.
    pub fn label(&self, action: A) -> String {
        self.keys(action)
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The first key of an action as hints print it.
    pub fn first(&self, action: A) -> Option<String> {
        self.keys(action).first().map(|k| k.to_string())
    }

    pub fn info(&self, action: A) -> Option<&'static Info<A>> {
        self.table.iter().find(|i| i.action == action)
    }

    /// The `[ui.keys]` name of an action.
    pub fn name(&self, action: A) -> &'static str {
        self.info(action).map_or("?", |i| i.name)
    }

    /// Does this table have an action called `name`?
    pub fn knows(&self, name: &str) -> bool {
        self.table.iter().any(|i| i.name == name)
    }

    /// The table's rows live in `context`, in table order.
    pub fn infos_in(&self, context: Context) -> impl Iterator<Item = &'static Info<A>> + use<A> {
        self.table
            .iter()
            .filter(move |i| i.contexts.contains(&context))
    }

    /// The action a key does in `context`, if any.
    pub fn action_in(&self, context: Context, ev: &KeyEvent) -> Option<A> {
        let key = Key::from_event(ev)?;
        self.infos_in(context)
            .find(|i| self.keys(i.action).contains(&key))
            .map(|i| i.action)
    }

    /// `(group, keys, description)` of every bound action, in table order.
    pub fn entries(&self) -> Vec<(&'static str, String, &'static str)> {
        self.entries_except(&[])
    }

    /// [`Bindings::entries`] without the actions in `skip` (off in this console).
    pub fn entries_except(&self, skip: &[A]) -> Vec<(&'static str, String, &'static str)> {
        self.table
            .iter()
            .filter(|i| self.is_bound(i.action) && !skip.contains(&i.action))
            .map(|i| (i.group, self.label(i.action), i.description))
            .collect()
    }

    /// The key to name in a text: its first key; or that it is unbound, and where to bind it.
    pub fn say(&self, action: A) -> String {
        match self.first(action) {
            Some(k) => k,
            None if self.is_hidden(action) => {
                format!("`{}` (off in read-only mode)", self.name(action))
            }
            None => format!("`{}` (unbound: set it in [ui.keys])", self.name(action)),
        }
    }

    /// "press s to sync"; "bind `sync` in [ui.keys] to sync" when unbound; "leave read-only
    /// mode to sync" when hidden. `what` is the verb phrase after "to".
    pub fn press(&self, action: A, what: &str) -> String {
        match self.first(action) {
            Some(k) => format!("press {k} to {what}"),
            None if self.is_hidden(action) => format!("leave read-only mode to {what}"),
            None => format!("bind `{}` in [ui.keys] to {what}", self.name(action)),
        }
    }
}

/// `"/ f"` → the keys, each bad one reported.
fn parse_list(name: &str, value: &str, warnings: &mut Vec<String>) -> Vec<Key> {
    let mut keys = Vec::new();
    for part in value.split_whitespace() {
        match Key::parse(part) {
            Ok(k) => keys.push(k),
            Err(e) => warnings.push(format!("[ui.keys] {name}: {e}")),
        }
    }
    keys
}

/// The keys of the `like` actions, then the table's own defaults.
fn default_keys<A>(info: &Info<A>, normal: Option<&Bindings<Action>>) -> Vec<Key> {
    let mut keys: Vec<Key> = Vec::new();
    if let Some(n) = normal {
        for a in info.like {
            keys.extend(n.keys(*a).iter().copied());
        }
    }
    for k in info.defaults.iter().filter_map(|k| Key::parse(k).ok()) {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys
}
