//! rustls needs one process-wide crypto provider. We build reqwest and sqlx on `ring` (no
//! aws-lc C build, see stack-notes), so it must be installed before any client is built — in
//! the binary and in every test binary alike.

use std::sync::Once;

static INSTALL: Once = Once::new();

/// Install the ring provider once; later calls are free.
pub fn init() {
    INSTALL.call_once(|| {
        // Err means another provider was installed first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
