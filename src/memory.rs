//! Allocator tuning for a long sync on a small jump host.
//!
//! glibc raises its mmap threshold each time a large block is freed, so after the first
//! few multi-megabyte page buffers every later one comes from the heap, where freed space is
//! rarely given back. Pinning the threshold at 128 KiB keeps page bodies and bind buffers in
//! their own mappings, returned to the system when dropped: the full-sync benchmark's peak
//! RSS went from ~105 MB to ~92 MB for a few hundred extra mmap calls.
//!
//! glibc also gives each thread that allocates under contention an arena of its own (up to
//! 8 per core). A page is parsed on one runtime thread and freed on another, so every arena
//! ends up holding its own high-water mark of page-sized garbage. One arena for the headless
//! commands: peak RSS of the 100k-device full sync 100–117 MB → 78–80 MB, and the sync got
//! slightly faster (8.3–8.5 s → 7.7–8.0 s). Not for the console: its filter scans on two
//! threads at once, and sharing one arena made a keystroke's p95 30.8 → 38.7 ms in
//! `tui_bench` (for 22 MB less RSS, where the console has room to spare).

/// Apply the tuning; call once at start, before threads exist.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; it is called from main before
        // any other thread is started, and 128 KiB is within the documented range.
        #[allow(unsafe_code)] // glibc's tuning exists only as a C call; see SAFETY above.
        let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024) };
        if ok == 0 {
            tracing::debug!("mallopt(M_MMAP_THRESHOLD) refused; keeping glibc's defaults");
        }
    }
}

/// One malloc arena for the rest of the process (see the module doc); call before the
/// first thread is started.
pub fn one_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; the caller runs it before any
        // other thread is started, and 1 is a valid arena count.
        #[allow(unsafe_code)] // glibc's tuning exists only as a C call; see SAFETY above.
        let ok = unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
        if ok == 0 {
            tracing::debug!("mallopt(M_ARENA_MAX) refused; keeping glibc's defaults");
        }
    }
}
