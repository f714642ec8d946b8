//! The IAM calls of `deploy --create-role` and `delete --role`: the execution role lambda-executor
//! creates for its functions, on the IAM client of the same configuration (its own endpoint).

use std::collections::HashMap;

use aws_sdk_iam::error::SdkError;
use aws_sdk_iam::types::Tag;
use serde::Serialize;

use crate::{ControlPlane, DeployError};

/// Lambda may assume the role, and no one else.
/// The name of the inline policy that lets a role use a spill location.
const SPILL_POLICY: &str = "lambda-executor-spill";

const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// The AWS managed policy of a Lambda function that writes its logs to CloudWatch and does
/// nothing else, in `partition` (aws, aws-cn, aws-us-gov, ...).
fn basic_execution_policy(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
}

/// A role, as the deploy code reads it.
#[derive(Debug, Serialize)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub tags: HashMap<String, String>,
}

impl From<&aws_sdk_iam::types::Role> for Role {
    fn from(role: &aws_sdk_iam::types::Role) -> Self {
        let tags = role.tags().iter().map(|tag| (tag.key().to_owned(), tag.value().to_owned())).collect();
        Self { name: role.role_name().to_owned(), arn: role.arn().to_owned(), tags }
    }
}

/// An IAM call that failed; refused for want of a permission, it names the permission.
fn iam_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> DeployError
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let mut error = DeployError::of(operation, error);
    if matches!(error.code.as_str(), "AccessDenied" | "AccessDeniedException") {
        let lacks = format!("(these credentials lack the permission iam:{operation})");
        error.message = if error.message.is_empty() { lacks } else { format!("{} {lacks}", error.message) };
    }
    error
}

impl ControlPlane {
    /// The role named `name`; None if there is none.
    pub async fn get_role(&self, name: &str) -> Result<Option<Role>, DeployError> {
        match self.iam.get_role().role_name(name).send().await {
            Ok(output) => Ok(output.role().map(Role::from)),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => Ok(None),
            Err(error) => Err(iam_error("GetRole", error)),
        }
    }

    /// Creates a role that Lambda may assume, with the basic execution policy alone (logs).
    pub async fn create_execution_role(
        &self,
        name: &str,
        description: &str,
        tags: HashMap<String, String>,
    ) -> Result<Role, DeployError> {
        let tags = tags.into_iter().map(|(key, value)| Tag::builder().key(key).value(value).build());
        let tags = tags.collect::<Result<Vec<_>, _>>().expect("key and value are set");
        let call = self.iam.create_role().role_name(name).assume_role_policy_document(TRUST_POLICY);
        let call = call.description(description).set_tags(Some(tags));
        let output = call.send().await.map_err(|error| iam_error("CreateRole", error))?;
        let role = Role::from(output.role().expect("CreateRole returns the role"));
        // The role's own ARN tells the partition (arn:PARTITION:iam::ACCOUNT:role/NAME).
        let policy = basic_execution_policy(role.arn.split(':').nth(1).unwrap_or("aws"));
        if let Err(error) = self.iam.attach_role_policy().role_name(name).policy_arn(policy).send().await {
            // A role without its policy would be reused as it is: take it back.
            let _ = self.iam.delete_role().role_name(name).send().await;
            return Err(iam_error("AttachRolePolicy", error));
        }
        Ok(role)
    }

    /// Lets the role read and write the objects of one spill location, and nothing else of S3
    /// (an inline policy, replaced if the role had one for another location).
    pub async fn allow_spill(&self, name: &str, arn: &str, bucket: &str, prefix: &str) -> Result<(), DeployError> {
        let partition = arn.split(':').nth(1).unwrap_or("aws");
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": format!("arn:{partition}:s3:::{bucket}/{prefix}*"),
            }],
        });
        let call = self.iam.put_role_policy().role_name(name).policy_name(SPILL_POLICY);
        call.policy_document(policy.to_string())
            .send()
            .await
            .map(drop)
            .map_err(|error| iam_error("PutRolePolicy", error))
    }

    /// Detaches the role's managed policies, deletes its inline ones, then the role.
    pub async fn delete_role(&self, name: &str) -> Result<(), DeployError> {
        let attached = self.iam.list_attached_role_policies().role_name(name).into_paginator().items().send();
        let attached = attached.try_collect().await.map_err(|error| iam_error("ListAttachedRolePolicies", error))?;
        for policy in attached.iter().filter_map(|policy| policy.policy_arn()) {
            let call = self.iam.detach_role_policy().role_name(name).policy_arn(policy);
            call.send().await.map_err(|error| iam_error("DetachRolePolicy", error))?;
        }
        let inline = self.iam.list_role_policies().role_name(name).into_paginator().items().send();
        let inline = inline.try_collect().await.map_err(|error| iam_error("ListRolePolicies", error))?;
        for policy in inline {
            let call = self.iam.delete_role_policy().role_name(name).policy_name(policy);
            call.send().await.map_err(|error| iam_error("DeleteRolePolicy", error))?;
        }
        let call = self.iam.delete_role().role_name(name);
        call.send().await.map(drop).map_err(|error| iam_error("DeleteRole", error))
    }
}
