//! A page's columns as typed PostgreSQL arrays, and the `INSERT … ON CONFLICT` built from
//! them: the list of columns (and with it the SQL) is written once per table, here, and
//! both the binary COPY of new rows and the upsert of changed rows read it.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;

use crate::glp::model::{Device, Item, Subscription};

/// One column of a page as a PostgreSQL array parameter (`unnest($n::type[])`).
///
/// Why arrays and not one JSON document per page: PostgreSQL parses a multi-megabyte JSON
/// document far slower than many small ones (jsonb_to_recordset over 100 000 devices cost
/// 8 s of server CPU; the same items as 100 000 separate `raw_data` values, 0.7 s). Typed
/// arrays travel in the binary protocol, so only `raw_data` and `tags` are parsed, row by row.
pub(super) enum Values<'a> {
    Text(Vec<Option<&'a str>>),
    Owned(Vec<String>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    Time(Vec<Option<DateTime<Utc>>>),
}

/// A column's name, the SQL type of its array parameter, and how it is read from the
/// parameter (`raw_data` and `tags` arrive as text and are cast to jsonb per row).
pub(super) struct Column<'a> {
    pub(super) name: &'static str,
    pub(super) array_type: &'static str,
    pub(super) select: &'static str,
    /// JSON text stored as `jsonb` (`raw_data`, `tags`).
    pub(super) json: bool,
    pub(super) values: Values<'a>,
}

/// Builds a page's columns from its items, one closure per column, so the list of columns
/// (and with it the SQL) is written exactly once per table.
pub(super) struct Columns<'a, T> {
    pub(super) items: &'a [&'a T],
    pub(super) cols: Vec<Column<'a>>,
}

impl<'a, T> Columns<'a, T> {
    fn new(items: &'a [&'a T]) -> Self {
        Columns {
            items,
            cols: Vec::with_capacity(48),
        }
    }

    fn push(&mut self, name: &'static str, array_type: &'static str, values: Values<'a>) {
        self.cols.push(Column {
            name,
            array_type,
            select: name,
            json: false,
            values,
        });
    }

    fn text(&mut self, name: &'static str, f: impl Fn(&'a T) -> Option<&'a str>) {
        let v = self.items.iter().map(|i| f(i)).collect();
        self.push(name, "text[]", Values::Text(v));
    }

    fn float(&mut self, name: &'static str, f: impl Fn(&'a T) -> Option<f64>) {
        // NaN/infinity are not values GLP means; store them as unknown.
        let v = self
            .items
            .iter()
            .map(|i| f(i).filter(|x| x.is_finite()))
            .collect();
        self.push(name, "float8[]", Values::Float(v));
    }

    fn boolean(&mut self, name: &'static str, f: impl Fn(&'a T) -> Option<bool>) {
        let v = self.items.iter().map(|i| f(i)).collect();
        self.push(name, "bool[]", Values::Bool(v));
    }

    fn int(&mut self, name: &'static str, f: impl Fn(&'a T) -> Option<i64>) {
        let v = self.items.iter().map(|i| f(i)).collect();
        self.push(name, "int8[]", Values::Int(v));
    }

    fn time(&mut self, name: &'static str, f: impl Fn(&'a T) -> Option<DateTime<Utc>>) {
        let v = self.items.iter().map(|i| f(i)).collect();
        self.push(name, "timestamptz[]", Values::Time(v));
    }

    /// A JSON text column stored as jsonb (parsed per row on the server).
    fn json_text(&mut self, name: &'static str, select: &'static str, v: Values<'a>) {
        self.cols.push(Column {
            name,
            array_type: "text[]",
            select,
            json: true,
            values: v,
        });
    }
}

/// The device columns, in table order.
pub(super) fn device_columns<'a>(items: &'a [&'a Item<Device>], hashes: &[i64]) -> Vec<Column<'a>> {
    let mut c = Columns::new(items);
    let loc = |i: &'a Item<Device>| i.data.location.as_ref();
    let support = |i: &'a Item<Device>| {
        i.data
            .warranty
            .as_ref()
            .and_then(|w| w.current_support_level.as_ref())
    };
    c.text("id", |i| Some(i.data.id.as_str()));
    c.text("serial_number", |i| {
        Some(i.data.serial_number.as_deref().unwrap_or(""))
    });
    c.text("part_number", |i| i.data.part_number.as_deref());
    c.text("mac_address", |i| i.data.mac_address.as_deref());
    c.text("device_type", |i| i.data.device_type.as_deref());
    c.text("category", |i| i.data.category.as_deref());
    c.text("model", |i| i.data.model.as_deref());
    c.text("make", |i| i.data.make.as_deref());
    c.text("assigned_state", |i| i.data.assigned_state.as_deref());
    c.boolean("archived", |i| Some(i.data.archived.unwrap_or(false)));
    c.text("device_name", |i| i.data.device_name.as_deref());
    c.text("secondary_name", |i| i.data.secondary_name.as_deref());
    c.text("resource_type", |i| i.data.resource_type.as_deref());
    c.text("application_id", |i| {
        i.data.application.as_ref().and_then(|a| a.id.as_deref())
    });
    c.text("application_resource_uri", |i| {
        i.data
            .application
            .as_ref()
            .and_then(|a| a.resource_uri.as_deref())
    });
    c.text("region", |i| i.data.region.as_deref());
    c.text("tenant_workspace_id", |i| {
        i.data.tenant_workspace_id.as_deref()
    });
    c.text("dedicated_platform_id", |i| {
        i.data
            .dedicated_platform_workspace
            .as_ref()
            .and_then(|a| a.id.as_deref())
    });
    c.text("in_use_workspace_id", |i| {
        i.data
            .in_use_workspace
            .as_ref()
            .and_then(|a| a.id.as_deref())
    });
    c.text("location_id", |i| loc(i).and_then(|l| l.id.as_deref()));
    c.text("location_name", |i| {
        loc(i).and_then(|l| l.location_name.as_deref())
    });
    c.text("location_city", |i| loc(i).and_then(|l| l.city.as_deref()));
    c.text("location_state", |i| {
        loc(i).and_then(|l| l.state.as_deref())
    });
    c.text("location_country", |i| {
        loc(i).and_then(|l| l.country.as_deref())
    });
    c.text("location_postal_code", |i| {
        loc(i).and_then(|l| l.postal_code.as_deref())
    });
    c.text("location_street_address", |i| {
        loc(i).and_then(|l| l.street_address.as_deref())
    });
    c.float("location_latitude", |i| loc(i).and_then(|l| l.latitude));
    c.float("location_longitude", |i| loc(i).and_then(|l| l.longitude));
    c.text("location_source", |i| {
        loc(i).and_then(|l| l.location_source.as_deref())
    });
    c.text("management", |i| i.data.management.as_deref());
    c.text("ownership", |i| i.data.ownership.as_deref());
    c.text("source", |i| i.data.source.as_deref());
    c.boolean("is_flex", |i| i.data.is_flex);
    c.text("billing_account_id", |i| {
        i.data.billing_account_id.as_deref()
    });
    c.text("billing_account_name", |i| {
        i.data.billing_account_name.as_deref()
    });
    c.text("billing_tier", |i| i.data.billing_tier.as_deref());
    c.text("subscription_category", |i| {
        i.data.subscription_category.as_deref()
    });
    c.text("support_level", |i| {
        support(i).and_then(|l| l.service_level.as_deref())
    });
    c.time("support_end_date", |i| support(i).and_then(|l| l.end_date));
    c.time("manufactured_date", |i| i.data.manufactured_date);
    c.time("created_at", |i| i.data.created_at);
    c.time("updated_at", |i| i.data.updated_at);
    common_tail(&mut c, hashes, |i| (&i.raw, &i.data.tags));
    c.cols
}

/// The subscription columns, in table order.
pub(super) fn subscription_columns<'a>(
    items: &'a [&'a Item<Subscription>],
    hashes: &[i64],
) -> Vec<Column<'a>> {
    let mut c = Columns::new(items);
    c.text("id", |i| Some(i.data.id.as_str()));
    c.text("key", |i| i.data.key.as_deref());
    c.text("resource_type", |i| i.data.resource_type.as_deref());
    c.text("subscription_type", |i| i.data.subscription_type.as_deref());
    c.text("subscription_status", |i| {
        i.data.subscription_status.as_deref()
    });
    c.int("quantity", |i| i.data.quantity);
    c.int("available_quantity", |i| i.data.available_quantity);
    c.text("sku", |i| i.data.sku.as_deref());
    c.text("sku_description", |i| i.data.sku_description.as_deref());
    c.time("start_time", |i| i.data.start_time);
    c.time("end_time", |i| i.data.end_time);
    c.text("tier", |i| i.data.tier.as_deref());
    c.text("tier_description", |i| i.data.tier_description.as_deref());
    c.text("product_type", |i| i.data.product_type.as_deref());
    c.boolean("is_eval", |i| i.data.is_eval);
    c.text("contract", |i| i.data.contract.as_deref());
    c.text("quote", |i| i.data.quote.as_deref());
    c.text("po", |i| i.data.po.as_deref());
    c.text("reseller_po", |i| i.data.reseller_po.as_deref());
    c.time("created_at", |i| i.data.created_at);
    c.time("updated_at", |i| i.data.updated_at);
    common_tail(&mut c, hashes, |i| (&i.raw, &i.data.tags));
    c.cols
}

pub(super) type Tags = Option<std::collections::BTreeMap<String, String>>;

/// `raw_data`, `raw_hash` and `tags`, shared by both tables.
pub(super) fn common_tail<'a, T>(
    c: &mut Columns<'a, T>,
    hashes: &[i64],
    parts: impl Fn(&'a T) -> (&'a RawValue, &'a Tags),
) {
    let raw = c.items.iter().map(|i| Some(parts(i).0.get())).collect();
    c.json_text("raw_data", "raw_data::jsonb", Values::Text(raw));
    c.push(
        "raw_hash",
        "int8[]",
        Values::Int(hashes.iter().map(|h| Some(*h)).collect()),
    );
    let tags = c
        .items
        .iter()
        .map(|i| match parts(i).1 {
            // A map of strings always serialises; "{}" keeps the column's NOT NULL.
            Some(t) => serde_json::to_string(t).unwrap_or_else(|_| "{}".to_string()),
            None => "{}".to_string(),
        })
        .collect();
    c.json_text("tags", "tags::jsonb", Values::Owned(tags));
}

/// The `workspace_id` column of a batch of `rows` rows: one value, repeated.
pub(super) fn workspace_column<'a>(ws: &str, rows: usize) -> Column<'a> {
    Column {
        name: "workspace_id",
        array_type: "text[]",
        select: "workspace_id",
        json: false,
        values: Values::Owned(vec![ws.to_string(); rows]),
    }
}

/// Content hash of an item's JSON text (see the `raw_hash` column).
pub(super) fn raw_hash(raw: &RawValue) -> i64 {
    super::fnv1a64(raw.get().as_bytes()) as i64
}

/// `INSERT … SELECT … FROM unnest($1, $2, …) ON CONFLICT (workspace_id, id) DO UPDATE … WHERE
/// changed`.
/// Unchanged rows are not touched (no dead tuples, no move of `changed_at`); the counts come
/// from [`stored_state`], read in the same transaction.
pub(super) fn upsert_sql(table: &str, cols: &[Column]) -> String {
    let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
    let params: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(n, c)| format!("${}::{}", n + 1, c.array_type))
        .collect();
    let select: Vec<&str> = cols.iter().map(|c| c.select).collect();
    let set: Vec<String> = names
        .iter()
        .filter(|c| **c != "id" && **c != "workspace_id")
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect();
    format!(
        "INSERT INTO {table} AS t ({list}) SELECT {select} FROM unnest({params}) AS x({list}) \
         ON CONFLICT (workspace_id, id) DO UPDATE SET {set}, last_seen_at = now(), changed_at = now(), \
           removed_at = NULL \
         WHERE t.raw_hash IS DISTINCT FROM EXCLUDED.raw_hash OR t.removed_at IS NOT NULL",
        params = params.join(", "),
        list = names.join(", "),
        select = select.join(", "),
        set = set.join(", ")
    )
}
