//! The one tokio runtime of this process, shared by the emulator, the client and the async API.
//!
//! A runtime does not survive `os.fork()`: the child has the runtime's memory but none of its
//! threads. So the runtime remembers the pid that built it, and a child that asks for it gets a
//! fresh one; the parent's copy is leaked, since dropping it would wait for threads that do not
//! exist in the child.

use std::sync::{Arc, Mutex};

use tokio::runtime::{Builder, Runtime};

struct ProcessRuntime {
    pid: u32,
    runtime: Arc<Runtime>,
}

static RUNTIME: Mutex<Option<ProcessRuntime>> = Mutex::new(None);

/// The runtime of the current process, built on first use (and again after a fork).
pub fn get() -> Arc<Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(current) = slot.as_ref() {
        if current.pid == pid {
            return current.runtime.clone();
        }
    }
    if let Some(inherited) = slot.take() {
        std::mem::forget(inherited);
    } else {
        raise_open_file_limit();
    }
    let runtime = Arc::new(
        Builder::new_multi_thread()
            .enable_all()
            .thread_name("lambda-executor")
            .build()
            .expect("cannot start the tokio runtime"),
    );
    *slot = Some(ProcessRuntime { pid, runtime: runtime.clone() });
    runtime
}

/// Thousands of invocations in flight are thousands of sockets: lift the soft limit on open files
/// to the hard one, as servers do (it cannot go higher, and nothing else changes).
fn raise_open_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_is_shared_within_a_process() {
        assert!(Arc::ptr_eq(&get(), &get()));
    }
}
