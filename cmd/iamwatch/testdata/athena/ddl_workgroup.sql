-- iamwatch: Athena objects over the Parquet export at s3://my-analytics/iamwatch/

CREATE DATABASE IF NOT EXISTS audit
  COMMENT 'iamwatch: CloudTrail identity events';

CREATE EXTERNAL TABLE IF NOT EXISTS audit.events (
  `event_id` string,
  `event_time` string,
  `event_date` string,
  `event_source` string,
  `event_name` string,
  `event_type` string,
  `user_name` string,
  `identity_type` string,
  `principal_arn` string,
  `account_id` string,
  `aws_region` string,
  `source_ip` string,
  `user_agent` string,
  `request_parameters` string,
  `response_elements` string,
  `error_code` string,
  `error_message` string,
  `mfa_used` string,
  `read_only` string,
  `category` string,
  `invoked_by` string,
  `target_role` string,
  `raw` string
)
PARTITIONED BY (`year` int, `month` int, `day` int, `region` string)
STORED AS PARQUET
LOCATION 's3://my-analytics/iamwatch/'
TBLPROPERTIES (
  'parquet.compression' = 'SNAPPY',
  'projection.enabled' = 'true',
  'projection.year.type' = 'integer',
  'projection.year.range' = '2015,2040',
  'projection.month.type' = 'integer',
  'projection.month.range' = '1,12',
  'projection.day.type' = 'integer',
  'projection.day.range' = '1,31',
  'projection.region.type' = 'enum',
  'projection.region.values' = 'af-south-1,ap-east-1,ap-east-2,ap-northeast-1,ap-northeast-2,ap-northeast-3,ap-south-1,ap-south-2,ap-southeast-1,ap-southeast-2,ap-southeast-3,ap-southeast-4,ap-southeast-5,ap-southeast-6,ap-southeast-7,ca-central-1,ca-west-1,eu-central-1,eu-central-2,eu-north-1,eu-south-1,eu-south-2,eu-west-1,eu-west-2,eu-west-3,il-central-1,me-central-1,me-south-1,mx-central-1,sa-east-1,us-east-1,us-east-2,us-west-1,us-west-2,unknown',
  'storage.location.template' = 's3://my-analytics/iamwatch/year=${year}/month=${month}/day=${day}/region=${region}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS audit.alerts (
  `dedup_key` string,
  `rule` string,
  `severity` string,
  `title` string,
  `summary` string,
  `time` string,
  `account_id` string,
  `region` string,
  `user_name` string,
  `source_ip` string,
  `event_name` string,
  `event_ids` string,
  `group` string,
  `window_start` string,
  `window_end` string,
  `count` bigint,
  `first_seen` string,
  `last_seen` string
)
PARTITIONED BY (`year` int, `month` int, `day` int)
STORED AS PARQUET
LOCATION 's3://my-analytics/iamwatch/alerts/'
TBLPROPERTIES (
  'parquet.compression' = 'SNAPPY',
  'projection.enabled' = 'true',
  'projection.year.type' = 'integer',
  'projection.year.range' = '2015,2040',
  'projection.month.type' = 'integer',
  'projection.month.range' = '1,12',
  'projection.day.type' = 'integer',
  'projection.day.range' = '1,31',
  'storage.location.template' = 's3://my-analytics/iamwatch/alerts/year=${year}/month=${month}/day=${day}/'
);

-- Workgroup (CloudFormation, under Resources:):
--   AthenaWorkGroup:
--     Type: AWS::Athena::WorkGroup
--     Properties:
--       Name: iamwatch
--       Description: iamwatch queries over the Parquet export
--       State: ENABLED
--       WorkGroupConfiguration:
--         EnforceWorkGroupConfiguration: true
--         PublishCloudWatchMetricsEnabled: true
--         BytesScannedCutoffPerQuery: 10737418240
--         EngineVersion:
--           SelectedEngineVersion: Athena engine version 3
--         ResultConfiguration:
--           OutputLocation: s3://my-athena-results/iamwatch/
--           EncryptionConfiguration:
--             EncryptionOption: SSE_S3
