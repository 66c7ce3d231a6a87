//! Build script: rebuild when a migration is added or changed. `sqlx::migrate!` embeds the
//! `migrations/` folder at compile time, but cargo does not know to watch it, so a new
//! migration would otherwise be missing from an incremental build until some source changed.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
