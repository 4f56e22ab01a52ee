CREATE TABLE `variant_rollups` (
	`site_id` text NOT NULL,
	`content_id` text NOT NULL,
	`variant_id` text NOT NULL,
	`day` text NOT NULL,
	`impressions` integer DEFAULT 0 NOT NULL,
	`clicks` integer DEFAULT 0 NOT NULL,
	`conversions` integer DEFAULT 0 NOT NULL,
	`cold_start_impressions` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`site_id`, `content_id`, `variant_id`, `day`)
);
