//! The allocator, and giving freed memory back to the operating system.
//!
//! Rust's allocations go to mimalloc (the `oes` binary's global allocator): with
//! glibc's, a list of 50 dossiers spent a quarter of its time in `malloc`, `free` and
//! `malloc_consolidate` (perf), and mimalloc served 20 % more of those lists. The C
//! libraries (SQLite, libpq) still allocate from glibc, which the trim below is for.
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

// Positions in mimalloc 3's `mi_option_e` (mimalloc.h), which libmimalloc-sys does not
// name; `the_allocator_options_are_where_mimalloc_puts_them` checks them.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Makes mimalloc give memory back soon: by default it commits its arenas whole and
/// returns freed pages a second later, and an idle server held 103 MB instead of 58 MB
/// (`VmRSS` after start). Committing on demand and purging freed pages after 100 ms
/// keeps it near that. Purging at once (0 ms) kept the least (anonymous memory 47 MB
/// idle, 65 MB after a load of lists, against 66 and 73 MB at 100 ms and 68 and 80 MB
/// at 1 s), but made each list of dossiers give its pages back and fault them in again
/// for the next: 188 against 161 us of server CPU per list of 50 at 100 ms (A/B, SQLite,
/// 3 rounds); a dossier's GET is the same either way. An operator who sets mimalloc's
/// own variable (`MIMALLOC_ARENA_EAGER_COMMIT`, `MIMALLOC_PURGE_DELAY`) keeps that
/// value: memory against speed is theirs to choose. Call it first thing in `main`,
/// before the first arena is made.
pub fn configure_allocator() {
    for (option, variable, value) in [
        (
            MI_OPTION_ARENA_EAGER_COMMIT,
            "MIMALLOC_ARENA_EAGER_COMMIT",
            0,
        ),
        (MI_OPTION_PURGE_DELAY, "MIMALLOC_PURGE_DELAY", 100),
    ] {
        if std::env::var_os(variable).is_none() {
            // SAFETY: mi_option_set only stores a number in mimalloc's option table;
            // the option is read when memory is next committed or purged.
            unsafe { libmimalloc_sys::mi_option_set(option, value) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults mimalloc.h gives these positions: an upgrade that moved them would
    /// set other options.
    #[test]
    fn the_allocator_options_are_where_mimalloc_puts_them() {
        // SAFETY: mi_option_get only reads mimalloc's option table.
        let (eager, delay) = unsafe {
            (
                libmimalloc_sys::mi_option_get(MI_OPTION_ARENA_EAGER_COMMIT),
                libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY),
            )
        };
        assert_eq!((eager, delay), (2, 1000));
    }
}
