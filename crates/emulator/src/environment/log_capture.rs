//! What an execution environment prints, caught from one pipe shared by its stdout and stderr.
//!
//! An invocation's log must hold everything the handler printed before it returned. The runtime
//! writes that output before it posts the result, so when the result arrives the bytes are in
//! the pipe or already read; `settle` asks the kernel how many are still unread (FIONREAD) and
//! waits for the reader to take them, instead of guessing with a delay.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::sync::watch;

/// Output kept between two invocations; older output cannot reach a 4 KB log tail.
const KEPT_OUTPUT: usize = 64 * 1024;
/// How long `settle` waits for the reader at most (it needs microseconds).
const SETTLE_LIMIT: Duration = Duration::from_secs(1);

pub struct LogCapture {
    output: Mutex<Vec<u8>>,
    bytes_read: watch::Sender<u64>,
    /// A second handle on the read end, so that FIONREAD always asks about this pipe.
    pipe: OwnedFd,
}

/// The write ends to hand to a child as stdout and stderr.
pub struct ChildOutput {
    pub stdout: Stdio,
    pub stderr: Stdio,
}

impl LogCapture {
    /// Creates the pipe and starts reading it; the reader ends when every write end is closed.
    pub fn start() -> io::Result<(Arc<Self>, ChildOutput)> {
        let (reader, writer) = io::pipe()?;
        let writer: OwnedFd = writer.into();
        let child_output = ChildOutput { stdout: Stdio::from(writer.try_clone()?), stderr: Stdio::from(writer) };
        let reader: OwnedFd = reader.into();
        let pipe = reader.try_clone()?;
        let mut receiver = pipe::Receiver::from_owned_fd(reader)?;
        let capture = Arc::new(Self { output: Mutex::new(Vec::new()), bytes_read: watch::Sender::new(0), pipe });
        let sink = capture.clone();
        tokio::spawn(async move {
            let mut chunk = vec![0u8; 16 * 1024];
            loop {
                match receiver.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink.append(&chunk[..n]),
                }
            }
            // Closing the pipe wakes anyone still settling.
            sink.bytes_read.send_modify(|total| *total = u64::MAX);
        });
        Ok((capture, child_output))
    }

    fn append(&self, bytes: &[u8]) {
        let mut output = self.output.lock().unwrap();
        output.extend_from_slice(bytes);
        if output.len() > 2 * KEPT_OUTPUT {
            let excess = output.len() - KEPT_OUTPUT;
            output.drain(..excess);
        }
        drop(output);
        self.bytes_read.send_modify(|total| *total = total.saturating_add(bytes.len() as u64));
    }

    /// Waits until everything already written to the pipe has been read.
    pub async fn settle(&self) {
        // Read the counter on both sides of the ioctl: if the reader moved in between, the sum
        // would overshoot and wait for bytes that never come.
        let (read, unread) = loop {
            let before = *self.bytes_read.borrow();
            let mut unread: libc::c_int = 0;
            // SAFETY: FIONREAD writes one c_int, and `self.pipe` is open for as long as `self` lives.
            let status = unsafe { libc::ioctl(self.pipe.as_raw_fd(), libc::FIONREAD, &mut unread) };
            if status != 0 || unread <= 0 {
                return;
            }
            if *self.bytes_read.borrow() == before {
                break (before, unread);
            }
        };
        let target = read.saturating_add(unread as u64);
        let mut progress = self.bytes_read.subscribe();
        let caught_up = async move { progress.wait_for(|read| *read >= target).await.is_ok() };
        let _ = tokio::time::timeout(SETTLE_LIMIT, caught_up).await;
    }

    /// Takes the output caught so far, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.output.lock().unwrap())
    }

    /// Forgets the output caught so far (what the environment printed between invocations).
    pub fn clear(&self) {
        self.output.lock().unwrap().clear();
    }
}
