//! A value per process that a forked child never inherits.
//!
//! `os.fork()` copies memory but not threads: a lock that another thread of the parent held at
//! the instant of the fork stays held forever in the child, and state built by the parent (a
//! runtime, pooled connections, a delivery thread) is useless there. So these slots take no lock
//! on the way in: each process finds its own value by pid through an atomic pointer, and a child
//! builds a fresh one. Values are never freed (a process makes one, or one per fork), which is
//! what makes handing out `&'static` references sound.

use std::sync::atomic::{AtomicPtr, Ordering};

pub struct PerProcess<T> {
    slot: AtomicPtr<(u32, T)>,
    /// Shared across threads as `&T`, so only as Sync as `T` is.
    _value: std::marker::PhantomData<T>,
}

impl<T> Default for PerProcess<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> PerProcess<T> {
    pub const fn new() -> Self {
        Self { slot: AtomicPtr::new(std::ptr::null_mut()), _value: std::marker::PhantomData }
    }

    /// This process's value, built by `init` the first time it is asked for here (and again in
    /// a forked child, which never sees its parent's). `init` may run twice when two threads
    /// race; the loser's value is dropped unused.
    pub fn get_or_init(&'static self, init: impl FnOnce() -> T) -> &'static T {
        let pid = std::process::id();
        let current = self.slot.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from Box::into_raw below and is never freed.
        if let Some((owner, value)) = unsafe { current.as_ref() } {
            if *owner == pid {
                return value;
            }
        }
        let fresh = Box::into_raw(Box::new((pid, init())));
        match self.slot.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
            // The parent's value (if any) is left behind, not dropped: its threads are not here.
            // SAFETY: `fresh` is ours and now published; it is never freed.
            Ok(_) => unsafe { &(*fresh).1 },
            // Another thread of this process got there first (only this process's threads can
            // replace the pointer it loaded): use its value.
            Err(winner) => {
                // SAFETY: `fresh` was never published; `winner` is published and never freed.
                drop(unsafe { Box::from_raw(fresh) });
                unsafe { &(*winner).1 }
            }
        }
    }

    /// This process's value, if it has built one.
    pub fn get(&'static self) -> Option<&'static T> {
        // SAFETY: as in get_or_init.
        let (owner, value) = unsafe { self.slot.load(Ordering::Acquire).as_ref() }?;
        (*owner == std::process::id()).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_process_built_once() {
        static SLOT: PerProcess<Vec<u8>> = PerProcess::new();
        assert!(SLOT.get().is_none());
        let first = SLOT.get_or_init(|| vec![1]);
        let again = SLOT.get_or_init(|| vec![2]);
        assert!(std::ptr::eq(first, again));
        assert_eq!(SLOT.get(), Some(&vec![1]));
    }
}
