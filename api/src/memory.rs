//! Giving freed memory back to the operating system.
//!
//! glibc's allocator keeps what a thread frees in that thread's arena for the thread to
//! reuse, and returns it to the system only from the top of the main heap. Each HTTP
//! worker builds its own application at start (the OpenAPI paths included: some 10 MB
//! each, freed at once), and bursts of requests leave the blocking threads' arenas
//! large: measured with `/proc/PID/status` on an idle server after start, 53 MB
//! resident before a trim and 42 MB after, and a peak under load 8 MB lower when the
//! load starts from the trimmed state (bench/run.sh, PostgreSQL). Limiting the number of
//! arenas (`M_ARENA_MAX` 2) saved more, 17 MB, but cost lists 28 % of their throughput
//! in lock contention, so the arenas stay and are trimmed instead.

/// Returns the free pages of every arena to the system (`malloc_trim`); a no-op where
/// the allocator is not glibc's.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only walks the allocator's own arenas,
    // under their locks; it is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
