//! UI-side data: table models and the conversion of store records into display rows.

pub mod rows;
pub mod table;
