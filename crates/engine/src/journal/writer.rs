//! The one thread that writes a journal: it takes every record queued since its last commit and
//! writes them in one transaction (group commit), so thousands of invocations a second cost a few
//! hundred commits, and an invocation waiting for its "sent" mark waits about one commit.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

use crate::journal::record::{EntryKey, OutcomeRow, State};

/// Records written in one transaction at most, so a lookup never waits long for the connection.
const BATCH: usize = 4096;

pub enum Write {
    /// The invocation is about to be sent; `committed` answers once that is on disk.
    Sent {
        key: EntryKey,
        committed: tokio::sync::oneshot::Sender<Result<(), String>>,
    },
    Outcome {
        key: EntryKey,
        row: OutcomeRow,
    },
    /// Answers once everything queued before it is committed.
    Flush(mpsc::Sender<()>),
}

/// Outcomes that could not be written (a full disk, a file gone): a rerun sends those calls again.
#[derive(Default)]
pub struct Unrecorded {
    count: AtomicU64,
    /// Why the last of them could not be.
    why: Mutex<Option<String>>,
}

impl Unrecorded {
    /// How many so far, and why the last could not be written.
    pub fn get(&self) -> (u64, Option<String>) {
        (self.count.load(Ordering::Relaxed), self.why.lock().unwrap().clone())
    }
}

/// Starts the writer of `connection` (the journal at `path`); it writes what is queued, then ends
/// when the sender is dropped. Outcomes it cannot write are counted in `unrecorded`.
pub fn start(
    connection: Arc<Mutex<Connection>>,
    path: PathBuf,
    unrecorded: Arc<Unrecorded>,
) -> std::io::Result<(mpsc::Sender<Write>, JoinHandle<()>)> {
    let (writes, queue) = mpsc::channel();
    let file = identity(&path)?;
    let writer = std::thread::Builder::new().name("lambda-executor-journal".into()).spawn(move || {
        while let Ok(first) = queue.recv() {
            let batch: Vec<Write> = std::iter::once(first).chain(queue.try_iter().take(BATCH - 1)).collect();
            // SQLite writes on into a file deleted (or replaced) under it, and all of it is lost
            // with the last handle: a journal no longer at its path records nothing more.
            let written = match identity(&path) {
                Ok(now) if now == file => write(&connection.lock().unwrap(), &batch),
                _ => Err("was deleted or replaced while in use; a rerun would not see what this run records".into()),
            };
            if let Err(why) = &written {
                // A call whose sent mark fails is not sent, and nothing more is written of it.
                let outcomes = batch.iter().filter(|write| !matches!(write, Write::Flush(_))).count();
                unrecorded.count.fetch_add(outcomes as u64, Ordering::Relaxed);
                *unrecorded.why.lock().unwrap() = Some(why.clone());
            }
            for write in batch {
                match write {
                    Write::Sent { committed, .. } => {
                        let _ = committed.send(written.clone());
                    }
                    Write::Flush(flushed) => {
                        let _ = flushed.send(());
                    }
                    Write::Outcome { .. } => {}
                }
            }
        }
    })?;
    Ok((writes, writer))
}

/// The file at `path`, as the file system identifies it.
#[cfg(unix)]
fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path)?;
    Ok((metadata.dev(), metadata.ino()))
}

/// Only that a file is at `path` (Windows does not delete a file SQLite holds open).
#[cfg(not(unix))]
fn identity(path: &Path) -> std::io::Result<(u64, u64)> {
    std::fs::metadata(path).map(|_| (0, 0))
}

fn write(connection: &Connection, batch: &[Write]) -> Result<(), String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |elapsed| elapsed.as_secs_f64());
    let written = (|| {
        let transaction = connection.unchecked_transaction()?;
        {
            // A resent call starts again from "sent": its old outcome no longer holds.
            let mut sent = transaction.prepare_cached(
                "INSERT INTO invocations (function, qualifier, invocation_type, payload_digest, occurrence, state, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT DO UPDATE SET state = excluded.state, status = NULL, function_error = NULL,
                 request_id = NULL, executed_version = NULL, result = NULL, error = NULL, updated_at = excluded.updated_at",
            )?;
            let mut outcome = transaction.prepare_cached(
                "INSERT INTO invocations (function, qualifier, invocation_type, payload_digest, occurrence, state,
                 status, function_error, request_id, executed_version, result, error, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT DO UPDATE SET state = excluded.state, status = excluded.status,
                 function_error = excluded.function_error, request_id = excluded.request_id,
                 executed_version = excluded.executed_version, result = excluded.result, error = excluded.error,
                 updated_at = excluded.updated_at",
            )?;
            for write in batch {
                match write {
                    Write::Sent { key, .. } => {
                        sent.execute((
                            &key.function,
                            &key.qualifier,
                            key.invocation_type,
                            &key.payload_digest[..],
                            key.occurrence,
                            State::Sent as i64,
                            now,
                        ))?;
                    }
                    Write::Outcome { key, row } => {
                        outcome.execute(rusqlite::params![
                            &key.function,
                            &key.qualifier,
                            key.invocation_type,
                            &key.payload_digest[..],
                            key.occurrence,
                            row.state as i64,
                            row.status,
                            row.function_error,
                            row.request_id,
                            row.executed_version,
                            row.result.as_deref(),
                            row.error,
                            now,
                        ])?;
                    }
                    Write::Flush(_) => {}
                }
            }
        }
        transaction.commit()
    })();
    written.map_err(|error| format!("cannot be written: {error}"))
}
