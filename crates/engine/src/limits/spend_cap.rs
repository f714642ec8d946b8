//! A cap on what an executor's invocations may cost. The cost is Lambda's price for what the
//! REPORT lines say was billed (so every call of a capped executor asks for its log tail); once it
//! reaches the cap, nothing more is sent, and calls in flight finish (so the cap can be passed by
//! what they cost).

#[derive(Clone, Debug, PartialEq)]
pub struct SpendCap {
    /// US dollars.
    pub max_cost: f64,
    pub price_per_gb_second: f64,
    pub price_per_request: f64,
}

impl SpendCap {
    /// The cap, or why it cannot be one.
    pub fn new(max_cost: f64, price_per_gb_second: f64, price_per_request: f64) -> Result<Self, String> {
        if !(max_cost.is_finite() && max_cost > 0.0) {
            return Err(format!("max_cost must be a positive number of US dollars, not {max_cost}"));
        }
        for (name, price) in [("price_per_gb_second", price_per_gb_second), ("price_per_request", price_per_request)] {
            if !(price.is_finite() && price >= 0.0) {
                return Err(format!("{name} must be a price of 0 or more, not {price}"));
            }
        }
        Ok(Self { max_cost, price_per_gb_second, price_per_request })
    }

    /// Dollars for `gb_seconds` billed over `requests` invocations.
    pub fn spent(&self, gb_seconds: f64, requests: u64) -> f64 {
        gb_seconds * self.price_per_gb_second + requests as f64 * self.price_per_request
    }
}

/// How the cap was reached: what was spent then, and how many submitted calls were waiting to be
/// sent (they, and any submitted since, are not sent).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CapReached {
    pub spent: f64,
    pub waiting: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_billed_is_priced() {
        let cap = SpendCap::new(1.0, 0.5, 0.25).unwrap();
        assert_eq!(cap.spent(2.0, 4), 2.0);
    }

    #[test]
    fn a_cap_that_cannot_be_one_is_refused() {
        assert!(SpendCap::new(0.0, 0.1, 0.1).unwrap_err().contains("max_cost"));
        assert!(SpendCap::new(f64::NAN, 0.1, 0.1).is_err());
        assert!(SpendCap::new(1.0, -1.0, 0.1).unwrap_err().contains("price_per_gb_second"));
    }
}
