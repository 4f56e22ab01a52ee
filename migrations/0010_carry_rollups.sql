-- The raw decisions and events leave D1 for the log (worker/log). What the reports read is carried
-- over into daily_aggregates: the content, variant and drift roll-ups, and the daily decision
-- counts per slot, model and segment. The next migration drops the old tables.
INSERT INTO `daily_aggregates` (`site_id`, `metric`, `day`, `key`, `impressions`, `clicks`, `conversions`, `dismissals`, `value`)
SELECT `site_id`, 'content', `day`, json_array(`slot`, `content_id`, `policy`, `model_version`), `impressions`, `clicks`, `conversions`, `dismissals`, `value`
FROM `rollups`;
--> statement-breakpoint
INSERT INTO `daily_aggregates` (`site_id`, `metric`, `day`, `key`, `impressions`, `clicks`, `conversions`, `hits`)
SELECT `site_id`, 'variant', `day`, json_array(`content_id`, `variant_id`), `impressions`, `clicks`, `conversions`, `cold_start_impressions`
FROM `variant_rollups`;
--> statement-breakpoint
INSERT INTO `daily_aggregates` (`site_id`, `metric`, `day`, `key`, `count`)
SELECT `site_id`, 'drift', `day`, json_array(`model_version`, `feature`, `bin`), `count`
FROM `feature_drift`;
--> statement-breakpoint
INSERT INTO `daily_aggregates` (`site_id`, `metric`, `day`, `key`, `count`)
SELECT `site_id`, 'decisions', strftime('%Y-%m-%d', `ts` / 1000, 'unixepoch') AS `d`, '[]', count(*)
FROM `decisions` GROUP BY `site_id`, `d`;
--> statement-breakpoint
INSERT INTO `daily_aggregates` (`site_id`, `metric`, `day`, `key`, `count`)
SELECT `site_id`, 'slot', strftime('%Y-%m-%d', `ts` / 1000, 'unixepoch') AS `d`,
       json_array(json_extract(s.value, '$.slot'), json_extract(s.value, '$.policy')) AS `k`, count(*)
FROM `decisions`, json_each(`decisions`.`slots`) AS s GROUP BY `site_id`, `d`, `k`;
--> statement-breakpoint
INSERT INTO `daily_aggregates` (`site_id`, `metric`, `day`, `key`, `count`)
SELECT `site_id`, 'model', strftime('%Y-%m-%d', `ts` / 1000, 'unixepoch') AS `d`, json_array(`model_version`, coalesce(`arm`, '')) AS `k`, count(*)
FROM `decisions` WHERE `model_version` IS NOT NULL GROUP BY `site_id`, `d`, `k`;
--> statement-breakpoint
INSERT INTO `daily_aggregates` (`site_id`, `metric`, `day`, `key`, `count`)
SELECT `site_id`, 'segment', strftime('%Y-%m-%d', `ts` / 1000, 'unixepoch') AS `d`, json_array(s.key, s.value) AS `k`, count(*)
FROM `decisions`, json_each(coalesce(`decisions`.`segments`, '{}')) AS s GROUP BY `site_id`, `d`, `k`;
