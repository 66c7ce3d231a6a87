//! An ordered collection of JSON items with each item's serialised bytes kept beside it, so a
//! page body is built by concatenation and only changed items are re-serialised.

use std::collections::HashMap;

use serde_json::Value;

/// One item and its JSON bytes.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub value: Value,
    pub bytes: Box<[u8]>,
}

impl Entry {
    pub fn new(value: Value) -> Entry {
        let bytes = serialize(&value);
        Entry { value, bytes }
    }
}

/// `serde_json::to_vec` of a `Value` cannot fail (string keys only), so fall back to `null`
/// rather than unwrap.
fn serialize(v: &Value) -> Box<[u8]> {
    serde_json::to_vec(v)
        .unwrap_or_else(|_| b"null".to_vec())
        .into_boxed_slice()
}

/// Items in served order, indexed by `id`.
#[derive(Debug, Default)]
pub(crate) struct Collection {
    items: Vec<Entry>,
    index: HashMap<String, usize>,
}

fn id_of(v: &Value) -> String {
    v.get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl Collection {
    /// Build from values, serialising on all cores (100 000 devices must load in seconds).
    pub fn from_values(values: Vec<Value>) -> Collection {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let chunk = values.len().div_ceil(threads).max(1);
        let bytes: Vec<Box<[u8]>> = std::thread::scope(|scope| {
            let handles: Vec<_> = values
                .chunks(chunk)
                .map(|c| scope.spawn(move || c.iter().map(serialize).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        let items: Vec<Entry> = if bytes.len() == values.len() {
            values
                .into_iter()
                .zip(bytes)
                .map(|(value, bytes)| Entry { value, bytes })
                .collect()
        } else {
            // A serialising thread panicked: fall back to doing it here.
            values.into_iter().map(Entry::new).collect()
        };
        let mut c = Collection {
            items,
            index: HashMap::new(),
        };
        c.reindex();
        c
    }

    fn reindex(&mut self) {
        self.index = self
            .items
            .iter()
            .enumerate()
            .map(|(i, e)| (id_of(&e.value), i))
            .collect();
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.items
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.index.get(id).map(|&i| &self.items[i])
    }

    /// Change an item in place; its bytes are rebuilt. The id must not change.
    pub fn modify<R>(&mut self, id: &str, f: impl FnOnce(&mut Value) -> R) -> Option<R> {
        let &i = self.index.get(id)?;
        let e = &mut self.items[i];
        let r = f(&mut e.value);
        e.bytes = serialize(&e.value);
        Some(r)
    }

    pub fn push(&mut self, v: Value) {
        self.index.insert(id_of(&v), self.items.len());
        self.items.push(Entry::new(v));
    }

    pub fn insert_front(&mut self, v: Value) {
        self.items.insert(0, Entry::new(v));
        self.reindex();
    }

    pub fn remove(&mut self, id: &str) -> bool {
        match self.index.get(id) {
            Some(&i) => {
                self.items.remove(i);
                self.reindex();
                true
            }
            None => false,
        }
    }
}
