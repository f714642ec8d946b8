//! CloudWatch Logs as LocalLambda keeps it: each function's log lines in its log group, in the
//! streams of its execution environments, and the reads that FilterLogEvents, GetLogEvents and
//! DescribeLogStreams make of them.
//!
//! Memory is bounded: a group keeps its last `LINES_KEPT` lines and at most `BYTES_KEPT` bytes of
//! them, the oldest going first (a stream with no line left goes with its last); a line is cut
//! at `MAX_LINE_BYTES`, as CloudWatch cuts an event over its size limit. Within a stream,
//! timestamps never go back (a line is stamped no earlier than the stream's last), so a stream's
//! order by time is the order its lines were written and one invocation's lines stay together.
//!
//! Pagination tokens are positions, not offsets: a page continues after the last line (or
//! stream) the previous one returned, whatever was written meanwhile.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::filter_pattern::FilterPattern;

/// Lines kept per log group (per function): the newest.
pub const LINES_KEPT: usize = 10_000;
/// Bytes of lines kept per log group, at most.
pub const BYTES_KEPT: usize = 16 << 20;
/// CloudWatch Logs' limit on one event (256 KB).
pub const MAX_LINE_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct LogEvent {
    pub stream: Arc<str>,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub ingestion_time: i64,
    /// The order of writing, in the whole store: the event's id.
    pub sequence: u64,
    pub message: String,
}

impl LogEvent {
    /// FilterLogEvents' order: by time, then as written.
    fn key(&self) -> (i64, u64) {
        (self.timestamp, self.sequence)
    }
}

#[derive(Clone)]
pub struct StreamInfo {
    pub name: Arc<str>,
    pub created: i64,
    /// The stream's first event's time, kept when that event is let go (as CloudWatch keeps it).
    pub first_event: i64,
    pub last_event: i64,
    pub last_ingestion: i64,
    pub stored_bytes: u64,
    lines: usize,
}

struct LogGroup {
    events: VecDeque<LogEvent>,
    bytes: usize,
    streams: HashMap<Arc<str>, StreamInfo>,
}

#[derive(Default)]
struct Groups {
    by_name: HashMap<String, LogGroup>,
    next_sequence: u64,
}

#[derive(Default)]
pub struct LogStore {
    groups: Mutex<Groups>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LogsError {
    GroupNotFound,
    StreamNotFound,
    /// A parameter LocalLambda cannot serve as asked, in words.
    Invalid(String),
}

/// Which events of a group FilterLogEvents asks for.
#[derive(Default)]
pub struct EventFilter {
    pub stream_names: Option<Vec<String>>,
    pub stream_prefix: Option<String>,
    /// Inclusive bounds, in milliseconds.
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub pattern: FilterPattern,
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// A page of GetLogEvents: the events, and the tokens to read on forward and backward.
pub struct StreamPage {
    pub events: Vec<LogEvent>,
    pub next_forward: String,
    pub next_backward: String,
}

/// Where GetLogEvents reads in a stream.
pub struct StreamRead<'a> {
    pub start_time: Option<i64>,
    /// Exclusive, as GetLogEvents' endTime is.
    pub end_time: Option<i64>,
    pub token: Option<&'a str>,
    pub start_from_head: bool,
    pub limit: usize,
}

pub enum StreamOrder {
    Name,
    LastEventTime,
}

fn invalid_token() -> LogsError {
    LogsError::Invalid("The specified nextToken is invalid.".into())
}

impl LogStore {
    /// Writes `lines` (each a message and its time in milliseconds) to `stream` of `group`,
    /// making either if new; `now` is their ingestion time.
    pub fn append(&self, group: &str, stream: &str, lines: impl IntoIterator<Item = (i64, String)>, now: i64) {
        let lines: Vec<(i64, String)> = lines.into_iter().collect();
        if lines.is_empty() {
            return; // a stream exists once it has a line
        }
        let mut groups = self.groups.lock().unwrap();
        let Groups { by_name, next_sequence } = &mut *groups;
        let log_group = by_name.entry(group.to_owned()).or_insert_with(|| LogGroup {
            events: VecDeque::new(),
            bytes: 0,
            streams: HashMap::new(),
        });
        let name: Arc<str> = match log_group.streams.get_key_value(stream) {
            Some((name, _)) => name.clone(),
            None => {
                let name: Arc<str> = stream.into();
                let info = StreamInfo {
                    name: name.clone(),
                    created: now,
                    first_event: i64::MAX,
                    last_event: i64::MIN,
                    last_ingestion: now,
                    stored_bytes: 0,
                    lines: 0,
                };
                log_group.streams.insert(name.clone(), info);
                name
            }
        };
        for (timestamp, mut message) in lines {
            if message.len() > MAX_LINE_BYTES {
                let mut cut = MAX_LINE_BYTES;
                while !message.is_char_boundary(cut) {
                    cut -= 1;
                }
                message.truncate(cut);
            }
            let info = log_group.streams.get_mut(&name).expect("made above");
            let timestamp = timestamp.max(info.last_event);
            info.first_event = info.first_event.min(timestamp);
            info.last_event = timestamp;
            info.last_ingestion = now;
            info.stored_bytes += message.len() as u64;
            info.lines += 1;
            log_group.bytes += message.len();
            let sequence = *next_sequence;
            *next_sequence += 1;
            log_group.events.push_back(LogEvent {
                stream: name.clone(),
                timestamp,
                ingestion_time: now,
                sequence,
                message,
            });
        }
        while log_group.events.len() > LINES_KEPT || log_group.bytes > BYTES_KEPT {
            let Some(oldest) = log_group.events.pop_front() else { break };
            log_group.bytes -= oldest.message.len();
            let info = log_group.streams.get_mut(&oldest.stream).expect("every event's stream is kept");
            info.lines -= 1;
            info.stored_bytes -= oldest.message.len() as u64;
            if info.lines == 0 {
                log_group.streams.remove(&oldest.stream);
            }
        }
    }

    /// FilterLogEvents: the group's events that `filter` selects, by time, `limit` from the
    /// position `token` names; the token of the next page if more remain.
    pub fn filter(
        &self,
        group: &str,
        filter: &EventFilter,
        token: Option<&str>,
        limit: usize,
    ) -> Result<Page<LogEvent>, LogsError> {
        if filter.stream_names.is_some() && filter.stream_prefix.is_some() {
            return Err(LogsError::Invalid("logStreamNames and logStreamNamePrefix cannot be given together.".into()));
        }
        let after = token.map(parse_filter_token).transpose()?;
        let groups = self.groups.lock().unwrap();
        let log_group = groups.by_name.get(group).ok_or(LogsError::GroupNotFound)?;
        let mut selected: Vec<&LogEvent> = log_group
            .events
            .iter()
            .filter(|event| {
                filter.stream_names.as_ref().is_none_or(|names| names.iter().any(|name| **name == *event.stream))
                    && filter.stream_prefix.as_ref().is_none_or(|prefix| event.stream.starts_with(prefix.as_str()))
                    && filter.start_time.is_none_or(|start| event.timestamp >= start)
                    && filter.end_time.is_none_or(|end| event.timestamp <= end)
                    && after.is_none_or(|after| event.key() > after)
                    && filter.pattern.matches(&event.message)
            })
            .collect();
        selected.sort_unstable_by_key(|event| event.key());
        let more = selected.len() > limit;
        let items: Vec<LogEvent> = selected.into_iter().take(limit).cloned().collect();
        let next_token = more.then(|| {
            let (timestamp, sequence) = items.last().expect("limit is at least 1").key();
            format!("{timestamp}/{sequence}")
        });
        Ok(Page { items, next_token })
    }

    /// GetLogEvents: a page of one stream's events in `read`'s time range, from its head or its
    /// tail or a token's position. A forward token names the first position not yet read (it
    /// comes back unchanged when nothing new was there), a backward one the first position read.
    pub fn stream_events(&self, group: &str, stream: &str, read: &StreamRead<'_>) -> Result<StreamPage, LogsError> {
        let token = read.token.map(parse_stream_token).transpose()?;
        let groups = self.groups.lock().unwrap();
        let log_group = groups.by_name.get(group).ok_or(LogsError::GroupNotFound)?;
        if !log_group.streams.contains_key(stream) {
            return Err(LogsError::StreamNotFound);
        }
        let in_range: Vec<&LogEvent> = log_group
            .events
            .iter()
            .filter(|event| {
                *event.stream == *stream
                    && read.start_time.is_none_or(|start| event.timestamp >= start)
                    && read.end_time.is_none_or(|end| event.timestamp < end)
            })
            .collect();
        let (forward, position) = match token {
            Some(token) => token,
            None if read.start_from_head => (true, 0),
            None => (false, u64::MAX),
        };
        let page: Vec<&LogEvent> = if forward {
            in_range.iter().filter(|event| event.sequence >= position).take(read.limit).copied().collect()
        } else {
            let before: Vec<&LogEvent> = in_range.iter().filter(|event| event.sequence < position).copied().collect();
            before[before.len().saturating_sub(read.limit)..].to_vec()
        };
        let (next_forward, next_backward) = match (page.first(), page.last()) {
            (Some(first), Some(last)) => (last.sequence + 1, first.sequence),
            // Nothing there: both stay where the read was (at the stream's end when it had no token).
            _ => {
                let end = || in_range.last().map_or(0, |event| event.sequence + 1);
                let at = if position == u64::MAX { end() } else { position };
                (at, at)
            }
        };
        Ok(StreamPage {
            events: page.into_iter().cloned().collect(),
            next_forward: format!("f/{next_forward}"),
            next_backward: format!("b/{next_backward}"),
        })
    }

    /// DescribeLogStreams: the group's streams in `order`, `limit` after the position `token`
    /// names; the token of the next page if more remain.
    pub fn streams(
        &self,
        group: &str,
        prefix: Option<&str>,
        order: StreamOrder,
        descending: bool,
        token: Option<&str>,
        limit: usize,
    ) -> Result<Page<StreamInfo>, LogsError> {
        let groups = self.groups.lock().unwrap();
        let log_group = groups.by_name.get(group).ok_or(LogsError::GroupNotFound)?;
        let key = |info: &StreamInfo| match order {
            StreamOrder::Name => (0, info.name.to_string()),
            StreamOrder::LastEventTime => (info.last_event, info.name.to_string()),
        };
        let after = token.map(parse_streams_token).transpose()?;
        let mut selected: Vec<&StreamInfo> = log_group
            .streams
            .values()
            .filter(|info| prefix.is_none_or(|prefix| info.name.starts_with(prefix)))
            .filter(|info| {
                after.as_ref().is_none_or(|after| if descending { key(info) < *after } else { key(info) > *after })
            })
            .collect();
        selected.sort_unstable_by_key(|info| key(info));
        if descending {
            selected.reverse();
        }
        let more = selected.len() > limit;
        let items: Vec<StreamInfo> = selected.into_iter().take(limit).cloned().collect();
        let next_token = more.then(|| {
            let (time, name) = key(items.last().expect("limit is at least 1"));
            format!("{time}/{name}")
        });
        Ok(Page { items, next_token })
    }
}

fn parse_filter_token(token: &str) -> Result<(i64, u64), LogsError> {
    let (timestamp, sequence) = token.split_once('/').ok_or_else(invalid_token)?;
    Ok((timestamp.parse().map_err(|_| invalid_token())?, sequence.parse().map_err(|_| invalid_token())?))
}

/// (forward, position) of a GetLogEvents token.
fn parse_stream_token(token: &str) -> Result<(bool, u64), LogsError> {
    let (direction, position) = token.split_once('/').ok_or_else(invalid_token)?;
    let position = position.parse().map_err(|_| invalid_token())?;
    match direction {
        "f" => Ok((true, position)),
        "b" => Ok((false, position)),
        _ => Err(invalid_token()),
    }
}

fn parse_streams_token(token: &str) -> Result<(i64, String), LogsError> {
    let (time, name) = token.split_once('/').ok_or_else(invalid_token)?;
    Ok((time.parse().map_err(|_| invalid_token())?, name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(lines: usize) -> LogStore {
        let store = LogStore::default();
        let lines = (0..lines).map(|i| (1000 + i as i64, format!("line {i}\n")));
        store.append("/aws/lambda/f", "s1", lines, 5000);
        store
    }

    #[test]
    fn filter_pages_by_position_in_time_order() {
        let store = store_with(5);
        store.append("/aws/lambda/f", "s2", [(1001, "other\n".to_owned())], 5000);
        let everything = EventFilter::default();
        let first = store.filter("/aws/lambda/f", &everything, None, 4).unwrap();
        let times: Vec<i64> = first.items.iter().map(|event| event.timestamp).collect();
        assert_eq!(times, [1000, 1001, 1001, 1002]);
        assert_eq!(&*first.items[2].stream, "s2");
        let rest = store.filter("/aws/lambda/f", &everything, first.next_token.as_deref(), 4).unwrap();
        assert_eq!(rest.items.len(), 2);
        assert_eq!(rest.next_token, None);
        let pattern = EventFilter { pattern: FilterPattern::parse("\"line 3\"").unwrap(), ..EventFilter::default() };
        assert_eq!(store.filter("/aws/lambda/f", &pattern, None, 10).unwrap().items[0].message, "line 3\n");
        assert_eq!(store.filter("/aws/lambda/g", &everything, None, 10).err(), Some(LogsError::GroupNotFound));
    }

    #[test]
    fn get_log_events_reads_forward_and_back_and_stops_at_the_end() {
        let store = store_with(5);
        let read =
            |token, start_from_head| StreamRead { start_time: None, end_time: None, token, start_from_head, limit: 2 };
        let tail = store.stream_events("/aws/lambda/f", "s1", &read(None, false)).unwrap();
        assert_eq!(
            tail.events.iter().map(|event| event.message.as_str()).collect::<Vec<_>>(),
            ["line 3\n", "line 4\n"]
        );
        let back = store.stream_events("/aws/lambda/f", "s1", &read(Some(&tail.next_backward), false)).unwrap();
        assert_eq!(back.events[0].message, "line 1\n");
        let end = store.stream_events("/aws/lambda/f", "s1", &read(Some(&tail.next_forward), true)).unwrap();
        assert!(end.events.is_empty());
        assert_eq!(end.next_forward, tail.next_forward, "the same token at the end, as boto3's paginator expects");
        assert_eq!(
            store.stream_events("/aws/lambda/f", "s9", &read(None, true)).err(),
            Some(LogsError::StreamNotFound)
        );
    }

    #[test]
    fn a_group_keeps_its_newest_lines_and_a_stream_never_goes_back_in_time() {
        let store = store_with(LINES_KEPT + 3);
        store.append("/aws/lambda/f", "s1", [(0, "late\n".to_owned())], 9000);
        let all = store.filter("/aws/lambda/f", &EventFilter::default(), None, LINES_KEPT).unwrap();
        assert_eq!(all.items.len(), LINES_KEPT);
        assert_eq!(all.items[0].message, "line 4\n");
        let last = all.items.last().unwrap();
        assert_eq!((last.message.as_str(), last.timestamp), ("late\n", 1000 + LINES_KEPT as i64 + 2));
    }

    #[test]
    fn streams_page_in_either_order() {
        let store = LogStore::default();
        for (name, time) in [("a", 30), ("b", 10), ("c", 20)] {
            store.append("/aws/lambda/f", name, [(time, "x\n".to_owned())], 100);
        }
        let names = |page: Page<StreamInfo>| page.items.iter().map(|info| info.name.to_string()).collect::<Vec<_>>();
        let first = store.streams("/aws/lambda/f", None, StreamOrder::LastEventTime, true, None, 2).unwrap();
        let token = first.next_token.clone();
        assert_eq!(names(first), ["a", "c"]);
        let rest = store.streams("/aws/lambda/f", None, StreamOrder::LastEventTime, true, token.as_deref(), 2).unwrap();
        assert_eq!(names(rest), ["b"]);
        let by_name = store.streams("/aws/lambda/f", Some("b"), StreamOrder::Name, false, None, 50).unwrap();
        assert_eq!(names(by_name), ["b"]);
    }
}
