//! UI-side data: table models, their names, and the conversion of store records into
//! display rows (the workspaces' too).

pub mod changes;
pub mod drill;
pub mod marks;
pub mod rows;
pub mod table;
pub mod table_id;
pub mod workspaces;
