-- daily_aggregates as a WITHOUT ROWID table (drizzle's schema cannot declare it; worker/store/schema.ts
-- says why): D1 bills every b-tree a write touches as a row written, and a rowid table with a
-- composite primary key keeps two, the rows and the key's index. Same columns, same key, rows copied.
CREATE TABLE `daily_aggregates_new` (
	`site_id` text NOT NULL,
	`metric` text NOT NULL,
	`day` text NOT NULL,
	`key` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	`hits` integer DEFAULT 0 NOT NULL,
	`sum` real DEFAULT 0 NOT NULL,
	`impressions` integer DEFAULT 0 NOT NULL,
	`clicks` integer DEFAULT 0 NOT NULL,
	`conversions` integer DEFAULT 0 NOT NULL,
	`dismissals` integer DEFAULT 0 NOT NULL,
	`value` real DEFAULT 0 NOT NULL,
	`visitors` integer DEFAULT 0 NOT NULL,
	`converters` integer DEFAULT 0 NOT NULL,
	`conversions_sq` integer DEFAULT 0 NOT NULL,
	`value_sq` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`site_id`, `metric`, `day`, `key`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `daily_aggregates_new` SELECT `site_id`, `metric`, `day`, `key`, `count`, `hits`, `sum`, `impressions`, `clicks`,
	`conversions`, `dismissals`, `value`, `visitors`, `converters`, `conversions_sq`, `value_sq` FROM `daily_aggregates`;
--> statement-breakpoint
DROP TABLE `daily_aggregates`;
--> statement-breakpoint
ALTER TABLE `daily_aggregates_new` RENAME TO `daily_aggregates`;
