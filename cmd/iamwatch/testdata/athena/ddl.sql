-- iamwatch: Athena objects over the Parquet export at s3://my-analytics/iamwatch

CREATE DATABASE IF NOT EXISTS iamwatch
  COMMENT 'iamwatch: CloudTrail identity events';

CREATE EXTERNAL TABLE IF NOT EXISTS iamwatch.events (
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
PARTITIONED BY (`year` int, `month` int, `day` int)
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
  'storage.location.template' = 's3://my-analytics/iamwatch/year=${year}/month=${month}/day=${day}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS iamwatch.alerts (
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
