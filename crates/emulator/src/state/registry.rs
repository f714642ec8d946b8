//! The functions of one emulator, their concurrency accounting, warm environments, Event queues
//! and statistics.
//!
//! Concurrency follows Lambda: a function with reserved concurrency runs at most that many
//! invocations at once; the others share what the account limit leaves unreserved. A `Slot` is
//! one running invocation; dropping it gives the capacity back. Synchronous invocations also meet
//! the request-rate and scaling limits (throttling.rs).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::throttling::{ThrottleLimits, TokenBucket};
use crate::environment::process::Environment;
use crate::model::function::{FunctionSpec, FunctionStats};
use crate::model::invocation::InvocationRequest;
use lambda_executor_protocol::{
    REASON_ACCOUNT_CONCURRENCY, REASON_FUNCTION_RATE, REASON_RESERVED_CONCURRENCY, REASON_RESERVED_RATE,
};

#[derive(Debug)]
pub enum RegistryError {
    NotFound(String),
    AlreadyExists(String),
    /// Reserving this much would leave the account less than it has (limit, already reserved).
    OverAccountLimit {
        requested: u32,
        available: u32,
    },
    Throttled {
        reason: &'static str,
    },
    Closed,
}

struct Function {
    spec: Arc<FunctionSpec>,
    /// Tells a re-added function from the one it replaced, for slots still running.
    generation: u64,
    reserved: Option<u32>,
    in_flight: u32,
    stats: FunctionStats,
    /// Execution environments it has scaled to (busy or warm): running more at once than this
    /// takes a scaling token.
    scaled_to: u32,
    rate: TokenBucket,
    scaling: TokenBucket,
    /// Warm environments, most recently used last.
    idle: Vec<Arc<Environment>>,
    live: Vec<Arc<Environment>>,
    events: VecDeque<Arc<InvocationRequest>>,
}

pub struct Registry {
    functions: HashMap<String, Function>,
    limits: ThrottleLimits,
    account_limit: u32,
    reserved_total: u32,
    unreserved_in_flight: u32,
    next_generation: u64,
    closed: bool,
}

/// The registry as the emulator and its running invocations share it.
pub struct SharedRegistry {
    registry: Mutex<Registry>,
    /// Wakes the Event queue when capacity frees or an event arrives.
    pub capacity_freed: Notify,
}

/// One running invocation's hold on its function's concurrency.
pub struct Slot {
    shared: Arc<SharedRegistry>,
    pub spec: Arc<FunctionSpec>,
    generation: u64,
    unreserved: bool,
    /// The published version it runs; None: $LATEST.
    pub version: Option<u32>,
}

impl Slot {
    /// Runs published version `number` (its own code and configuration) instead of $LATEST; the
    /// invocation still counts against the function's concurrency, as on Lambda.
    pub fn run_version(&mut self, number: u32, spec: Arc<FunctionSpec>) {
        self.version = Some(number);
        self.spec = spec;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut registry = self.shared.lock();
        if self.unreserved {
            registry.unreserved_in_flight -= 1;
        }
        if let Some(function) = registry.function_of(self) {
            function.in_flight -= 1;
        }
        drop(registry);
        self.shared.capacity_freed.notify_one();
    }
}

impl SharedRegistry {
    pub fn new(account_limit: u32, limits: ThrottleLimits) -> Arc<Self> {
        let registry = Registry {
            functions: HashMap::new(),
            limits,
            account_limit,
            reserved_total: 0,
            unreserved_in_flight: 0,
            next_generation: 0,
            closed: false,
        };
        Arc::new(Self { registry: Mutex::new(registry), capacity_freed: Notify::new() })
    }

    pub fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a slot for one invocation of `name`, or says why it is throttled.
    pub fn acquire(self: &Arc<Self>, name: &str) -> Result<Slot, RegistryError> {
        let hold = self.lock().hold(name, true)?;
        Ok(self.slot(hold))
    }

    /// Takes slots for as many queued Event invocations as capacity allows, in arrival order.
    pub fn start_queued_events(self: &Arc<Self>) -> Vec<(Slot, Arc<InvocationRequest>)> {
        let mut registry = self.lock();
        let waiting: Vec<String> =
            registry.functions.iter().filter(|(_, f)| !f.events.is_empty()).map(|(name, _)| name.clone()).collect();
        let mut startable = Vec::new();
        for name in waiting {
            while registry.functions[&name].events.front().is_some() {
                // Queued events wait for capacity rather than being refused.
                let Ok(hold) = registry.hold(&name, false) else { break };
                let event =
                    registry.functions.get_mut(&name).and_then(|f| f.events.pop_front()).expect("checked above");
                startable.push((self.slot(hold), event));
            }
        }
        startable
    }

    fn slot(self: &Arc<Self>, hold: Hold) -> Slot {
        let (spec, generation, unreserved) = (hold.spec, hold.generation, hold.unreserved);
        Slot { shared: self.clone(), spec, generation, unreserved, version: None }
    }
}

/// The accounting behind a slot, taken under the lock.
struct Hold {
    spec: Arc<FunctionSpec>,
    generation: u64,
    unreserved: bool,
}

impl Function {
    /// Takes a request-rate token and, when no environment is free, a scaling token; or says
    /// which of the two limits refuses the call (counted in the stats).
    fn check_rate_and_scaling(
        &mut self,
        limits: ThrottleLimits,
        unreserved_capacity: u32,
        now: Instant,
    ) -> Result<(), RegistryError> {
        if let Some(per_concurrency) = limits.rate_limit {
            // A second's worth of requests, refilled continuously (docs/lambda-throttles.md).
            let per_second = per_concurrency * f64::from(self.reserved.unwrap_or(unreserved_capacity));
            if !self.rate.take(per_second, per_second, now) {
                self.stats.throttles += 1;
                self.stats.rate_throttles += 1;
                let reason = if self.reserved.is_some() { REASON_RESERVED_RATE } else { REASON_FUNCTION_RATE };
                return Err(RegistryError::Throttled { reason });
            }
        }
        if let Some(per_ten_seconds) = limits.scaling_limit {
            let needs_environment = self.in_flight >= self.scaled_to;
            let capacity = f64::from(per_ten_seconds);
            if needs_environment && !self.scaling.take(capacity, capacity / 10.0, now) {
                self.stats.throttles += 1;
                self.stats.scaling_throttles += 1;
                // Lambda publishes no Reason of its own for this one (docs/lambda-throttles.md).
                return Err(RegistryError::Throttled { reason: REASON_ACCOUNT_CONCURRENCY });
            }
        }
        Ok(())
    }
}

impl Registry {
    /// Room for one invocation, or the reason it is refused. `synchronous`: a caller waits, and
    /// is refused with 429 by any limit; a queued Event meets concurrency alone and waits for it.
    fn hold(&mut self, name: &str, synchronous: bool) -> Result<Hold, RegistryError> {
        if self.closed {
            return Err(RegistryError::Closed);
        }
        let unreserved_capacity = self.account_limit - self.reserved_total;
        let unreserved_in_flight = self.unreserved_in_flight;
        let limits = self.limits;
        let function = self.functions.get_mut(name).ok_or_else(|| RegistryError::NotFound(name.to_owned()))?;
        let over_concurrency = match function.reserved {
            Some(reserved) => function.in_flight >= reserved,
            None => unreserved_in_flight >= unreserved_capacity,
        };
        if over_concurrency {
            let reason =
                if function.reserved.is_some() { REASON_RESERVED_CONCURRENCY } else { REASON_ACCOUNT_CONCURRENCY };
            if synchronous {
                function.stats.throttles += 1;
                function.stats.concurrency_throttles += 1;
            }
            return Err(RegistryError::Throttled { reason });
        }
        if synchronous {
            function.check_rate_and_scaling(limits, unreserved_capacity, Instant::now())?;
        }
        function.in_flight += 1;
        function.scaled_to = function.scaled_to.max(function.in_flight);
        function.stats.invocations += 1;
        function.stats.peak_concurrency = function.stats.peak_concurrency.max(function.in_flight);
        let unreserved = function.reserved.is_none();
        let hold = Hold { spec: function.spec.clone(), generation: function.generation, unreserved };
        if unreserved {
            self.unreserved_in_flight += 1;
        }
        Ok(hold)
    }

    pub fn add(&mut self, spec: FunctionSpec, reserved: Option<u32>) -> Result<(), RegistryError> {
        if self.closed {
            return Err(RegistryError::Closed);
        }
        if self.functions.contains_key(&spec.name) {
            return Err(RegistryError::AlreadyExists(spec.name));
        }
        self.check_reservation(0, reserved)?;
        self.reserved_total += reserved.unwrap_or(0);
        self.next_generation += 1;
        let now = Instant::now();
        let function = Function {
            spec: Arc::new(spec),
            generation: self.next_generation,
            reserved,
            in_flight: 0,
            stats: FunctionStats::default(),
            scaled_to: 0,
            rate: TokenBucket::full(now),
            scaling: TokenBucket::full(now),
            idle: Vec::new(),
            live: Vec::new(),
            events: VecDeque::new(),
        };
        self.functions.insert(function.spec.name.clone(), function);
        Ok(())
    }

    /// Removes a function; returns its environments for the caller to end.
    pub fn remove(&mut self, name: &str) -> Result<Vec<Arc<Environment>>, RegistryError> {
        let function = self.functions.remove(name).ok_or_else(|| RegistryError::NotFound(name.to_owned()))?;
        self.reserved_total -= function.reserved.unwrap_or(0);
        Ok(function.live)
    }

    /// Replaces a function's code or configuration, as Lambda updates one: its warm environments
    /// of $LATEST are returned for the caller to end, busy ones end after their invocation
    /// (published versions keep theirs).
    pub fn replace(&mut self, spec: FunctionSpec) -> Result<Vec<Arc<Environment>>, RegistryError> {
        let function = self.functions.get_mut(&spec.name).ok_or_else(|| RegistryError::NotFound(spec.name.clone()))?;
        function.spec = Arc::new(spec);
        let (idle, published) = function.idle.drain(..).partition(|environment| environment.version.is_none());
        function.idle = published;
        function.live.retain(|live| !idle.iter().any(|old| Arc::ptr_eq(old, live)));
        function.scaled_to = function.scaled_to.saturating_sub(idle.len() as u32);
        Ok(idle)
    }

    /// (the account's concurrency limit, what reservations leave of it), as GetAccountSettings
    /// reports them.
    pub fn account_concurrency(&self) -> (u32, u32) {
        (self.account_limit, self.account_limit - self.reserved_total)
    }

    pub fn reserved(&self, name: &str) -> Result<Option<u32>, RegistryError> {
        Ok(self.function(name)?.reserved)
    }

    pub fn set_reserved(&mut self, name: &str, reserved: Option<u32>) -> Result<(), RegistryError> {
        let current = self.function(name)?.reserved.unwrap_or(0);
        self.check_reservation(current, reserved)?;
        self.reserved_total = self.reserved_total - current + reserved.unwrap_or(0);
        self.functions.get_mut(name).expect("checked above").reserved = reserved;
        Ok(())
    }

    fn check_reservation(&self, current: u32, requested: Option<u32>) -> Result<(), RegistryError> {
        let requested = requested.unwrap_or(0);
        let available = self.account_limit - (self.reserved_total - current);
        if requested > available {
            return Err(RegistryError::OverAccountLimit { requested, available });
        }
        Ok(())
    }

    pub fn stats(&self, name: &str) -> Result<FunctionStats, RegistryError> {
        let function = self.function(name)?;
        Ok(FunctionStats {
            in_flight: function.in_flight,
            queued_events: function.events.len(),
            environments: function.live.len(),
            ..function.stats.clone()
        })
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.functions.keys().cloned().collect();
        names.sort();
        names
    }

    pub fn spec(&self, name: &str) -> Result<Arc<FunctionSpec>, RegistryError> {
        Ok(self.function(name)?.spec.clone())
    }

    pub fn enqueue(&mut self, name: &str, request: Arc<InvocationRequest>) -> Result<(), RegistryError> {
        if self.closed {
            return Err(RegistryError::Closed);
        }
        self.functions.get_mut(name).ok_or_else(|| RegistryError::NotFound(name.to_owned()))?.events.push_back(request);
        Ok(())
    }

    /// A warm environment of the slot's function and version, if one is idle.
    pub fn take_idle(&mut self, slot: &Slot) -> Option<Arc<Environment>> {
        let function = self.function_of(slot)?;
        while let Some(index) = function.idle.iter().rposition(|environment| environment.version == slot.version) {
            let environment = function.idle.remove(index);
            if environment.is_alive() {
                return Some(environment);
            }
        }
        None
    }

    /// Counts a newly started environment as the function's (a cold start). Returns it back
    /// if the function is gone, for the caller to end after the invocation.
    pub fn adopt(&mut self, slot: &Slot, environment: Arc<Environment>) -> Option<Arc<Environment>> {
        if self.closed {
            return Some(environment);
        }
        match self.function_of(slot) {
            Some(function) => {
                function.stats.cold_starts += 1;
                function.live.push(environment);
                None
            }
            None => Some(environment),
        }
    }

    /// Puts an environment back among the warm ones; false if its function (or the emulator) is gone.
    pub fn release(&mut self, slot: &Slot, environment: &Arc<Environment>) -> bool {
        if self.closed {
            return false;
        }
        match self.function_of(slot) {
            // An environment of $LATEST's code or configuration since replaced does not serve again.
            Some(function) if slot.version.is_some() || Arc::ptr_eq(&function.spec, &slot.spec) => {
                function.idle.push(environment.clone());
                true
            }
            _ => false,
        }
    }

    /// Drops an environment that will not serve again.
    pub fn forget(&mut self, slot: &Slot, environment: &Arc<Environment>) {
        if let Some(function) = self.function_of(slot) {
            function.live.retain(|live| !Arc::ptr_eq(live, environment));
            function.scaled_to = function.scaled_to.saturating_sub(1);
        }
    }

    pub fn record_outcome(&mut self, slot: &Slot, error_type: Option<&str>) {
        if let Some(function) = self.function_of(slot) {
            match error_type {
                Some("Sandbox.Timedout") => {
                    function.stats.errors += 1;
                    function.stats.timeouts += 1;
                }
                Some(_) => function.stats.errors += 1,
                None => {}
            }
        }
    }

    /// Takes the environments idle since before `now - idle_timeout`, for the caller to end.
    pub fn take_idle_since(&mut self, now: Instant, idle_timeout: Duration) -> Vec<Arc<Environment>> {
        let mut expired = Vec::new();
        for function in self.functions.values_mut() {
            let (stale, fresh): (Vec<_>, Vec<_>) = function
                .idle
                .drain(..)
                .partition(|environment| now.duration_since(*environment.last_used.lock().unwrap()) >= idle_timeout);
            function.idle = fresh;
            function.live.retain(|live| !stale.iter().any(|gone| Arc::ptr_eq(live, gone)));
            function.scaled_to = function.scaled_to.saturating_sub(stale.len() as u32);
            expired.extend(stale);
        }
        expired
    }

    /// Refuses all further work; returns every environment for the caller to end.
    pub fn close(&mut self) -> Vec<Arc<Environment>> {
        self.closed = true;
        self.functions
            .values_mut()
            .flat_map(|function| {
                function.events.clear();
                function.idle.clear();
                function.live.drain(..)
            })
            .collect()
    }

    fn function(&self, name: &str) -> Result<&Function, RegistryError> {
        self.functions.get(name).ok_or_else(|| RegistryError::NotFound(name.to_owned()))
    }

    fn function_of(&mut self, slot: &Slot) -> Option<&mut Function> {
        self.functions.get_mut(&slot.spec.name).filter(|function| function.generation == slot.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::function::FunctionKind;

    fn synthetic(name: &str) -> FunctionSpec {
        FunctionSpec {
            name: name.into(),
            kind: FunctionKind::Synthetic { latency: Duration::ZERO, cpu_work: Duration::ZERO },
            timeout: Duration::from_secs(3),
            memory_mb: 128,
        }
    }

    fn throttle_reason(result: Result<Slot, RegistryError>) -> &'static str {
        match result {
            Err(RegistryError::Throttled { reason }) => reason,
            _ => panic!("expected a throttle"),
        }
    }

    #[test]
    fn reserved_concurrency_caps_a_function_and_frees_on_drop() {
        let shared = SharedRegistry::new(10, ThrottleLimits::default());
        shared.lock().add(synthetic("f"), Some(2)).unwrap();
        let first = shared.acquire("f").unwrap();
        let _second = shared.acquire("f").unwrap();
        assert_eq!(throttle_reason(shared.acquire("f")), REASON_RESERVED_CONCURRENCY);
        drop(first);
        assert!(shared.acquire("f").is_ok());
        let stats = shared.lock().stats("f").unwrap();
        assert_eq!((stats.throttles, stats.peak_concurrency, stats.invocations), (1, 2, 3));
    }

    #[test]
    fn unreserved_functions_share_what_reservations_leave() {
        let shared = SharedRegistry::new(3, ThrottleLimits::default());
        shared.lock().add(synthetic("reserved"), Some(2)).unwrap();
        shared.lock().add(synthetic("a"), None).unwrap();
        shared.lock().add(synthetic("b"), None).unwrap();
        let _a = shared.acquire("a").unwrap();
        assert_eq!(throttle_reason(shared.acquire("b")), REASON_ACCOUNT_CONCURRENCY);
        assert!(shared.acquire("reserved").is_ok());
    }

    #[test]
    fn reservations_cannot_exceed_the_account_limit() {
        let shared = SharedRegistry::new(5, ThrottleLimits::default());
        let mut registry = shared.lock();
        registry.add(synthetic("a"), Some(4)).unwrap();
        assert!(matches!(
            registry.add(synthetic("b"), Some(2)),
            Err(RegistryError::OverAccountLimit { available: 1, .. })
        ));
        registry.set_reserved("a", Some(5)).unwrap();
        registry.set_reserved("a", None).unwrap();
        assert!(registry.add(synthetic("b"), Some(5)).is_ok());
    }

    #[test]
    fn a_slot_of_a_removed_function_does_not_touch_its_successor() {
        let shared = SharedRegistry::new(10, ThrottleLimits::default());
        shared.lock().add(synthetic("f"), Some(1)).unwrap();
        let old = shared.acquire("f").unwrap();
        shared.lock().remove("f").unwrap();
        shared.lock().add(synthetic("f"), Some(1)).unwrap();
        let _new = shared.acquire("f").unwrap();
        drop(old);
        assert_eq!(shared.lock().stats("f").unwrap().in_flight, 1);
    }

    #[test]
    fn requests_beyond_the_rate_limit_are_throttled_with_the_rate_reason() {
        let limits = ThrottleLimits { rate_limit: Some(2.0), scaling_limit: None };
        let shared = SharedRegistry::new(100, limits);
        shared.lock().add(synthetic("reserved"), Some(3)).unwrap();
        shared.lock().add(synthetic("open"), None).unwrap();
        // A second's worth at once: 2 x 3 for the reserved function, then refusals.
        let taken = (0..10).filter_map(|_| shared.acquire("reserved").ok()).count();
        assert_eq!(taken, 6, "slots are dropped at once, so only the rate limits");
        assert_eq!(throttle_reason(shared.acquire("reserved")), REASON_RESERVED_RATE);
        // 2 x the 97 the account leaves unreserved for the other.
        assert_eq!((0..500).filter_map(|_| shared.acquire("open").ok()).count(), 194);
        assert_eq!(throttle_reason(shared.acquire("open")), REASON_FUNCTION_RATE);
        let stats = shared.lock().stats("reserved").unwrap();
        assert_eq!((stats.throttles, stats.rate_throttles, stats.concurrency_throttles), (5, 5, 0));
    }

    #[test]
    fn a_fresh_function_scales_by_its_burst_then_warm_environments_need_no_scaling() {
        let limits = ThrottleLimits { rate_limit: None, scaling_limit: Some(4) };
        let shared = SharedRegistry::new(100, limits);
        shared.lock().add(synthetic("f"), None).unwrap();
        let running: Vec<Slot> = (0..4).map(|_| shared.acquire("f").unwrap()).collect();
        assert_eq!(throttle_reason(shared.acquire("f")), REASON_ACCOUNT_CONCURRENCY);
        drop(running);
        // The four environments are warm: running four again takes no scaling.
        let _again: Vec<Slot> = (0..4).map(|_| shared.acquire("f").unwrap()).collect();
        assert!(shared.acquire("f").is_err());
        let stats = shared.lock().stats("f").unwrap();
        assert_eq!((stats.throttles, stats.scaling_throttles, stats.concurrency_throttles), (2, 2, 0));
    }

    #[test]
    fn queued_events_meet_concurrency_alone() {
        let limits = ThrottleLimits { rate_limit: Some(1.0), scaling_limit: Some(1) };
        let shared = SharedRegistry::new(100, limits);
        shared.lock().add(synthetic("f"), Some(3)).unwrap();
        let request = || {
            Arc::new(InvocationRequest {
                request_id: String::new(),
                payload: Default::default(),
                client_context: None,
                function_arn: String::new(),
                version: None,
                qualifier: None,
                accepted: Instant::now(),
                attempt: 1,
            })
        };
        for _ in 0..5 {
            shared.lock().enqueue("f", request()).unwrap();
        }
        assert_eq!(shared.start_queued_events().len(), 3);
    }
}
