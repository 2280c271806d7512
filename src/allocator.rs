//! The global allocator and the two of its settings the commands use.

// Rendering thousands of pages allocates many small JSON values; mimalloc
// handles that with less CPU than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    /// Frees the calling thread's empty pages and purges what was freed before.
    fn mi_collect(force: bool);
    /// Sets one of mimalloc's options (see its `mimalloc.h`).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` (the same number in mimalloc 2 and 3).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Gives what the calling thread freed back to the system now: mimalloc
/// returns freed pages lazily, when the thread that freed them allocates
/// again (see `campus serve`'s `release_freed_memory`).
pub(crate) fn collect_freed_memory() {
    // SAFETY: a plain call into the allocator, no arguments to uphold.
    unsafe { mi_collect(true) }
}

/// Makes mimalloc give freed memory back to the system 3 ms after it was
/// freed instead of 1 s, in pages of 4 KiB: transparent huge pages are
/// turned off for this process, as mimalloc asks for them on its large
/// regions and a 2 MiB page stays resident while any part of it is in use.
/// A full build frees much of what it makes while it renders (search
/// tokens, pages): at Germany scale its peak resident memory went from
/// 220–250 to 178–183 MiB with the shorter delay, its time within the
/// machine's spread; with small pages as well (turned off from outside the
/// process) 151–158 MiB against 168–175 MiB on another machine. A
/// one-edit build came out some 0.04 s slower with the delay. Called at the
/// start of `campus build`: set once the build's worker threads ran, the
/// delay changed nothing measurable.
pub(crate) fn return_freed_memory_soon() {
    // SAFETY: a plain call into the allocator with a valid option number.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 3) }
    // SAFETY: sets a flag of this process only; the pointer-free arguments
    // are what PR_SET_THP_DISABLE expects. Failing (an old kernel) is fine.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn a_full_build_gives_memory_back_in_small_pages() {
        super::return_freed_memory_soon();
        // SAFETY: reads a flag of this process.
        let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(disabled, 1, "transparent huge pages still on");
    }
}
