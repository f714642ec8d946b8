//! The one tokio runtime of this process, shared by the emulator, the client and the async API.
//!
//! A runtime does not survive `os.fork()`: the child has the runtime's memory but none of its
//! threads. So each process finds its own (see per_process.rs), and a forked child builds a fresh
//! one on first use; the parent's copy is left alone, since dropping it would wait for threads
//! that do not exist in the child.

use tokio::runtime::{Builder, Runtime};

use crate::process::per_process::PerProcess;

static RUNTIME: PerProcess<Runtime> = PerProcess::new();

/// The runtime of the current process, built on first use (and again after a fork).
pub fn get() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        raise_open_file_limit();
        Builder::new_multi_thread()
            .enable_all()
            .thread_name("lambda-executor")
            .build()
            .expect("cannot start the tokio runtime")
    })
}

/// Thousands of invocations in flight are thousands of sockets: lift the soft limit on open files
/// to the hard one, as servers do (it cannot go higher, and nothing else changes).
#[cfg(unix)]
fn raise_open_file_limit() {
    /// macOS refuses an unlimited soft limit (its hard one often is): its own ceiling is this.
    const MACOS_OPEN_MAX: libc::rlim_t = 10_240;
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 || limit.rlim_cur >= limit.rlim_max {
            return;
        }
        let original = limit.rlim_cur;
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 && original < MACOS_OPEN_MAX {
            limit.rlim_cur = MACOS_OPEN_MAX.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Windows has no such per-process limit on sockets.
#[cfg(not(unix))]
fn raise_open_file_limit() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_is_shared_within_a_process() {
        assert!(std::ptr::eq(get(), get()));
    }
}
