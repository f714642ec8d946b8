//! The resume journal: one SQLite file (rusqlite's bundled SQLite, in WAL mode) holding each
//! journaled invocation under a key of its function, qualifier, invocation type, a digest of its
//! exact JSON payload and an occurrence index (the same payload sent twice is two invocations),
//! with its state and outcome. A rerun reads it back, so what succeeded is not sent again.
//!
//! Writes go through one thread in batched transactions (writer.rs). An invocation's
//! "sent" mark is committed before its request goes out, so a crash never hides a call that may
//! have run; outcomes are committed with the next batch, milliseconds later, so a SIGKILL loses at
//! most those, and WAL never leaves a torn file. The file is held in SQLite's exclusive locking
//! mode for as long as it is open: another process opening it gets a clear error. Within one
//! process, every opening of a file shares it (a notebook cell run again while the calls of its
//! first run finish), each with occurrence counts of its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, Weak};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::invoke::failure::AttemptError;
use crate::invoke::request::{InvokeRequest, Invoked};
use crate::journal::record::{EntryKey, JournalError, OutcomeRow, State, Stored, DIGEST_BYTES};
use crate::journal::writer::{self, Unrecorded, Write};
use crate::logging::JOURNAL;
use crate::process::per_process::PerProcess;

/// `PRAGMA application_id` of a journal ("LEXJ"): any other SQLite file is not one.
const APPLICATION_ID: i32 = 0x4C45_584A;
/// The schema this code writes; a journal with a higher one was written by a newer release.
const SCHEMA_VERSION: i32 = 1;

const SCHEMA: &str = "
    CREATE TABLE invocations (
        function TEXT NOT NULL,
        qualifier TEXT NOT NULL,
        invocation_type TEXT NOT NULL,
        payload_digest BLOB NOT NULL,
        occurrence INTEGER NOT NULL,
        state INTEGER NOT NULL,
        status INTEGER,
        function_error TEXT,
        request_id TEXT,
        executed_version TEXT,
        result BLOB,
        error TEXT,
        updated_at REAL NOT NULL,
        -- The digest first: lookups compare 16 random bytes, not the same function name at every level.
        PRIMARY KEY (payload_digest, occurrence, function, qualifier, invocation_type)
    ) WITHOUT ROWID;
";

/// A submission's place in a journal: it keeps the file open until the invocation ends.
pub struct JournalEntry {
    file: Arc<JournalFile>,
    pub key: EntryKey,
}

impl JournalEntry {
    /// Records that the invocation is about to be sent, and waits until that is committed.
    pub async fn mark_sent(&self) -> Result<(), String> {
        let (committed, receiver) = tokio::sync::oneshot::channel();
        if let Some(Write::Sent { committed, .. }) = self.file.send(Write::Sent { key: self.key.clone(), committed }) {
            let _ = committed.send(Err("is closed".into()));
        }
        match receiver.await {
            Ok(written) => written.map_err(|why| format!("the journal {} {why}", self.file.path.display())),
            Err(_) => Err(format!("the journal {} stopped writing", self.file.path.display())),
        }
    }

    /// Records how the invocation ended (committed with the next batch).
    pub fn record(&self, result: Result<&Invoked, &AttemptError>) {
        self.file.send(Write::Outcome { key: self.key.clone(), row: OutcomeRow::of(result) });
    }
}

/// The files open in this process, by path, so that a second opening shares the first's.
static OPEN_FILES: PerProcess<Mutex<HashMap<PathBuf, Weak<JournalFile>>>> = PerProcess::new();

/// One open journal file: its connection and the thread that writes it. Closed (and its lock
/// released) when the last opening and the last invocation recorded through it are done.
struct JournalFile {
    path: PathBuf,
    connection: Arc<Mutex<Connection>>,
    unrecorded: Arc<Unrecorded>,
    writes: Mutex<Option<mpsc::Sender<Write>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Stops the writer once it has written what was queued; the connection (and the lock on the
/// file) goes with the last reference, the writer's or this one.
impl Drop for JournalFile {
    fn drop(&mut self) {
        drop(self.writes.lock().unwrap().take());
        if let Some(writer) = self.writer.lock().unwrap().take() {
            let _ = writer.join();
        }
    }
}

/// An opening of a journal. Its occurrence counts are its own: a rerun that submits the same
/// payloads in the same order meets the same keys.
pub struct Journal {
    /// Given up by `close`: the file closes once the invocations still holding it end.
    file: Mutex<Option<Arc<JournalFile>>>,
    path: PathBuf,
    unrecorded: Arc<Unrecorded>,
    /// Submissions so far per (function, qualifier, type, digest), by a 32-bit hash of those.
    occurrences: Mutex<Occurrences>,
    pub(crate) resumed: Resumed,
}

/// What this opening resumed of earlier runs: calls answered from the file (not sent), calls sent
/// again, and of those the ones in flight when a run stopped.
#[derive(Default)]
pub(crate) struct Resumed {
    pub(crate) answered: AtomicU64,
    pub(crate) resent: AtomicU64,
    pub(crate) resent_in_flight: AtomicU64,
}

impl Resumed {
    /// Tells the log how many calls of earlier runs were answered and sent again, if any were.
    fn log(&self, path: &Path) {
        let [answered, resent, in_flight] =
            [&self.answered, &self.resent, &self.resent_in_flight].map(|count| count.load(Ordering::Relaxed));
        if answered + resent > 0 {
            log::info!(
                target: JOURNAL,
                "journal {}: {answered} calls answered from it (not sent), {resent} sent again ({in_flight} of \
                 them were in flight when an earlier run stopped)",
                path.display()
            );
        }
    }
}

/// How many times each key was submitted, in about 5 bytes a key: a set of the keys seen, and
/// counts for those seen again. Two keys whose hashes collide share a count; that is harmless,
/// since a rerun of the same submissions meets the same collision and the same occurrences (a
/// different rerun at worst sends again a call it could have resumed).
#[derive(Default)]
struct Occurrences {
    seen: std::collections::HashSet<u32>,
    repeated: HashMap<u32, u32>,
}

impl Occurrences {
    fn next(&mut self, key: u32) -> u32 {
        if self.seen.insert(key) {
            return 0;
        }
        let count = self.repeated.entry(key).or_insert(0);
        *count += 1;
        *count
    }
}

impl Journal {
    /// Opens (or creates) the journal at `path` and checks it is one this release can use; an
    /// opening elsewhere in this process is shared.
    pub fn open(path: &Path) -> Result<Arc<Self>, JournalError> {
        let fail = |why: String| JournalError { path: path.to_owned(), why };
        let key = std::path::absolute(path).map_err(|error| fail(format!("cannot be opened: {error}")))?;
        let mut open_files = OPEN_FILES.get_or_init(Mutex::default).lock().unwrap();
        open_files.retain(|_, file| file.strong_count() > 0);
        let file = match open_files.get(&key).and_then(Weak::upgrade) {
            Some(file) => file,
            None => {
                let file = Arc::new(JournalFile::open(path).map_err(fail)?);
                open_files.insert(key, Arc::downgrade(&file));
                file
            }
        };
        let unrecorded = file.unrecorded.clone();
        Ok(Arc::new(Self {
            file: Mutex::new(Some(file)),
            path: path.to_owned(),
            unrecorded,
            occurrences: Mutex::default(),
            resumed: Resumed::default(),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key of the next submission of `request` (its occurrence counted from this opening).
    pub fn key_for(&self, request: &InvokeRequest) -> EntryKey {
        let digest = Sha256::digest(&request.payload);
        let mut payload_digest = [0u8; DIGEST_BYTES];
        payload_digest.copy_from_slice(&digest[..DIGEST_BYTES]);
        let qualifier = request.qualifier.clone().unwrap_or_default();
        let invocation_type = request.invocation_type.as_str();
        let counter = {
            use std::hash::{Hash, Hasher};
            // SipHash with fixed keys: the same key on every run.
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            (&request.function, &qualifier, invocation_type, &payload_digest).hash(&mut hasher);
            hasher.finish() as u32
        };
        let occurrence = self.occurrences.lock().unwrap().next(counter);
        EntryKey { function: request.function.clone(), qualifier, invocation_type, payload_digest, occurrence }
    }

    /// The entry through which `key` is marked sent and its outcome recorded.
    pub fn entry(&self, key: EntryKey) -> Result<JournalEntry, JournalError> {
        Ok(JournalEntry { file: self.file()?, key })
    }

    /// What the journal holds for `key`, if anything.
    pub fn stored(&self, key: &EntryKey) -> Result<Option<Stored>, JournalError> {
        let row = self.query(|connection| {
            connection
                .prepare_cached(
                    "SELECT state, status, function_error, request_id, executed_version, result, error
                     FROM invocations WHERE function = ?1 AND qualifier = ?2 AND invocation_type = ?3
                     AND payload_digest = ?4 AND occurrence = ?5",
                )?
                .query_row(
                    (&key.function, &key.qualifier, key.invocation_type, &key.payload_digest[..], key.occurrence),
                    |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            row.get::<_, Option<i32>>(1)?,
                            row.get::<_, Option<String>>(2)?,
                            row.get::<_, Option<String>>(3)?,
                            row.get::<_, Option<String>>(4)?,
                            row.get::<_, Option<Vec<u8>>>(5)?,
                            row.get::<_, Option<String>>(6)?,
                        ))
                    },
                )
                .optional()
        })?;
        let Some((state, status, function_error, request_id, executed_version, result, error)) = row else {
            return Ok(None);
        };
        let state = State::from_column(state).ok_or_else(|| self.error(format!("holds an unknown state {state}")))?;
        let outcome = match (state, error) {
            (State::Sent, _) => None,
            (_, Some(error)) => Some(Err(serde_json::from_str::<AttemptError>(&error)
                .map_err(|why| self.error(format!("holds an unreadable error: {why}")))?)),
            (_, None) => Some(Ok(Invoked {
                status_code: status.unwrap_or(200),
                payload: result.unwrap_or_default().into(),
                // A call that ran and failed with no function error: its result was unreadable.
                unreadable: state == State::Failed && function_error.is_none(),
                function_error,
                log_tail: None,
                executed_version,
                request_id,
            })),
        };
        Ok(Some(Stored { state, outcome }))
    }

    /// Commits everything recorded so far and gives up this opening's hold on the file, which
    /// closes once the invocations still holding it end; new submissions are refused.
    /// The log is told what this opening resumed of earlier runs.
    pub fn close(&self) {
        // Taken apart from the `if let`, so that the lock is not held while the log is told.
        let file = self.file.lock().unwrap().take();
        if let Some(file) = file {
            file.flush();
            self.resumed.log(&self.path);
        }
    }

    /// Outcomes that could not be written so far, and why the last could not be.
    pub fn unrecorded(&self) -> (u64, Option<String>) {
        self.unrecorded.get()
    }

    /// Waits until everything recorded so far is committed.
    pub fn flush(&self) {
        if let Ok(file) = self.file() {
            file.flush();
        }
    }

    fn file(&self) -> Result<Arc<JournalFile>, JournalError> {
        self.file.lock().unwrap().clone().ok_or_else(|| self.error("is closed".into()))
    }

    /// Runs a read on the journal's connection (for report.rs).
    pub(crate) fn query<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, JournalError> {
        let file = self.file()?;
        let connection = file.connection.lock().unwrap();
        read(&connection).map_err(|error| self.error(describe(&error)))
    }

    fn error(&self, why: String) -> JournalError {
        JournalError { path: self.path.clone(), why }
    }
}

impl JournalFile {
    fn open(path: &Path) -> Result<Self, String> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|error| format!("cannot be opened: {error}"))?;
        prepare(&connection).map_err(|error| describe(&error))?;
        let connection = Arc::new(Mutex::new(connection));
        let unrecorded = Arc::new(Unrecorded::default());
        let (writes, writer) = writer::start(connection.clone(), path.to_owned(), unrecorded.clone())
            .map_err(|error| error.to_string())?;
        Ok(Self {
            path: path.to_owned(),
            connection,
            unrecorded,
            writes: Mutex::new(Some(writes)),
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Queues `write` for the writer; gives it back if the writer has stopped.
    fn send(&self, write: Write) -> Option<Write> {
        match self.writes.lock().unwrap().as_ref() {
            Some(writes) => writes.send(write).err().map(|mpsc::SendError(write)| write),
            None => Some(write),
        }
    }

    /// Waits until everything queued so far is committed.
    fn flush(&self) {
        let (flushed, done) = mpsc::channel();
        if self.send(Write::Flush(flushed)).is_none() {
            let _ = done.recv();
        }
    }
}

/// Sets the connection up: the exclusive lock, WAL, and the schema (created in a new file,
/// checked in an existing one).
fn prepare(connection: &Connection) -> Result<(), rusqlite::Error> {
    // Held from the first write until the connection closes; a second opener fails at once.
    connection.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    connection.busy_timeout(std::time::Duration::ZERO)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    // WAL with NORMAL survives a killed process (not a power cut) without an fsync per commit.
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    let transaction = connection.unchecked_transaction()?;
    let application_id: i32 = transaction.pragma_query_value(None, "application_id", |row| row.get(0))?;
    let version: i32 = transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let tables: i64 = transaction.query_row("SELECT count(*) FROM sqlite_schema", (), |row| row.get(0))?;
    if application_id == 0 && tables == 0 {
        transaction.execute_batch(SCHEMA)?;
        transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
        transaction.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    } else if application_id != APPLICATION_ID {
        return Err(invalid("is an SQLite database, but not a lambda-executor journal"));
    } else if version > SCHEMA_VERSION {
        return Err(invalid(&format!(
            "was written by a newer lambda-executor (schema {version}; this one reads up to {SCHEMA_VERSION})"
        )));
    } else {
        let check: String = transaction.query_row("PRAGMA quick_check(1)", (), |row| row.get(0))?;
        if check != "ok" {
            return Err(invalid(&format!("is corrupt ({check})")));
        }
    }
    transaction.commit()
}

fn invalid(why: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidParameterName(why.to_owned())
}

/// What went wrong, in words for the user.
fn describe(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::InvalidParameterName(why) => why.clone(),
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                "is in use by another process (one journal serves one run at a time)".into()
            }
            ErrorCode::NotADatabase => "is not a lambda-executor journal (not an SQLite database)".into(),
            ErrorCode::DatabaseCorrupt => "is corrupt".into(),
            _ => format!("cannot be used: {error}"),
        },
        other => format!("cannot be used: {other}"),
    }
}
