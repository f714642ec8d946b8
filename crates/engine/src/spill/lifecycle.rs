//! The bucket's lifecycle rule that expires what runs left at a spill location (a run killed
//! before it read or deleted its objects), set by `deploy --spill-expiry`.

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};

use crate::spill::transfer::{described, Spill, SpillError};

impl Spill {
    /// The rule's id on the bucket: one per prefix, replaced when set again.
    pub fn expiry_rule_id(&self) -> String {
        format!("lambda-executor-spill:{}", self.location.prefix)
    }

    /// Expires the location's objects `days` days after they were written (and parts of uploads
    /// never completed after a day), keeping the bucket's other rules. A location without a
    /// prefix is refused: the rule would expire the whole bucket.
    pub async fn expire_after(&self, days: i32) -> Result<(), SpillError> {
        let bucket = &self.location.bucket;
        let prefix = &self.location.prefix;
        if prefix.is_empty() {
            let why = "a rule for a location without a prefix would expire every object of the bucket: give the \
                       spill location a prefix (s3://bucket/prefix)";
            return Err(self.error("", "setting the lifecycle of", "s3:PutLifecycleConfiguration", why));
        }
        let current = self.s3.get_bucket_lifecycle_configuration().bucket(bucket).send().await;
        let mut rules = match current {
            Ok(current) => current.rules().to_vec(),
            Err(error)
                if error.as_service_error().and_then(|e| e.meta().code()) == Some("NoSuchLifecycleConfiguration") =>
            {
                Vec::new()
            }
            Err(error) => {
                return Err(self.error(
                    "",
                    "reading the lifecycle of",
                    "s3:GetLifecycleConfiguration",
                    described(error),
                ))
            }
        };
        let id = self.expiry_rule_id();
        rules.retain(|rule| rule.id() != Some(id.as_str()));
        rules.push(
            LifecycleRule::builder()
                .id(id)
                .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
                .status(ExpirationStatus::Enabled)
                .expiration(LifecycleExpiration::builder().days(days).build())
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder().days_after_initiation(1).build(),
                )
                .build()
                .expect("the rule's status is set"),
        );
        let configuration = BucketLifecycleConfiguration::builder().set_rules(Some(rules)).build();
        let configuration = configuration.expect("the rules are set");
        let call = self.s3.put_bucket_lifecycle_configuration().bucket(bucket).lifecycle_configuration(configuration);
        call.send().await.map(drop).map_err(|error| {
            self.error("", "setting the lifecycle of", "s3:PutLifecycleConfiguration", described(error))
        })
    }
}
