//! Which rows the console's reads cover: one workspace's tables as they are, all
//! workspaces consolidated, or one workspace's consolidated rows; the statements in
//! [`super::views`] are written for the first and rewritten here for the others.

use crate::domain::WorkspaceId;

/// Which rows the console's queries read. One workspace: its tables as they are (the plans
/// below were tuned for that). Several: "all" reads them consolidated (migration 0009: a device
/// the MSP's view and a tenant's both return is one row, attributed to the tenant it is placed
/// in), and one workspace the consolidated rows attributed to it — the rule
/// `Store::workspace_overview` counts by, so the Workspaces tab's figures add up to "all"'s.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ViewScope {
    #[default]
    Single,
    All,
    One(WorkspaceId),
}

/// The devices of a one-workspace database, each with the workspace it is attributed to: the
/// statements below are written with this, and [`ViewScope::sql`] swaps it for the scope's.
pub(super) const SINGLE_DEVICES: &str = "(SELECT d.*, d.workspace_id AS ws_of FROM devices d)";
pub(super) const SINGLE_SUBSCRIPTIONS: &str =
    "(SELECT s.*, s.workspace_id AS ws_of FROM subscriptions s)";

/// `devices_consolidated` (0009) written out, each row with the workspace it is attributed to
/// (placed in, if stored; else the one that listed it): a filter outside the view's DISTINCT
/// ON never reaches inside it (one tenant would consolidate all tenants' devices), and ids
/// are sorted in byte order (see the module doc), the same equality. [`CHOICE`] is the view's.
pub(super) const CONSOLIDATED: &str = "SELECT DISTINCT ON (d.id COLLATE \"C\") d.*, \
       coalesce(p.id, d.workspace_id) AS ws_of FROM devices d \
  LEFT JOIN workspaces p ON p.id = d.placed_workspace_id";
pub(super) const CHOICE: &str = "d.id COLLATE \"C\", (d.removed_at IS NULL) DESC, \
       (d.workspace_id = d.placed_workspace_id) DESC, d.workspace_id COLLATE \"C\"";

impl ViewScope {
    /// The devices in scope with `ws_of` (the workspace each is attributed to), as a table
    /// expression; the workspace, for [`ViewScope::One`], is parameter `$n`.
    fn devices(&self, n: usize) -> String {
        match self {
            ViewScope::Single => SINGLE_DEVICES.into(),
            ViewScope::All => format!("(SELECT * FROM ({CONSOLIDATED} ORDER BY {CHOICE}) c)"),
            // Only the ids this workspace's rows or the rows placed in it name (a device
            // attributed to it has such a row), so one tenant of 300 does not consolidate
            // all 300's devices.
            ViewScope::One(_) => format!(
                "(SELECT * FROM ({CONSOLIDATED} \
                  WHERE d.id IN (SELECT id FROM devices \
                                  WHERE workspace_id = ${n} OR placed_workspace_id = ${n}) \
                  ORDER BY {CHOICE}) c WHERE c.ws_of = ${n})"
            ),
        }
    }

    /// The subscriptions in scope with `ws_of`, like [`ViewScope::devices`].
    fn subscriptions(&self, n: usize) -> String {
        match self {
            ViewScope::Single => SINGLE_SUBSCRIPTIONS.into(),
            ViewScope::All => {
                "(SELECT s.*, s.workspace_id AS ws_of FROM subscriptions_consolidated s)".into()
            }
            ViewScope::One(_) => format!(
                "(SELECT s.*, s.workspace_id AS ws_of FROM subscriptions_consolidated s \
                   WHERE s.workspace_id = ${n})"
            ),
        }
    }

    /// The runs and history rows in scope: a condition on `workspace_id`.
    pub(super) fn rows_of(&self, n: usize) -> String {
        match self {
            ViewScope::One(_) => format!("workspace_id = ${n}"),
            _ => "true".into(),
        }
    }

    /// The workspace to bind as the scope's parameter, if it has one.
    pub(super) fn param(&self) -> Option<&str> {
        match self {
            ViewScope::One(w) => Some(w.as_str()),
            _ => None,
        }
    }

    /// `sql` (written for one workspace: valid SQL as it is) over the devices and
    /// subscriptions in scope, the workspace being parameter `$n`.
    pub(super) fn sql(&self, sql: &str, n: usize) -> sqlx::AssertSqlSafe<String> {
        sqlx::AssertSqlSafe(match self {
            ViewScope::Single => sql.to_string(),
            _ => sql
                .replace(SINGLE_DEVICES, &self.devices(n))
                .replace(SINGLE_SUBSCRIPTIONS, &self.subscriptions(n)),
        })
    }
}
